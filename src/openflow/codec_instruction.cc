// OpenFlow 1.3 instructions.
//
// Instructions is canonical: any order on the wire decodes to the same
// struct, and encoding uses one fixed order (meter, apply, clear, write,
// write_metadata, goto). An empty apply_actions is not encoded at all, as
// Open vSwitch does for "actions=drop".
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of {
namespace internal {
namespace {

constexpr uint16_t kOfpitGotoTable = 1;
constexpr uint16_t kOfpitWriteMetadata = 2;
constexpr uint16_t kOfpitWriteActions = 3;
constexpr uint16_t kOfpitApplyActions = 4;
constexpr uint16_t kOfpitClearActions = 5;
constexpr uint16_t kOfpitMeter = 6;

std::string_view InstructionName(uint16_t type) {
  switch (type) {
    case kOfpitGotoTable:
      return "goto_table";
    case kOfpitWriteMetadata:
      return "write_metadata";
    case kOfpitWriteActions:
      return "write_actions";
    case kOfpitApplyActions:
      return "apply_actions";
    case kOfpitClearActions:
      return "clear_actions";
    case kOfpitMeter:
      return "meter";
    default:
      return "unknown";
  }
}

absl::Status EncodeActionInstruction(uint16_t type, const ActionList& actions, ByteWriter& w) {
  size_t start = w.size();
  Chunk<8>().U16(type).U16(0).Zeros(4).AppendTo(w);
  RETURN_IF_ERROR(EncodeActions(actions, w));
  return PatchLength(w, start, 2, InstructionName(type));
}

absl::Status ExpectLen(uint16_t len, uint16_t expected) {
  if (len != expected) return Invalid("length", len, ", expected ", expected);
  return absl::OkStatus();
}

// `b` holds the instruction after its type and length fields.
absl::Status DecodeInstruction(uint16_t type, uint16_t len, ByteReader& b, Instructions& out) {
  switch (type) {
    case kOfpitGotoTable:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out.goto_table = b.U8();
      return absl::OkStatus();
    case kOfpitWriteMetadata: {
      RETURN_IF_ERROR(ExpectLen(len, 24));
      b.Skip(4);
      Instructions::Metadata md;
      md.value = b.U64();
      md.mask = b.U64();
      out.write_metadata = md;
      return absl::OkStatus();
    }
    case kOfpitWriteActions:
    case kOfpitApplyActions: {
      b.Skip(4);
      ActionList* list = &out.apply_actions;
      if (type == kOfpitWriteActions) list = &out.write_actions.emplace();
      return DecodeActionsInto(b, b.remaining(), *list);
    }
    case kOfpitClearActions:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out.clear_actions = true;
      return absl::OkStatus();
    case kOfpitMeter:
      RETURN_IF_ERROR(ExpectLen(len, 8));
      out.meter = b.U32();
      return absl::OkStatus();
    default:
      return Invalid("instruction", "unknown instruction type ", type);
  }
}

}  // namespace

absl::Status DecodeInstructionsInto(ByteReader& r, size_t len, Instructions& out) {
  if (len > r.remaining()) {
    return Invalid("instructions", "length ", len, " exceeds the ", r.remaining(), " bytes left");
  }
  ByteReader list = r.Sub(len);
  uint32_t seen = 0;
  for (size_t i = 0; list.remaining() > 0; ++i) {
    size_t offset = list.position();
    if (list.remaining() < 8) {
      return Invalid(absl::StrCat("instruction ", i, " at offset ", offset), "truncated (",
                     list.remaining(), " bytes left, need 8)");
    }
    uint16_t type = list.U16();
    uint16_t ilen = list.U16();
    std::string_view problem;
    if (ilen < 8) {
      problem = "less than 8";
    } else if (ilen % 8 != 0) {
      problem = "not a multiple of 8";
    } else if (ilen - 4u > list.remaining()) {
      problem = "beyond the end of the instruction list";
    }
    auto where = [&] {
      return absl::StrCat("instruction ", i, " (", AV(InstructionName(type)), ", type ", type,
                          ") at offset ", offset);
    };
    if (!problem.empty()) return Invalid(where(), "length ", ilen, " is ", problem);
    if (type < 32) {
      if (seen & (1u << type)) return Invalid(where(), "duplicate instruction");
      seen |= 1u << type;
    }
    ByteReader body = list.Sub(ilen - 4);
    absl::Status st = DecodeInstruction(type, ilen, body, out);
    if (!st.ok()) return Annotate(st, where());
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::Status EncodeInstructions(const Instructions& ins, ByteWriter& w) {
  using namespace internal;  // NOLINT: instruction type constants.
  if (ins.meter) {
    w.U16(kOfpitMeter), w.U16(8), w.U32(*ins.meter);
  }
  if (!ins.apply_actions.empty()) {
    RETURN_IF_ERROR(EncodeActionInstruction(kOfpitApplyActions, ins.apply_actions, w));
  }
  if (ins.clear_actions) {
    w.U16(kOfpitClearActions), w.U16(8), w.Zeros(4);
  }
  if (ins.write_actions) {
    RETURN_IF_ERROR(EncodeActionInstruction(kOfpitWriteActions, *ins.write_actions, w));
  }
  if (ins.write_metadata) {
    w.U16(kOfpitWriteMetadata), w.U16(24), w.Zeros(4);
    w.U64(ins.write_metadata->value), w.U64(ins.write_metadata->mask);
  }
  if (ins.goto_table) {
    w.U16(kOfpitGotoTable), w.U16(8), w.U8(*ins.goto_table), w.Zeros(3);
  }
  return absl::OkStatus();
}

absl::StatusOr<Instructions> DecodeInstructions(ByteReader& r, size_t len) {
  Instructions out;
  RETURN_IF_ERROR(internal::DecodeInstructionsInto(r, len, out));
  return out;
}

}  // namespace shortcut::of
