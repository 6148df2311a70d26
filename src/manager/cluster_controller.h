// ClusterController: cluster management (cluster_mgmt.h, seed 004 sections
// 3 and 5.4) applied by managerd. It owns the health of every gateway and
// the history of what it did; the NB database holds the outcome (each
// gateway's cluster and role), so a standby managerd that takes over
// starts from the same membership.
//
// Health (detect_failed_gw): one prober per registered gateway asks
// GetStats every `probe_interval` on a client of its own (the driver's
// calls may be busy with a long load) and records an ok or failed sample.
// A gateway with no ok answer for NB_Global.health_deadline_ms is failed.
//
// Every `tick` it makes a plan (PlanRebalance) from the store's state, the
// health table and the history, and applies it in one transaction:
//   JoinBuckets     role joining → serving (the driver sends the cluster's
//                   members to every member: the hosts' groups gain a
//                   bucket, designation moves)
//   LeaveBuckets    role serving → joining (a failed member stays a
//                   member: when it answers again the driver reloads it
//                   and it joins again)
//   AddGatewayToCluster       a spare becomes a joining member
//   RemoveGatewayFromCluster  role draining (out of the buckets)
//   MoveVpc         the VPC starts moving (moving_to, phase loading)
// Then VPC moves go on, make-before-break, each step written once the
// driver reports the previous one done on every serving member of the new
// cluster (`vpc_settled`, GatewayDriver::VpcSettled):
//   loading    the new cluster holds the VPC as standby, its bridges in
//              sync → switching;
//   switching  the new cluster serves it: each host holding a VM of the
//              VPC got its rules from the new cluster (its cookie, the
//              default route to its group) in one bundle, replacing the old
//              cluster's → done: the VPC's cluster is the new one, and the
//              driver has the old cluster drop it (keeping direct paths).
// A move starts from a plan or from the API (Northbound::MoveVpc).
// Then draining members finish: once the driver reports that every other
// reachable member of the cluster acknowledged the cluster without it
// (`cluster_settled`) and `drain_grace` has passed since, the member
// becomes a spare (cluster 0), and the driver unloads it.
//
// Rebalance(dry_run) is the API's `Rebalance`: the plan now, applied or
// not.
//
// Time comes from `Timers`. Thread-safety: none; everything on the
// executor given at construction. Lifetime: Stop() wakes every loop; they
// end when the context runs next (finished()). The store must outlive it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/manager/cluster_mgmt.h"
#include "src/manager/gateway_client.h"
#include "src/manager/nb.h"
#include "src/manager/timers.h"
#include "src/ofconn/signal.h"

namespace shortcut::manager {

// What the controller needs of the store: the state, one transaction
// setting gateways' cluster and role, and one setting VPCs' cluster and
// move (cluster_id, moving_to, move_phase). Rows gone meanwhile are skipped.
class ControllerStore {
 public:
  virtual ~ControllerStore() = default;
  virtual const NbState& state() const = 0;
  virtual asio::awaitable<absl::Status> WriteMembership(std::vector<GatewayRow> rows) = 0;
  virtual asio::awaitable<absl::Status> WriteVpcMoves(std::vector<VpcRow> rows) = 0;
};

class ClusterController {
 public:
  struct Options {
    Millis tick = 200;
    Millis probe_interval = 200;
    Millis drain_grace = 500;
  };
  // What the controller needs to know of the driver's progress.
  struct DriverProgress {
    // Every reachable, non-draining member of the cluster holds the
    // cluster's current membership (GatewayDriver::ClusterSettled).
    std::function<bool(uint32_t cluster)> cluster_settled;
    // A move's current step is done in the cluster (GatewayDriver::VpcSettled).
    std::function<bool(uint32_t cluster, const std::string& vpc)> vpc_settled;
  };

  ClusterController(asio::any_io_executor ex, ControllerStore& store, GatewayClientFactory factory,
                    Timers& timers, DriverProgress progress, Options options);
  ~ClusterController();
  ClusterController(const ClusterController&) = delete;
  ClusterController& operator=(const ClusterController&) = delete;

  void Start();
  void Stop();
  bool finished() const { return loops_ == 0; }

  // The plan for now; applied unless `dry_run`.
  asio::awaitable<absl::StatusOr<cluster::RebalancePlan>> Rebalance(bool dry_run);

  const cluster::HealthTable& health() const { return health_; }
  uint64_t plans_applied() const { return plans_applied_; }

 private:
  struct Prober {
    explicit Prober(asio::any_io_executor ex) : wake(ex) {}
    std::string name;
    std::string address;
    std::unique_ptr<GatewayClient> client;
    ofconn::Signal wake;
    bool stop = false;
  };

  asio::awaitable<void> RunTicks(std::shared_ptr<bool> alive);
  asio::awaitable<void> RunProber(std::shared_ptr<Prober> p, std::shared_ptr<bool> alive);
  void SyncProbers();
  // Plans, writes the plan's rows and the finished drains in one
  // transaction, records the plan; the plan as applied.
  asio::awaitable<absl::StatusOr<cluster::RebalancePlan>> Tick();
  // The rows `plan` changes, as the store should hold them.
  std::vector<GatewayRow> RowsFor(const cluster::RebalancePlan& plan) const;
  // Draining members whose drain is complete, as spares.
  std::vector<GatewayRow> FinishedDrains();
  // VPC rows of moves that go one step further, and of moves `plan` starts.
  std::vector<VpcRow> MoveSteps(const cluster::RebalancePlan& plan) const;

  asio::any_io_executor ex_;
  ControllerStore& store_;
  GatewayClientFactory factory_;
  Timers& timers_;
  DriverProgress progress_;
  Options options_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ofconn::Signal wake_;
  bool started_ = false;
  bool stopped_ = false;
  int loops_ = 0;
  bool busy_ = false;  // A plan is being applied (ticks and Rebalance take turns).
  std::map<std::string, std::shared_ptr<Prober>> probers_;
  cluster::HealthTable health_;
  cluster::RebalanceHistory history_;
  std::map<std::string, Millis> drain_settled_since_;
  uint64_t plans_applied_ = 0;
};

}  // namespace shortcut::manager
