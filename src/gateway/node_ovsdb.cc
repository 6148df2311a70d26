#include "src/gateway/node_ovsdb.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/ovsdb/ops.h"
#include "src/ovsdb/vswitch.h"

namespace shortcut::gateway {
namespace {

// ofp_port_t is 16 bits and OpenFlow's OFPP_MAX is 0xff00: anything else
// (-1 for a port that failed, 0, junk) is no port.
std::optional<uint32_t> ValidOfport(int64_t ofport) {
  if (ofport <= 0 || ofport >= 0xff00) return std::nullopt;
  return static_cast<uint32_t>(ofport);
}

// The plan's operations, then a read of next_cfg: the value the replica
// must reach before it shows this commit.
ovsdb::Json WithNextCfgRead(const ovsdb::Json& plan_ops, const std::string& root_uuid) {
  ovsdb::Json ops = plan_ops;
  ovsdb::Json where = ovsdb::Json::array({ovsdb::Cond("_uuid", "==", ovsdb::Uuid(root_uuid))});
  ops.push_back(ovsdb::op::Select("Open_vSwitch", std::move(where), {"next_cfg"}));
  return ops;
}

std::optional<int64_t> SelectedNextCfg(const ovsdb::Json& result) {
  if (!result.is_array() || result.empty()) return std::nullopt;
  const ovsdb::Json& last = result.back();
  if (!last.contains("rows") || last["rows"].empty()) return std::nullopt;
  const ovsdb::Json& value = last["rows"][0]["next_cfg"];
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<int64_t>();
}

ovsdb::ReplicaSession::Options SessionOptions(const NodeOvsdb::Options& o) {
  ovsdb::ReplicaSession::Options s;
  s.db = ovsdb::kVswitchDb;
  s.tables = ovsdb::VswitchMonitors();
  s.client = o.client;
  s.min_backoff = o.min_backoff;
  s.max_backoff = o.max_backoff;
  return s;
}

}  // namespace

NodeOvsdb::NodeOvsdb(asio::any_io_executor ex, Options options)
    : ex_(ex),
      options_(std::move(options)),
      tracker_(options_.bridge),
      wake_(ex),
      looked_(ex),
      backoff_(options_.min_backoff),
      retry_timer_(ex),
      bind_wake_(ex) {}

std::shared_ptr<NodeOvsdb> NodeOvsdb::Start(asio::any_io_executor ex, Options options) {
  std::shared_ptr<NodeOvsdb> n(new NodeOvsdb(ex, std::move(options)));
  n->session_ = ovsdb::ReplicaSession::Start(ex, n->options_.target, SessionOptions(n->options_));
  asio::co_spawn(ex, n->Follow(n), asio::detached);
  asio::co_spawn(ex, n->Run(n), asio::detached);
  if (n->options_.on_bind) asio::co_spawn(ex, n->Deliver(n), asio::detached);
  return n;
}

void NodeOvsdb::Stop() {
  if (stopped_) return;
  stopped_ = true;
  session_->Stop();
  retry_timer_.cancel();
  wake_.Notify();
  looked_.Notify();
  bind_wake_.Notify();
}

void NodeOvsdb::Wake() {
  dirty_ = true;
  wake_.Notify();
}

absl::Status NodeOvsdb::SetTunnelPorts(std::vector<host::TunnelPort> ports, std::string cluster) {
  if (auto s = host::ValidateTunnelPorts(ports); !s.ok()) return s;
  if (desired_ && *desired_ == ports && cluster_ == cluster) return absl::OkStatus();
  desired_ = std::move(ports);
  cluster_ = std::move(cluster);
  ++desired_gen_;
  Wake();
  return absl::OkStatus();
}

void NodeOvsdb::ReleaseTunnelPorts(std::string cluster) {
  if (!desired_ && cluster_ == cluster) return;
  desired_.reset();
  in_place_ = false;
  cluster_ = std::move(cluster);
  Wake();
}

asio::awaitable<absl::Status> NodeOvsdb::WaitConverged(Millis timeout_ms) {
  auto self = shared_from_this();
  if (!desired_) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(options_.name, ": no tunnel ports were set"));
  }
  uint64_t gen = desired_gen_;
  bool expired = false;
  asio::steady_timer deadline(ex_);
  deadline.expires_after(std::chrono::milliseconds(timeout_ms));
  deadline.async_wait([this, self, &expired](const std::error_code& ec) {
    if (ec) return;
    expired = true;
    looked_.Notify();
  });
  absl::Status status;
  while (!in_place_ || converged_gen_ < gen) {
    if (stopped_) {
      status = absl::CancelledError(absl::StrCat(options_.name, ": stopped"));
      break;
    }
    if (expired) {
      status = ConvergeTimeout(timeout_ms);
      break;
    }
    co_await looked_.Wait();
  }
  deadline.cancel();
  co_return status;
}

