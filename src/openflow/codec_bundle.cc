// The ONF bundle extension (EXT-230) on OpenFlow 1.3 as Open vSwitch
// implements it: OFPT_EXPERIMENTER messages with experimenter ONF
// (0x4f4e4600) and exp_type 2300 (bundle control) or 2301 (bundle add).
// The body is ofp14_bundle_ctrl_msg (bundle_id, type, flags); a bundle add
// follows it with the complete inner message, whose xid equals the outer one.
// Trailing bundle properties are accepted and ignored.
#include "absl/strings/str_format.h"
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of {
namespace internal {
namespace {

constexpr size_t kExperimenterHeaderLen = 16;  // ofp_header + experimenter + exp_type.

absl::Status CheckInner(std::span<const uint8_t> inner, uint8_t version, uint32_t xid) {
  if (inner.size() < kHeaderLen) {
    return Invalid("bundle add", "inner message of ", inner.size(), " bytes is shorter than 8");
  }
  size_t len = size_t{inner[2]} << 8 | inner[3];
  if (len != inner.size()) {
    return Invalid("bundle add", "inner message length field ", len, " != its size ", inner.size());
  }
  if (inner[0] != version) {
    return Invalid("bundle add", "inner message version ", inner[0], " != outer version ", version);
  }
  uint32_t inner_xid =
      uint32_t{inner[4]} << 24 | uint32_t{inner[5]} << 16 | uint32_t{inner[6]} << 8 | inner[7];
  if (inner_xid != xid) {
    return Invalid("bundle add",
                   absl::StrFormat("inner xid 0x%x != outer xid 0x%x", inner_xid, xid));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EncodeBundleControl(const BundleControl& b, ByteWriter& w) {
  w.U32(kOnfExperimenter), w.U32(kOnfBundleControl);
  w.U32(b.bundle_id), w.U16(static_cast<uint16_t>(b.type)), w.U16(b.flags);
  return absl::OkStatus();
}

absl::Status EncodeBundleAddBody(const BundleAdd& b, uint32_t xid, ByteWriter& w) {
  // The outer version is always OpenFlow 1.3 here; Encode() checks it.
  RETURN_IF_ERROR(CheckInner(b.message, kVersion13, xid));
  w.U32(kOnfExperimenter), w.U32(kOnfBundleAdd);
  w.U32(b.bundle_id), w.U16(0), w.U16(b.flags);
  w.Bytes(b.message);
  return absl::OkStatus();
}

absl::Status DecodeExperimenter(ByteReader& r, uint8_t version, uint32_t xid, MessageBody& out) {
  if (r.remaining() < 8) {
    return Invalid("experimenter", "truncated header (", r.remaining() + kHeaderLen,
                   " bytes, need 16)");
  }
  uint32_t experimenter = r.U32();
  uint32_t exp_type = r.U32();
  if (experimenter != kOnfExperimenter ||
      (exp_type != kOnfBundleControl && exp_type != kOnfBundleAdd)) {
    return absl::UnimplementedError(
        absl::StrFormat("unsupported experimenter message (experimenter 0x%08x, exp_type %u)",
                        experimenter, exp_type));
  }
  std::string_view what = exp_type == kOnfBundleControl ? "bundle control" : "bundle add";
  if (r.remaining() < 8) {
    return Invalid(what, "truncated (", r.remaining() + kExperimenterHeaderLen, " bytes, need 24)");
  }
  uint32_t bundle_id = r.U32();
  uint16_t type = r.U16();
  uint16_t flags = r.U16();
  if (exp_type == kOnfBundleControl) {
    if (type > static_cast<uint16_t>(BundleControlType::kDiscardReply)) {
      return Invalid(what, "unknown bundle control type ", type);
    }
    out = BundleControl{bundle_id, static_cast<BundleControlType>(type), flags};
    return absl::OkStatus();
  }
  if (r.remaining() < kHeaderLen) {
    return Invalid(what, "inner message truncated (", r.remaining(), " bytes, need 8)");
  }
  ByteReader peek = r;
  peek.Skip(2);
  size_t inner_len = peek.U16();
  if (inner_len > r.remaining()) {
    return Invalid(what, "inner message length ", inner_len, " exceeds the ", r.remaining(),
                   " bytes left");
  }
  std::span<const uint8_t> inner = r.Span(inner_len);
  RETURN_IF_ERROR(CheckInner(inner, version, xid));
  BundleAdd add;
  add.bundle_id = bundle_id;
  add.flags = flags;
  add.message.assign(inner.begin(), inner.end());
  out = std::move(add);
  return absl::OkStatus();
}

}  // namespace internal

absl::Status EncodeBundleAdd(uint32_t xid, uint32_t bundle_id, uint16_t flags, const Message& inner,
                             Bytes& out) {
  size_t start = out.size();
  ByteWriter w(out);
  w.U8(kVersion13), w.U8(static_cast<uint8_t>(MsgType::kExperimenter)), w.U16(0), w.U32(xid);
  w.U32(kOnfExperimenter), w.U32(kOnfBundleAdd);
  w.U32(bundle_id), w.U16(0), w.U16(flags);
  absl::Status st = inner.version == kVersion13
                        ? internal::EncodeWithXid(inner, xid, out)
                        : internal::Invalid("bundle add", "inner message version ", inner.version,
                                            " is not OpenFlow 1.3");
  if (st.ok()) st = internal::PatchLength(w, start, 2, "bundle add");
  if (!st.ok()) {
    out.resize(start);
    return internal::Annotate(st, "bundle add");
  }
  return absl::OkStatus();
}

}  // namespace shortcut::of
