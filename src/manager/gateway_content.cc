#include "src/manager/gateway_content.h"

#include <algorithm>

#include "src/model/offload_proto.h"

namespace shortcut::manager {

gwv1::Endpoint EndpointToProto(const model::Endpoint& e) {
  gwv1::Endpoint p;
  p.set_key(e.key);
  p.set_vpc(e.vpc);
  p.set_network(e.network);
  p.set_ipv4(e.ipv4);
  p.set_ipv6(e.ipv6);
  p.set_mac(e.mac);
  p.set_host(e.host);
  p.set_iface_id(e.iface_id);
  return p;
}

gwv1::Host HostToProto(const model::Host& h) {
  gwv1::Host p;
  p.set_name(h.name);
  p.set_underlay_ip(h.underlay_ipv4);
  p.set_openflow(h.openflow_target);
  p.set_ovsdb(h.ovsdb_target);
  p.set_direct_path_budget(h.direct_path_budget);
  return p;
}

gwv1::SetClusterRequest DesiredCluster(const NbState& state, uint32_t cluster_id,
                                       const std::string& self) {
  gwv1::SetClusterRequest request;
  request.set_cluster_id(cluster_id);
  request.set_self(self);
  auto members = state.gateways_by_cluster.find(cluster_id);
  if (members != state.gateways_by_cluster.end()) {
    for (const std::string& name : members->second) {  // A std::set: sorted.
      auto g = state.gateways.find(name);
      if (g == state.gateways.end()) continue;
      gwv1::GatewayMember* m = request.add_members();
      m->set_name(name);
      m->set_underlay_ip(g->second.underlay_ipv4);
      m->set_tunnel_ofport(g->second.tunnel_ofport);
      // Only serving members take traffic (buckets, designation); the
      // others load, or leave.
      m->set_standby(g->second.role != GatewayRole::kServing);
    }
  }
  std::vector<const model::Host*> hosts;
  hosts.reserve(state.hosts.size());
  for (const auto& [name, row] : state.hosts) hosts.push_back(&row.host);
  std::sort(hosts.begin(), hosts.end(),
            [](const model::Host* a, const model::Host* b) { return a->name < b->name; });
  for (const model::Host* h : hosts) *request.add_hosts() = HostToProto(*h);
  return request;
}

std::optional<gwv1::Vpc> DesiredVpcMessage(const NbState& state, const std::string& vpc_id,
                                           uint32_t cluster_id) {
  auto it = state.vpcs.find(vpc_id);
  if (it == state.vpcs.end()) return std::nullopt;
  gwv1::Vpc vpc;
  vpc.set_id(it->second.vpc.id);
  vpc.set_vni(it->second.vpc.vni);
  vpc.set_router_mac(it->second.vpc.router_mac);
  vpc.set_standby(StandbyIn(it->second, cluster_id));
  if (it->second.vpc.offload != model::OffloadPolicy{}) {
    *vpc.mutable_offload() = model::OffloadToProto<gwv1::OffloadPolicy>(it->second.vpc.offload);
  }
  // Networks are keyed (vpc, id) in a std::map: this VPC's are contiguous
  // and sorted by id.
  for (auto n = state.networks.lower_bound({vpc_id, ""});
       n != state.networks.end() && n->first.first == vpc_id; ++n) {
    gwv1::Network* net = vpc.add_networks();
    net->set_id(n->second.network.id);
    net->set_ipv4_cidr(n->second.network.ipv4_cidr);
    net->set_ipv6_cidr(n->second.network.ipv6_cidr);
  }
  return vpc;
}

std::optional<VpcContent> DesiredVpc(const NbState& state, const std::string& vpc_id,
                                     uint32_t cluster_id) {
  std::optional<gwv1::Vpc> vpc = DesiredVpcMessage(state, vpc_id, cluster_id);
  if (!vpc) return std::nullopt;
  VpcContent content;
  content.vpc = std::move(*vpc);
  auto keys = state.endpoints_by_vpc.find(vpc_id);
  if (keys != state.endpoints_by_vpc.end()) {
    content.endpoints.reserve(keys->second.size());
    for (const std::string& key : keys->second) {  // Sorted.
      const EndpointRow* row = state.FindEndpoint(key);
      if (row != nullptr) content.endpoints.push_back(EndpointToProto(row->endpoint));
    }
  }
  return content;
}

std::vector<std::string> VpcsOfCluster(const NbState& state, uint32_t cluster_id) {
  std::vector<std::string> ids;
  if (cluster_id == 0) return ids;
  for (const auto& [id, row] : state.vpcs) {
    if (HeldBy(row, cluster_id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<GatewayContent> DesiredContent(const NbState& state, const std::string& name) {
  auto g = state.gateways.find(name);
  if (g == state.gateways.end() || g->second.cluster_id == 0) return std::nullopt;
  GatewayContent content;
  content.cluster = DesiredCluster(state, g->second.cluster_id, name);
  for (const std::string& id : VpcsOfCluster(state, g->second.cluster_id)) {
    content.vpcs.emplace(id, *DesiredVpc(state, id, g->second.cluster_id));
  }
  return content;
}

}  // namespace shortcut::manager
