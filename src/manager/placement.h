// Placement of a new VPC on a gateway cluster: the seed's
// `vpc_map_to_cluster` (section 5.4), "the cluster with the most remaining
// capacity".
//
// A cluster's capacity is the sum of its members' capacity (VMs each can
// serve); its load is the number of endpoints of the VPCs it serves; what
// remains is capacity minus load (negative for an overloaded cluster). A
// cluster without members cannot serve anything and is never chosen.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

struct ClusterLoad {
  uint32_t id = 0;
  uint64_t members = 0;
  uint64_t capacity = 0;  // Sum of the members' capacity.
  uint64_t load = 0;      // Endpoints of its VPCs.
  friend bool operator==(const ClusterLoad&, const ClusterLoad&) = default;
};

// Every cluster of `state`, by id.
std::vector<ClusterLoad> ClusterLoads(const NbState& state);

// vpc_map_to_cluster: the id of the cluster with the most remaining
// capacity; ties go to the lowest id. FailedPrecondition when no cluster
// has a member.
absl::StatusOr<uint32_t> VpcMapToCluster(const std::vector<ClusterLoad>& clusters);

}  // namespace shortcut::manager
