#include "src/reconcile/plan.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace shortcut::reconcile {
namespace {

using of::FlowModCommand;
using of::GroupModCommand;
using of::MeterModCommand;

PlannedMessage FlowMsg(const FlowEntry& flow, FlowModCommand command, const Ownership& own,
                       int origin, ChangeKind kind) {
  of::FlowMod mod = ToFlowMod(flow, command);
  if (command != FlowModCommand::kAdd) {
    // Restrict strict commands to our cookie space. For MODIFY_STRICT the
    // cookie is only a filter (OF1.3 never changes it there).
    mod.cookie = (command == FlowModCommand::kModifyStrict) ? flow.cookie : own.cookie;
    mod.cookie_mask = own.cookie_mask;
  }
  if (command == FlowModCommand::kDeleteStrict) {
    mod.instructions = {};
    mod.idle_timeout = mod.hard_timeout = 0;
    mod.flags = 0;
  }
  return PlannedMessage{std::move(mod), origin, kind};
}

// Sort key so that plans come out in the order of the input (origin), then
// in a stable table/priority order, whatever the hash map's order was.
auto FlowOrder(const FlowEntry* f) {
  return std::make_tuple(f->origin, f->key.table, -static_cast<int>(f->key.priority));
}

template <typename T>
void SortByOrigin(std::vector<const T*>& v) {
  std::sort(v.begin(), v.end(), [](const T* a, const T* b) { return FlowOrder(a) < FlowOrder(b); });
}

// The flow changes of a plan, by kind.
struct FlowChanges {
  std::vector<const FlowEntry*> deletes;
  std::vector<const FlowEntry*> replaces;  // Desired side; installed looked up again.
  std::vector<const FlowEntry*> modifies;
  std::vector<const FlowEntry*> adds;
};

// An installed flow `old` goes when no owned flow is desired under its key.
void PlanDelete(const FlowEntry& old, const FlowEntry* want, const Ownership& own,
                FlowChanges& out) {
  if (!own.OwnsFlow(old.cookie)) return;
  if (want == nullptr || !own.OwnsFlow(want->cookie)) out.deletes.push_back(&old);
}

// A desired flow `want` is added, replaced, modified or left as it is. A
// shared one is only added, when no shared flow holds its key.
void PlanUpsert(const FlowEntry& want, const FlowEntry* old, const Ownership& own,
                FlowChanges& out) {
  if (own.SharesFlow(want.cookie)) {
    if (old == nullptr || !own.SharesFlow(old->cookie)) out.adds.push_back(&want);
    return;
  }
  if (!own.OwnsFlow(want.cookie)) return;
  if (old == nullptr || !own.OwnsFlow(old->cookie)) {
    out.adds.push_back(&want);
  } else if (want.SameAs(*old)) {
    return;
  } else if (want.cookie != old->cookie || want.idle_timeout != old->idle_timeout ||
             want.hard_timeout != old->hard_timeout || want.flags != old->flags) {
    out.replaces.push_back(&want);
  } else {
    out.modifies.push_back(&want);
  }
}

// Meters, groups, and the flow changes found by the callers, as a plan.
Plan Assemble(const SwitchState& desired, const SwitchState& installed, const Ownership& own,
              FlowChanges flows) {
  Plan plan;

  // ---- Meters: before and after the bundle ----
  for (const auto& [id, meter] : desired.meters()) {
    if (!own.OwnsMeter(id)) continue;
    const MeterEntry* old = installed.FindMeter(id);
    if (old == nullptr) {
      plan.meters_before.push_back(
          {ToMeterMod(meter, MeterModCommand::kAdd), meter.origin, ChangeKind::kAdd});
      plan.meters_undo.push_back(
          {ToMeterMod(meter, MeterModCommand::kDelete), meter.origin, ChangeKind::kDelete});
      ++plan.summary.meters.added;
    } else if (!meter.SameAs(*old)) {
      plan.meters_before.push_back(
          {ToMeterMod(meter, MeterModCommand::kModify), meter.origin, ChangeKind::kModify});
      plan.meters_undo.push_back(
          {ToMeterMod(*old, MeterModCommand::kModify), meter.origin, ChangeKind::kModify});
      ++plan.summary.meters.modified;
    }
  }
  std::reverse(plan.meters_undo.begin(), plan.meters_undo.end());
  for (const auto& [id, meter] : installed.meters()) {
    if (!own.OwnsMeter(id) || desired.FindMeter(id) != nullptr) continue;
    plan.meters_after.push_back(
        {ToMeterMod(meter, MeterModCommand::kDelete), meter.origin, ChangeKind::kDelete});
    ++plan.summary.meters.deleted;
  }

  // ---- Bundle: group adds and modifies ----
  std::vector<PlannedMessage> group_deletes;
  for (const auto& [id, group] : desired.groups()) {
    if (!own.OwnsGroup(id)) continue;
    const GroupEntry* old = installed.FindGroup(id);
    if (old == nullptr) {
      plan.bundle.push_back(
          {ToGroupMod(group, GroupModCommand::kAdd), group.origin, ChangeKind::kAdd});
      ++plan.summary.groups.added;
    } else if (!group.SameAs(*old)) {
      plan.bundle.push_back(
          {ToGroupMod(group, GroupModCommand::kModify), group.origin, ChangeKind::kModify});
      ++plan.summary.groups.modified;
    }
  }
  for (const auto& [id, group] : installed.groups()) {
    if (!own.OwnsGroup(id) || desired.FindGroup(id) != nullptr) continue;
    group_deletes.push_back(
        {ToGroupMod(group, GroupModCommand::kDelete), group.origin, ChangeKind::kDelete});
    ++plan.summary.groups.deleted;
  }

  // ---- Bundle: flows ----
  auto& [deletes, replaces, modifies, adds] = flows;
  SortByOrigin(deletes);
  SortByOrigin(replaces);
  SortByOrigin(modifies);
  SortByOrigin(adds);
  plan.bundle.reserve(plan.bundle.size() + deletes.size() + 2 * replaces.size() + modifies.size() +
                      adds.size() + group_deletes.size());
  for (const FlowEntry* f : deletes) {
    plan.bundle.push_back(
        FlowMsg(*f, FlowModCommand::kDeleteStrict, own, f->origin, ChangeKind::kDelete));
  }
  for (const FlowEntry* f : replaces) {
    plan.bundle.push_back(
        FlowMsg(*f, FlowModCommand::kDeleteStrict, own, f->origin, ChangeKind::kModify));
    plan.bundle.push_back(FlowMsg(*f, FlowModCommand::kAdd, own, f->origin, ChangeKind::kModify));
  }
  for (const FlowEntry* f : modifies) {
    plan.bundle.push_back(
        FlowMsg(*f, FlowModCommand::kModifyStrict, own, f->origin, ChangeKind::kModify));
  }
  for (const FlowEntry* f : adds) {
    plan.bundle.push_back(FlowMsg(*f, FlowModCommand::kAdd, own, f->origin, ChangeKind::kAdd));
  }
  plan.summary.flows.deleted = deletes.size();
  plan.summary.flows.modified = replaces.size() + modifies.size();
  plan.summary.flows.added = adds.size();

  // ---- Bundle: group deletes, after every flow has moved off them ----
  for (PlannedMessage& m : group_deletes) plan.bundle.push_back(std::move(m));
  return plan;
}

}  // namespace

