#include "src/manager/placement.h"

#include <map>

namespace shortcut::manager {

std::vector<ClusterLoad> ClusterLoads(const NbState& state) {
  std::map<uint32_t, ClusterLoad> by_id;
  for (const auto& [id, row] : state.clusters) by_id[id].id = id;
  for (const auto& [name, gw] : state.gateways) {
    if (gw.cluster_id == 0) continue;
    auto it = by_id.find(gw.cluster_id);
    if (it == by_id.end()) continue;  // A dangling reference the database refuses anyway.
    it->second.members += 1;
    it->second.capacity += gw.capacity;
  }
  for (const auto& [id, vpc] : state.vpcs) {
    auto it = by_id.find(vpc.cluster_id);
    if (it == by_id.end()) continue;
    auto eps = state.endpoints_by_vpc.find(id);
    if (eps != state.endpoints_by_vpc.end()) it->second.load += eps->second.size();
  }
  std::vector<ClusterLoad> out;
  out.reserve(by_id.size());
  for (auto& [id, load] : by_id) out.push_back(load);
  return out;
}

absl::StatusOr<uint32_t> VpcMapToCluster(const std::vector<ClusterLoad>& clusters) {
  const ClusterLoad* best = nullptr;
  auto remaining = [](const ClusterLoad& c) {
    return static_cast<__int128>(c.capacity) - static_cast<__int128>(c.load);
  };
  for (const ClusterLoad& c : clusters) {
    if (c.members == 0) continue;
    if (best == nullptr || remaining(c) > remaining(*best) ||
        (remaining(c) == remaining(*best) && c.id < best->id)) {
      best = &c;
    }
  }
  if (best == nullptr) {
    return absl::FailedPreconditionError(
        "vpc.cluster_id: no cluster with members to place the VPC on (create one, or name one)");
  }
  return best->id;
}

}  // namespace shortcut::manager