absl::Status NodeOvsdb::ConvergeTimeout(Millis timeout_ms) const {
  std::string why = synced() ? "connected" : "not connected";
  if (!last_error_.ok()) absl::StrAppend(&why, ": ", std::string(last_error_.message()));
  return absl::DeadlineExceededError(absl::StrCat(
      options_.name, ": tunnel ports not in place within ", timeout_ms, " ms (", why, ")"));
}

asio::awaitable<void> NodeOvsdb::Follow([[maybe_unused]] std::shared_ptr<NodeOvsdb> self) {
  while (!stopped_) {
    absl::Status s = co_await session_->WaitForChange();
    if (!s.ok()) break;  // Stopped.
    Wake();
  }
}

asio::awaitable<void> NodeOvsdb::Run([[maybe_unused]] std::shared_ptr<NodeOvsdb> self) {
  while (!stopped_) {
    if (!dirty_) {
      co_await wake_.Wait();
      continue;
    }
    dirty_ = false;
    co_await Step();
    looked_.Notify();
  }
}

void NodeOvsdb::Fail(absl::Status status, bool retry) {
  last_error_ = absl::Status(status.code(), absl::StrCat(options_.name, ": ", status.message()));
  spdlog::warn("{}", std::string(last_error_.message()));
  if (!retry) return;
  retry_timer_.expires_after(std::chrono::milliseconds(backoff_));
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  retry_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (ec || self->stopped_) return;
    self->retry_due_ = true;
    self->Wake();
  });
}

asio::awaitable<void> NodeOvsdb::Step() {
  ovsdb::Replica* replica = session_->replica();
  if (!session_->synced() || replica == nullptr) co_return;  // The next connection wakes us.
  replica->TakeChanges();  // Only to keep the change log from growing: we diff snapshots.
  ovsdb::VsSnapshot db = ovsdb::VsSnapshot::FromReplica(*replica);
  if (session_->connections() != connection_) {
    // A new connection (maybe to a server restored from an older file):
    // what was awaited or failed on the old one says nothing now.
    connection_ = session_->connections();
    awaited_cfg_.reset();
    failed_ops_ = ovsdb::Json();
    retry_timer_.cancel();
    backoff_ = options_.min_backoff;
  }
  tunnels_ = host::DescribeTunnelPorts(db, options_.bridge, cluster_);
  if (options_.on_bind) TrackBindings(db);

  if (!desired_) co_return;
  if (awaited_cfg_ && db.next_cfg < *awaited_cfg_) co_return;
  awaited_cfg_.reset();
  uint64_t gen = desired_gen_;
  in_place_ = false;
  auto plan = host::PlanTunnelPorts(db, options_.bridge, *desired_, cluster_);
  if (!plan.ok()) {
    // No bridge yet, say: the change that creates it wakes us.
    ++counters_.plan_errors;
    std::string message(plan.status().message());
    if (message != last_plan_error_) Fail(plan.status(), false);
    last_plan_error_ = message;
    co_return;
  }
  last_plan_error_.clear();
  if (plan->notes != last_notes_) {
    for (const std::string& note : plan->notes) spdlog::warn("{}: {}", options_.name, note);
    last_notes_ = plan->notes;
  }
  if (plan->empty()) {
    failed_ops_ = ovsdb::Json();
    retry_due_ = false;
    if (plan->notes.empty()) {
      in_place_ = true;
      converged_gen_ = gen;
      last_error_ = absl::OkStatus();
    } else {
      // A wanted name taken by someone else's port: nothing Shortcut may
      // do, and not converged either.
      last_error_ = Conflict(plan->notes);
    }
    co_return;
  }
  if (plan->ops == failed_ops_ && !retry_due_) co_return;  // The retry timer wakes us.
  retry_due_ = false;
  std::shared_ptr<ovsdb::OvsdbClient> client = session_->client();
  if (client == nullptr) co_return;
  ovsdb::Json ops = WithNextCfgRead(plan->ops, db.root_uuid);
  auto result = co_await client->Transact(ovsdb::kVswitchDb, std::move(ops));
  if (stopped_) co_return;
  if (!result.ok()) {
    ++counters_.transaction_failures;
    // A lost connection is retried on the next one; anything else after a
    // backoff, unless the database or the wanted ports change first.
    bool lost = result.status().code() == absl::StatusCode::kUnavailable;
    failed_ops_ = ovsdb::Json();
    if (!lost) failed_ops_ = plan->ops;
    Fail(result.status(), !lost);
    co_return;
  }
  ++counters_.transactions;
  failed_ops_ = ovsdb::Json();
  retry_timer_.cancel();
  backoff_ = options_.min_backoff;
  awaited_cfg_ = SelectedNextCfg(*result);
  spdlog::info("{}: {}", options_.name, absl::StrJoin(plan->changes, "; "));
}

