#include "src/manager/validate.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/manager/placement.h"
#include "src/model/address.h"
#include "src/model/offload_proto.h"

namespace shortcut::manager {
namespace {

std::string F(std::string_view prefix, std::string_view name) {
  return absl::StrCat(std::string(prefix), ".", std::string(name));
}

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", std::string(what)));
}

// Canonical text of an IPv4 address, or InvalidArgument naming the field.
absl::StatusOr<std::string> Ipv4Text(std::string_view field, const std::string& text) {
  if (text.empty()) return Invalid(field, "missing");
  auto ip = model::ParseIpv4(text);
  if (!ip) return Invalid(field, absl::StrCat("'", text, "' is not an IPv4 address"));
  return model::FormatIpv4(*ip);
}

absl::StatusOr<std::string> MacText(std::string_view field, const std::string& text) {
  if (text.empty()) return Invalid(field, "missing");
  auto mac = model::ParseMac(text);
  if (!mac) return Invalid(field, absl::StrCat("'", text, "' is not a MAC address"));
  if (!model::IsUnicast(*mac)) {
    return Invalid(field, absl::StrCat("'", text, "' is not a unicast MAC address"));
  }
  return model::FormatMac(*mac);
}

absl::Status CheckTarget(std::string_view field, const std::string& target) {
  if (model::ValidTargetText(target)) return absl::OkStatus();
  return Invalid(field,
                 absl::StrCat("'", target, "' is not tcp:IP:PORT, ssl:IP:PORT or unix:PATH"));
}

absl::Status CheckKey(std::string_view field, const std::string& key) {
  if (key.empty()) return Invalid(field, "missing");
  if (key.size() > kMaxKeyLength) {
    return Invalid(field, absl::StrCat("longer than ", kMaxKeyLength, " bytes"));
  }
  return absl::OkStatus();
}

// The owner of an underlay IPv4 other than `self` ("host h1"), or empty.
std::string UnderlayOwner(const NbState& state, const std::string& ip, std::string_view self) {
  for (const auto& [name, row] : state.hosts) {
    if (row.host.underlay_ipv4 == ip && absl::StrCat("host ", name) != self) {
      return absl::StrCat("host ", name);
    }
  }
  for (const auto& [name, row] : state.gateways) {
    if (row.underlay_ipv4 == ip && absl::StrCat("gateway ", name) != self) {
      return absl::StrCat("gateway ", name);
    }
  }
  return "";
}

absl::Status Differs(std::string_view field, std::string_view what, std::string_view id,
                     std::string_view column, std::string_view value) {
  return absl::AlreadyExistsError(absl::StrCat(std::string(field), ": ", std::string(what), " ",
                                               std::string(id), " exists with ",
                                               std::string(column), " '", std::string(value), "'"));
}

std::string NetworkText(const NetworkRow& n) {
  return absl::StrCat(n.network.id, " (", n.network.ipv4_cidr,
                      n.network.ipv6_cidr.empty() ? "" : ", ", n.network.ipv6_cidr, ")");
}

// Networks of `vpc` in the state, by id.
std::vector<const NetworkRow*> NetworksOf(const NbState& state, const std::string& vpc) {
  std::vector<const NetworkRow*> out;
  for (auto it = state.networks.lower_bound({vpc, ""});
       it != state.networks.end() && it->first.first == vpc; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

// `n` against the networks `others` (not itself): ALREADY_EXISTS for an
// overlapping prefix.
absl::Status CheckNoOverlap(std::string_view field, const NetworkRow& n,
                            const std::vector<const NetworkRow*>& others) {
  auto v4 = model::ParseIpv4Cidr(n.network.ipv4_cidr);
  auto v6 = model::ParseIpv6Cidr(n.network.ipv6_cidr);
  for (const NetworkRow* o : others) {
    if (o->network.id == n.network.id) continue;
    auto o4 = model::ParseIpv4Cidr(o->network.ipv4_cidr);
    if (v4 && o4 && model::Overlaps(*v4, *o4)) {
      return absl::AlreadyExistsError(absl::StrCat(std::string(field),
                                                   ".ipv4_cidr: ", n.network.ipv4_cidr,
                                                   " overlaps network ", NetworkText(*o)));
    }
    auto o6 = model::ParseIpv6Cidr(o->network.ipv6_cidr);
    if (v6 && o6 && model::Overlaps(*v6, *o6)) {
      return absl::AlreadyExistsError(absl::StrCat(std::string(field),
                                                   ".ipv6_cidr: ", n.network.ipv6_cidr,
                                                   " overlaps network ", NetworkText(*o)));
    }
  }
  return absl::OkStatus();
}

// The first column in which two endpoints differ, for ALREADY_EXISTS.
std::optional<std::pair<std::string, std::string>> FirstDifference(const model::Endpoint& have,
                                                                   const model::Endpoint& want) {
  std::pair<const char*, std::string model::Endpoint::*> columns[] = {
      {"vpc", &model::Endpoint::vpc},          {"network", &model::Endpoint::network},
      {"ipv4", &model::Endpoint::ipv4},        {"ipv6", &model::Endpoint::ipv6},
      {"mac", &model::Endpoint::mac},          {"host", &model::Endpoint::host},
      {"iface_id", &model::Endpoint::iface_id}};
  for (auto& [name, member] : columns) {
    if (have.*member != want.*member) return std::make_pair(std::string(name), have.*member);
  }
  return std::nullopt;
}

// Where an endpoint's addresses are held in one VPC: ipv4 → key, mac → key.
struct VpcAddresses {
  absl::flat_hash_map<std::string, std::string> ipv4;
  absl::flat_hash_map<std::string, std::string> mac;
};

VpcAddresses AddressesOf(const NbState& state, const std::string& vpc) {
  VpcAddresses out;
  auto it = state.endpoints_by_vpc.find(vpc);
  if (it == state.endpoints_by_vpc.end()) return out;
  for (const std::string& key : it->second) {
    const EndpointRow* e = state.FindEndpoint(key);
    if (e == nullptr) continue;
    out.ipv4.emplace(e->endpoint.ipv4, key);
    out.mac.emplace(e->endpoint.mac, key);
  }
  return out;
}

// References and address ranges of one endpoint (not uniqueness).
absl::Status CheckEndpointPlacement(const NbState& state, std::string_view field,
                                    const model::Endpoint& e) {
  if (!state.vpcs.contains(e.vpc))
    return absl::NotFoundError(F(field, "vpc: no VPC '" + e.vpc + "'"));
  auto net = state.networks.find({e.vpc, e.network});
  if (net == state.networks.end()) {
    return absl::NotFoundError(
        absl::StrCat(F(field, "network"), ": no network '", e.network, "' in VPC ", e.vpc));
  }
  if (!state.hosts.contains(e.host)) {
    return absl::NotFoundError(absl::StrCat(F(field, "host"), ": no host '", e.host, "'"));
  }
  const model::Network& n = net->second.network;
  auto cidr = model::ParseIpv4Cidr(n.ipv4_cidr);
  auto ip = model::ParseIpv4(e.ipv4);
  if (!cidr || !ip || !cidr->Contains(*ip)) {
    return Invalid(F(field, "ipv4"), absl::StrCat("'", e.ipv4, "' is not inside network ", n.id,
                                                  " (", n.ipv4_cidr, ")"));
  }
  if (!e.ipv6.empty()) {
    if (n.ipv6_cidr.empty()) {
      return Invalid(F(field, "ipv6"), absl::StrCat("network ", n.id, " has no IPv6 prefix"));
    }
    auto cidr6 = model::ParseIpv6Cidr(n.ipv6_cidr);
    auto ip6 = model::ParseIpv6(e.ipv6);
    if (!cidr6 || !ip6 || !cidr6->Contains(*ip6)) {
      return Invalid(F(field, "ipv6"), absl::StrCat("'", e.ipv6, "' is not inside network ", n.id,
                                                    " (", n.ipv6_cidr, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAddressesFree(std::string_view field, const model::Endpoint& e,
                                const VpcAddresses& taken) {
  if (auto it = taken.ipv4.find(e.ipv4); it != taken.ipv4.end() && it->second != e.key) {
    return absl::AlreadyExistsError(absl::StrCat(
        F(field, "ipv4"), ": ", e.ipv4, " is used by endpoint ", it->second, " in VPC ", e.vpc));
  }
  if (auto it = taken.mac.find(e.mac); it != taken.mac.end() && it->second != e.key) {
    return absl::AlreadyExistsError(absl::StrCat(
        F(field, "mac"), ": ", e.mac, " is used by endpoint ", it->second, " in VPC ", e.vpc));
  }
  return absl::OkStatus();
}

// As CheckAddressesFree, for one endpoint, through the state's address
// indexes: a VPC's size does not matter.
absl::Status CheckAddressesFreeIndexed(std::string_view field, const NbState& state,
                                       const model::Endpoint& e) {
  if (const std::string* k = state.EndpointWithIpv4(e.vpc, e.ipv4); k != nullptr && *k != e.key) {
    return absl::AlreadyExistsError(absl::StrCat(F(field, "ipv4"), ": ", e.ipv4,
                                                 " is used by endpoint ", *k, " in VPC ", e.vpc));
  }
  if (const std::string* k = state.EndpointWithMac(e.vpc, e.mac); k != nullptr && *k != e.key) {
    return absl::AlreadyExistsError(
        absl::StrCat(F(field, "mac"), ": ", e.mac, " is used by endpoint ", *k, " in VPC ", e.vpc));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- Syntax. ----

absl::Status CheckName(std::string_view field, const std::string& value) {
  bool ok =
      !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
  if (ok) return absl::OkStatus();
  if (value.empty()) return Invalid(field, "missing");
  return Invalid(field, absl::StrCat("'", value, "' is not 1 to 64 characters of [A-Za-z0-9._-]"));
}

absl::StatusOr<int32_t> ParsePageSize(int32_t page_size) {
  if (page_size == 0) return kDefaultPageSize;
  if (page_size < 0 || page_size > kMaxPageSize) {
    return Invalid("page_size", absl::StrCat(page_size, " is not in 0..", kMaxPageSize));
  }
  return page_size;
}

absl::Status CheckGrpcAddress(std::string_view field, const std::string& address) {
  if (address.starts_with("unix:")) {
    if (address.size() > 5 && address[5] == '/') return absl::OkStatus();
    return Invalid(field, absl::StrCat("'", address, "': a unix socket path must be absolute"));
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size() ||
      address.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Invalid(field, absl::StrCat("'", address, "' is neither unix:/abs/path nor HOST:PORT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<HostRow> HostFromProto(const v1::Host& host, std::string_view field) {
  HostRow row;
  if (absl::Status s = CheckName(F(field, "name"), host.name()); !s.ok()) return s;
  row.host.name = host.name();
  auto ip = Ipv4Text(F(field, "underlay_ip"), host.underlay_ip());
  if (!ip.ok()) return ip.status();
  row.host.underlay_ipv4 = *ip;
  if (absl::Status s = CheckTarget(F(field, "openflow"), host.openflow()); !s.ok()) return s;
  if (absl::Status s = CheckTarget(F(field, "ovsdb"), host.ovsdb()); !s.ok()) return s;
  row.host.openflow_target = host.openflow();
  row.host.ovsdb_target = host.ovsdb();
  if (host.direct_path_budget() > kMaxDirectPathBudget) {
    return Invalid(F(field, "direct_path_budget"),
                   absl::StrCat(host.direct_path_budget(), " is not in 0..", kMaxDirectPathBudget,
                                " (0: the gateways' default)"));
  }
  row.host.direct_path_budget = host.direct_path_budget();
  return row;
}

absl::StatusOr<model::OffloadPolicy> OffloadFromProto(const v1::OffloadPolicy& p,
                                                      std::string_view field) {
  // The database's integers are signed 64-bit.
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (p.packets() > kMax) return Invalid(F(field, "packets"), "too large");
  if (p.bytes() > kMax) return Invalid(F(field, "bytes"), "too large");
  return model::OffloadFromProto(p, std::string(field));
}

absl::StatusOr<std::optional<VpcRow>> CheckUpdateVpc(const NbState& state, const std::string& id,
                                                     const model::OffloadPolicy& offload) {
  auto it = state.vpcs.find(id);
  if (it == state.vpcs.end()) return absl::NotFoundError("vpc.id: no VPC '" + id + "'");
  if (it->second.vpc.offload == offload) return std::nullopt;
  VpcRow row = it->second;
  row.vpc.offload = offload;
  return row;
}

absl::StatusOr<GatewayRow> GatewayFromProto(const v1::Gateway& gateway, std::string_view field) {
  GatewayRow row;
  if (absl::Status s = CheckName(F(field, "name"), gateway.name()); !s.ok()) return s;
  row.name = gateway.name();
  auto ip = Ipv4Text(F(field, "underlay_ip"), gateway.underlay_ip());
  if (!ip.ok()) return ip.status();
  row.underlay_ipv4 = *ip;
  if (gateway.grpc_address().empty()) return Invalid(F(field, "grpc_address"), "missing");
  if (absl::Status s = CheckGrpcAddress(F(field, "grpc_address"), gateway.grpc_address());
      !s.ok()) {
    return s;
  }
  row.grpc_address = gateway.grpc_address();
  if (gateway.capacity() == 0) return Invalid(F(field, "capacity"), "must be more than 0");
  row.capacity = gateway.capacity();
  return row;
}

absl::StatusOr<ClusterInput> ClusterFromProto(const v1::Cluster& cluster, std::string_view field) {
  ClusterInput in;
  if (cluster.id() > kMaxClusterId) {
    return Invalid(F(field, "id"), absl::StrCat(cluster.id(), " is not in 1..", kMaxClusterId,
                                                " (0: the lowest free id)"));
  }
  in.id = cluster.id();
  if (cluster.members().empty()) return Invalid(F(field, "members"), "a cluster needs a member");
  std::set<std::string> seen;
  for (int i = 0; i < cluster.members_size(); ++i) {
    std::string f = absl::StrCat(std::string(field), ".members[", i, "]");
    const std::string& m = cluster.members(i);
    if (absl::Status s = CheckName(f, m); !s.ok()) return s;
    if (!seen.insert(m).second) return Invalid(f, absl::StrCat("'", m, "' is named twice"));
  }
  in.members.assign(seen.begin(), seen.end());
  return in;
}

absl::StatusOr<NetworkRow> NetworkFromProto(const v1::Network& network, std::string_view field) {
  NetworkRow row;
  if (absl::Status s = CheckName(F(field, "vpc"), network.vpc()); !s.ok()) return s;
  if (absl::Status s = CheckName(F(field, "id"), network.id()); !s.ok()) return s;
  row.vpc = network.vpc();
  row.network.id = network.id();
  if (network.ipv4_cidr().empty()) return Invalid(F(field, "ipv4_cidr"), "missing");
  auto v4 = model::ParseIpv4Cidr(network.ipv4_cidr());
  if (!v4) {
    return Invalid(
        F(field, "ipv4_cidr"),
        absl::StrCat("'", network.ipv4_cidr(), "' is not an IPv4 prefix with its host bits zero"));
  }
  row.network.ipv4_cidr = model::FormatCidr(*v4);
  if (!network.ipv6_cidr().empty()) {
    auto v6 = model::ParseIpv6Cidr(network.ipv6_cidr());
    if (!v6) {
      return Invalid(F(field, "ipv6_cidr"),
                     absl::StrCat("'", network.ipv6_cidr(),
                                  "' is not an IPv6 prefix with its host bits zero"));
    }
    row.network.ipv6_cidr = model::FormatCidr(*v6);
  }
  return row;
}

absl::StatusOr<VpcInput> VpcFromProto(const v1::Vpc& vpc, std::string_view field) {
  VpcInput in;
  if (absl::Status s = CheckName(F(field, "id"), vpc.id()); !s.ok()) return s;
  in.vpc.vpc.id = vpc.id();
  if (vpc.vni() < 1 || vpc.vni() > kMaxVni) {
    return Invalid(F(field, "vni"), absl::StrCat(vpc.vni(), " is not in 1..", kMaxVni));
  }
  in.vpc.vpc.vni = vpc.vni();
  auto mac = MacText(F(field, "router_mac"), vpc.router_mac());
  if (!mac.ok()) return mac.status();
  in.vpc.vpc.router_mac = *mac;
  if (vpc.cluster_id() > kMaxClusterId) {
    return Invalid(F(field, "cluster_id"),
                   absl::StrCat(vpc.cluster_id(), " is not in 1..", kMaxClusterId,
                                " (0: placed on the cluster with the most room)"));
  }
  in.vpc.cluster_id = vpc.cluster_id();
  auto offload = OffloadFromProto(vpc.offload(), F(field, "offload"));
  if (!offload.ok()) return offload.status();
  in.vpc.vpc.offload = *offload;
  std::vector<const NetworkRow*> seen;
  in.networks.reserve(vpc.networks_size());
  for (int i = 0; i < vpc.networks_size(); ++i) {
    std::string f = absl::StrCat(std::string(field), ".networks[", i, "]");
    v1::Network n = vpc.networks(i);
    if (n.vpc().empty()) n.set_vpc(vpc.id());
    if (n.vpc() != vpc.id()) {
      return Invalid(F(f, "vpc"), absl::StrCat("'", n.vpc(), "' is not the VPC's id ", vpc.id()));
    }
    auto row = NetworkFromProto(n, f);
    if (!row.ok()) return row.status();
    in.networks.push_back(std::move(*row));
  }
  for (size_t i = 0; i < in.networks.size(); ++i) {
    std::string f = absl::StrCat(std::string(field), ".networks[", i, "]");
    for (size_t j = 0; j < i; ++j) {
      if (in.networks[j].network.id == in.networks[i].network.id) {
        return Invalid(F(f, "id"), absl::StrCat("'", in.networks[i].network.id,
                                                "' is also networks[", j, "]'s id"));
      }
    }
    std::vector<const NetworkRow*> earlier;
    for (size_t j = 0; j < i; ++j) earlier.push_back(&in.networks[j]);
    absl::Status s = CheckNoOverlap(f, in.networks[i], earlier);
    if (!s.ok()) return absl::InvalidArgumentError(s.message());
  }
  return in;
}

absl::StatusOr<EndpointRow> EndpointFromProto(const v1::Endpoint& endpoint,
                                              std::string_view field) {
  EndpointRow row;
  model::Endpoint& e = row.endpoint;
  if (absl::Status s = CheckKey(F(field, "key"), endpoint.key()); !s.ok()) return s;
  e.key = endpoint.key();
  if (absl::Status s = CheckName(F(field, "vpc"), endpoint.vpc()); !s.ok()) return s;
  e.vpc = endpoint.vpc();
  if (absl::Status s = CheckName(F(field, "network"), endpoint.network()); !s.ok()) return s;
  e.network = endpoint.network();
  // Empty addresses are allocated by the creation (address_alloc.h).
  if (!endpoint.ipv4().empty()) {
    auto ip = Ipv4Text(F(field, "ipv4"), endpoint.ipv4());
    if (!ip.ok()) return ip.status();
    e.ipv4 = *ip;
  }
  if (!endpoint.ipv6().empty()) {
    auto ip6 = model::ParseIpv6(endpoint.ipv6());
    if (!ip6) {
      return Invalid(F(field, "ipv6"),
                     absl::StrCat("'", endpoint.ipv6(), "' is not an IPv6 address"));
    }
    e.ipv6 = model::FormatIpv6(*ip6);
  }
  if (!endpoint.mac().empty()) {
    auto mac = MacText(F(field, "mac"), endpoint.mac());
    if (!mac.ok()) return mac.status();
    e.mac = *mac;
  }
  if (absl::Status s = CheckName(F(field, "host"), endpoint.host()); !s.ok()) return s;
  e.host = endpoint.host();
  e.iface_id = endpoint.iface_id().empty() ? endpoint.key() : endpoint.iface_id();
  if (e.iface_id.size() > kMaxKeyLength) {
    return Invalid(F(field, "iface_id"), absl::StrCat("longer than ", kMaxKeyLength, " bytes"));
  }
  row.status = EndpointStatus::kPending;
  return row;
}

absl::StatusOr<EndpointPatch> PatchFromProto(const v1::Endpoint& endpoint,
                                             const google::protobuf::FieldMask& mask) {
  EndpointPatch patch;
  if (absl::Status s = CheckKey("endpoint.key", endpoint.key()); !s.ok()) return s;
  patch.key = endpoint.key();
  patch.vpc = endpoint.vpc();
  std::vector<std::string> paths(mask.paths().begin(), mask.paths().end());
  if (paths.empty()) paths = {"network", "ipv4", "ipv6", "mac", "host", "iface_id"};
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    if (p == "network") {
      if (absl::Status s = CheckName("endpoint.network", endpoint.network()); !s.ok()) return s;
      patch.network = endpoint.network();
    } else if (p == "ipv4") {
      auto ip = Ipv4Text("endpoint.ipv4", endpoint.ipv4());
      if (!ip.ok()) return ip.status();
      patch.ipv4 = *ip;
    } else if (p == "ipv6") {
      patch.ipv6 = "";
      if (!endpoint.ipv6().empty()) {
        auto ip6 = model::ParseIpv6(endpoint.ipv6());
        if (!ip6) {
          return Invalid("endpoint.ipv6",
                         absl::StrCat("'", endpoint.ipv6(), "' is not an IPv6 address"));
        }
        patch.ipv6 = model::FormatIpv6(*ip6);
      }
    } else if (p == "mac") {
      auto mac = MacText("endpoint.mac", endpoint.mac());
      if (!mac.ok()) return mac.status();
      patch.mac = *mac;
    } else if (p == "host") {
      if (absl::Status s = CheckName("endpoint.host", endpoint.host()); !s.ok()) return s;
      patch.host = endpoint.host();
    } else if (p == "iface_id") {
      patch.iface_id = endpoint.iface_id().empty() ? endpoint.key() : endpoint.iface_id();
      if (patch.iface_id->size() > kMaxKeyLength) {
        return Invalid("endpoint.iface_id", absl::StrCat("longer than ", kMaxKeyLength, " bytes"));
      }
    } else {
      return Invalid(absl::StrCat("update_mask.paths[", i, "]"),
                     absl::StrCat("'", p,
                                  "' cannot be updated (only host, ipv4, ipv6, mac, iface_id, "
                                  "network)"));
    }
  }
  return patch;
}

// ---- State. ----

absl::StatusOr<Checked<HostRow>> CheckRegisterHost(const NbState& state, HostRow host) {
  const model::Host& h = host.host;
  if (auto it = state.hosts.find(h.name); it != state.hosts.end()) {
    const model::Host& have = it->second.host;
    if (have.underlay_ipv4 != h.underlay_ipv4) {
      return Differs("host.underlay_ip", "host", h.name, "underlay_ip", have.underlay_ipv4);
    }
    if (have.openflow_target != h.openflow_target) {
      return Differs("host.openflow", "host", h.name, "openflow", have.openflow_target);
    }
    if (have.ovsdb_target != h.ovsdb_target) {
      return Differs("host.ovsdb", "host", h.name, "ovsdb", have.ovsdb_target);
    }
    return Checked<HostRow>{it->second, true};
  }
  std::string owner = UnderlayOwner(state, h.underlay_ipv4, "host " + h.name);
  if (!owner.empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("host.underlay_ip: ", h.underlay_ipv4, " is used by ", owner));
  }
  return Checked<HostRow>{std::move(host), false};
}

absl::Status CheckUnregisterHost(const NbState& state, const std::string& name) {
  if (!state.hosts.contains(name)) return absl::NotFoundError("name: no host '" + name + "'");
  auto it = state.endpoints_by_host.find(name);
  if (it != state.endpoints_by_host.end() && !it->second.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("host ", name, " holds ", it->second.size(), " endpoints"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Checked<GatewayRow>> CheckRegisterGateway(const NbState& state, GatewayRow gateway) {
  if (auto it = state.gateways.find(gateway.name); it != state.gateways.end()) {
    const GatewayRow& have = it->second;
    if (have.underlay_ipv4 != gateway.underlay_ipv4) {
      return Differs("gateway.underlay_ip", "gateway", gateway.name, "underlay_ip",
                     have.underlay_ipv4);
    }
    if (have.grpc_address != gateway.grpc_address) {
      return Differs("gateway.grpc_address", "gateway", gateway.name, "grpc_address",
                     have.grpc_address);
    }
    if (have.capacity != gateway.capacity) {
      return Differs("gateway.capacity", "gateway", gateway.name, "capacity",
                     std::to_string(have.capacity));
    }
    return Checked<GatewayRow>{have, true};
  }
  std::string owner = UnderlayOwner(state, gateway.underlay_ipv4, "gateway " + gateway.name);
  if (!owner.empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("gateway.underlay_ip: ", gateway.underlay_ipv4, " is used by ", owner));
  }
  std::set<uint32_t> used;
  for (const auto& [name, row] : state.gateways) used.insert(row.tunnel_ofport);
  gateway.tunnel_ofport = 0;
  for (uint32_t p = kFirstTunnelOfport; p <= kLastTunnelOfport; ++p) {
    if (!used.contains(p)) {
      gateway.tunnel_ofport = p;
      break;
    }
  }
  if (gateway.tunnel_ofport == 0) {
    return absl::ResourceExhaustedError("gateway: every tunnel ofport is taken");
  }
  gateway.cluster_id = 0;
  gateway.state = GatewayState::kUnknown;
  return Checked<GatewayRow>{std::move(gateway), false};
}

absl::Status CheckUnregisterGateway(const NbState& state, const std::string& name) {
  auto it = state.gateways.find(name);
  if (it == state.gateways.end()) return absl::NotFoundError("name: no gateway '" + name + "'");
  if (it->second.cluster_id != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("gateway ", name, " is a member of cluster ", it->second.cluster_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<Checked<ClusterInput>> CheckCreateCluster(const NbState& state,
                                                         ClusterInput cluster) {
  auto members_of = [&](uint32_t id) {
    std::vector<std::string> out;
    auto it = state.gateways_by_cluster.find(id);
    if (it != state.gateways_by_cluster.end()) out.assign(it->second.begin(), it->second.end());
    return out;
  };
  if (cluster.id != 0 && state.clusters.contains(cluster.id)) {
    std::vector<std::string> have = members_of(cluster.id);
    if (have != cluster.members) {
      return absl::AlreadyExistsError(absl::StrCat("cluster.members: cluster ", cluster.id,
                                                   " exists with members ",
                                                   absl::StrJoin(have, ", ")));
    }
    return Checked<ClusterInput>{std::move(cluster), true};
  }
  if (cluster.id == 0) {
    // A retried create without an id: the cluster of exactly these members.
    for (const auto& [id, row] : state.clusters) {
      if (members_of(id) == cluster.members) {
        cluster.id = id;
        return Checked<ClusterInput>{std::move(cluster), true};
      }
    }
  }
  // Members in the request's order were sorted by ClusterFromProto: report
  // the first bad one by name.
  for (size_t i = 0; i < cluster.members.size(); ++i) {
    const std::string& m = cluster.members[i];
    auto it = state.gateways.find(m);
    if (it == state.gateways.end()) {
      return absl::NotFoundError(absl::StrCat("cluster.members: no gateway '", m, "'"));
    }
    if (it->second.cluster_id != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cluster.members: gateway ", m, " is a member of cluster ", it->second.cluster_id));
    }
  }
  if (cluster.id == 0) {
    for (uint32_t id = 1; id <= kMaxClusterId; ++id) {
      if (!state.clusters.contains(id)) {
        cluster.id = id;
        break;
      }
    }
    if (cluster.id == 0) return absl::ResourceExhaustedError("cluster.id: every id is taken");
  }
  return Checked<ClusterInput>{std::move(cluster), false};
}

namespace {
// The gateway a member change names, once its cluster and it exist.
absl::StatusOr<const GatewayRow*> MemberChangeGateway(const NbState& state, uint32_t cluster,
                                                      const std::string& gateway) {
  if (!state.clusters.contains(cluster)) {
    return absl::NotFoundError(absl::StrCat("cluster_id: no cluster ", cluster));
  }
  auto gw = state.gateways.find(gateway);
  if (gw == state.gateways.end()) {
    return absl::NotFoundError(absl::StrCat("gateway: no gateway '", gateway, "'"));
  }
  return &gw->second;
}
}  // namespace

absl::StatusOr<bool> CheckAddClusterMember(const NbState& state, uint32_t cluster,
                                           const std::string& gateway) {
  absl::StatusOr<const GatewayRow*> gw = MemberChangeGateway(state, cluster, gateway);
  if (!gw.ok()) return gw.status();
  if ((*gw)->cluster_id == cluster) return true;
  if ((*gw)->cluster_id != 0) {
    return absl::FailedPreconditionError(absl::StrCat("gateway: '", gateway,
                                                      "' is a member of cluster ",
                                                      (*gw)->cluster_id, "; remove it first"));
  }
  return false;
}

absl::StatusOr<bool> CheckRemoveClusterMember(const NbState& state, uint32_t cluster,
                                              const std::string& gateway) {
  absl::StatusOr<const GatewayRow*> gw = MemberChangeGateway(state, cluster, gateway);
  if (!gw.ok()) return gw.status();
  if ((*gw)->cluster_id != cluster) {
    return absl::FailedPreconditionError(
        absl::StrCat("gateway: '", gateway, "' is not a member of cluster ", cluster));
  }
  return (*gw)->role == GatewayRole::kDraining;
}

absl::Status CheckDeleteCluster(const NbState& state, uint32_t id) {
  if (!state.clusters.contains(id)) {
    return absl::NotFoundError(absl::StrCat("id: no cluster ", id));
  }
  std::vector<std::string> vpcs;
  for (const auto& [vpc_id, row] : state.vpcs) {
    if (row.cluster_id == id) vpcs.push_back(vpc_id);
  }
  if (!vpcs.empty()) {
    std::sort(vpcs.begin(), vpcs.end());
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster ", id, " serves VPC", vpcs.size() > 1 ? "s " : " ", absl::StrJoin(vpcs, ", ")));
  }
  for (const auto& [vpc_id, row] : state.vpcs) {
    if (row.moving_to == id) {
      return absl::FailedPreconditionError(
          absl::StrCat("cluster ", id, " is where VPC ", vpc_id, " is moving to"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<VpcRow>> CheckMoveVpc(const NbState& state, const std::string& id,
                                                   uint32_t to) {
  auto it = state.vpcs.find(id);
  if (it == state.vpcs.end()) return absl::NotFoundError("id: no VPC '" + id + "'");
  if (!state.clusters.contains(to)) {
    return absl::NotFoundError(absl::StrCat("cluster_id: no cluster ", to));
  }
  const VpcRow& v = it->second;
  if (v.moving_to == to || (v.moving_to == 0 && v.cluster_id == to)) return std::nullopt;
  if (v.moving_to != 0) {
    const char* phase = MovePhaseName(v.move_phase);
    if (to == v.cluster_id && v.move_phase == MovePhase::kLoading) {
      VpcRow cancelled = v;
      cancelled.moving_to = 0;
      cancelled.move_phase = MovePhase::kNone;
      return cancelled;
    }
    if (to == v.cluster_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "id: VPC '", id, "' is ", phase, " to cluster ", v.moving_to,
          ": hosts are taking its rules from there; move it back once the move is done"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("id: VPC '", id, "' is moving to cluster ", v.moving_to, " (", phase,
                     "); wait until it is done, or cancel it with cluster_id ", v.cluster_id));
  }
  size_t serving = 0;
  if (auto m = state.gateways_by_cluster.find(to); m != state.gateways_by_cluster.end()) {
    for (const std::string& name : m->second) {
      auto g = state.gateways.find(name);
      serving += g != state.gateways.end() && g->second.role == GatewayRole::kServing;
    }
  }
  if (serving == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster_id: cluster ", to, " has no serving member to take the VPC"));
  }
  VpcRow moving = v;
  moving.moving_to = to;
  moving.move_phase = MovePhase::kLoading;
  return moving;
}

absl::StatusOr<Checked<VpcInput>> CheckCreateVpc(const NbState& state, VpcInput in) {
  const model::Vpc& v = in.vpc.vpc;
  if (auto it = state.vpcs.find(v.id); it != state.vpcs.end()) {
    const VpcRow& have = it->second;
    if (have.vpc.vni != v.vni) {
      return Differs("vpc.vni", "VPC", v.id, "vni", std::to_string(have.vpc.vni));
    }
    if (have.vpc.router_mac != v.router_mac) {
      return Differs("vpc.router_mac", "VPC", v.id, "router_mac", have.vpc.router_mac);
    }
    if (in.vpc.cluster_id != 0 && have.cluster_id != in.vpc.cluster_id) {
      return Differs("vpc.cluster_id", "VPC", v.id, "cluster_id", std::to_string(have.cluster_id));
    }
    for (size_t i = 0; i < in.networks.size(); ++i) {
      const NetworkRow& n = in.networks[i];
      auto h = state.networks.find({v.id, n.network.id});
      std::string f = absl::StrCat("vpc.networks[", i, "]");
      if (h == state.networks.end()) {
        return absl::AlreadyExistsError(
            absl::StrCat(f, ".id: VPC ", v.id, " exists without network ", n.network.id));
      }
      if (h->second.network.ipv4_cidr != n.network.ipv4_cidr) {
        return Differs(F(f, "ipv4_cidr"), "network", n.network.id, "ipv4_cidr",
                       h->second.network.ipv4_cidr);
      }
      if (h->second.network.ipv6_cidr != n.network.ipv6_cidr) {
        return Differs(F(f, "ipv6_cidr"), "network", n.network.id, "ipv6_cidr",
                       h->second.network.ipv6_cidr);
      }
    }
    in.vpc.cluster_id = have.cluster_id;
    return Checked<VpcInput>{std::move(in), true};
  }
  for (const auto& [id, row] : state.vpcs) {
    if (row.vpc.vni == v.vni) {
      return absl::AlreadyExistsError(absl::StrCat("vpc.vni: ", v.vni, " is used by VPC ", id));
    }
  }
  if (in.vpc.cluster_id != 0) {
    if (!state.clusters.contains(in.vpc.cluster_id)) {
      return absl::NotFoundError(absl::StrCat("vpc.cluster_id: no cluster ", in.vpc.cluster_id));
    }
  } else {
    auto placed = VpcMapToCluster(ClusterLoads(state));
    if (!placed.ok()) return placed.status();
    in.vpc.cluster_id = *placed;
  }
  return Checked<VpcInput>{std::move(in), false};
}

absl::Status CheckVpcExists(const NbState& state, std::string_view field, const std::string& id) {
  if (state.vpcs.contains(id)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(std::string(field), ": no VPC '", id, "'"));
}

absl::StatusOr<Checked<NetworkRow>> CheckCreateNetwork(const NbState& state, NetworkRow network) {
  if (absl::Status s = CheckVpcExists(state, "network.vpc", network.vpc); !s.ok()) return s;
  if (auto it = state.networks.find({network.vpc, network.network.id});
      it != state.networks.end()) {
    const model::Network& have = it->second.network;
    if (have.ipv4_cidr != network.network.ipv4_cidr) {
      return Differs("network.ipv4_cidr", "network", network.network.id, "ipv4_cidr",
                     have.ipv4_cidr);
    }
    if (have.ipv6_cidr != network.network.ipv6_cidr) {
      return Differs("network.ipv6_cidr", "network", network.network.id, "ipv6_cidr",
                     have.ipv6_cidr);
    }
    return Checked<NetworkRow>{it->second, true};
  }
  absl::Status s = CheckNoOverlap("network", network, NetworksOf(state, network.vpc));
  if (!s.ok()) return s;
  return Checked<NetworkRow>{std::move(network), false};
}

absl::Status CheckNetworkExists(const NbState& state, const std::string& vpc,
                                const std::string& id) {
  if (absl::Status s = CheckVpcExists(state, "vpc", vpc); !s.ok()) return s;
  if (state.networks.contains({vpc, id})) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("id: no network '", id, "' in VPC ", vpc));
}

absl::StatusOr<Checked<EndpointRow>> CheckCreateEndpoint(const NbState& state,
                                                         EndpointRow endpoint) {
  const model::Endpoint& e = endpoint.endpoint;
  if (const EndpointRow* have = state.FindEndpoint(e.key)) {
    if (auto diff = FirstDifference(have->endpoint, e)) {
      return Differs("endpoint." + diff->first, "endpoint", e.key, diff->first, diff->second);
    }
    return Checked<EndpointRow>{*have, true};
  }
  if (absl::Status s = CheckEndpointPlacement(state, "endpoint", e); !s.ok()) return s;
  absl::Status s = CheckAddressesFreeIndexed("endpoint", state, e);
  if (!s.ok()) return s;
  return Checked<EndpointRow>{std::move(endpoint), false};
}

absl::StatusOr<Checked<EndpointUpdate>> CheckUpdateEndpoint(const NbState& state,
                                                            const EndpointPatch& patch) {
  const EndpointRow* have = state.FindEndpoint(patch.key);
  if (have == nullptr) {
    return absl::NotFoundError(absl::StrCat("endpoint.key: no endpoint '", patch.key, "'"));
  }
  if (!patch.vpc.empty() && patch.vpc != have->endpoint.vpc) {
    return Invalid("endpoint.vpc",
                   absl::StrCat("endpoint ", patch.key, " is in VPC ", have->endpoint.vpc,
                                "; an endpoint cannot change VPC"));
  }
  EndpointUpdate update;
  update.row = *have;
  model::Endpoint& e = update.row.endpoint;
  if (patch.network) e.network = *patch.network;
  if (patch.ipv4) e.ipv4 = *patch.ipv4;
  if (patch.ipv6) e.ipv6 = *patch.ipv6;
  if (patch.mac) e.mac = *patch.mac;
  if (patch.host) e.host = *patch.host;
  if (patch.iface_id) e.iface_id = *patch.iface_id;
  if (e == have->endpoint) return Checked<EndpointUpdate>{std::move(update), true};
  if (absl::Status s = CheckEndpointPlacement(state, "endpoint", e); !s.ok()) return s;
  absl::Status s = CheckAddressesFreeIndexed("endpoint", state, e);
  if (!s.ok()) return s;
  update.moved = e.host != have->endpoint.host;
  if (update.moved) update.row.status = EndpointStatus::kPending;
  return Checked<EndpointUpdate>{std::move(update), false};
}

absl::Status CheckEndpointExists(const NbState& state, std::string_view field,
                                 const std::string& key) {
  if (state.FindEndpoint(key) != nullptr) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(std::string(field), ": no endpoint '", key, "'"));
}

absl::StatusOr<BulkEndpoints> CheckCreateEndpoints(const NbState& state,
                                                   std::vector<EndpointRow> endpoints) {
  BulkEndpoints out;
  absl::flat_hash_map<std::string, size_t> keys;         // Key → index in the stream.
  absl::flat_hash_map<std::string, VpcAddresses> taken;  // Per VPC: the store's and the stream's.
  keys.reserve(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    std::string field = absl::StrCat("endpoints[", i, "]");
    EndpointRow& row = endpoints[i];
    const model::Endpoint& e = row.endpoint;
    auto [k, fresh] = keys.emplace(e.key, i);
    if (!fresh) {
      return Invalid(F(field, "key"),
                     absl::StrCat("'", e.key, "' is also endpoints[", k->second, "]'s key"));
    }
    // A stream names its addresses: allocation is one endpoint at a time.
    if (e.ipv4.empty()) {
      return Invalid(F(field, "ipv4"), "missing (CreateEndpoint allocates one; a stream does not)");
    }
    if (e.mac.empty()) {
      return Invalid(F(field, "mac"), "missing (CreateEndpoint allocates one; a stream does not)");
    }
    if (const EndpointRow* have = state.FindEndpoint(e.key)) {
      if (auto diff = FirstDifference(have->endpoint, e)) {
        return Differs(F(field, diff->first), "endpoint", e.key, diff->first, diff->second);
      }
      ++out.unchanged;
      continue;
    }
    if (absl::Status s = CheckEndpointPlacement(state, field, e); !s.ok()) return s;
    auto t = taken.find(e.vpc);
    if (t == taken.end()) t = taken.emplace(e.vpc, AddressesOf(state, e.vpc)).first;
    if (absl::Status s = CheckAddressesFree(field, e, t->second); !s.ok()) return s;
    t->second.ipv4.emplace(e.ipv4, e.key);
    t->second.mac.emplace(e.mac, e.key);
    out.create.push_back(std::move(row));
  }
  return out;
}

}  // namespace shortcut::manager
