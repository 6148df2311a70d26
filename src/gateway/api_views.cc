#include "src/gateway/api_views.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "src/pipeline/pipeline.h"

namespace shortcut::gateway {
namespace {

void FillEntry(const Gateway& gateway, const EndpointView& e,
               v1::ListEndpointsResponse::Entry* entry) {
  v1::Endpoint* out = entry->mutable_endpoint();
  out->set_key(std::string(e.key));
  out->set_vpc(std::string(e.vpc));
  out->set_network(std::string(e.network));
  out->set_ipv4(FormatIpv4(e.ipv4));
  if (e.ipv6) out->set_ipv6(FormatIpv6(*e.ipv6));
  out->set_mac(FormatMac(e.mac));
  out->set_host(std::string(e.host));
  out->set_iface_id(std::string(e.iface_id));
  std::optional<uint32_t> port = gateway.BoundPort(out->host(), out->iface_id());
  entry->set_ofport(port ? static_cast<int64_t>(*port) : -1);
  entry->set_online(EndpointOnline(gateway, e));
}

}  // namespace

bool EndpointOnline(const Gateway& gateway, const EndpointView& e) {
  std::string host(e.host);
  if (!gateway.BoundPort(host, std::string(e.iface_id))) return false;
  const HostProgrammer* p = gateway.programmer(host);
  return p != nullptr && p->in_sync();
}

v1::GetStatsResponse StatsOf(const Gateway& gateway) {
  Stats db = gateway.db().GetStats();
  v1::GetStatsResponse stats;
  stats.set_vpcs(db.vpcs);
  stats.set_endpoints(db.endpoints);
  stats.set_hosts(db.hosts);
  uint64_t connected = 0;
  for (const Host& h : gateway.cluster().hosts) {
    const HostProgrammer* p = gateway.programmer(h.name);
    if (p != nullptr && p->connected()) ++connected;
  }
  stats.set_hosts_connected(connected);
  uint64_t online = 0;
  gateway.db().ForEachEndpoint(
      [&](const EndpointView& e) { online += EndpointOnline(gateway, e); });
  stats.set_endpoints_pending(db.endpoints - online);
  stats.set_instance_id(gateway.instance_id());
  stats.set_cluster_id(gateway.cluster().cluster_id);
  stats.set_cluster_version(gateway.cluster_version());
  return stats;
}

absl::StatusOr<v1::ListEndpointsResponse> ListEndpointsOf(const Gateway& gateway,
                                                          const std::string& vpc,
                                                          const std::string& host) {
  // Keys are views into the DB, valid here: nothing mutates it meanwhile.
  std::vector<std::pair<std::string_view, EndpointId>> ids;
  auto collect = [&](const EndpointView& e) {
    if (vpc.empty() || e.vpc == vpc) ids.emplace_back(e.key, e.id);
  };
  if (!vpc.empty() && !gateway.db().FindVpc(vpc)) {
    return absl::NotFoundError("vpc " + vpc + " is unknown");
  }
  if (!host.empty()) {
    absl::Status s = gateway.db().ForEachEndpointOfHost(host, collect);
    if (!s.ok()) return s;
  } else if (!vpc.empty()) {
    absl::Status s = gateway.db().ForEachEndpointOfVpc(vpc, collect);
    if (!s.ok()) return s;
  } else {
    gateway.db().ForEachEndpoint(collect);
  }
  std::sort(ids.begin(), ids.end());
  v1::ListEndpointsResponse response;
  response.mutable_endpoints()->Reserve(static_cast<int>(ids.size()));
  for (const auto& [key, id] : ids) {
    FillEntry(gateway, gateway.db().View(id), response.add_endpoints());
  }
  return response;
}

v1::ListHostsResponse ListHostsOf(const Gateway& gateway) {
  std::vector<const Host*> hosts;
  for (const Host& h : gateway.cluster().hosts) hosts.push_back(&h);
  std::sort(hosts.begin(), hosts.end(),
            [](const Host* a, const Host* b) { return a->name < b->name; });
  v1::ListHostsResponse response;
  for (const Host* h : hosts) {
    v1::ListHostsResponse::Entry* entry = response.add_hosts();
    entry->mutable_host()->set_name(h->name);
    entry->mutable_host()->set_underlay_ip(h->underlay_ipv4);
    entry->mutable_host()->set_openflow(h->openflow_target);
    entry->mutable_host()->set_ovsdb(h->ovsdb_target);
    const HostProgrammer* p = gateway.programmer(h->name);
    entry->set_connected(p != nullptr && p->connected());
    bool designated = gateway.Designated(h->name);
    entry->set_designated(designated);
    // What this gateway wants on the host; a host it does not program gets
    // its rules from another member.
    if (designated && p != nullptr) {
      entry->set_flows(pipeline::BuildHostState(p->rules()).flow_count());
    }
    if (const NodeOvsdb* node = gateway.node(h->name)) {
      entry->set_ovsdb_connected(node->synced());
      for (const host::TunnelPortStatus& t : node->tunnel_status()) {
        entry->set_gateway_tunnels(entry->gateway_tunnels() + 1);
        if (t.forwarding)
          entry->set_gateway_tunnels_forwarding(entry->gateway_tunnels_forwarding() + 1);
      }
    }
  }
  return response;
}

}  // namespace shortcut::gateway
