#include "src/gateway/host_programmer.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <chrono>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/common/clock_timer.h"
#include "src/gateway/flow_dump.h"

namespace shortcut::gateway {
namespace {

reconcile::SwitchReconciler::Options ReconcilerOptions(const HostProgrammer::Options& o) {
  reconcile::SwitchReconciler::Options r;
  r.ownership = pipeline::HostOwnership(o.cluster_id);
  r.driver.timeout_ms = o.call_timeout;
  return r;
}

}  // namespace

HostProgrammer::HostProgrammer(asio::any_io_executor ex, Options options)
    : ex_(ex),
      options_(std::move(options)),
      reconciler_(ReconcilerOptions(options_)),
      work_(ex),
      done_(ex),
      batcher_(ex, options_.call_timeout) {}

std::shared_ptr<HostProgrammer> HostProgrammer::Start(asio::any_io_executor ex, Options options) {
  std::shared_ptr<HostProgrammer> p(new HostProgrammer(ex, std::move(options)));
  p->session_ =
      ofconn::Session::Start(ex, p->options_.target, p->options_.session, *p->options_.clock);
  asio::co_spawn(ex, p->SyncLoop(p), asio::detached);
  asio::co_spawn(ex, p->WatchConnections(p), asio::detached);
  return p;
}

void HostProgrammer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  session_->Stop();
  work_.Notify();
  done_.Notify();
}

asio::awaitable<void> HostProgrammer::WatchConnections(
    [[maybe_unused]] std::shared_ptr<HostProgrammer> self) {
  while (!stopped_) {
    auto conn = co_await session_->NextConnection();
    if (!conn.ok()) break;  // Stopped.
    // Whatever the switch holds now (a restarted ovs-vswitchd holds
    // nothing) is read again and converged on.
    reconciler_.ForgetInstalled();
    installed_gen_ = 0;
    failed_gen_ = 0;  // A new connection deserves a new attempt.
    ++connections_;
    work_.Notify();
  }
}

asio::awaitable<void> HostProgrammer::SyncLoop(
    [[maybe_unused]] std::shared_ptr<HostProgrammer> self) {
  while (!stopped_) {
    std::shared_ptr<ofconn::Connection> conn = session_->connection();
    bool pending = !released_ && installed_gen_ != wanted_gen_ && failed_gen_ != wanted_gen_;
    if (!pending || conn == nullptr) {
      co_await work_.Wait();
      continue;
    }
    uint64_t gen = wanted_gen_;
    uint64_t connection = connections_;
    if (reread_) {
      reconciler_.ForgetInstalled();
      reread_ = false;
    }
    UpdateDesired();
    absl::StatusOr<reconcile::SyncResult> result;
    if (changed_all_) {
      result = co_await reconciler_.Sync(*conn, desired_.state());
    } else {
      result = co_await reconciler_.SyncChanged(*conn, desired_.state(), changed_);
    }
    if (result.ok()) {
      changed_.clear();
      changed_all_ = false;
      installed_gen_ = gen;
      ++counters_.syncs;
      last_error_ = absl::OkStatus();
      if (result->planned.empty()) {
        spdlog::debug("{}: rules in place", options_.name);
      } else {
        spdlog::info("{}: {}", options_.name, result->planned.ToString());
      }
    } else {
      // A lost connection is retried on the next one (WatchConnections);
      // anything else (the switch rejected the bundle) is not retried until
      // the rules or the connection change: the same bundle on the same
      // switch would fail the same way.
      bool lost = result.status().code() == absl::StatusCode::kUnavailable;
      if (!lost) failed_gen_ = gen;
      ++counters_.sync_failures;
      last_error_ = absl::Status(result.status().code(), absl::StrCat("host ", options_.name, ": ",
                                                                      result.status().message()));
      spdlog::warn("{}", std::string(last_error_.message()));
      done_.Notify();
      // Lost: wait for the next connection (or new rules) rather than spin
      // on the dead one.
      while (lost && !stopped_ && connections_ == connection && wanted_gen_ == gen) {
        co_await work_.Wait();
      }
      continue;
    }
    done_.Notify();
  }
}

