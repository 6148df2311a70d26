// Reading a switch and applying a plan to it over an OpenFlow connection, and
// SwitchReconciler, which keeps one switch at a desired state across syncs
// and reconnects.
//
// Apply() sends a plan (plan.h) as DESIGN.md "Talking to a switch" says:
//  1. meter adds/modifies, then a barrier; a rejected one undoes the others;
//  2. one bundle (ATOMIC|ORDERED): OPEN, one BUNDLE_ADD per message with the
//     inner xid equal to the outer xid and Track()ed, written in large
//     batches without waiting per message; then CLOSE. Open vSwitch reports
//     errors found while decoding a BUNDLE_ADD right away but still commits
//     the rest, so the close reply is the point where every such error is
//     known: if there is one, the bundle is discarded. Otherwise COMMIT;
//     OVS applies all of it or nothing and names the failing inner xid;
//  3. meter deletes;
//  4. a barrier: only its reply makes the change count as installed.
// When step 1 or 2 fails, the meter changes of step 1 are undone, so the
// switch is left as it was; the status (FailedPrecondition) names the
// OpenFlow error (of::ErrorName) and the origin of each rejected entry, and
// the same is available as SyncError values.
//
// Thread-safety: none. Coroutines run on the connection's executor; a
// SwitchReconciler belongs to one switch and one executor.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/ofconn/connection.h"
#include "src/openflow/message.h"
#include "src/reconcile/extend_table.h"
#include "src/reconcile/plan.h"
#include "src/reconcile/state.h"

namespace shortcut::reconcile {

// One message the switch rejected.
struct SyncError {
  int origin = 0;    // The planned message's origin (see FlowEntry::origin).
  of::Error error;   // As the switch sent it.
  std::string what;  // The planned message, e.g. "flow add table=0 priority=100".
};

struct SyncResult {
  PlanSummary planned;       // What the plan held.
  PlanSummary installed;     // Confirmed by the final barrier reply.
  size_t messages = 0;       // OpenFlow messages sent for the change (dumps excluded).
  bool read_switch = false;  // Sync(): whether the switch was dumped first.
};

struct DriverOptions {
  Millis timeout_ms = 10000;        // Bound of each wait on the switch (a dump, a barrier, ...).
  size_t batch_bytes = 256 * 1024;  // Bundle adds are written in batches of about this size.
};

// Dumps flows (filtered by the switch on the ownership's cookie and mask),
// groups and meters, following multipart continuation, and keeps the owned
// entries.
asio::awaitable<absl::StatusOr<SwitchState>> ReadSwitch(ofconn::Connection& conn,
                                                        const Ownership& ownership,
                                                        DriverOptions options = {});

// Applies `plan` as described above. On failure `errors` (if given) receives
// the rejected messages.
asio::awaitable<absl::StatusOr<SyncResult>> Apply(ofconn::Connection& conn, const Plan& plan,
                                                  DriverOptions options = {},
                                                  std::vector<SyncError>* errors = nullptr);

// The canonical spec under which groups and meters are kept in the extend
// tables: the entry's ovs-ofctl text without its id. Callers of
// AssignGroupId/AssignMeterId should pass these, so that entries found on a
// switch after a reconnect are recognised and keep their ids.
std::string GroupSpec(const GroupEntry& group);
std::string MeterSpec(const MeterEntry& meter);

class SwitchReconciler {
 public:
  struct Options {
    Ownership ownership;
    // Ids handed out by AssignGroupId / AssignMeterId; must lie inside the
    // ownership's ranges. Explicit ids outside these pools are used as given
    // (keep fixed ids and pools disjoint).
    uint32_t group_pool_min = 0x10000;
    uint32_t group_pool_max = of::kGroupMax;
    uint32_t meter_pool_min = 0x10000;
    uint32_t meter_pool_max = of::kMeterMax;
    DriverOptions driver;
  };

  explicit SwitchReconciler(Options options);

  // Brings the switch behind `conn` to `desired`: reads the switch first on
  // the first sync, on a new connection, and after any failed sync; then
  // ComputePlan + Apply. The installed state changes only when the final
  // barrier reply confirmed the change. InvalidArgument (nothing sent) if
  // `desired` holds entries outside the ownership.
  asio::awaitable<absl::StatusOr<SyncResult>> Sync(ofconn::Connection& conn,
                                                   const SwitchState& desired);
  // The same, for a caller that knows what it changed: `changed` must hold
  // the key of every flow of `desired` that may differ from the desired
  // state of the last successful Sync or SyncChanged (keys changed for a
  // failed one must be kept). When the switch need not be read, only those
  // flows are checked and compared (every group and meter still is), so
  // the cost follows the change, not the size of the tables; otherwise it
  // is Sync. Either way, the same plan as Sync.
  asio::awaitable<absl::StatusOr<SyncResult>> SyncChanged(ofconn::Connection& conn,
                                                          const SwitchState& desired,
                                                          const FlowKeySet& changed);

  // Ids by spec (GroupSpec/MeterSpec) for entries whose id is not fixed.
  absl::StatusOr<uint32_t> AssignGroupId(std::string_view spec, std::string_view owner) {
    return groups_.Assign(spec, owner);
  }
  absl::StatusOr<uint32_t> AssignMeterId(std::string_view spec, std::string_view owner) {
    return meters_.Assign(spec, owner);
  }
  // Drops `owner` from both extend tables.
  void RemoveOwner(std::string_view owner) {
    groups_.RemoveOwner(owner);
    meters_.RemoveOwner(owner);
  }

  // While on (off by default), a sync that compares everything (the first,
  // after a reconnect) keeps the owned flows, groups and meters the switch holds
  // that no desired state given to this reconciler since it was turned on
  // has held: a restarted controller whose own state is still being loaded
  // must not take off rules it has not decided about yet. What a desired
  // state held and then dropped is deleted as usual. Turning it off makes
  // the next sync read the switch and delete the leftovers.
  void SetKeepUnknown(bool keep);
  bool keep_unknown() const { return keep_unknown_; }

  // Forces a dump on the next Sync (e.g. the switch was restarted).
  void ForgetInstalled() { needs_read_ = true; }
  bool needs_read() const { return needs_read_; }
  // What the switch holds, as far as confirmed (owned entries only).
  const SwitchState& installed() const { return installed_; }
  // The rejections of the last Sync (empty if it succeeded).
  const std::vector<SyncError>& last_errors() const { return last_errors_; }
  const ExtendTable& group_ids() const { return groups_; }
  const ExtendTable& meter_ids() const { return meters_; }
  const Options& options() const { return options_; }

 private:
  // Sync, or SyncChanged when `changed` is not null.
  asio::awaitable<absl::StatusOr<SyncResult>> SyncImpl(ofconn::Connection& conn,
                                                       const SwitchState& desired,
                                                       const FlowKeySet* changed);
  // Applies a confirmed plan to installed_.
  void UpdateInstalled(const Plan& plan, const SwitchState& desired);
  // Makes the extend tables' existing side match installed_.
  void RefreshExtendTables();

  Options options_;
  SwitchState installed_;
  bool needs_read_ = true;
  std::weak_ptr<ofconn::Connection> conn_;  // The connection installed_ was read over.
  std::vector<SyncError> last_errors_;
  ExtendTable groups_;
  ExtendTable meters_;
  // SetKeepUnknown: what desired states have held while it is on.
  bool keep_unknown_ = false;
  FlowKeySet known_flows_;
  absl::flat_hash_set<uint32_t> known_groups_;
  absl::flat_hash_set<uint32_t> known_meters_;
};

}  // namespace shortcut::reconcile
