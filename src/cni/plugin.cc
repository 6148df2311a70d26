#include "src/cni/plugin.h"

#include "absl/strings/str_cat.h"
#include "src/model/address.h"

namespace shortcut::cni {
namespace {

namespace v1 = manager::v1;

Error Fail(ErrorCode code, std::string msg, const absl::Status& status) {
  return Error{code, std::move(msg), std::string(status.message())};
}

v1::Endpoint Desired(const CniRequest& req, const std::string& key) {
  v1::Endpoint e;
  e.set_key(key);
  e.set_vpc(req.conf.vpc);
  e.set_network(req.conf.network);
  e.set_ipv4(req.conf.static_ipv4);  // Empty: allocated.
  e.set_host(req.conf.host);
  e.set_iface_id(key);
  return e;
}

// The network's prefix length and its first address.
std::optional<std::pair<uint8_t, std::string>> PrefixAndGateway(const v1::Network& network) {
  auto cidr = model::ParseIpv4Cidr(network.ipv4_cidr());
  if (!cidr) return std::nullopt;
  std::string gateway = cidr->length <= 30 ? model::FormatIpv4(cidr->prefix + 1) : "";
  return std::make_pair(cidr->length, gateway);
}

}  // namespace

Error ManagerError(const absl::Status& status, const std::string& what) {
  bool again = status.code() == absl::StatusCode::kUnavailable ||
               status.code() == absl::StatusCode::kDeadlineExceeded;
  return Error{again ? ErrorCode::kTryAgainLater : ErrorCode::kManagerRefused,
               absl::StrCat(what, ": ", absl::StatusCodeToString(status.code())),
               std::string(status.message())};
}

std::variant<Attachment, Error> Plugin::Add(const CniRequest& req) {
  const std::string key = EndpointKey(req);
  Attachment a;
  a.host_ifname = HostIfname(key);
  a.container_ifname = req.ifname;
  a.netns = req.netns;

  auto network = manager_->GetNetwork(req.conf.vpc, req.conf.network);
  if (!network.ok()) return ManagerError(network.status(), "managerd: network");
  auto prefix = PrefixAndGateway(*network);
  if (!prefix) {
    return Error{ErrorCode::kManagerRefused,
                 absl::StrCat("managerd: network ", req.conf.network, " has no IPv4 prefix"), ""};
  }

  // 1. The endpoint, without waiting: its addresses are what we need now.
  v1::Endpoint desired = Desired(req, key);
  auto created = manager_->CreateEndpoint(desired, 1);
  if (!created.ok()) return ManagerError(created.status(), "managerd: creating the endpoint");
  a.ipv4 = created->ipv4();
  a.container_mac = created->mac();
  a.prefix_length = prefix->first;
  a.gateway = prefix->second;

  // What was done so far, undone on a failure; the first error is the one
  // reported, the undo's own failures go in its details.
  bool have_link = false, have_port = false;
  auto undo = [&](Error error) {
    std::vector<std::string> notes;
    if (have_port) {
      if (absl::Status s = sw_->DeletePort(req.conf.bridge, a.host_ifname); !s.ok())
        notes.push_back(absl::StrCat("undo: port: ", s.message()));
    }
    if (have_link) {
      if (absl::Status s = links_->Delete(a.host_ifname); !s.ok())
        notes.push_back(absl::StrCat("undo: link: ", s.message()));
    }
    if (absl::Status s = manager_->DeleteEndpoint(key);
        !s.ok() && s.code() != absl::StatusCode::kNotFound) {
      notes.push_back(absl::StrCat("undo: endpoint ", key, " left in managerd: ", s.message()));
    }
    for (const std::string& n : notes) {
      error.details += (error.details.empty() ? "" : "; ") + n;
    }
    return error;
  };

  // 2. The veth.
  LinkSpec spec{a.host_ifname,
                req.netns,
                req.ifname,
                a.container_mac,
                req.conf.mtu,
                req.conf.tx_checksum_offload,
                absl::StrCat(a.ipv4, "/", a.prefix_length),
                a.gateway};
  if (absl::Status s = links_->Create(spec); !s.ok()) {
    // Create cleans up after itself, but a half-made pair is removed too.
    have_link = true;
    return undo(Fail(ErrorCode::kLinkFailure, "creating the container's interface", s));
  }
  have_link = true;

  // 3. On the bridge.
  if (absl::Status s = sw_->AddPort(req.conf.bridge, a.host_ifname, key, a.container_mac);
      !s.ok()) {
    have_port = true;
    return undo(Fail(ErrorCode::kSwitchFailure, "adding the port to " + req.conf.bridge, s));
  }
  have_port = true;

  // 4. Online: the retry waits for it.
  auto online = manager_->CreateEndpoint(desired, req.conf.online_timeout_ms);
  if (!online.ok()) return undo(ManagerError(online.status(), "managerd: waiting for online"));
  if (online->status() != v1::ENDPOINT_STATUS_ONLINE) {
    return undo(Error{
        ErrorCode::kTryAgainLater,
        absl::StrCat("endpoint ", key, " not online after ", req.conf.online_timeout_ms, " ms"),
        "the gateway programming host " + req.conf.host + " did not confirm it"});
  }
  return a;
}

std::optional<Error> Plugin::Del(const CniRequest& req) {
  const std::string key = EndpointKey(req);
  const std::string port = HostIfname(key);
  if (absl::Status s = sw_->DeletePort(req.conf.bridge, port); !s.ok()) {
    return Fail(ErrorCode::kSwitchFailure, "deleting port " + port, s);
  }
  if (absl::Status s = links_->Delete(port); !s.ok()) {
    return Fail(ErrorCode::kLinkFailure, "deleting link " + port, s);
  }
  absl::Status s = manager_->DeleteEndpoint(key);
  if (!s.ok() && s.code() != absl::StatusCode::kNotFound) {
    return ManagerError(s, "managerd: deleting endpoint " + key);
  }
  return std::nullopt;
}

std::optional<Error> Plugin::Check(const CniRequest& req) {
  const std::string key = EndpointKey(req);
  const std::string port = HostIfname(key);
  auto differs = [](std::string msg) {
    return Error{ErrorCode::kNotAsExpected, std::move(msg), ""};
  };
  auto e = manager_->GetEndpoint(key);
  if (!e.ok()) return ManagerError(e.status(), "managerd: endpoint " + key);
  if (e->status() != v1::ENDPOINT_STATUS_ONLINE)
    return differs("endpoint " + key + " is not online");
  if (e->host() != req.conf.host) {
    return differs(
        absl::StrCat("endpoint ", key, " is on host ", e->host(), ", not ", req.conf.host));
  }
  std::string want;
  if (req.conf.prev_result) want = PrevResultAddress(*req.conf.prev_result, req.ifname);
  if (!want.empty() && want.substr(0, want.find('/')) != e->ipv4()) {
    return differs(
        absl::StrCat("endpoint ", key, " has address ", e->ipv4(), ", the result ", want));
  }
  auto iface_id = sw_->PortIfaceId(port);
  if (!iface_id.ok()) return Fail(ErrorCode::kNotAsExpected, "port " + port, iface_id.status());
  if (*iface_id != key) {
    return differs(absl::StrCat("port ", port, " has iface-id '", *iface_id, "', not ", key));
  }
  auto link = links_->Inspect(req.netns, req.ifname);
  if (!link.ok()) {
    return Fail(ErrorCode::kNotAsExpected, "interface " + req.ifname + " in " + req.netns,
                link.status());
  }
  if (link->mac != e->mac()) {
    return differs(
        absl::StrCat("interface ", req.ifname, " has MAC ", link->mac, ", not ", e->mac()));
  }
  bool has_address = false;
  for (const std::string& a : link->ipv4) {
    if (a.substr(0, a.find('/')) == e->ipv4()) has_address = true;
  }
  if (!has_address) {
    return differs(absl::StrCat("interface ", req.ifname, " lacks address ", e->ipv4()));
  }
  return std::nullopt;
}

}  // namespace shortcut::cni
