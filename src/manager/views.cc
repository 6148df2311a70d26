#include "src/manager/views.h"

#include <algorithm>
#include <queue>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "src/model/offload_proto.h"

namespace shortcut::manager {
namespace {

v1::GatewayState StateOf(GatewayState s) {
  switch (s) {
    case GatewayState::kUnknown:
      return v1::GATEWAY_STATE_UNKNOWN;
    case GatewayState::kLoading:
      return v1::GATEWAY_STATE_LOADING;
    case GatewayState::kReady:
      return v1::GATEWAY_STATE_READY;
    case GatewayState::kDown:
      return v1::GATEWAY_STATE_DOWN;
  }
  return v1::GATEWAY_STATE_UNSPECIFIED;
}

uint64_t EndpointsOfVpc(const NbState& state, const std::string& vpc) {
  auto it = state.endpoints_by_vpc.find(vpc);
  return it == state.endpoints_by_vpc.end() ? 0 : it->second.size();
}

using KeySet = std::set<std::string>;

// Up to `limit` keys of `keys` after `after` that pass `keep`.
template <typename Keep>
std::vector<std::string> Scan(const KeySet& keys, const std::string& after, size_t limit,
                              Keep keep) {
  std::vector<std::string> out;
  for (auto it = after.empty() ? keys.begin() : keys.upper_bound(after);
       it != keys.end() && out.size() < limit; ++it) {
    if (keep(*it)) out.push_back(*it);
  }
  return out;
}

Page Finish(std::vector<std::string> keys, size_t size) {
  Page page;
  if (keys.size() > size) {
    keys.resize(size);
    page.next_token = PageToken(keys.back());
  }
  page.keys = std::move(keys);
  return page;
}

}  // namespace

v1::Host HostView(const NbState& state, const HostRow& row) {
  v1::Host out;
  out.set_name(row.host.name);
  out.set_underlay_ip(row.host.underlay_ipv4);
  out.set_openflow(row.host.openflow_target);
  out.set_ovsdb(row.host.ovsdb_target);
  out.set_direct_path_budget(row.host.direct_path_budget);
  std::set<uint32_t> clusters;
  if (auto it = state.endpoints_by_host.find(row.host.name); it != state.endpoints_by_host.end()) {
    out.set_endpoints(it->second.size());
    std::set<std::string> vpcs;
    for (const std::string& key : it->second) {
      if (const EndpointRow* e = state.FindEndpoint(key)) vpcs.insert(e->endpoint.vpc);
    }
    for (const std::string& vpc : vpcs) {
      if (auto v = state.vpcs.find(vpc); v != state.vpcs.end())
        clusters.insert(v->second.cluster_id);
    }
  }
  for (uint32_t id : clusters) out.add_clusters(id);
  return out;
}

static v1::GatewayRole RoleOf(GatewayRole role) {
  switch (role) {
    case GatewayRole::kServing:
      return v1::GATEWAY_ROLE_SERVING;
    case GatewayRole::kDraining:
      return v1::GATEWAY_ROLE_DRAINING;
    case GatewayRole::kJoining:
      break;
  }
  return v1::GATEWAY_ROLE_JOINING;
}

v1::Gateway GatewayView(const GatewayRow& row) {
  v1::Gateway out;
  out.set_name(row.name);
  out.set_underlay_ip(row.underlay_ipv4);
  out.set_grpc_address(row.grpc_address);
  out.set_capacity(row.capacity);
  out.set_cluster_id(row.cluster_id);
  out.set_state(StateOf(row.state));
  out.set_instance_id(row.instance_id);
  out.set_tunnel_ofport(row.tunnel_ofport);
  out.set_detail(row.detail);
  if (row.cluster_id != 0) out.set_role(RoleOf(row.role));
  return out;
}

v1::Cluster ClusterView(const NbState& state, uint32_t id) {
  v1::Cluster out;
  out.set_id(id);
  uint64_t capacity = 0;
  if (auto it = state.gateways_by_cluster.find(id); it != state.gateways_by_cluster.end()) {
    for (const std::string& name : it->second) {
      out.add_members(name);
      if (auto g = state.gateways.find(name); g != state.gateways.end()) {
        capacity += g->second.capacity;
      }
    }
  }
  std::vector<std::string> vpcs;
  uint64_t load = 0;
  for (const auto& [vpc_id, row] : state.vpcs) {
    if (row.cluster_id != id) continue;
    vpcs.push_back(vpc_id);
    load += EndpointsOfVpc(state, vpc_id);
  }
  std::sort(vpcs.begin(), vpcs.end());
  for (const std::string& v : vpcs) out.add_vpcs(v);
  out.set_capacity(capacity);
  out.set_load(load);
  return out;
}

v1::Network NetworkView(const NetworkRow& row) {
  v1::Network out;
  out.set_vpc(row.vpc);
  out.set_id(row.network.id);
  out.set_ipv4_cidr(row.network.ipv4_cidr);
  out.set_ipv6_cidr(row.network.ipv6_cidr);
  return out;
}

v1::Vpc VpcView(const NbState& state, const VpcRow& row) {
  v1::Vpc out;
  out.set_id(row.vpc.id);
  out.set_vni(row.vpc.vni);
  out.set_router_mac(row.vpc.router_mac);
  out.set_cluster_id(row.cluster_id);
  out.set_moving_to(row.moving_to);
  *out.mutable_offload() = model::OffloadToProto<v1::OffloadPolicy>(row.vpc.offload);
  switch (row.moving_to == 0 ? MovePhase::kNone : row.move_phase) {
    case MovePhase::kLoading:
      out.set_move_phase(v1::VPC_MOVE_PHASE_LOADING);
      break;
    case MovePhase::kSwitching:
      out.set_move_phase(v1::VPC_MOVE_PHASE_SWITCHING);
      break;
    case MovePhase::kNone:
      break;
  }
  for (auto it = state.networks.lower_bound({row.vpc.id, ""});
       it != state.networks.end() && it->first.first == row.vpc.id; ++it) {
    *out.add_networks() = NetworkView(it->second);
  }
  out.set_endpoints(EndpointsOfVpc(state, row.vpc.id));
  return out;
}

v1::Endpoint EndpointView(const EndpointRow& row) {
  v1::Endpoint out;
  const model::Endpoint& e = row.endpoint;
  out.set_key(e.key);
  out.set_vpc(e.vpc);
  out.set_network(e.network);
  out.set_ipv4(e.ipv4);
  out.set_ipv6(e.ipv6);
  out.set_mac(e.mac);
  out.set_host(e.host);
  out.set_iface_id(e.iface_id);
  out.set_status(row.status == EndpointStatus::kOnline ? v1::ENDPOINT_STATUS_ONLINE
                                                       : v1::ENDPOINT_STATUS_PENDING);
  return out;
}

std::string PageToken(const std::string& last_key) { return absl::WebSafeBase64Escape(last_key); }

absl::StatusOr<std::string> ParsePageToken(const std::string& token) {
  std::string key;
  if (token.empty()) return key;
  if (!absl::WebSafeBase64Unescape(token, &key) || key.empty()) {
    return absl::InvalidArgumentError("page_token: '" + token +
                                      "' is not a token this server gave");
  }
  return key;
}

Page TakePage(const std::vector<std::string>& sorted, const std::string& after, int32_t size) {
  auto it = after.empty() ? sorted.begin() : std::upper_bound(sorted.begin(), sorted.end(), after);
  std::vector<std::string> keys;
  for (; it != sorted.end() && keys.size() <= static_cast<size_t>(size); ++it) keys.push_back(*it);
  return Finish(std::move(keys), size);
}

bool EndpointMatches(const model::Endpoint& e, const std::string& vpc, const std::string& host) {
  return (vpc.empty() || e.vpc == vpc) && (host.empty() || e.host == host);
}

Page EndpointPage(const NbState& state, const std::string& vpc, const std::string& host,
                  const std::string& after, int32_t size) {
  const size_t limit = static_cast<size_t>(size) + 1;  // One more: is there a next page?
  static const KeySet kNone;
  auto index = [](const auto& map, const std::string& k) -> const KeySet& {
    auto it = map.find(k);
    return it == map.end() ? kNone : it->second;
  };
  if (!vpc.empty() || !host.empty()) {
    // Walk the smaller index, filter by the other.
    const KeySet& by_vpc = vpc.empty() ? kNone : index(state.endpoints_by_vpc, vpc);
    const KeySet& by_host = host.empty() ? kNone : index(state.endpoints_by_host, host);
    bool use_vpc = host.empty() || (!vpc.empty() && by_vpc.size() <= by_host.size());
    const KeySet& walk = use_vpc ? by_vpc : by_host;
    auto keep = [&](const std::string& key) {
      const EndpointRow* e = state.FindEndpoint(key);
      return e != nullptr && EndpointMatches(e->endpoint, vpc, host);
    };
    return Finish(Scan(walk, after, limit, keep), size);
  }
  // Every endpoint: a k-way merge of the per-VPC sorted sets.
  using Cursor = std::pair<KeySet::const_iterator, KeySet::const_iterator>;
  auto later = [](const Cursor& a, const Cursor& b) { return *a.first > *b.first; };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
  for (const auto& [v, keys] : state.endpoints_by_vpc) {
    auto it = after.empty() ? keys.begin() : keys.upper_bound(after);
    if (it != keys.end()) heap.push({it, keys.end()});
  }
  std::vector<std::string> keys;
  while (!heap.empty() && keys.size() < limit) {
    Cursor c = heap.top();
    heap.pop();
    keys.push_back(*c.first);
    if (++c.first != c.second) heap.push(c);
  }
  return Finish(std::move(keys), size);
}

std::string ClusterKey(uint32_t id) { return absl::StrFormat("%05u", id); }

}  // namespace shortcut::manager