void HostProgrammer::UpdateDesired() {
  std::optional<std::vector<reconcile::FlowKey>> changed = desired_.Update(rules_);
  if (!changed) {
    changed_all_ = true;
    changed_.clear();
  } else if (!changed_all_) {
    changed_.insert(std::make_move_iterator(changed->begin()),
                    std::make_move_iterator(changed->end()));
  }
}

void HostProgrammer::Release() {
  if (released_) return;
  released_ = true;
  released_gen_ = wanted_gen_;
  // Whoever programs the host meanwhile changes it: the next sync, if this
  // gateway is designated again, starts from what the switch holds. Noted
  // for the sync loop rather than told to the reconciler now: a sync in
  // flight would take it back when its read ends.
  reread_ = true;
  done_.Notify();
}

void HostProgrammer::SetKeepUnknown(bool keep) {
  if (keep == reconciler_.keep_unknown()) return;
  reconciler_.SetKeepUnknown(keep);
  // Nothing asked yet (or released): the next SetRules syncs anyway.
  if (keep || released_ || wanted_gen_ == 0) return;
  changed_all_ = true;
  ++wanted_gen_;
  failed_gen_ = 0;
  work_.Notify();
}

asio::awaitable<absl::Status> HostProgrammer::SetRules(pipeline::HostRules rules) {
  auto self = shared_from_this();
  rules_ = std::move(rules);
  uint64_t gen = ++wanted_gen_;
  failed_gen_ = 0;
  released_ = false;
  work_.Notify();
  Deadline deadline(ex_, *options_.clock, options_.call_timeout, [this, self] { done_.Notify(); });
  absl::Status status;
  while (true) {
    if (stopped_) {
      status = absl::CancelledError(absl::StrCat("host ", options_.name, ": stopped"));
      break;
    }
    if (installed_gen_ >= gen) break;
    if (released_gen_ >= gen) {
      status = absl::FailedPreconditionError(
          absl::StrCat("host ", options_.name,
                       ": released before its rules were confirmed (another gateway "
                       "programs it now)"));
      break;
    }
    if (failed_gen_ >= gen) {
      status = last_error_;
      break;
    }
    if (deadline.expired()) {
      status = absl::UnavailableError(absl::StrCat(
          "host ", options_.name, " did not confirm its rules within ", options_.call_timeout,
          " ms (", connected() ? "connected" : "not connected", "); they stay wanted"));
      break;
    }
    co_await done_.Wait();
  }
  deadline.Cancel();
  co_return status;
}

asio::awaitable<absl::Status> HostProgrammer::SendDirectPaths(std::vector<of::FlowMod> mods) {
  auto self = shared_from_this();
  std::shared_ptr<ofconn::Connection> conn = session_->connection();
  if (conn == nullptr) {
    co_return absl::UnavailableError(absl::StrCat("host ", options_.name, ": not connected"));
  }
  const size_t n = mods.size();
  absl::Status s = co_await batcher_.Send(std::move(conn), std::move(mods));
  if (!s.ok()) {
    co_return absl::Status(s.code(), absl::StrCat("host ", options_.name, ": ", s.message()));
  }
  counters_.direct_paths += n;
  co_return s;
}

asio::awaitable<absl::StatusOr<std::vector<of::FlowStats>>> HostProgrammer::DumpDirectPaths() {
  auto self = shared_from_this();
  std::shared_ptr<ofconn::Connection> conn = session_->connection();
  if (conn == nullptr) {
    co_return absl::UnavailableError(absl::StrCat("host ", options_.name, ": not connected"));
  }
  of::FlowStatsRequest req;
  req.table_id = pipeline::kTableEgress;
  req.cookie = pipeline::kCookieDirect;
  req.cookie_mask = pipeline::kCookieKindMask;
  co_return co_await DumpFlows(*conn, std::move(req), options_.call_timeout);
}

}  // namespace shortcut::gateway
