#include "src/manager/cluster_controller.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"
#include "src/manager/nb_rows.h"

namespace shortcut::manager {
ClusterController::ClusterController(asio::any_io_executor ex, ControllerStore& store,
                                     GatewayClientFactory factory, Timers& timers,
                                     DriverProgress progress, Options options)
    : ex_(ex),
      store_(store),
      factory_(std::move(factory)),
      timers_(timers),
      progress_(std::move(progress)),
      options_(options),
      wake_(ex) {}

ClusterController::~ClusterController() { *alive_ = false; }

void ClusterController::Start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(ex_, RunTicks(alive_), asio::detached);
}

void ClusterController::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [name, p] : probers_) {
    p->stop = true;
    p->wake.Notify();
  }
  wake_.Notify();
}

void ClusterController::SyncProbers() {
  const NbState& s = store_.state();
  for (auto it = probers_.begin(); it != probers_.end();) {
    auto row = s.gateways.find(it->first);
    if (row != s.gateways.end() && row->second.grpc_address == it->second->address) {
      ++it;
      continue;
    }
    it->second->stop = true;
    it->second->wake.Notify();
    health_.erase(it->first);  // A new address is a new gateway as far as health goes.
    it = probers_.erase(it);
  }
  for (const auto& [name, row] : s.gateways) {
    if (probers_.contains(name)) continue;
    auto p = std::make_shared<Prober>(ex_);
    p->name = name;
    p->address = row.grpc_address;
    p->client = factory_(name, row.grpc_address);
    probers_[name] = p;
    asio::co_spawn(ex_, RunProber(p, alive_), asio::detached);
  }
}

asio::awaitable<void> ClusterController::RunProber(std::shared_ptr<Prober> p,
                                                   std::shared_ptr<bool> alive) {
  ++loops_;
  while (!p->stop && !stopped_) {
    auto stats = co_await p->client->GetStats();
    if (!*alive) co_return;
    if (p->stop || stopped_) break;
    cluster::RecordHealth(health_, {{p->name, stats.ok(), timers_.Now()}});
    co_await timers_.WaitUntil(p->wake, timers_.Now() + options_.probe_interval);
    if (!*alive) co_return;
  }
  --loops_;
}

asio::awaitable<void> ClusterController::RunTicks(std::shared_ptr<bool> alive) {
  ++loops_;
  while (!stopped_) {
    SyncProbers();
    if (!busy_) {
      busy_ = true;
      absl::StatusOr<cluster::RebalancePlan> plan = co_await Tick();
      if (!*alive) co_return;
      busy_ = false;
      if (!plan.ok()) {
        spdlog::warn("cluster management: {}", std::string(plan.status().message()));
      }
    }
    if (stopped_) break;
    co_await timers_.WaitUntil(wake_, timers_.Now() + options_.tick);
    if (!*alive) co_return;
  }
  --loops_;
}

std::vector<GatewayRow> ClusterController::RowsFor(const cluster::RebalancePlan& plan) const {
  const NbState& s = store_.state();
  std::map<std::string, GatewayRow> rows;
  auto row = [&](const std::string& name) -> GatewayRow* {
    auto it = rows.find(name);
    if (it != rows.end()) return &it->second;
    auto g = s.gateways.find(name);
    if (g == s.gateways.end()) return nullptr;
    return &(rows[name] = g->second);
  };
  for (const cluster::Action& a : plan.actions) {
    if (const auto* join = std::get_if<cluster::JoinBuckets>(&a)) {
      if (GatewayRow* r = row(join->gateway)) r->role = GatewayRole::kServing;
    } else if (const auto* leave = std::get_if<cluster::LeaveBuckets>(&a)) {
      if (GatewayRow* r = row(leave->gateway)) r->role = GatewayRole::kJoining;
    } else if (const auto* add = std::get_if<cluster::AddGatewayToCluster>(&a)) {
      if (GatewayRow* r = row(add->gateway)) *r = cluster::AsAddedMember(s, *r, add->cluster);
    } else if (const auto* rm = std::get_if<cluster::RemoveGatewayFromCluster>(&a)) {
      if (GatewayRow* r = row(rm->gateway)) *r = cluster::AsRemovedMember(s, *r);
    }
  }
  std::vector<GatewayRow> out;
  for (auto& [name, r] : rows) {
    const GatewayRow& now = s.gateways.at(name);
    if (r.cluster_id != now.cluster_id || r.role != now.role) out.push_back(std::move(r));
  }
  return out;
}

