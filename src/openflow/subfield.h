// Fields as Open vSwitch's subfield actions (NXAST_REG_MOVE, `move:`) see
// them: the 32-bit NXM/OXM header that names the field in the action, the
// name ovs-ofctl prints, and the width in bits that `[]` stands for.
//
// These differ from the match view in match.h on purpose: a move names a
// field by its legacy NXM header where one exists (NXM_OF_ETH_SRC, not
// OXM_OF_ETH_SRC), as OVS encodes it for OpenFlow 1.3, and some fields are
// narrower than their wire width (vlan_vid is 12 bits, ip_dscp 6). Values
// are from Open vSwitch's include/openvswitch/meta-flow.h.
//
// Thread-safety: immutable tables; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "src/openflow/action.h"
#include "src/openflow/match.h"

namespace shortcut::of {

struct SubfieldInfo {
  Field field;
  // What OVS writes (and prints): the NXM header and name when the field has
  // one, else the OXM ones. Header without the has-mask bit.
  uint32_t header;
  std::string_view name;
  // The other spelling OVS also accepts (an OXM header/name), or 0/"".
  uint32_t alt_header;
  std::string_view alt_name;
  uint16_t n_bits;  // Width that "[]" covers.
  bool writable;    // false: OVS rejects it as a move destination.
};

// nullptr when the field cannot be used in a move (Shortcut's Field::kInPort
// is the 32-bit OXM in_port, which OVS calls in_port_oxm; it is supported,
// the 16-bit NXM_OF_IN_PORT is not).
const SubfieldInfo* GetSubfieldInfo(Field f);
// By exact 32-bit header (class, field, length; has-mask bit clear).
const SubfieldInfo* SubfieldByHeader(uint32_t header);
// By NXM/OXM name (NXM_OF_ETH_SRC, OXM_OF_METADATA, ...), case-sensitive as
// in OVS.
const SubfieldInfo* SubfieldByNxmName(std::string_view name);

// Checks what OVS's nxm_reg_move_check() checks without a match: both fields
// usable, n_bits > 0, both ranges inside their fields, a writable
// destination. The error names the problem.
absl::Status CheckMove(const ActionMove& m);

}  // namespace shortcut::of
