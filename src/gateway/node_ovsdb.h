// The OVSDB side of one Open vSwitch node a gateway manages (a compute host,
// or the gateway's own OVS): a ReplicaSession to the node's database that
//   - keeps the node's gateway tunnel ports (with BFD) as last given to
//     SetTunnelPorts(), applying host::PlanTunnelPorts whenever the replica
//     is synced and differs: after a reconnect, after someone else's change,
//     after a new SetTunnelPorts();
//   - reports VM port bindings on the bridge (external_ids:iface-id →
//     ofport, through host::IfaceTracker) to `on_bind`, which the owner
//     connects to Gateway::BindPort;
//   - exposes the BFD state of those tunnel ports, for stats.
//
// Until SetTunnelPorts() is first called the wanted ports are unknown, not
// empty: nothing is written, so a restarting gateway does not delete the
// ports (and flap BFD) before it has its cluster config.
//
// Bindings are level-triggered: what is reported is the difference between
// the bindings the database shows and those reported so far, so a change
// the session missed while disconnected is reported once after the resync,
// a change undone in the meantime not at all, and nothing twice. `on_bind`
// calls are made one at a time, in a coroutine of their own, so a slow
// owner delays the next binding but not the tunnel ports.
//
// A transaction that fails is retried on the next change of the database or
// of the wanted ports, or after a backoff (the same transaction is not sent
// again before the backoff ends). After a commit nothing is planned until
// the replica shows it (next_cfg), so a commit is never sent twice.
//
// Lifetime: Start() spawns coroutines holding a shared_ptr; Stop() ends
// them and the session. Thread-safety: none; use from the executor given to
// Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/host/iface_watch.h"
#include "src/host/tunnel_ports.h"
#include "src/ofconn/signal.h"
#include "src/ofconn/target.h"
#include "src/ovsdb/replica_session.h"

namespace shortcut::gateway {

class NodeOvsdb : public std::enable_shared_from_this<NodeOvsdb> {
 public:
  // `ofport` absent: the interface is gone, or has no valid ofport (none yet,
  // or -1: ovs-vswitchd could not attach it).
  using BindFn =
      std::function<asio::awaitable<void>(std::string iface_id, std::optional<uint32_t> ofport)>;

  struct Options {
    std::string name;       // The node's name, for logs.
    ofconn::Target target;  // Its OVSDB server.
    std::string bridge = "br-int";
    ovsdb::OvsdbClient::Options client;
    Millis min_backoff = 250;  // Reconnects, and retries of a failed transaction.
    Millis max_backoff = 8000;
    BindFn on_bind;  // Null: bindings are not tracked (a gateway's own node).
  };
  struct Counters {
    uint64_t transactions = 0;  // Committed tunnel port changes.
    uint64_t transaction_failures = 0;
    uint64_t plan_errors = 0;  // Snapshots no plan could be made from (no bridge...).
    uint64_t bindings = 0;     // on_bind calls.
  };

  static std::shared_ptr<NodeOvsdb> Start(asio::any_io_executor ex, Options options);
  void Stop();

  // Replaces the wanted tunnel ports, kept as `cluster`'s (host::
  // PlanTunnelPorts: tagged with it, ports of other clusters left alone;
  // empty: untagged). InvalidArgument (ValidateTunnelPorts) changes nothing.
  absl::Status SetTunnelPorts(std::vector<host::TunnelPort> ports, std::string cluster = "");
  // Stops keeping tunnel ports on the node (another gateway keeps them
  // now): nothing is written any more, what is there stays, until the next
  // SetTunnelPorts(). `cluster` names the ports tunnel_status() describes.
  void ReleaseTunnelPorts(std::string cluster);
  // Returns once the last look at the node's database found it holding the
  // ports wanted at the time of the call (or later ones). DeadlineExceeded
  // after `timeout_ms` (the ports stay wanted); FailedPrecondition if none
  // were ever set.
  asio::awaitable<absl::Status> WaitConverged(Millis timeout_ms);

  bool synced() const { return session_->synced(); }
  // The database held the wanted ports at the last look.
  bool converged() const { return in_place_ && converged_gen_ == desired_gen_; }
  // The gateway tunnel ports (of the wanted ports' cluster) on the bridge at
  // the last look.
  const std::vector<host::TunnelPortStatus>& tunnel_status() const { return tunnels_; }
  // iface-id → ofport, as reported to on_bind so far.
  const std::map<std::string, uint32_t>& bindings() const { return reported_; }
  const Counters& counters() const { return counters_; }
  // Why the last plan or transaction failed; OK once one succeeds.
  const absl::Status& last_error() const { return last_error_; }
  const std::string& name() const { return options_.name; }
  ovsdb::ReplicaSession& session() { return *session_; }

 private:
  NodeOvsdb(asio::any_io_executor ex, Options options);
  // Turns session changes into wake-ups of Run.
  asio::awaitable<void> Follow(std::shared_ptr<NodeOvsdb> self);
  asio::awaitable<void> Run(std::shared_ptr<NodeOvsdb> self);
  asio::awaitable<void> Deliver(std::shared_ptr<NodeOvsdb> self);
  // One look at the replica: bindings, status, and at most one transaction.
  asio::awaitable<void> Step();
  void TrackBindings(const ovsdb::VsSnapshot& db);
  // Messages built outside the coroutines (g++ 12: no temporaries there).
  absl::Status ConvergeTimeout(Millis timeout_ms) const;
  absl::Status Conflict(const std::vector<std::string>& notes) const;
  void LogBinding(const std::string& iface_id, std::optional<uint32_t> ofport) const;
  void Fail(absl::Status status, bool retry);
  void Wake();

  asio::any_io_executor ex_;
  Options options_;
  std::shared_ptr<ovsdb::ReplicaSession> session_;
  host::IfaceTracker tracker_;
  bool dirty_ = false;  // Something changed since Run last looked.
  ofconn::Signal wake_;
  ofconn::Signal looked_;  // Run looked: WaitConverged checks again.
  bool stopped_ = false;

  std::optional<std::vector<host::TunnelPort>> desired_;
  std::string cluster_;         // The tag of the wanted ports.
  uint64_t desired_gen_ = 0;    // Bumped by SetTunnelPorts.
  uint64_t converged_gen_ = 0;  // The generation last seen in place.
  bool in_place_ = false;       // The last look found nothing to change.
  uint64_t connection_ = 0;     // session_->connections() at the last look.
  // next_cfg of our last commit: until the replica reaches it, it does not
  // show the commit yet and a plan made from it would repeat the commit.
  std::optional<int64_t> awaited_cfg_;
  ovsdb::Json failed_ops_;  // The last transaction that failed; null: none.
  bool retry_due_ = false;  // The backoff after failed_ops_ ended.
  Millis backoff_ = 0;
  asio::steady_timer retry_timer_;
  std::string last_plan_error_;  // Logged once, not at every change.
  std::vector<std::string> last_notes_;

  std::map<std::string, uint32_t> bound_;     // What the database shows.
  std::map<std::string, uint32_t> reported_;  // What on_bind was told.
  std::set<std::string> pending_;             // iface-ids whose two may differ.
  ofconn::Signal bind_wake_;

  std::vector<host::TunnelPortStatus> tunnels_;
  absl::Status last_error_;
  Counters counters_;
};

}  // namespace shortcut::gateway