absl::Status NodeOvsdb::Conflict(const std::vector<std::string>& notes) const {
  return absl::FailedPreconditionError(
      absl::StrCat(options_.name, ": ", absl::StrJoin(notes, "; ")));
}

void NodeOvsdb::LogBinding(const std::string& iface_id, std::optional<uint32_t> ofport) const {
  if (ofport) {
    spdlog::info("{}: iface-id {} bound to ofport {}", options_.name, iface_id, *ofport);
  } else {
    spdlog::info("{}: iface-id {} unbound", options_.name, iface_id);
  }
}

void NodeOvsdb::TrackBindings(const ovsdb::VsSnapshot& db) {
  tracker_.Update(db);
  std::map<std::string, uint32_t> now;
  for (const auto& [iface_id, ofport] : tracker_.Bindings()) {
    if (auto port = ValidOfport(ofport)) now.emplace(iface_id, *port);
  }
  // Both maps are sorted: one merge pass finds what differs.
  auto a = bound_.begin();
  auto b = now.begin();
  while (a != bound_.end() || b != now.end()) {
    if (b == now.end() || (a != bound_.end() && a->first < b->first)) {
      pending_.insert(a->first);
      ++a;
    } else if (a == bound_.end() || b->first < a->first) {
      pending_.insert(b->first);
      ++b;
    } else {
      if (a->second != b->second) pending_.insert(a->first);
      ++a;
      ++b;
    }
  }
  bound_ = std::move(now);
  if (!pending_.empty()) bind_wake_.Notify();
}

asio::awaitable<void> NodeOvsdb::Deliver([[maybe_unused]] std::shared_ptr<NodeOvsdb> self) {
  while (!stopped_) {
    if (pending_.empty()) {
      co_await bind_wake_.Wait();
      continue;
    }
    std::string iface_id = *pending_.begin();
    pending_.erase(pending_.begin());
    std::optional<uint32_t> now;
    if (auto it = bound_.find(iface_id); it != bound_.end()) now = it->second;
    std::optional<uint32_t> told;
    if (auto it = reported_.find(iface_id); it != reported_.end()) told = it->second;
    if (now == told) continue;
    // Recorded before the call: a change that arrives during it differs
    // from this value and is queued again.
    if (now) {
      reported_[iface_id] = *now;
    } else {
      reported_.erase(iface_id);
    }
    ++counters_.bindings;
    LogBinding(iface_id, now);
    co_await options_.on_bind(iface_id, now);
  }
}

}  // namespace shortcut::gateway
