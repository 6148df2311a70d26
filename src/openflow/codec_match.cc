// ofp_match (OFPMT_OXM) and OXM TLVs.
//
// Decoding is stricter than Match::Put: like Open vSwitch it rejects a mask
// on a field that has none, value bits outside the mask, wrong lengths and
// duplicate fields, so that a malformed match is reported rather than
// silently reinterpreted.
#include <array>
#include <bitset>

#include "absl/strings/str_format.h"
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of {
namespace internal {
namespace {

constexpr uint8_t kNoField = 0xff;

// (class, field) -> Field, for the two OXM classes Shortcut uses; avoids a
// linear search of the field table per TLV on the decode hot path.
struct OxmIndex {
  std::array<uint8_t, 128> basic;
  std::array<uint8_t, 128> nxm1;
  OxmIndex() {
    basic.fill(kNoField);
    nxm1.fill(kNoField);
    for (size_t i = 0; i < kFieldCount; ++i) {
      const FieldInfo& fi = GetFieldInfo(static_cast<Field>(i));
      if (fi.oxm_class == kOxmClassOpenflowBasic) basic[fi.oxm_field] = static_cast<uint8_t>(i);
      if (fi.oxm_class == kOxmClassNxm1) nxm1[fi.oxm_field] = static_cast<uint8_t>(i);
    }
  }
};

const OxmIndex& Index() {
  static const OxmIndex index;
  return index;
}

std::optional<Field> LookupOxm(uint16_t oxm_class, uint8_t oxm_field) {
  uint8_t v = kNoField;
  if (oxm_class == kOxmClassOpenflowBasic) {
    v = Index().basic[oxm_field & 0x7f];
  } else if (oxm_class == kOxmClassNxm1) {
    v = Index().nxm1[oxm_field & 0x7f];
  }
  if (v == kNoField) return std::nullopt;
  return static_cast<Field>(v);
}

}  // namespace

absl::Status EncodeOxm(Field f, const FieldBytes& value, const FieldBytes* mask, ByteWriter& w) {
  const FieldInfo& fi = GetFieldInfo(f);
  if (mask != nullptr && !fi.maskable) {
    return Invalid("OXM", "field ", fi.name, " is not maskable");
  }
  uint8_t len = static_cast<uint8_t>(mask != nullptr ? 2 * fi.width : fi.width);
  Chunk<4 + 2 * sizeof(FieldBytes)> c;
  c.U16(fi.oxm_class).U8(static_cast<uint8_t>(fi.oxm_field << 1 | (mask != nullptr ? 1 : 0)));
  c.U8(len).Raw(value.data(), fi.width);
  if (mask != nullptr) c.Raw(mask->data(), fi.width);
  c.AppendTo(w);
  return absl::OkStatus();
}

absl::Status DecodeOxm(ByteReader& r, bool allow_mask, FieldMatch& out) {
  if (r.remaining() < 4) {
    return Invalid("OXM", "header truncated (", r.remaining(), " bytes left, need 4)");
  }
  uint16_t oxm_class = r.U16();
  uint8_t fb = r.U8();
  uint8_t len = r.U8();
  uint8_t oxm_field = fb >> 1;
  bool hasmask = (fb & 1) != 0;
  std::optional<Field> f = LookupOxm(oxm_class, oxm_field);
  if (!f) {
    return Invalid("OXM",
                   absl::StrFormat("unknown field (class 0x%04x, field %u)", oxm_class, oxm_field));
  }
  const FieldInfo& fi = GetFieldInfo(*f);
  size_t expected = hasmask ? 2 * fi.width : fi.width;
  if (len != expected) {
    return Invalid(absl::StrCat("OXM ", AV(fi.name)), "length ", len, ", expected ", expected);
  }
  if (r.remaining() < len) {
    return Invalid(absl::StrCat("OXM ", AV(fi.name)), "length ", len, " exceeds the ",
                   r.remaining(), " bytes left");
  }
  if (hasmask && !allow_mask) {
    return Invalid(absl::StrCat("OXM ", AV(fi.name)), "has a mask where none is allowed");
  }
  if (hasmask && !fi.maskable) {
    return Invalid(absl::StrCat("OXM ", AV(fi.name)), "field is not maskable");
  }
  out.field = *f;
  out.masked = hasmask;
  out.value = FieldBytes{};
  out.mask = FieldBytes{};
  r.Bytes(out.value.data(), fi.width);
  if (hasmask) {
    r.Bytes(out.mask.data(), fi.width);
    for (size_t i = 0; i < fi.width; ++i) {
      if (out.value[i] & ~out.mask[i]) {
        return Invalid(absl::StrCat("OXM ", AV(fi.name)), "value has 1-bits outside its mask");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeMatchInto(ByteReader& r, Match& out) {
  if (r.remaining() < 4) {
    return Invalid("match", "truncated header (", r.remaining(), " bytes left, need 4)");
  }
  uint16_t type = r.U16();
  uint16_t length = r.U16();
  if (type != kMatchTypeOxm) {
    return Invalid("match", "unsupported match type ", type, " (only OFPMT_OXM=1)");
  }
  if (length < 4) return Invalid("match", "length ", length, " < 4");
  size_t padded = (static_cast<size_t>(length) + 7) / 8 * 8;
  if (padded - 4 > r.remaining()) {
    return Invalid("match", "length ", length, " (", padded, " with padding) exceeds the ",
                   r.remaining() + 4, " bytes available");
  }
  ByteReader oxms = r.Sub(length - 4);
  r.Skip(padded - length);
  std::bitset<kFieldCount> seen;
  FieldMatch fm;
  while (oxms.remaining() > 0) {
    RETURN_IF_ERROR(Annotate(DecodeOxm(oxms, true, fm), "match"));
    size_t idx = static_cast<size_t>(fm.field);
    if (seen[idx]) {
      return Invalid("match", "duplicate field ", AV(GetFieldInfo(fm.field).name));
    }
    seen[idx] = true;
    out.Put(fm);
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::Status EncodeMatch(const Match& match, ByteWriter& w) {
  size_t start = w.size();
  w.U16(internal::kMatchTypeOxm);
  w.U16(0);
  for (const FieldMatch& fm : match.fields()) {
    RETURN_IF_ERROR(internal::Annotate(
        internal::EncodeOxm(fm.field, fm.value, fm.masked ? &fm.mask : nullptr, w), "match"));
  }
  RETURN_IF_ERROR(internal::PatchLength(w, start, 2, "match"));
  w.PadTo(start, 8);
  return absl::OkStatus();
}

absl::StatusOr<Match> DecodeMatch(ByteReader& r) {
  Match m;
  RETURN_IF_ERROR(internal::DecodeMatchInto(r, m));
  return m;
}

}  // namespace shortcut::of
