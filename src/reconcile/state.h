// The desired or installed OpenFlow state of one switch: flows, groups and
// meters as comparable values, and which of them a controller owns.
//
// The reconciler holds two SwitchStates per switch (what it wants, what it
// believes the switch holds) and diffs them (plan.h). Entries are built from
// parsed input (of::FlowMod, GroupMod, MeterMod) or from switch dumps
// (of::FlowStats, GroupDesc, MeterConfig); both paths go through the Normalize
// functions below, the one place that makes a dump compare equal to what was
// sent.
//
// Thread-safety: values; a SwitchState belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "src/openflow/constants.h"
#include "src/openflow/message.h"

namespace shortcut::reconcile {

// OpenFlow's identity of a flow: two flows with the same key cannot coexist
// in a table, and *_STRICT commands address a flow by it.
struct FlowKey {
  uint8_t table = 0;
  uint16_t priority = 0x8000;
  of::Match match;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FlowKey& k) {
    return H::combine(std::move(h), k.table, k.priority, k.match);
  }
};

using FlowKeySet = absl::flat_hash_set<FlowKey>;

struct FlowEntry {
  FlowKey key;
  uint64_t cookie = 0;
  uint16_t idle_timeout = 0;  // Seconds; 0: none.
  uint16_t hard_timeout = 0;  // Seconds; 0: none.
  uint16_t flags = 0;         // of::kFlow* flags.
  of::Instructions instructions;
  // Opaque tag chosen by the caller (the CLI: the input line number), reported
  // back with errors about this entry. Not part of the comparison.
  int origin = 0;

  // Same flow on the switch: everything but origin.
  bool SameAs(const FlowEntry& o) const {
    return key == o.key && cookie == o.cookie && idle_timeout == o.idle_timeout &&
           hard_timeout == o.hard_timeout && flags == o.flags && instructions == o.instructions;
  }
};

struct GroupEntry {
  uint32_t id = 0;
  of::GroupType type = of::GroupType::kAll;
  std::vector<of::Bucket> buckets;
  int origin = 0;  // As in FlowEntry.

  bool SameAs(const GroupEntry& o) const {
    return id == o.id && type == o.type && buckets == o.buckets;
  }
};

struct MeterEntry {
  uint32_t id = 0;
  uint16_t flags = of::kMeterKbps;  // of::kMeter* flags.
  std::vector<of::MeterBand> bands;
  int origin = 0;  // As in FlowEntry.

  bool SameAs(const MeterEntry& o) const {
    return id == o.id && flags == o.flags && bands == o.bands;
  }
};

// What one controller may touch on a shared bridge. Entries not owned are
// never modified or deleted, and dumps keep only owned (and shared) entries.
struct Ownership {
  // Flows are ours iff (cookie & cookie_mask) == (this->cookie & cookie_mask);
  // a mask of 0 makes every flow ours.
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;
  // Groups and meters are ours iff their id is in [min, max].
  uint32_t group_min = 1;
  uint32_t group_max = of::kGroupMax;
  uint32_t meter_min = 1;
  uint32_t meter_max = of::kMeterMax;

  // A shared cookie space (shared_cookie_mask != 0): flows that every
  // controller of the bridge desires identically (the same key, cookie and
  // instructions whoever installs them). They are ours to add when missing,
  // never to modify or delete, so that controllers sharing them never undo
  // each other and never rewrite them in turn.
  uint64_t shared_cookie = 0;
  uint64_t shared_cookie_mask = 0;  // 0: no shared space.

  bool OwnsFlow(uint64_t flow_cookie) const {
    return (flow_cookie & cookie_mask) == (cookie & cookie_mask);
  }
  bool SharesFlow(uint64_t flow_cookie) const {
    return shared_cookie_mask != 0 && !OwnsFlow(flow_cookie) &&
           (flow_cookie & shared_cookie_mask) == (shared_cookie & shared_cookie_mask);
  }
  // Owned or shared: what dumps keep and desired states may hold.
  bool CoversFlow(uint64_t flow_cookie) const {
    return OwnsFlow(flow_cookie) || SharesFlow(flow_cookie);
  }
  bool OwnsGroup(uint32_t id) const { return id >= group_min && id <= group_max; }
  bool OwnsMeter(uint32_t id) const { return id >= meter_min && id <= meter_max; }
};

// ---- Normalisation (the one documented place; see state.cc) ----

void Normalize(FlowEntry& flow);
void Normalize(GroupEntry& group);
void Normalize(MeterEntry& meter);

// ---- Conversions (all results are normalised) ----

FlowEntry FlowFromMod(const of::FlowMod& mod, int origin = 0);
FlowEntry FlowFromStats(const of::FlowStats& stats);
GroupEntry GroupFromMod(const of::GroupMod& mod, int origin = 0);
GroupEntry GroupFromDesc(const of::GroupDesc& desc);
MeterEntry MeterFromMod(const of::MeterMod& mod, int origin = 0);
MeterEntry MeterFromConfig(const of::MeterConfig& config);

// A flow_mod carrying the whole entry (cookie_mask 0, no buffer, any out port).
of::FlowMod ToFlowMod(const FlowEntry& flow, of::FlowModCommand command);
of::GroupMod ToGroupMod(const GroupEntry& group, of::GroupModCommand command);
of::MeterMod ToMeterMod(const MeterEntry& meter, of::MeterModCommand command);

class SwitchState {
 public:
  using FlowMap = absl::flat_hash_map<FlowKey, FlowEntry>;
  // Ordered by id so that plans and dumps come out in a stable order.
  using GroupMap = absl::btree_map<uint32_t, GroupEntry>;
  using MeterMap = absl::btree_map<uint32_t, MeterEntry>;

  // Add* replace an entry with the same key or id; entries are normalised.
  void AddFlow(FlowEntry flow);
  void AddGroup(GroupEntry group);
  void AddMeter(MeterEntry meter);
  // Return whether something was removed.
  bool RemoveFlow(const FlowKey& key) { return flows_.erase(key) > 0; }
  bool RemoveGroup(uint32_t id) { return groups_.erase(id) > 0; }
  bool RemoveMeter(uint32_t id) { return meters_.erase(id) > 0; }
  void Clear();

  const FlowEntry* FindFlow(const FlowKey& key) const;
  const GroupEntry* FindGroup(uint32_t id) const;
  const MeterEntry* FindMeter(uint32_t id) const;

  const FlowMap& flows() const { return flows_; }
  const GroupMap& groups() const { return groups_; }
  const MeterMap& meters() const { return meters_; }
  size_t flow_count() const { return flows_.size(); }
  size_t group_count() const { return groups_.size(); }
  size_t meter_count() const { return meters_.size(); }
  bool empty() const { return flows_.empty() && groups_.empty() && meters_.empty(); }
  void ReserveFlows(size_t n) { flows_.reserve(n); }

  // Entries equal as the switch sees them (origins ignored).
  bool SameAs(const SwitchState& o) const;

  // The entries of this state that `ownership` covers.
  SwitchState Owned(const Ownership& ownership) const;

 private:
  FlowMap flows_;
  GroupMap groups_;
  MeterMap meters_;
};

}  // namespace shortcut::reconcile
