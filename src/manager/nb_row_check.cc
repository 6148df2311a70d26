#include "src/manager/nb_row_check.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "src/manager/validate.h"
#include "src/model/address.h"
#include "src/model/offload.h"

namespace shortcut::manager {
namespace {

// `what` of row `key` holds `column` in another spelling than the API's.
absl::Status NotCanonical(const std::string& what, const char* column, const std::string& text,
                          const std::string& canonical) {
  return absl::InvalidArgumentError(absl::StrCat(what, ".", column, ": '", text,
                                                 "' is not in canonical form ('", canonical, "')"));
}

}  // namespace

absl::Status CheckHostRow(const HostRow& row) {
  const model::Host& h = row.host;
  const std::string what = absl::StrCat("Host ", h.name);
  v1::Host p;
  p.set_name(h.name);
  p.set_underlay_ip(h.underlay_ipv4);
  p.set_openflow(h.openflow_target);
  p.set_ovsdb(h.ovsdb_target);
  p.set_direct_path_budget(h.direct_path_budget);
  absl::StatusOr<HostRow> api = HostFromProto(p, what);
  if (!api.ok()) return api.status();
  if (api->host.underlay_ipv4 != h.underlay_ipv4) {
    return NotCanonical(what, "underlay_ip", h.underlay_ipv4, api->host.underlay_ipv4);
  }
  return absl::OkStatus();
}

absl::Status CheckGatewayRow(const GatewayRow& row) {
  const std::string what = absl::StrCat("Gateway ", row.name);
  v1::Gateway p;
  p.set_name(row.name);
  p.set_underlay_ip(row.underlay_ipv4);
  p.set_grpc_address(row.grpc_address);
  p.set_capacity(row.capacity);
  absl::StatusOr<GatewayRow> api = GatewayFromProto(p, what);
  if (!api.ok()) return api.status();
  if (api->underlay_ipv4 != row.underlay_ipv4) {
    return NotCanonical(what, "underlay_ip", row.underlay_ipv4, api->underlay_ipv4);
  }
  return absl::OkStatus();
}

absl::Status CheckVpcRow(const VpcRow& row) {
  const model::Vpc& v = row.vpc;
  const std::string what = absl::StrCat("Vpc ", v.id);
  v1::Vpc p;
  p.set_id(v.id);
  p.set_vni(v.vni);
  p.set_router_mac(v.router_mac);
  absl::StatusOr<VpcInput> api = VpcFromProto(p, what);
  if (!api.ok()) return api.status();
  if (api->vpc.vpc.router_mac != v.router_mac) {
    return NotCanonical(what, "router_mac", v.router_mac, api->vpc.vpc.router_mac);
  }
  if (absl::Status s = model::ValidateOffload(v.offload, absl::StrCat(what, ".offload")); !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

absl::Status CheckNetworkRow(const NetworkRow& row, const NbState& state) {
  const model::Network& n = row.network;
  const std::string what = absl::StrCat("Network ", row.vpc, "/", n.id);
  v1::Network p;
  p.set_vpc(row.vpc);
  p.set_id(n.id);
  p.set_ipv4_cidr(n.ipv4_cidr);
  p.set_ipv6_cidr(n.ipv6_cidr);
  absl::StatusOr<NetworkRow> api = NetworkFromProto(p, what);
  if (!api.ok()) return api.status();
  if (api->network.ipv4_cidr != n.ipv4_cidr) {
    return NotCanonical(what, "ipv4_cidr", n.ipv4_cidr, api->network.ipv4_cidr);
  }
  if (api->network.ipv6_cidr != n.ipv6_cidr) {
    return NotCanonical(what, "ipv6_cidr", n.ipv6_cidr, api->network.ipv6_cidr);
  }
  if (!state.vpcs.contains(row.vpc)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ".vpc: VPC '", row.vpc, "' is not in use (its row is refused)"));
  }
  return absl::OkStatus();
}

absl::Status CheckEndpointText(const EndpointRow& row) {
  const model::Endpoint& e = row.endpoint;
  if (e.key.empty()) return absl::InvalidArgumentError("Endpoint with an empty key");
  auto bad = [&](const char* column, const std::string& text, const char* what) {
    return absl::InvalidArgumentError(
        absl::StrCat("Endpoint ", e.key, ": ", column, " '", text, "' is not ", what));
  };
  if (!e.ipv4.empty()) {
    std::optional<model::Ipv4> ip = model::ParseIpv4(e.ipv4);
    if (!ip || model::FormatIpv4(*ip) != e.ipv4) return bad("ipv4", e.ipv4, "an IPv4 address");
  }
  if (!e.ipv6.empty()) {
    std::optional<model::Ipv6> ip = model::ParseIpv6(e.ipv6);
    if (!ip || model::FormatIpv6(*ip) != e.ipv6) {
      return bad("ipv6", e.ipv6, "an IPv6 address in canonical form");
    }
  }
  if (!e.mac.empty()) {
    std::optional<model::Mac> mac = model::ParseMac(e.mac);
    if (!mac || !model::IsUnicast(*mac) || model::FormatMac(*mac) != e.mac) {
      return bad("mac", e.mac, "a unicast MAC in lower case");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEndpointRow(const EndpointRow& row, const NbState& state) {
  if (absl::Status s = CheckEndpointText(row); !s.ok()) return s;
  const model::Endpoint& e = row.endpoint;
  auto unused = [&](const char* column, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("Endpoint ", e.key, ": ", column, " ", what,
                                                   " is not in use (its row is refused)"));
  };
  if (!state.vpcs.contains(e.vpc)) return unused("vpc", absl::StrCat("'", e.vpc, "'"));
  if (!state.networks.contains(NetworkKey(e.vpc, e.network))) {
    return unused("network", absl::StrCat("'", e.network, "' of VPC ", e.vpc));
  }
  if (!state.hosts.contains(e.host)) return unused("host", absl::StrCat("'", e.host, "'"));
  return absl::OkStatus();
}

}  // namespace shortcut::manager
