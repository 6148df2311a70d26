// Cluster management (seed 004, sections 3 and 5.4) as pure functions of
// the northbound state (NbState), the gateways' health samples and `now`.
// Nothing here does I/O or keeps a clock: the caller passes time in
// milliseconds of a monotonic clock it owns.
//
// The seed's functions, and where each one lives here:
//   create_cluster_set(gw_total_set)      CreateClusterSet, ClusterCountFor
//   update_cluster_set(gw_key)            UpdateClusterSet
//   create_cluster(gw_set)                CreateCluster
//   del_cluster(cluster_key)              DelCluster (only when IsClusterEmpty)
//   is_cluster_empty(cluster_key)         IsClusterEmpty
//   vpc_set_map_to_cluster(vpc_set, ...)  VpcSetMapToCluster
//   vpc_map_to_cluster(vpc_key, ...)      placement.h's VpcMapToCluster; the
//                                         same rule is used here, over live
//                                         members only (PickClusterWithMostRoom)
//   detect_overload_cluster(cluster_set)  DetectOverloadedClusters
//   detect_underload_cluster(cluster_set) DetectUnderloadedClusters
//   detect_failed_gw(gw_set)              DetectFailedGateways
//   add_gw_to_cluster(gw, cluster_key)    the AddGatewayToCluster action
//   del_gw_from_cluster(gw, cluster_key)  the RemoveGatewayFromCluster action
//
// Roles (nb.h GatewayRole). A member takes traffic (a bucket on the hosts
// of its cluster's VPCs, hosts designated to it) only while serving. A
// member added to a cluster starts joining: the driver loads it, and once
// it is READY (every VPC loaded, its bridge confirmed in sync) and has
// answered every health check for a deadline, it joins the buckets
// (JoinBuckets). A serving member that fails leaves the buckets
// (LeaveBuckets) but stays a member, so that when it comes back it is
// reloaded and joins again the same way. A member removed
// (del_gw_from_cluster) is draining: out of the buckets first, then,
// once the rest of its cluster acknowledged that, unloaded and a spare
// (the controller, cluster_controller.h, does that second step).
//
// How it is meant to be applied. PlanRebalance turns one observation (state,
// health, history, now) into a RebalancePlan: a list of actions, each with
// its reason. Nothing is changed by planning. An operator prints a plan
// with FormatPlan (`shortcutctl cluster rebalance --dry-run`); managerd,
// by policy, applies it by writing the NB database (a gateway's cluster_id,
// a VPC's cluster_id) in one transaction, then calls RecordPlan so the
// hold-down and hysteresis see what was done. ProjectPlan gives the state
// the plan would produce, the same changes on an NbState (for tests, and
// for showing a dry run's outcome). Membership changes reach hosts and
// gateways through the driver as any other change of the database does:
// a gateway removed from its cluster leaves that cluster's buckets on the
// hosts of its VPCs, and the hosts it was designated for (rendezvous
// hashing over the members, src/gateway/gateway.h) go to the live members.
//
// Words used below:
//   live member  a gateway whose cluster_id names the cluster, not failed by
//                health (DetectFailedGateways), not in state kDown and not
//                draining. A
//                gateway still loading counts: it will serve once loaded,
//                and counting it keeps the planner from adding spare after
//                spare while it loads.
//   capacity     the sum of the live members' capacity (VMs each can serve).
//   load         the endpoints of the VPCs the cluster serves.
//   VMs per live gateway   load / live members (the seed's "average number
//                of VMs managed by each gateway node").
//   spare        a gateway with cluster_id 0, healthy (a recent ok sample),
//                not kDown, and not itself in hold-down.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/manager/nb.h"

