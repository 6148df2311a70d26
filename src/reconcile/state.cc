#include "src/reconcile/state.h"

#include <utility>

namespace shortcut::reconcile {

// ---- Normalisation ----
//
// What Open vSwitch 3.1 (userspace datapath) gives back in OpenFlow 1.3 dumps,
// compared with what was sent, read from its source (ofproto/ofproto.c,
// lib/ofp-flow.c, lib/ofp-group.c, lib/ofp-meter.c, lib/dpif-netdev.c):
//
// Flows (flow stats):
//  - flags: all five OF1.3 flow_mod flags (send_flow_rem, check_overlap,
//    reset_counts, no_pkt_counts, no_byt_counts) are kept as flow state
//    (OFPUTIL_FF_STATE) and reported back: nothing to do. But OF1.3 MODIFY
//    keeps the old flags, timeouts and cookie (OVS copies them from the old
//    rule), which is why the plan replaces a flow whose cookie, timeouts or
//    flags changed instead of modifying it (plan.cc).
//  - instructions: an APPLY_ACTIONS or WRITE_ACTIONS with no action is not
//    reported at all (a flow sent with "write_actions()" comes back without
//    it; checked against ovs-vswitchd 3.1). of::Instructions already stores
//    an empty apply list as absent; an empty write list is made absent here.
//    Both are no-ops in the pipeline. Output max_len and CONTROLLER2
//    properties round-trip as sent.
//  - match: canonical in of::Match (full masks exact, bits outside masks
//    cleared), which is also what OVS reports.
// Groups (group desc): type, bucket order, weights, watch port/group are kept
//  as sent (OVS rejects weights on non-select groups rather than dropping
//  them): nothing to do.
// Meters (meter config):
//  - prec_level is reported only for DSCP remark bands (0 for drop bands);
//  - the userspace datapath replaces a burst_size of 0 by the band's rate in
//    the config that ofproto stores and reports (dpif_netdev_meter_set), and
//    uses the rate as burst in that case anyway, so 0 is normalised to rate.

void Normalize(FlowEntry& flow) {
  auto& write = flow.instructions.write_actions;
  if (write && write->empty()) write.reset();
}

void Normalize(GroupEntry&) {}

void Normalize(MeterEntry& meter) {
  for (of::MeterBand& band : meter.bands) {
    if (band.type != of::kMeterBandDscpRemark) band.prec_level = 0;
    if (band.burst_size == 0) band.burst_size = band.rate;
  }
}

// ---- Conversions ----

FlowEntry FlowFromMod(const of::FlowMod& mod, int origin) {
  FlowEntry f;
  f.key.table = mod.table_id;
  f.key.priority = mod.priority;
  f.key.match = mod.match;
  f.cookie = mod.cookie;
  f.idle_timeout = mod.idle_timeout;
  f.hard_timeout = mod.hard_timeout;
  f.flags = mod.flags;
  f.instructions = mod.instructions;
  f.origin = origin;
  Normalize(f);
  return f;
}

FlowEntry FlowFromStats(const of::FlowStats& stats) {
  FlowEntry f;
  f.key.table = stats.table_id;
  f.key.priority = stats.priority;
  f.key.match = stats.match;
  f.cookie = stats.cookie;
  f.idle_timeout = stats.idle_timeout;
  f.hard_timeout = stats.hard_timeout;
  f.flags = stats.flags;
  f.instructions = stats.instructions;
  Normalize(f);
  return f;
}

GroupEntry GroupFromMod(const of::GroupMod& mod, int origin) {
  GroupEntry g{mod.group_id, mod.type, mod.buckets, origin};
  Normalize(g);
  return g;
}

GroupEntry GroupFromDesc(const of::GroupDesc& desc) {
  GroupEntry g{desc.group_id, desc.type, desc.buckets, 0};
  Normalize(g);
  return g;
}

MeterEntry MeterFromMod(const of::MeterMod& mod, int origin) {
  MeterEntry m{mod.meter_id, mod.flags, mod.bands, origin};
  Normalize(m);
  return m;
}

MeterEntry MeterFromConfig(const of::MeterConfig& config) {
  MeterEntry m{config.meter_id, config.flags, config.bands, 0};
  Normalize(m);
  return m;
}

of::FlowMod ToFlowMod(const FlowEntry& flow, of::FlowModCommand command) {
  of::FlowMod mod;
  mod.cookie = flow.cookie;
  mod.table_id = flow.key.table;
  mod.command = command;
  mod.idle_timeout = flow.idle_timeout;
  mod.hard_timeout = flow.hard_timeout;
  mod.priority = flow.key.priority;
  mod.flags = flow.flags;
  mod.match = flow.key.match;
  mod.instructions = flow.instructions;
  return mod;
}

of::GroupMod ToGroupMod(const GroupEntry& group, of::GroupModCommand command) {
  of::GroupMod mod;
  mod.command = command;
  mod.type = group.type;
  mod.group_id = group.id;
  if (command != of::GroupModCommand::kDelete) mod.buckets = group.buckets;
  return mod;
}

of::MeterMod ToMeterMod(const MeterEntry& meter, of::MeterModCommand command) {
  of::MeterMod mod;
  mod.command = command;
  mod.meter_id = meter.id;
  if (command != of::MeterModCommand::kDelete) {
    mod.flags = meter.flags;
    mod.bands = meter.bands;
  } else {
    mod.flags = 0;
  }
  return mod;
}

// ---- SwitchState ----

void SwitchState::AddFlow(FlowEntry flow) {
  Normalize(flow);
  FlowKey key = flow.key;
  flows_.insert_or_assign(std::move(key), std::move(flow));
}

void SwitchState::AddGroup(GroupEntry group) {
  Normalize(group);
  const uint32_t id = group.id;
  groups_.insert_or_assign(id, std::move(group));
}

void SwitchState::AddMeter(MeterEntry meter) {
  Normalize(meter);
  const uint32_t id = meter.id;
  meters_.insert_or_assign(id, std::move(meter));
}

void SwitchState::Clear() {
  flows_.clear();
  groups_.clear();
  meters_.clear();
}

const FlowEntry* SwitchState::FindFlow(const FlowKey& key) const {
  auto it = flows_.find(key);
  return it == flows_.end() ? nullptr : &it->second;
}

const GroupEntry* SwitchState::FindGroup(uint32_t id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

const MeterEntry* SwitchState::FindMeter(uint32_t id) const {
  auto it = meters_.find(id);
  return it == meters_.end() ? nullptr : &it->second;
}

bool SwitchState::SameAs(const SwitchState& o) const {
  if (flows_.size() != o.flows_.size() || groups_.size() != o.groups_.size() ||
      meters_.size() != o.meters_.size()) {
    return false;
  }
  for (const auto& [key, flow] : flows_) {
    const FlowEntry* other = o.FindFlow(key);
    if (other == nullptr || !flow.SameAs(*other)) return false;
  }
  for (const auto& [id, group] : groups_) {
    const GroupEntry* other = o.FindGroup(id);
    if (other == nullptr || !group.SameAs(*other)) return false;
  }
  for (const auto& [id, meter] : meters_) {
    const MeterEntry* other = o.FindMeter(id);
    if (other == nullptr || !meter.SameAs(*other)) return false;
  }
  return true;
}

SwitchState SwitchState::Owned(const Ownership& ownership) const {
  SwitchState out;
  out.flows_.reserve(flows_.size());
  for (const auto& [key, flow] : flows_) {
    if (ownership.CoversFlow(flow.cookie)) out.flows_.emplace(key, flow);
  }
  for (const auto& [id, group] : groups_) {
    if (ownership.OwnsGroup(id)) out.groups_.emplace(id, group);
  }
  for (const auto& [id, meter] : meters_) {
    if (ownership.OwnsMeter(id)) out.meters_.emplace(id, meter);
  }
  return out;
}

}  // namespace shortcut::reconcile
