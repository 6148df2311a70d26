// Private helpers shared by the codec_*.cc files of the OpenFlow 1.3 codec
// (codec.h is the public interface). Not installed, not used outside
// src/openflow.
//
// Conventions: Encode* functions append to a ByteWriter and fail only for
// values that cannot be represented; Decode* functions read from a
// ByteReader that is already limited to the bytes they may consume and fail
// with InvalidArgument naming what is wrong.
//
// Thread-safety: stateless functions.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/common/bytes.h"
#include "src/openflow/message.h"

namespace shortcut::of::internal {

// OFPAT_* / OFPIT_* / OXM numbers used by more than one file.
inline constexpr uint16_t kOfpatExperimenter = 0xffff;
inline constexpr uint16_t kMatchTypeOxm = 1;
inline constexpr size_t kPortDescLen = 64;
inline constexpr size_t kBucketHeaderLen = 16;
inline constexpr size_t kMeterBandLen = 16;

// This abseil build has its own string_view; AV() lets std::string_view
// (FieldInfo::name, ...) go through absl::StrCat.
inline absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }
template <typename T>
const T& AV(const T& t) {
  return t;
}

// A short run of big-endian fields built on the stack and appended with one
// insert: ByteWriter appends byte by byte, which dominated encode time for
// the fixed parts of messages, OXM TLVs and actions. N is a compile-time
// bound that callers size for what they write (checked by assert).
template <size_t N>
class Chunk {
 public:
  Chunk& U8(uint8_t v) {
    assert(n_ + 1 <= N);
    b_[n_++] = v;
    return *this;
  }
  Chunk& U16(uint16_t v) { return Put(v, 2); }
  Chunk& U32(uint32_t v) { return Put(v, 4); }
  Chunk& U64(uint64_t v) { return Put(v, 8); }
  Chunk& Zeros(size_t n) {
    assert(n_ + n <= N);
    std::memset(b_.data() + n_, 0, n);
    n_ += n;
    return *this;
  }
  Chunk& Raw(const uint8_t* p, size_t n) {
    assert(n_ + n <= N);
    std::memcpy(b_.data() + n_, p, n);
    n_ += n;
    return *this;
  }
  void AppendTo(ByteWriter& w) const { w.Bytes(std::span<const uint8_t>(b_.data(), n_)); }

 private:
  Chunk& Put(uint64_t v, size_t n) {
    assert(n_ + n <= N);
    for (size_t i = 0; i < n; ++i) b_[n_ + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    n_ += n;
    return *this;
  }
  std::array<uint8_t, N> b_;
  size_t n_ = 0;
};

// InvalidArgument "<what>: <detail...>".
template <typename... Args>
absl::Status Invalid(std::string_view what, const Args&... detail) {
  return absl::InvalidArgumentError(absl::StrCat(AV(what), ": ", AV(detail)...));
}

// Prefixes a failed status's message with "<what>: ", keeping its code.
absl::Status Annotate(const absl::Status& st, std::string_view what);

// Status for a reader that ran out of bytes while reading `what`.
absl::Status Truncated(const ByteReader& r, std::string_view what);

// Overwrites the 16-bit length at `start + offset` with the number of bytes
// written since `start`; fails if that does not fit in 16 bits.
absl::Status PatchLength(ByteWriter& w, size_t start, size_t offset, std::string_view what);

// One OXM TLV (header, value and, if `mask` is given, mask).
absl::Status EncodeOxm(Field f, const FieldBytes& value, const FieldBytes* mask, ByteWriter& w);
// Reads one OXM TLV; `allow_mask` false rejects the has-mask bit.
absl::Status DecodeOxm(ByteReader& r, bool allow_mask, FieldMatch& out);

absl::Status DecodeMatchInto(ByteReader& r, Match& out);
absl::Status DecodeActionsInto(ByteReader& r, size_t len, ActionList& out);
absl::Status DecodeInstructionsInto(ByteReader& r, size_t len, Instructions& out);

// Group buckets and meter bands (group_mod, group_desc, meter_mod, meter_config).
absl::Status EncodeBuckets(const std::vector<Bucket>& buckets, ByteWriter& w);
absl::Status DecodeBuckets(ByteReader& r, size_t len, std::vector<Bucket>& out);
absl::Status EncodeBands(const std::vector<MeterBand>& bands, ByteWriter& w);
absl::Status DecodeBands(ByteReader& r, size_t len, std::vector<MeterBand>& out);

// ofp_port, 64 bytes.
absl::Status EncodePortDesc(const PortDesc& p, ByteWriter& w);
absl::Status DecodePortDesc(ByteReader& r, PortDesc& out);

// Multipart bodies: everything after the 8-byte ofp_header.
absl::Status EncodeMultipartRequest(const MultipartRequest& m, ByteWriter& w);
absl::Status DecodeMultipartRequest(ByteReader& r, MultipartRequest& out);
absl::Status EncodeMultipartReply(const MultipartReply& m, ByteWriter& w);
absl::Status DecodeMultipartReply(ByteReader& r, MultipartReply& out);

// ONF bundle messages: everything after the 8-byte ofp_header of an
// OFPT_EXPERIMENTER message (experimenter id, exp_type, body).
absl::Status EncodeBundleControl(const BundleControl& b, ByteWriter& w);
absl::Status EncodeBundleAddBody(const BundleAdd& b, uint32_t xid, ByteWriter& w);
absl::Status DecodeExperimenter(ByteReader& r, uint8_t version, uint32_t xid, MessageBody& out);

// Appends a whole message with the given xid (Message::xid is ignored).
absl::Status EncodeWithXid(const Message& msg, uint32_t xid, Bytes& out);

}  // namespace shortcut::of::internal
