// The minimal change from an installed switch state to a desired one, as the
// OpenFlow 1.3 messages that make it, in the order they must be sent.
//
// Order (DESIGN.md, "Talking to a switch"): meters cannot go into an Open
// vSwitch bundle, so meter adds and modifies are sent before the bundle and
// meter deletes after it (a meter delete also deletes the flows using it).
// The bundle holds group adds and modifies, then flow changes, then deletes of
// groups no longer desired: a group delete also deletes the flows pointing to
// it, so deleting after the flows have been repointed is what makes
// repointing safe.
//
// Flow changes:
//  - ADD for a new flow;
//  - MODIFY_STRICT when only the instructions differ;
//  - DELETE_STRICT + ADD when the cookie, timeouts or flags differ: an OF1.3
//    MODIFY keeps the old cookie, timeouts and flags;
//  - DELETE_STRICT for a flow no longer desired.
// Strict commands carry the ownership's cookie and cookie_mask, so that
// another controller's flow with the same table, priority and match is never
// hit. Entries outside the ownership are never touched, on either side.
// Flows of the ownership's shared space are added when missing and never
// modified or deleted.
//
// ComputePlan is pure: no I/O, no clock.
//
// Thread-safety: values and a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "src/openflow/message.h"
#include "src/reconcile/state.h"

namespace shortcut::reconcile {

enum class ChangeKind : uint8_t { kAdd, kModify, kDelete };

// One message of a plan and the entry it came from.
struct PlannedMessage {
  std::variant<of::FlowMod, of::GroupMod, of::MeterMod> mod;
  // The origin of the desired entry (installed entry for deletes).
  int origin = 0;
  // What the message does to its entry. For a flow replaced by DELETE_STRICT +
  // ADD both messages say kModify.
  ChangeKind kind = ChangeKind::kAdd;

  // The message body, to wrap in an of::Message.
  of::MessageBody Body() const;
};

struct ChangeCounts {
  size_t added = 0;
  size_t modified = 0;
  size_t deleted = 0;
  size_t total() const { return added + modified + deleted; }
  friend bool operator==(const ChangeCounts&, const ChangeCounts&) = default;
};

struct PlanSummary {
  ChangeCounts flows;
  ChangeCounts groups;
  ChangeCounts meters;
  bool empty() const { return flows.total() + groups.total() + meters.total() == 0; }
  // "flows: +A ~M -D  groups: +A ~M -D  meters: +A ~M -D"
  std::string ToString() const;
  friend bool operator==(const PlanSummary&, const PlanSummary&) = default;
};

struct Plan {
  std::vector<PlannedMessage> meters_before;  // METER ADD / MODIFY, before the bundle.
  std::vector<PlannedMessage> bundle;         // Groups, flows, group deletes; one bundle.
  std::vector<PlannedMessage> meters_after;   // METER DELETE, after the bundle.
  // What undoes meters_before (DELETE for an add, MODIFY back for a modify),
  // last change first; sent when the bundle fails.
  std::vector<PlannedMessage> meters_undo;
  PlanSummary summary;

  bool empty() const { return meters_before.empty() && bundle.empty() && meters_after.empty(); }
  size_t message_count() const {
    return meters_before.size() + bundle.size() + meters_after.size();
  }
};

// The change from `installed` to `desired`, restricted to what `ownership`
// covers: desired entries outside it are skipped (CheckDesired reports them),
// installed entries outside it are left alone.
Plan ComputePlan(const SwitchState& desired, const SwitchState& installed,
                 const Ownership& ownership);
// The same, comparing only the flows under `keys` (groups and meters are all
// compared): equal to ComputePlan when `desired` and `installed` agree on
// every other owned flow. Its cost follows the number of keys, not of
// flows, for callers that know what changed (SwitchReconciler::SyncChanged).
Plan ComputePlanFor(const SwitchState& desired, const SwitchState& installed,
                    const Ownership& ownership, const FlowKeySet& keys);

// InvalidArgument naming the origins of desired entries that `ownership` does
// not cover (they would be installed and then never seen again in dumps).
absl::Status CheckDesired(const SwitchState& desired, const Ownership& ownership);
// The same for the flows under `keys` only (and every group and meter).
absl::Status CheckDesired(const SwitchState& desired, const Ownership& ownership,
                          const FlowKeySet& keys);

}  // namespace shortcut::reconcile
