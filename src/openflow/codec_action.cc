// OpenFlow 1.3 actions and the Nicira extension actions Shortcut uses.
//
// NXAST_CONTROLLER2 properties are written only when they differ from their
// defaults, exactly as Open vSwitch writes them, so that a flow dumped back
// by the switch decodes to the same ActionController. NXAST_RESUBMIT_TABLE
// carries an OpenFlow 1.0 (16-bit) port: reserved ports 0xff00.. map to the
// OpenFlow 1.1+ values 0xffffff00.. as in Open vSwitch's u16_to_ofp().
// NXAST_REG_MOVE names its fields by 32-bit NXM headers, preferring the
// legacy NXM header as OVS's encode_REG_MOVE does for OpenFlow 1.3, and
// accepts the OXM spelling too, as OVS's decoder does (subfield.h).
#include "absl/strings/str_format.h"
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"
#include "src/openflow/subfield.h"

namespace shortcut::of {
namespace internal {
namespace {

constexpr uint16_t kOfpatOutput = 0;
constexpr uint16_t kOfpatPushVlan = 17;
constexpr uint16_t kOfpatPopVlan = 18;
constexpr uint16_t kOfpatGroup = 22;
constexpr uint16_t kOfpatDecNwTtl = 24;
constexpr uint16_t kOfpatSetField = 25;

constexpr uint16_t kNxastResubmit = 1;
constexpr uint16_t kNxastRegMove = 6;
constexpr uint16_t kNxastResubmitTable = 14;
constexpr uint16_t kNxastController = 20;
constexpr uint16_t kNxastController2 = 37;

// enum nx_action_controller2_prop_type.
constexpr uint16_t kNxac2ptMaxLen = 0;
constexpr uint16_t kNxac2ptControllerId = 1;
constexpr uint16_t kNxac2ptReason = 2;
constexpr uint16_t kNxac2ptUserdata = 3;
constexpr uint16_t kNxac2ptPause = 4;
constexpr uint16_t kNxac2ptMeterId = 5;

constexpr uint32_t kOf10PortMax = 0xff00;
constexpr uint32_t kOf11PortOffset = 0xffff0000;

size_t RoundUp8(size_t n) { return (n + 7) / 8 * 8; }

absl::Status EncodeController(const ActionController& a, ByteWriter& w) {
  size_t start = w.size();
  Chunk<16>()
      .U16(kOfpatExperimenter)
      .U16(0)
      .U32(kNiciraExperimenter)
      .U16(kNxastController2)
      .Zeros(6)
      .AppendTo(w);
  if (a.max_len != kControllerMaxLenNoBuffer) {
    w.U16(kNxac2ptMaxLen), w.U16(6), w.U16(a.max_len), w.Zeros(2);
  }
  if (a.controller_id != 0) {
    w.U16(kNxac2ptControllerId), w.U16(6), w.U16(a.controller_id), w.Zeros(2);
  }
  if (a.reason != kPacketInAction) {
    w.U16(kNxac2ptReason), w.U16(5), w.U8(a.reason), w.Zeros(3);
  }
  if (!a.userdata.empty()) {
    if (a.userdata.size() > 0xffff - 4) {
      return Invalid("controller action", "userdata of ", a.userdata.size(), " bytes is too long");
    }
    size_t prop = w.size();
    w.U16(kNxac2ptUserdata);
    w.U16(static_cast<uint16_t>(4 + a.userdata.size()));
    w.Bytes(a.userdata);
    w.PadTo(prop, 8);
  }
  if (a.pause) {
    w.U16(kNxac2ptPause), w.U16(4), w.Zeros(4);
  }
  if (a.meter_id != 0) {
    w.U16(kNxac2ptMeterId), w.U16(8), w.U32(a.meter_id);
  }
  return PatchLength(w, start, 2, "controller action");
}

absl::Status EncodeResubmit(const ActionResubmit& a, ByteWriter& w) {
  uint16_t port;
  if (a.in_port < kOf10PortMax) {
    port = static_cast<uint16_t>(a.in_port);
  } else if (a.in_port >= kPortMax) {
    port = static_cast<uint16_t>(a.in_port - kOf11PortOffset);
  } else {
    return Invalid("resubmit action", "in_port ", a.in_port,
                   " has no OpenFlow 1.0 (16-bit) encoding");
  }
  Chunk<16>()
      .U16(kOfpatExperimenter)
      .U16(16)
      .U32(kNiciraExperimenter)
      .U16(kNxastResubmitTable)
      .U16(port)
      .U8(a.table)
      .Zeros(3)
      .AppendTo(w);
  return absl::OkStatus();
}

// struct nx_action_reg_move: the 16-byte header (n_bits, src_ofs, dst_ofs),
// then the source and destination headers; 24 bytes, already a multiple of 8.
absl::Status EncodeMove(const ActionMove& a, ByteWriter& w) {
  RETURN_IF_ERROR(CheckMove(a));
  Chunk<24>()
      .U16(kOfpatExperimenter)
      .U16(24)
      .U32(kNiciraExperimenter)
      .U16(kNxastRegMove)
      .U16(a.n_bits)
      .U16(a.src_ofs)
      .U16(a.dst_ofs)
      .U32(GetSubfieldInfo(a.src)->header)
      .U32(GetSubfieldInfo(a.dst)->header)
      .AppendTo(w);
  return absl::OkStatus();
}

struct ActionEncoder {
  ByteWriter& w;
  absl::Status operator()(const ActionOutput& a) {
    Chunk<16>().U16(kOfpatOutput).U16(16).U32(a.port).U16(a.max_len).Zeros(6).AppendTo(w);
    return absl::OkStatus();
  }
  absl::Status operator()(const ActionGroup& a) {
    Chunk<8>().U16(kOfpatGroup).U16(8).U32(a.group_id).AppendTo(w);
    return absl::OkStatus();
  }
  absl::Status operator()(const ActionSetField& a) {
    const FieldInfo& fi = GetFieldInfo(a.field);
    size_t len = RoundUp8(8 + fi.width);
    Chunk<8 + sizeof(FieldBytes) + 8> c;
    c.U16(kOfpatSetField).U16(static_cast<uint16_t>(len));
    c.U16(fi.oxm_class).U8(static_cast<uint8_t>(fi.oxm_field << 1)).U8(fi.width);
    c.Raw(a.value.data(), fi.width).Zeros(len - 8 - fi.width).AppendTo(w);
    return absl::OkStatus();
  }
  absl::Status operator()(const ActionPushVlan& a) {
    Chunk<8>().U16(kOfpatPushVlan).U16(8).U16(a.ethertype).Zeros(2).AppendTo(w);
    return absl::OkStatus();
  }
  absl::Status operator()(const ActionPopVlan&) {
    Chunk<8>().U16(kOfpatPopVlan).U16(8).Zeros(4).AppendTo(w);
    return absl::OkStatus();
  }
  absl::Status operator()(const ActionDecTtl&) {
    Chunk<8>().U16(kOfpatDecNwTtl).U16(8).Zeros(4).AppendTo(w);
    return absl::OkStatus();
  }
  absl::Status operator()(const ActionController& a) { return EncodeController(a, w); }
  absl::Status operator()(const ActionResubmit& a) { return EncodeResubmit(a, w); }
  absl::Status operator()(const ActionMove& a) { return EncodeMove(a, w); }
};

// Reads NXAST_CONTROLLER2 properties (after the 16-byte ext_action_header).
absl::Status DecodeController2Props(ByteReader& r, ActionController& a) {
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Invalid("property", "header truncated");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    if (len < 4) return Invalid("property", "length ", len, " < 4");
    size_t padded = RoundUp8(len);
    if (padded - 4 > r.remaining()) {
      return Invalid("property", "length ", len, " (", padded, " padded) exceeds the ",
                     r.remaining() + 4, " bytes left");
    }
    ByteReader p = r.Sub(len - 4);
    r.Skip(padded - len);
    size_t n = len - 4;
    switch (type) {
      case kNxac2ptMaxLen:
        if (n < 2) return Invalid("max_len property", "payload of ", n, " bytes < 2");
        a.max_len = p.U16();
        break;
      case kNxac2ptControllerId:
        if (n < 2) return Invalid("controller_id property", "payload of ", n, " bytes < 2");
        a.controller_id = p.U16();
        break;
      case kNxac2ptReason:
        if (n < 1) return Invalid("reason property", "empty payload");
        a.reason = p.U8();
        break;
      case kNxac2ptUserdata: {
        auto s = p.Span(n);
        a.userdata.assign(s.begin(), s.end());
        break;
      }
      case kNxac2ptPause:
        a.pause = true;
        break;
      case kNxac2ptMeterId:
        if (n != 4) return Invalid("meter_id property", "payload of ", n, " bytes, expected 4");
        a.meter_id = p.U32();
        break;
      default:
        return Invalid("property", "unknown NXAST_CONTROLLER2 property type ", type);
    }
  }
  return absl::OkStatus();
}

// One field header of NXAST_REG_MOVE. Like OVS's nx_pull_header(), a
// has-mask header is an error (a move reads and writes values, not masks),
// and the length byte must be the field's own.
absl::Status DecodeMoveHeader(ByteReader& b, std::string_view role, Field& out) {
  if (b.remaining() < 4) return Invalid("move", role, " field header truncated");
  uint32_t header = b.U32();
  if (header >> 16 == 0xffff) {
    return Invalid("move", role, " field is an experimenter OXM field, not supported");
  }
  if (header & 0x100) {
    return Invalid("move", role, absl::StrFormat(" field header 0x%08x has the mask bit", header));
  }
  const SubfieldInfo* sf = SubfieldByHeader(header);
  if (sf == nullptr) {
    return Invalid(
        "move", role,
        absl::StrFormat(" field header 0x%08x is unknown or has a wrong length", header));
  }
  out = sf->field;
  return absl::OkStatus();
}

// NXAST_REG_MOVE after its subtype. OVS accepts any 8-byte-multiple length
// as long as the bytes after the two headers are zero (NXBRC_MUST_BE_ZERO).
absl::Status DecodeMove(ByteReader& b, uint16_t len, Action& out) {
  if (len < 24) return Invalid("move", "length ", len, " < 24");
  ActionMove a;
  a.n_bits = b.U16();
  a.src_ofs = b.U16();
  a.dst_ofs = b.U16();
  RETURN_IF_ERROR(DecodeMoveHeader(b, "source", a.src));
  RETURN_IF_ERROR(DecodeMoveHeader(b, "destination", a.dst));
  while (b.remaining() > 0) {
    if (b.U8() != 0) return Invalid("move", "nonzero padding after the field headers");
  }
  RETURN_IF_ERROR(CheckMove(a));
  out = a;
  return absl::OkStatus();
}

absl::Status ExpectLen(uint16_t len, uint16_t expected) {
  if (len != expected) return Invalid("length", len, ", expected ", expected);
  return absl::OkStatus();
}

// `b` holds the action after its type and length fields.
absl::Status DecodeNicira(ByteReader& b, uint16_t len, Action& out) {
  uint16_t subtype = b.U16();
  switch (subtype) {
    case kNxastResubmit:
    case kNxastResubmitTable: {
      RETURN_IF_ERROR(ExpectLen(len, 16));
      ActionResubmit a;
      uint16_t port = b.U16();
      a.in_port = port < kOf10PortMax ? port : port + kOf11PortOffset;
      uint8_t table = b.U8();
      a.table = subtype == kNxastResubmitTable ? table : kTableAll;
      out = a;
      return absl::OkStatus();
    }
    case kNxastController: {
      RETURN_IF_ERROR(ExpectLen(len, 16));
      ActionController a;
      a.max_len = b.U16();
      a.controller_id = b.U16();
      a.reason = b.U8();
      out = std::move(a);
      return absl::OkStatus();
    }
    case kNxastRegMove:
      return DecodeMove(b, len, out);
    case kNxastController2: {
      if (len < 16) return Invalid("length", len, " < 16");
      b.Skip(6);
      ActionController a;
      RETURN_IF_ERROR(DecodeController2Props(b, a));
      out = std::move(a);
      return absl::OkStatus();
    }
    default:
      return Invalid("action", "unknown Nicira action subtype ", subtype);
  }
}

absl::Status DecodeAction(uint16_t type, uint16_t len, ByteReader& b, Action& out) {
  switch (type) {
    case kOfpatOutput: {
      RETURN_IF_ERROR(ExpectLen(len, 16));
      ActionOutput a;
      a.port = b.U32();
      a.max_len = b.U16();
      out = a;
      return absl::OkStatus();
    }
    case kOfpatGroup:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out = ActionGroup{b.U32()};
      return absl::OkStatus();
    case kOfpatPushVlan:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out = ActionPushVlan{b.U16()};
      return absl::OkStatus();
    case kOfpatPopVlan:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out = ActionPopVlan{};
      return absl::OkStatus();
    case kOfpatDecNwTtl:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out = ActionDecTtl{};
      return absl::OkStatus();
    case kOfpatSetField: {
      FieldMatch fm;
      RETURN_IF_ERROR(DecodeOxm(b, false, fm));
      size_t expected = RoundUp8(8 + GetFieldInfo(fm.field).width);
      if (len != expected) return Invalid("length", len, ", expected ", expected);
      out = ActionSetField{fm.field, fm.value};
      return absl::OkStatus();
    }
    case kOfpatExperimenter: {
      uint32_t experimenter = b.U32();
      if (experimenter != kNiciraExperimenter) {
        return Invalid("action", absl::StrFormat("unknown experimenter 0x%08x", experimenter));
      }
      if (len < 16) return Invalid("length", len, " < 16");
      return DecodeNicira(b, len, out);
    }
    default:
      return Invalid("action", "unknown action type ", type);
  }
}

}  // namespace

absl::Status DecodeActionsInto(ByteReader& r, size_t len, ActionList& out) {
  if (len > r.remaining()) {
    return Invalid("actions", "length ", len, " exceeds the ", r.remaining(), " bytes left");
  }
  ByteReader list = r.Sub(len);
  out.reserve(out.size() + len / 16 + 1);  // Typical actions are 16 bytes: one allocation.
  for (size_t i = 0; list.remaining() > 0; ++i) {
    size_t offset = list.position();
    if (list.remaining() < 8) {
      return Invalid(absl::StrCat("action ", i, " at offset ", offset), "truncated (",
                     list.remaining(), " bytes left, need 8)");
    }
    uint16_t type = list.U16();
    uint16_t alen = list.U16();
    std::string_view problem;
    if (alen < 8) {
      problem = "less than 8";
    } else if (alen % 8 != 0) {
      problem = "not a multiple of 8";
    } else if (alen - 4u > list.remaining()) {
      problem = "beyond the end of the action list";
    }
    if (!problem.empty()) {
      return Invalid(absl::StrCat("action ", i, " at offset ", offset), "length ", alen, " is ",
                     problem);
    }
    ByteReader body = list.Sub(alen - 4);
    Action a;
    absl::Status st = DecodeAction(type, alen, body, a);
    if (!st.ok()) {
      return Annotate(st, absl::StrCat("action ", i, " (type ", type, ") at offset ", offset));
    }
    out.push_back(std::move(a));
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::Status EncodeActions(const ActionList& actions, ByteWriter& w) {
  internal::ActionEncoder enc{w};
  for (const Action& a : actions) {
    RETURN_IF_ERROR(std::visit(enc, a));
  }
  return absl::OkStatus();
}

absl::StatusOr<ActionList> DecodeActions(ByteReader& r, size_t len) {
  ActionList out;
  RETURN_IF_ERROR(internal::DecodeActionsInto(r, len, out));
  return out;
}

}  // namespace shortcut::of
