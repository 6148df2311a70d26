// Group buckets (ofp_bucket), meter bands (ofp_meter_band_*) and ofp_port,
// shared by the mod messages and the multipart replies that describe them.
#include <algorithm>
#include <cstring>

#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of::internal {

absl::Status EncodeBuckets(const std::vector<Bucket>& buckets, ByteWriter& w) {
  for (const Bucket& b : buckets) {
    size_t start = w.size();
    w.U16(0), w.U16(b.weight), w.U32(b.watch_port), w.U32(b.watch_group), w.Zeros(4);
    RETURN_IF_ERROR(Annotate(EncodeActions(b.actions, w), "bucket"));
    RETURN_IF_ERROR(PatchLength(w, start, 0, "bucket"));
  }
  return absl::OkStatus();
}

absl::Status DecodeBuckets(ByteReader& r, size_t len, std::vector<Bucket>& out) {
  if (len > r.remaining()) {
    return Invalid("buckets", "length ", len, " exceeds the ", r.remaining(), " bytes left");
  }
  ByteReader list = r.Sub(len);
  for (size_t i = 0; list.remaining() > 0; ++i) {
    std::string where = absl::StrCat("bucket ", i, " at offset ", list.position());
    if (list.remaining() < kBucketHeaderLen) {
      return Invalid(where, "truncated (", list.remaining(), " bytes left, need 16)");
    }
    uint16_t blen = list.U16();
    if (blen < kBucketHeaderLen) return Invalid(where, "length ", blen, " < 16");
    if (blen - 2u > list.remaining()) {
      return Invalid(where, "length ", blen, " exceeds the ", list.remaining() + 2, " bytes left");
    }
    ByteReader body = list.Sub(blen - 2);
    Bucket b;
    b.weight = body.U16();
    b.watch_port = body.U32();
    b.watch_group = body.U32();
    body.Skip(4);
    RETURN_IF_ERROR(Annotate(DecodeActionsInto(body, body.remaining(), b.actions), where));
    out.push_back(std::move(b));
  }
  return absl::OkStatus();
}

absl::Status EncodeBands(const std::vector<MeterBand>& bands, ByteWriter& w) {
  for (const MeterBand& b : bands) {
    if (b.type != kMeterBandDrop && b.type != kMeterBandDscpRemark) {
      return Invalid("meter band", "unsupported band type ", b.type);
    }
    w.U16(b.type), w.U16(kMeterBandLen), w.U32(b.rate), w.U32(b.burst_size);
    w.U8(b.type == kMeterBandDscpRemark ? b.prec_level : 0);
    w.Zeros(3);
  }
  return absl::OkStatus();
}

absl::Status DecodeBands(ByteReader& r, size_t len, std::vector<MeterBand>& out) {
  if (len > r.remaining()) {
    return Invalid("meter bands", "length ", len, " exceeds the ", r.remaining(), " bytes left");
  }
  ByteReader list = r.Sub(len);
  for (size_t i = 0; list.remaining() > 0; ++i) {
    std::string where = absl::StrCat("meter band ", i, " at offset ", list.position());
    if (list.remaining() < kMeterBandLen) {
      return Invalid(where, "truncated (", list.remaining(), " bytes left, need 16)");
    }
    MeterBand b;
    b.type = list.U16();
    uint16_t blen = list.U16();
    if (b.type != kMeterBandDrop && b.type != kMeterBandDscpRemark) {
      return Invalid(where, "unsupported band type ", b.type);
    }
    if (blen != kMeterBandLen) return Invalid(where, "length ", blen, ", expected 16");
    b.rate = list.U32();
    b.burst_size = list.U32();
    uint8_t prec = list.U8();
    if (b.type == kMeterBandDscpRemark) b.prec_level = prec;
    list.Skip(3);
    out.push_back(b);
  }
  return absl::OkStatus();
}

absl::Status EncodePortDesc(const PortDesc& p, ByteWriter& w) {
  if (p.name.size() > 15) {
    return Invalid("port", "name \"", p.name, "\" is longer than 15 bytes");
  }
  w.U32(p.port_no), w.Zeros(4), w.Bytes(p.hw_addr), w.Zeros(2);
  w.Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.name.data()), p.name.size()));
  w.Zeros(16 - p.name.size());
  w.U32(p.config), w.U32(p.state), w.U32(p.curr), w.U32(p.advertised);
  w.U32(p.supported), w.U32(p.peer), w.U32(p.curr_speed), w.U32(p.max_speed);
  return absl::OkStatus();
}

absl::Status DecodePortDesc(ByteReader& r, PortDesc& out) {
  if (r.remaining() < kPortDescLen) {
    return Invalid("port", "truncated (", r.remaining(), " bytes left, need 64)");
  }
  out.port_no = r.U32();
  r.Skip(4);
  r.Bytes(out.hw_addr.data(), out.hw_addr.size());
  r.Skip(2);
  auto name = r.Span(16);
  // Like Open vSwitch (strlcpy into 16 bytes): at most 15 characters, up to
  // the first NUL.
  size_t n = 0;
  while (n < 15 && name[n] != 0) ++n;
  out.name.assign(reinterpret_cast<const char*>(name.data()), n);
  out.config = r.U32();
  out.state = r.U32();
  out.curr = r.U32();
  out.advertised = r.U32();
  out.supported = r.U32();
  out.peer = r.U32();
  out.curr_speed = r.U32();
  out.max_speed = r.U32();
  return absl::OkStatus();
}

}  // namespace shortcut::of::internal
