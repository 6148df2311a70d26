#include "src/gateway/api_convert.h"

#include "absl/strings/str_cat.h"
#include "src/model/offload_proto.h"

namespace shortcut::gateway {
namespace {

// A field the API requires and the DB would reject with a vaguer message
// (or, for an empty VPC id, a message naming no field).
absl::Status Required(const std::string& value, const std::string& field) {
  if (!value.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
}

}  // namespace

absl::StatusOr<ClusterConfig> ClusterFromProto(const v1::SetClusterRequest& request) {
  ClusterConfig config;
  config.cluster_id = request.cluster_id();
  if (absl::Status s = Required(request.self(), "self"); !s.ok()) return s;
  config.self = request.self();
  if (request.members().empty()) {
    return absl::InvalidArgumentError("members is empty: a cluster has at least this gateway");
  }
  for (int i = 0; i < request.members_size(); ++i) {
    const v1::GatewayMember& m = request.members(i);
    std::string field = absl::StrCat("members[", i, "]");
    if (absl::Status s = Required(m.name(), field + ".name"); !s.ok()) return s;
    if (absl::Status s = Required(m.underlay_ip(), field + ".underlay_ip"); !s.ok()) return s;
    ClusterMember member;
    member.name = m.name();
    member.underlay_ipv4 = m.underlay_ip();
    member.tunnel_ofport = m.tunnel_ofport();
    member.standby = m.standby();
    config.members.push_back(std::move(member));
  }
  for (int i = 0; i < request.hosts_size(); ++i) {
    const v1::Host& h = request.hosts(i);
    std::string field = absl::StrCat("hosts[", i, "]");
    if (absl::Status s = Required(h.name(), field + ".name"); !s.ok()) return s;
    if (absl::Status s = Required(h.underlay_ip(), field + ".underlay_ip"); !s.ok()) return s;
    Host host;
    host.name = h.name();
    host.underlay_ipv4 = h.underlay_ip();
    host.openflow_target = h.openflow();
    host.ovsdb_target = h.ovsdb();
    host.direct_path_budget = h.direct_path_budget();
    config.hosts.push_back(std::move(host));
  }
  return config;
}

absl::StatusOr<Endpoint> EndpointFromProto(const v1::Endpoint& e, const std::string& field) {
  // ipv6 and iface_id are optional; everything else is required.
  for (const auto& [value, name] : {std::pair<const std::string*, const char*>{&e.key(), "key"},
                                    {&e.vpc(), "vpc"},
                                    {&e.network(), "network"},
                                    {&e.ipv4(), "ipv4"},
                                    {&e.mac(), "mac"},
                                    {&e.host(), "host"}}) {
    if (absl::Status s = Required(*value, absl::StrCat(field, ".", name)); !s.ok()) return s;
  }
  Endpoint out;
  out.key = e.key();
  out.vpc = e.vpc();
  out.network = e.network();
  out.ipv4 = e.ipv4();
  out.ipv6 = e.ipv6();
  out.mac = e.mac();
  out.host = e.host();
  out.iface_id = e.iface_id();
  return out;
}

absl::StatusOr<VpcInput> VpcFromProto(const v1::Vpc& vpc, const std::string& field) {
  if (absl::Status s = Required(vpc.id(), field + ".id"); !s.ok()) return s;
  if (absl::Status s = Required(vpc.router_mac(), field + ".router_mac"); !s.ok()) return s;
  VpcInput in;
  in.vpc.id = vpc.id();
  in.vpc.vni = vpc.vni();
  in.vpc.router_mac = vpc.router_mac();
  in.vpc.standby = vpc.standby();
  auto offload = model::OffloadFromProto(vpc.offload(), field + ".offload");
  if (!offload.ok()) return offload.status();
  in.vpc.offload = *offload;
  for (int i = 0; i < vpc.networks_size(); ++i) {
    const v1::Network& n = vpc.networks(i);
    std::string net_field = absl::StrCat(field, ".networks[", i, "]");
    if (absl::Status s = Required(n.id(), net_field + ".id"); !s.ok()) return s;
    if (absl::Status s = Required(n.ipv4_cidr(), net_field + ".ipv4_cidr"); !s.ok()) return s;
    Network network;
    network.id = n.id();
    network.ipv4_cidr = n.ipv4_cidr();
    network.ipv6_cidr = n.ipv6_cidr();
    in.networks.push_back(std::move(network));
  }
  return in;
}

v1::UpdateEndpointResponse::Change ChangeOf(const EndpointUpdate& update) {
  if (update.created) return v1::UpdateEndpointResponse::CREATED;
  if (update.moved) return v1::UpdateEndpointResponse::MOVED;
  if (update.readdressed) return v1::UpdateEndpointResponse::READDRESSED;
  if (update.changed) return v1::UpdateEndpointResponse::REBOUND;
  return v1::UpdateEndpointResponse::UNCHANGED;
}

}  // namespace shortcut::gateway