// A nested namespace: placement.h already names a ClusterLoad (all members);
// this one counts live members only.
namespace shortcut::manager::cluster {

// The hysteresis band, a fraction of a threshold: a cluster that went over
// the overload threshold T stays overloaded until it is at or below
// (1 - kHysteresis) * T; one that went under the underload threshold U
// stays underloaded until it is at or above (1 + kHysteresis) * U. Actions
// aim at the inside of the band, so a fix is not undone by the next VM.
inline constexpr double kHysteresis = 0.10;

// ---- detect_failed_gw -----------------------------------------------------

// One answer (or its absence: ok = false) of a gateway's health check.
struct HealthSample {
  std::string gateway;
  bool ok = false;
  int64_t at_ms = 0;
};

// What the samples so far say about one gateway.
struct GatewayHealth {
  int64_t first_seen_ms = 0;          // The first sample's time.
  std::optional<int64_t> last_ok_ms;  // The last ok sample, if any.
  int64_t last_sample_ms = 0;
  uint32_t consecutive_failures = 0;  // Failed samples since the last ok one.
  // The first ok sample of the current run of ok samples (none while failing).
  std::optional<int64_t> ok_since_ms;
  friend bool operator==(const GatewayHealth&, const GatewayHealth&) = default;
};
using HealthTable = std::map<std::string, GatewayHealth>;

// Folds samples into `table`, in time order (samples older than a
// gateway's last one are ignored, so a late answer does not revive it).
void RecordHealth(HealthTable& table, const std::vector<HealthSample>& samples);

// Whether `h` is failed at `now`: no ok sample for more than `deadline_ms`
// (counted from the first sample if there never was an ok one). A gateway
// that answers intermittently but at least once per deadline is not failed:
// the deadline is the debounce.
bool IsFailed(const GatewayHealth& h, int64_t now_ms, uint32_t deadline_ms);
// detect_failed_gw: the failed gateways of `table`, sorted by name.
// Gateways never sampled are not in the table and are not failed.
std::vector<std::string> DetectFailedGateways(const HealthTable& table, int64_t now_ms,
                                              uint32_t deadline_ms);
// The same over raw samples (a table built from them alone).
std::vector<std::string> DetectFailedGateways(const std::vector<HealthSample>& samples,
                                              int64_t now_ms, uint32_t deadline_ms);

// ---- loads ----------------------------------------------------------------

struct ClusterLoad {
  uint32_t id = 0;
  uint64_t members = 0;       // Every gateway naming the cluster.
  uint64_t live_members = 0;  // See "live member" above.
  uint64_t capacity = 0;      // Of the live members.
  uint64_t load = 0;          // Endpoints of its VPCs.
  uint64_t vpcs = 0;
  // load / live_members; with no live member, +infinity if it has load
  // (it needs a gateway), 0 otherwise.
  double vms_per_live_gateway = 0;
  friend bool operator==(const ClusterLoad&, const ClusterLoad&) = default;
};

// Every cluster of `state`, by id. `failed` names gateways not to count.
std::vector<ClusterLoad> ClusterLoads(const NbState& state, const std::set<std::string>& failed);

// ---- detect_overload_cluster / detect_underload_cluster -------------------

// Overloaded: vms_per_live_gateway > overload_vms_per_gateway, or in
// `previously` and still above (1 - kHysteresis) of it. Empty when the
// threshold is 0 (detection off). Sorted by id.
std::set<uint32_t> DetectOverloadedClusters(const std::vector<ClusterLoad>& loads,
                                            const Settings& settings,
                                            const std::set<uint32_t>& previously);
// Underloaded: has live members and vms_per_live_gateway <
// underload_vms_per_gateway, or in `previously` and still below
// (1 + kHysteresis) of it. Empty when the threshold is 0.
std::set<uint32_t> DetectUnderloadedClusters(const std::vector<ClusterLoad>& loads,
                                             const Settings& settings,
                                             const std::set<uint32_t>& previously);

// ---- create_cluster_set ---------------------------------------------------

struct ClusterSetSizing {
  uint64_t gateways = 0;
  uint64_t hosts = 0;
  uint64_t expected_vpcs = 0;
  uint32_t min_members = 2;          // Settings.min_cluster_members.
  uint64_t vpcs_per_cluster = 64;    // Blast radius: VPCs one cluster should serve.
  uint64_t hosts_per_cluster = 256;  // Hosts one cluster's gateways should program.
};

// The number of clusters when none is given (seed 3.1: "according to the
// number of gateway nodes, computing nodes and estimated VPCs"):
//   wanted = max(1, ceil(expected_vpcs / vpcs_per_cluster),
//                   ceil(hosts / hosts_per_cluster))
//   n      = min(wanted, max(1, floor(gateways / min_members)))
// More clusters make a failing cluster touch fewer VPCs and spread the
// programming of hosts; every cluster still needs min_members gateways.
// 0 when there are no gateways.
uint32_t ClusterCountFor(const ClusterSetSizing& sizing);

// create_cluster_set: the gateways divided equally (seed 3.1) into
// `n_clusters` clusters numbered 1..n: sorted by name, the first
// (count % n) clusters get one more. `n_clusters` 0: ClusterCountFor with
// `sizing` (its `gateways` is taken from `gateways`). InvalidArgument for
// duplicate or empty names, or more clusters than gateways.
absl::StatusOr<std::map<uint32_t, std::vector<std::string>>> CreateClusterSet(
    const std::vector<std::string>& gateways, uint32_t n_clusters, ClusterSetSizing sizing = {});

// ---- create_cluster / del_cluster / is_cluster_empty ----------------------

struct NewCluster {
  uint32_t id = 0;                   // The lowest id (1..65535) not in use.
  std::vector<std::string> members;  // Sorted.
};
// create_cluster: a new cluster of `gw_set`, each a spare (cluster_id 0).
// InvalidArgument naming `gw_set[i]` for an unknown, duplicate or
// non-spare gateway; ResourceExhausted when every id is taken.
absl::StatusOr<NewCluster> CreateCluster(const NbState& state,
                                         const std::vector<std::string>& gw_set);

// is_cluster_empty: no VPC is served by `cluster_id`.
bool IsClusterEmpty(const NbState& state, uint32_t cluster_id);

// add_gw_to_cluster / del_gw_from_cluster as rows: `gw` made a member of
// `cluster_id` (JOINING: it loads first; SERVING at once in a cluster that
// serves no VPC, with nothing to load), and `gw` leaving its cluster
// (DRAINING: out of the buckets first; a spare at once from a cluster that
// serves no VPC, with no traffic to drain). Used by the API and by the
// controller applying a plan.
GatewayRow AsAddedMember(const NbState& state, GatewayRow gw, uint32_t cluster_id);
GatewayRow AsRemovedMember(const NbState& state, GatewayRow gw);

// del_cluster: the members that go back to the spare pool when
// `cluster_id` is deleted. NotFound for an unknown cluster;
// FailedPrecondition while it serves a VPC (move them first).
absl::StatusOr<std::vector<std::string>> DelCluster(const NbState& state, uint32_t cluster_id);

// ---- vpc_set_map_to_cluster ----------------------------------------------

// vpc_map_to_cluster's rule (placement.h) on these loads: the cluster with
// live members and the most remaining capacity (capacity - load), ties to
// the lowest id; nullopt when none has a live member.
std::optional<uint32_t> PickClusterWithMostRoom(const std::vector<ClusterLoad>& loads);

// vpc_set_map_to_cluster: places many VPCs at once (at start, or a batch):
// the largest (most endpoints; ties by id) first, each on the cluster with
// the most remaining capacity, counting the VPCs placed before it.
// `vpc_endpoints` maps VPC id -> its endpoints (expected or present).
// FailedPrecondition when no cluster has a live member.
absl::StatusOr<std::map<std::string, uint32_t>> VpcSetMapToCluster(
    const std::map<std::string, uint64_t>& vpc_endpoints, std::vector<ClusterLoad> loads);

// ---- the plan --------------------------------------------------------------

enum class Reason {
  kFailed,           // No healthy answer within the deadline.
  kUnderload,        // Too few VMs per live gateway.
  kOverload,         // Too many VMs per live gateway.
  kBelowMinMembers,  // Fewer live members than min_cluster_members.
  kNewGateway,       // update_cluster_set: a spare joins the cluster that needs it most.
  kLoaded,           // A joining member holds the cluster's state and is healthy.
};
const char* ReasonName(Reason r);

struct AddGatewayToCluster {  // add_gw_to_cluster
  std::string gateway;
  uint32_t cluster = 0;
  Reason reason = Reason::kOverload;
  std::string detail;
  friend bool operator==(const AddGatewayToCluster&, const AddGatewayToCluster&) = default;
};
struct RemoveGatewayFromCluster {  // del_gw_from_cluster
  std::string gateway;
  uint32_t cluster = 0;
  Reason reason = Reason::kFailed;  // kFailed or kUnderload.
  std::string detail;
  friend bool operator==(const RemoveGatewayFromCluster&,
                         const RemoveGatewayFromCluster&) = default;
};
struct MoveVpc {
  std::string vpc;
  uint32_t from = 0;
  uint32_t to = 0;
  uint64_t endpoints = 0;
  std::string detail;
  friend bool operator==(const MoveVpc&, const MoveVpc&) = default;
};
// A serving member that failed stops taking traffic (it stays a member).
struct LeaveBuckets {
  std::string gateway;
  uint32_t cluster = 0;
  std::string detail;
  friend bool operator==(const LeaveBuckets&, const LeaveBuckets&) = default;
};
// A joining member, loaded and healthy, starts taking traffic.
struct JoinBuckets {
  std::string gateway;
  uint32_t cluster = 0;
  std::string detail;
  friend bool operator==(const JoinBuckets&, const JoinBuckets&) = default;
};
using Action =
    std::variant<AddGatewayToCluster, RemoveGatewayFromCluster, MoveVpc, LeaveBuckets, JoinBuckets>;

struct RebalancePlan {
  std::vector<Action> actions;  // In the order they should be applied.
  // The detectors' verdicts after hysteresis, for the next observation.
  std::set<uint32_t> overloaded;
  std::set<uint32_t> underloaded;
  std::vector<std::string> failed;  // Every failed gateway, members or not.
};

// What earlier plans did: the time of the last action on each cluster,
// VPC and gateway, and the detectors' last verdicts (hysteresis).
struct RebalanceHistory {
  std::map<uint32_t, int64_t> cluster_action_ms;
  absl::flat_hash_map<std::string, int64_t> vpc_action_ms;
  absl::flat_hash_map<std::string, int64_t> gateway_action_ms;
  std::set<uint32_t> overloaded;
  std::set<uint32_t> underloaded;
};

// PlanRebalance, in this order:
//  0. joining members that are READY and have answered every health check
//     for health_deadline_ms join the buckets (JoinBuckets);
//  1. failed serving members leave the buckets (LeaveBuckets), whatever the
//     hold-down and the minimum; they stay members;
//  2. a cluster that serves VPCs or has members but fewer than
//     min_cluster_members live ones gets spares (a repair: not held down);
//  3. an overloaded cluster not held down gets spares until it is inside
//     the band, then gives its smallest VPCs, one by one, each to the
//     cluster with the most room that stays inside its own band after the
//     move (VPCs held down are not moved; clusters held down do not
//     receive); the seed's "expand the cluster" first, moves after;
//  4. an underloaded cluster not held down and untouched by this plan
//     gives back one member (the smallest capacity, ties the last name) to
//     the spare pool if it keeps min_cluster_members live members and the
//     rest stays inside the overload band.
// "Held down": an action on it within settings.hold_down_ms before `now`.
// Deterministic: equal inputs give equal plans.
RebalancePlan PlanRebalance(const NbState& state, const HealthTable& health,
                            const Settings& settings, int64_t now_ms,
                            const RebalanceHistory& history);

// update_cluster_set(gw_key): what one gateway's registration, change or
// removal calls for. A failed member leaves the buckets (and the cluster
// is refilled from spares if it falls below the minimum); a live spare
// joins the cluster with the fewest live members below the minimum, else
// the one with the most VMs per live gateway (seed 3.3: "added to the
// cluster with a large load"); a gateway gone from the state, a healthy
// member or an unhealthy spare call for nothing.
RebalancePlan UpdateClusterSet(const NbState& state, const HealthTable& health,
                               const Settings& settings, int64_t now_ms,
                               const RebalanceHistory& history, const std::string& gw_key);

// Records that `plan` was applied at `now_ms`: its actions' times and its
// verdicts.
void RecordPlan(RebalanceHistory& history, const RebalancePlan& plan, int64_t now_ms);

// The state after `plan` (cluster_id and role of gateways, cluster_id of
// VPCs, and the gateways_by_cluster index). Actions naming unknown rows are
// skipped. A removed member is shown as a spare at once (its drain is the
// controller's).
NbState ProjectPlan(NbState state, const RebalancePlan& plan);

// One line per action with its reason, e.g.
//   "take gateway gw3 out of cluster 2's buckets: failed (no ok answer for 4000 ms, ...)"
// and "no action" for an empty plan. For `--dry-run`.
std::string FormatPlan(const RebalancePlan& plan);

}  // namespace shortcut::manager::cluster
