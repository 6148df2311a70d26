// One host's integration bridge as a gateway programs it (seed 5.3): a
// reconnecting OpenFlow session to the host's listener, the reconciler that
// keeps the host's standing rules of one gateway cluster
// (pipeline::BuildHostState; what pipeline::HostOwnership gives the
// cluster: its own cookie space and group, the shared table-miss flows for
// adding only) installed, and the direct paths the forwarding module sends.
// Another cluster's rules on the same host are never touched.
//
// SetRules() replaces the rules wanted on the host and returns once the
// switch confirmed a state that includes them (the reconciler's barrier):
// that is what "VM online" means. The desired state is updated one VM or
// VPC at a time (pipeline::HostStateBuilder) and only the flows that changed
// are compared with the switch (SyncChanged), so a VM coming online costs
// about the same whatever the number of VMs already on the host. Calls made while a sync is running
// are merged into the next one, so a burst of N VMs coming online costs one or two bundles, not N.
// On every new connection (a restarted ovs-vswitchd, a lost link) the reconciler re-reads the
// switch and converges again.
//
// Release() stops keeping the rules (another gateway of the cluster is
// designated for the host now): nothing is synced, not even after a
// reconnect, until the next SetRules(), whose first sync reads the switch
// again (the other gateway changed it meanwhile).
//
// SendDirectPaths() sends flow_mods (adds and deletes of direct paths) and
// a barrier, batched with concurrent callers (FlowBatcher); they are not
// reconciled: idle timeouts remove them.
//
// Lifetime: Start() spawns the sync loop holding a shared_ptr; Stop() ends
// it and the session. Thread-safety: none; use from the executor given to
// Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/gateway/flow_batcher.h"
#include "src/ofconn/session.h"
#include "src/ofconn/signal.h"
#include "src/openflow/message.h"
#include "src/pipeline/host_state.h"
#include "src/pipeline/pipeline.h"
#include "src/reconcile/reconciler.h"

namespace shortcut::gateway {

class HostProgrammer : public std::enable_shared_from_this<HostProgrammer> {
 public:
  struct Options {
    std::string name;       // For logs.
    ofconn::Target target;  // The host's OpenFlow listener.
    ofconn::Session::Options session;
    Millis call_timeout = 5000;  // Per sync or barrier.
    // Deadlines and the session's backoff; must outlive the programmer.
    const Clock* clock = &SystemClock::Get();
    // The gateway cluster whose rules this programmer keeps; every
    // SetRules() must name it (HostRules::cluster_id).
    uint32_t cluster_id = 0;
  };
  struct Counters {
    uint64_t syncs = 0;  // Successful reconciler syncs.
    uint64_t sync_failures = 0;
    uint64_t direct_paths = 0;  // Flow_mods sent by SendDirectPaths and confirmed.
  };

  static std::shared_ptr<HostProgrammer> Start(asio::any_io_executor ex, Options options);
  void Stop();

  // Waits until the switch holds `rules` (or a later SetRules' rules).
  // Unavailable while the host cannot be reached within call_timeout; the
  // rules stay wanted and are installed when it comes back.
  asio::awaitable<absl::Status> SetRules(pipeline::HostRules rules);
  // Stops keeping the rules; what the host holds stays. SetRules() calls
  // still waiting end with FailedPrecondition.
  void Release();
  // While on, syncs keep the cluster's rules the host holds that no rules
  // asked of this programmer have held (reconcile::SwitchReconciler::
  // SetKeepUnknown): the gateway's own state is not whole yet. Turned off,
  // the host is synced again and the leftovers go.
  void SetKeepUnknown(bool keep);
  bool keep_unknown() const { return reconciler_.keep_unknown(); }
  // Sends `mods` and a barrier on the current connection.
  // Every direct path on the host now (pipeline::kCookieDirect), with its
  // counters: the budget's reads.
  asio::awaitable<absl::StatusOr<std::vector<of::FlowStats>>> DumpDirectPaths();
  asio::awaitable<absl::Status> SendDirectPaths(std::vector<of::FlowMod> mods);

  bool connected() const { return session_->connection() != nullptr; }
  // The host holds what was last asked for.
  bool in_sync() const { return installed_gen_ == wanted_gen_; }
  bool released() const { return released_; }
  const pipeline::HostRules& rules() const { return rules_; }
  const Counters& counters() const { return counters_; }
  const FlowBatcher::Counters& batcher_counters() const { return batcher_.counters(); }
  const std::string& name() const { return options_.name; }

 private:
  HostProgrammer(asio::any_io_executor ex, Options options);
  asio::awaitable<void> SyncLoop(std::shared_ptr<HostProgrammer> self);
  asio::awaitable<void> WatchConnections(std::shared_ptr<HostProgrammer> self);
  // Brings desired_ to rules_ and notes what changed in changed_.
  void UpdateDesired();

  asio::any_io_executor ex_;
  Options options_;
  std::shared_ptr<ofconn::Session> session_;
  reconcile::SwitchReconciler reconciler_;
  pipeline::HostRules rules_;
  // rules_ as of the current or last sync. Only the sync loop changes it,
  // never while a sync runs: the reconciler reads it across co_awaits.
  pipeline::HostStateBuilder desired_;
  // The flows of desired_ changed since the last successful sync, unless
  // changed_all_ (the first sync, a whole rebuild).
  reconcile::FlowKeySet changed_;
  bool changed_all_ = true;
  uint64_t wanted_gen_ = 0;     // Bumped by SetRules.
  uint64_t installed_gen_ = 0;  // The generation the switch confirmed.
  uint64_t failed_gen_ = 0;     // The generation whose last attempt failed.
  // Release(): no sync until SetRules; waiters up to released_gen_ give up.
  bool released_ = false;
  uint64_t released_gen_ = 0;
  bool reread_ = false;  // Released since the last sync: read the switch first.
  absl::Status last_error_;
  uint64_t connections_ = 0;  // New connections seen by WatchConnections.
  ofconn::Signal work_;       // SetRules or a new connection: the sync loop looks.
  ofconn::Signal done_;       // A sync ended: waiters look.
  FlowBatcher batcher_;
  bool stopped_ = false;
  Counters counters_;
};

}  // namespace shortcut::gateway
