// A packet's walk through one OpenFlow 1.3 bridge's tables, as the switch
// would take it: in each table the highest-priority flow whose match the
// packet satisfies, its instructions run (apply-actions in order,
// write-metadata, goto-table), until a flow without goto-table or a table
// miss. The flows are values (reconcile::SwitchState): the ones Shortcut's
// pipeline code builds for a node, or the ones dumped from a real switch.
// What `shortcutctl trace` uses on each node of a path.
//
// Covered: the actions Shortcut's pipelines use (output, group, set_field,
// move, controller, resubmit), metadata and the tunnel fields. Not
// simulated: VLAN push/pop and TTL (noted), bucket choice in a select group
// (every live bucket is reported: the switch hashes the flow), meters.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/openflow/match.h"
#include "src/reconcile/state.h"

namespace shortcut::trace {

// Field values of one packet (absent fields are not in the map). Values in
// the layout of of::FieldMatch (big-endian, left-aligned).
class Packet {
 public:
  void Set(of::Field f, uint64_t value);
  void SetBytes(of::Field f, const of::FieldBytes& value) { fields_[f] = value; }
  bool Has(of::Field f) const { return fields_.contains(f); }
  uint64_t Get(of::Field f) const;  // 0 when absent.
  const std::map<of::Field, of::FieldBytes>& fields() const { return fields_; }
  // Whether every field of `match` is present and equal under its mask.
  bool Matches(const of::Match& match) const;

 private:
  std::map<of::Field, of::FieldBytes> fields_;
};

// One table visited.
struct Step {
  uint8_t table = 0;
  bool miss = false;               // No flow matched: dropped (OpenFlow 1.3's table miss).
  reconcile::FlowEntry flow;       // The flow that matched, unless miss.
  std::vector<std::string> notes;  // Things not simulated, ties.
};

// Where the packet went.
struct Output {
  uint32_t port = 0;  // The actual port (IN_PORT resolved).
  Packet packet;      // As it left (tunnel fields set).
};
struct GroupOut {
  uint32_t group_id = 0;
  of::GroupType type = of::GroupType::kAll;
  std::vector<Output> buckets;  // Each bucket's outputs, in bucket order.
  std::vector<uint32_t> watch_ports;
  bool missing = false;  // No such group on the bridge.
};

struct Walk {
  std::vector<Step> steps;
  std::vector<Output> outputs;
  std::vector<GroupOut> groups;
  int controller_copies = 0;  // controller() actions (packet-ins).
  bool dropped() const { return outputs.empty() && groups.empty(); }
};

// Walks `packet` through `state` from table 0. Bounded (resubmits and gotos
// at most 64 steps: a loop is reported as a note).
Walk WalkBridge(const reconcile::SwitchState& state, Packet packet);

}  // namespace shortcut::trace