std::vector<GatewayRow> ClusterController::FinishedDrains() {
  const NbState& s = store_.state();
  const Millis now = timers_.Now();
  std::vector<GatewayRow> out;
  for (auto it = drain_settled_since_.begin(); it != drain_settled_since_.end();) {
    auto g = s.gateways.find(it->first);
    bool draining = g != s.gateways.end() && g->second.role == GatewayRole::kDraining &&
                    g->second.cluster_id != 0;
    it = draining ? std::next(it) : drain_settled_since_.erase(it);
  }
  for (const auto& [name, g] : s.gateways) {
    if (g.cluster_id == 0 || g.role != GatewayRole::kDraining) continue;
    if (!progress_.cluster_settled || !progress_.cluster_settled(g.cluster_id)) {
      drain_settled_since_.erase(name);
      continue;
    }
    auto [since, inserted] = drain_settled_since_.try_emplace(name, now);
    // The grace covers packets already on their way to it and hosts' BFD.
    if (now - since->second < options_.drain_grace) continue;
    GatewayRow spare = g;
    spare.cluster_id = 0;
    spare.role = GatewayRole::kJoining;
    out.push_back(std::move(spare));
    spdlog::info("cluster management: gateway {} drained from cluster {}: now a spare", name,
                 g.cluster_id);
  }
  return out;
}

std::vector<VpcRow> ClusterController::MoveSteps(const cluster::RebalancePlan& plan) const {
  const NbState& s = store_.state();
  std::vector<VpcRow> out;
  for (const auto& [id, v] : s.vpcs) {
    if (v.moving_to == 0) continue;
    if (!progress_.vpc_settled || !progress_.vpc_settled(v.moving_to, id)) continue;
    VpcRow next = v;
    if (v.move_phase == MovePhase::kLoading) {
      next.move_phase = MovePhase::kSwitching;
    } else {
      next.cluster_id = v.moving_to;
      next.moving_to = 0;
      next.move_phase = MovePhase::kNone;
    }
    out.push_back(std::move(next));
  }
  for (const cluster::Action& a : plan.actions) {
    const auto* mv = std::get_if<cluster::MoveVpc>(&a);
    if (mv == nullptr) continue;
    auto v = s.vpcs.find(mv->vpc);
    if (v == s.vpcs.end() || v->second.moving_to != 0 || v->second.cluster_id != mv->from) continue;
    if (!s.clusters.contains(mv->to)) continue;
    VpcRow next = v->second;
    next.moving_to = mv->to;
    next.move_phase = MovePhase::kLoading;
    out.push_back(std::move(next));
  }
  return out;
}

asio::awaitable<absl::StatusOr<cluster::RebalancePlan>> ClusterController::Tick() {
  std::shared_ptr<bool> alive = alive_;
  const NbState& s = store_.state();
  const Millis now = timers_.Now();
  cluster::RebalancePlan plan = cluster::PlanRebalance(s, health_, s.settings, now, history_);
  std::vector<GatewayRow> rows = RowsFor(plan);
  std::vector<VpcRow> moves = MoveSteps(plan);
  for (GatewayRow& r : FinishedDrains()) {
    bool planned = false;
    for (const GatewayRow& p : rows) planned = planned || p.name == r.name;
    if (!planned) rows.push_back(std::move(r));
  }
  if (!rows.empty()) {
    absl::Status written = co_await store_.WriteMembership(rows);
    if (!*alive) co_return absl::UnavailableError("cluster management stopped");
    if (!written.ok()) co_return written;  // Planned again at the next tick.
    ++plans_applied_;
    for (absl::string_view line : absl::StrSplit(cluster::FormatPlan(plan), '\n')) {
      if (!line.empty() && line != "no action" && !absl::StartsWith(line, "move vpc")) {
        spdlog::info("cluster management: {}", std::string(line));
      }
    }
  }
  if (!moves.empty()) {
    absl::Status written = co_await store_.WriteVpcMoves(moves);
    if (!*alive) co_return absl::UnavailableError("cluster management stopped");
    if (!written.ok()) co_return written;  // Found again at the next tick.
    for (const VpcRow& v : moves) {
      if (v.moving_to == 0) {
        spdlog::info("cluster management: vpc {} moved to cluster {}", v.vpc.id, v.cluster_id);
      } else {
        spdlog::info("cluster management: vpc {} moving from cluster {} to {}: {}", v.vpc.id,
                     v.cluster_id, v.moving_to, MovePhaseName(v.move_phase));
      }
    }
  }
  cluster::RecordPlan(history_, plan, now);
  co_return plan;
}

asio::awaitable<absl::StatusOr<cluster::RebalancePlan>> ClusterController::Rebalance(bool dry_run) {
  std::shared_ptr<bool> alive = alive_;
  if (dry_run) {
    const NbState& s = store_.state();
    co_return cluster::PlanRebalance(s, health_, s.settings, timers_.Now(), history_);
  }
  // Takes its turn with the ticks.
  Millis until = timers_.Now() + 10000;
  while (busy_ && timers_.Now() < until) {
    co_await timers_.WaitUntil(wake_, timers_.Now() + 10);
    if (!*alive) co_return absl::UnavailableError("cluster management stopped");
  }
  if (busy_) co_return absl::UnavailableError("cluster management is busy applying a plan");
  if (stopped_) co_return absl::UnavailableError("cluster management stopped");
  busy_ = true;
  absl::StatusOr<cluster::RebalancePlan> plan = co_await Tick();  // A tick on demand.
  if (!*alive) co_return absl::UnavailableError("cluster management stopped");
  busy_ = false;
  co_return plan;
}

}  // namespace shortcut::manager