of::MessageBody PlannedMessage::Body() const {
  return std::visit([](const auto& m) -> of::MessageBody { return m; }, mod);
}

std::string PlanSummary::ToString() const {
  auto part = [](const char* name, const ChangeCounts& c) {
    return absl::StrFormat("%s: +%d ~%d -%d", name, c.added, c.modified, c.deleted);
  };
  return absl::StrCat(part("flows", flows), "  ", part("groups", groups), "  ",
                      part("meters", meters));
}

Plan ComputePlan(const SwitchState& desired, const SwitchState& installed, const Ownership& own) {
  FlowChanges flows;
  for (const auto& [key, flow] : installed.flows()) {
    PlanDelete(flow, desired.FindFlow(key), own, flows);
  }
  for (const auto& [key, flow] : desired.flows()) {
    PlanUpsert(flow, installed.FindFlow(key), own, flows);
  }
  return Assemble(desired, installed, own, std::move(flows));
}

Plan ComputePlanFor(const SwitchState& desired, const SwitchState& installed, const Ownership& own,
                    const FlowKeySet& keys) {
  FlowChanges flows;
  for (const FlowKey& key : keys) {
    const FlowEntry* want = desired.FindFlow(key);
    const FlowEntry* old = installed.FindFlow(key);
    if (old != nullptr) PlanDelete(*old, want, own, flows);
    if (want != nullptr) PlanUpsert(*want, old, own, flows);
  }
  return Assemble(desired, installed, own, std::move(flows));
}

namespace {

// CheckDesired over every flow (keys == nullptr) or those under `keys`.
absl::Status CheckDesiredIn(const SwitchState& desired, const Ownership& own,
                            const FlowKeySet* keys) {
  std::vector<std::string> bad;
  constexpr size_t kMaxNamed = 10;
  size_t count = 0;
  auto note = [&](const std::string& what, int origin) {
    if (count++ < kMaxNamed) bad.push_back(absl::StrCat(what, " (origin ", origin, ")"));
  };
  for (const auto& [id, meter] : desired.meters()) {
    if (!own.OwnsMeter(id)) note(absl::StrCat("meter ", id), meter.origin);
  }
  for (const auto& [id, group] : desired.groups()) {
    if (!own.OwnsGroup(id)) note(absl::StrCat("group ", id), group.origin);
  }
  std::vector<const FlowEntry*> flows;
  auto check = [&](const FlowEntry& flow) {
    if (!own.CoversFlow(flow.cookie)) flows.push_back(&flow);
  };
  if (keys == nullptr) {
    for (const auto& [key, flow] : desired.flows()) check(flow);
  } else {
    for (const FlowKey& key : *keys) {
      if (const FlowEntry* flow = desired.FindFlow(key)) check(*flow);
    }
  }
  SortByOrigin(flows);
  for (const FlowEntry* f : flows) note(absl::StrFormat("flow cookie 0x%x", f->cookie), f->origin);
  if (count == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      count, " desired entries outside this controller's ownership: ", absl::StrJoin(bad, ", "),
      count > kMaxNamed ? ", ..." : ""));
}

}  // namespace

absl::Status CheckDesired(const SwitchState& desired, const Ownership& own) {
  return CheckDesiredIn(desired, own, nullptr);
}

absl::Status CheckDesired(const SwitchState& desired, const Ownership& own,
                          const FlowKeySet& keys) {
  return CheckDesiredIn(desired, own, &keys);
}

}  // namespace shortcut::reconcile
