// OpenFlow 1.3 actions and instructions, plus the Open vSwitch extension
// actions Shortcut needs (NXAST_CONTROLLER2, NXAST_RESUBMIT_TABLE,
// NXAST_REG_MOVE).
//
// Plain values with ==: the reconciler compares desired and installed flows
// by these structures, never by their text or bytes. Encoding is in codec.h,
// ovs-ofctl text in text.h.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "src/openflow/constants.h"
#include "src/openflow/match.h"

namespace shortcut::of {

// OFPAT_OUTPUT. max_len matters only when port is kPortController; it is kept
// as sent so that a decoded action compares equal to the one encoded.
struct ActionOutput {
  uint32_t port = 0;
  uint16_t max_len = kControllerMaxLenNoBuffer;
  friend bool operator==(const ActionOutput&, const ActionOutput&) = default;
};

// OFPAT_GROUP.
struct ActionGroup {
  uint32_t group_id = 0;
  friend bool operator==(const ActionGroup&, const ActionGroup&) = default;
};

// OFPAT_SET_FIELD: a whole-field write (OpenFlow 1.3 has no masked set_field).
struct ActionSetField {
  Field field = Field::kEthDst;
  FieldBytes value{};  // Layout as in FieldMatch.
  friend bool operator==(const ActionSetField&, const ActionSetField&) = default;
};

// OFPAT_PUSH_VLAN.
struct ActionPushVlan {
  uint16_t ethertype = 0x8100;
  friend bool operator==(const ActionPushVlan&, const ActionPushVlan&) = default;
};

// OFPAT_POP_VLAN.
struct ActionPopVlan {
  friend bool operator==(const ActionPopVlan&, const ActionPopVlan&) = default;
};

// OFPAT_DEC_NW_TTL (ovs-ofctl: dec_ttl).
struct ActionDecTtl {
  friend bool operator==(const ActionDecTtl&, const ActionDecTtl&) = default;
};

// NXAST_CONTROLLER2 (ovs-ofctl: controller(max_len=...,reason=...,userdata=...,
// meter_id=...)). Unlike a meter instruction, meter_id limits only the copy
// sent to the controller; the packet continues through the action list.
struct ActionController {
  uint16_t max_len = kControllerMaxLenNoBuffer;
  uint16_t controller_id = 0;
  uint8_t reason = kPacketInAction;
  std::vector<uint8_t> userdata;
  bool pause = false;
  uint32_t meter_id = 0;  // 0: no meter (OVS's NX_CTLR_NO_METER).
  friend bool operator==(const ActionController&, const ActionController&) = default;
};

// NXAST_RESUBMIT_TABLE (ovs-ofctl: resubmit(PORT,TABLE)).
struct ActionResubmit {
  uint32_t in_port = kPortInPort;  // kPortInPort: keep the packet's in_port.
  uint8_t table = kTableAll;       // kTableAll (255): the current table.
  friend bool operator==(const ActionResubmit&, const ActionResubmit&) = default;
};

// NXAST_REG_MOVE (ovs-ofctl: move:SRC[a..b]->DST[c..d]): copies n_bits bits
// of src starting at bit src_ofs to dst starting at bit dst_ofs (bit 0 is the
// least significant). The range is always explicit: "[]" parses to
// src_ofs 0 and the field's full width (subfield.h), so "NXM_OF_ETH_SRC[]"
// and "NXM_OF_ETH_SRC[0..47]" are one value, and a flow dumped back from OVS
// (whichever spelling it prints, NXM or OXM header on the wire) compares
// equal to what was sent. Valid values are those CheckMove (subfield.h)
// accepts; the codec and the parser reject the others.
struct ActionMove {
  Field src = Field::kReg0;
  Field dst = Field::kReg0;
  uint16_t n_bits = 32;
  uint16_t src_ofs = 0;
  uint16_t dst_ofs = 0;
  friend bool operator==(const ActionMove&, const ActionMove&) = default;
};

using Action =
    std::variant<ActionOutput, ActionGroup, ActionSetField, ActionPushVlan, ActionPopVlan,
                 ActionDecTtl, ActionController, ActionResubmit, ActionMove>;
using ActionList = std::vector<Action>;

// OpenFlow 1.3 instructions of one flow. The switch runs them in this fixed
// order whatever their order on the wire, so one struct is their canonical form.
struct Instructions {
  std::optional<uint32_t> meter;            // OFPIT_METER.
  ActionList apply_actions;                 // OFPIT_APPLY_ACTIONS; empty means absent.
  bool clear_actions = false;               // OFPIT_CLEAR_ACTIONS.
  std::optional<ActionList> write_actions;  // OFPIT_WRITE_ACTIONS.
  struct Metadata {
    uint64_t value = 0;
    uint64_t mask = 0;
    friend bool operator==(const Metadata&, const Metadata&) = default;
  };
  std::optional<Metadata> write_metadata;  // OFPIT_WRITE_METADATA.
  std::optional<uint8_t> goto_table;       // OFPIT_GOTO_TABLE.

  friend bool operator==(const Instructions&, const Instructions&) = default;
};

}  // namespace shortcut::of
