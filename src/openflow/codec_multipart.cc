// OFPT_MULTIPART_REQUEST / OFPT_MULTIPART_REPLY bodies Shortcut uses: flow
// stats, group description and features, meter configuration and features,
// port description. Other multipart types decode to Unimplemented.
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of::internal {
namespace {

constexpr size_t kFlowStatsFixedLen = 48;
constexpr size_t kGroupDescFixedLen = 8;
constexpr size_t kMeterConfigFixedLen = 8;
constexpr size_t kGroupFeaturesLen = 40;
constexpr size_t kMeterFeaturesLen = 16;

absl::Status ExpectEnd(const ByteReader& r, std::string_view what) {
  if (r.remaining() != 0) return Invalid(what, r.remaining(), " unexpected trailing bytes");
  return absl::OkStatus();
}

absl::Status ExpectSize(const ByteReader& r, size_t n, std::string_view what) {
  if (r.remaining() != n) return Invalid(what, "body of ", r.remaining(), " bytes, expected ", n);
  return absl::OkStatus();
}

// Reads a uint16 length at the start of an entry and returns a reader over
// the whole entry (length included) after checking it against `min` and
// what is left.
absl::Status EntryReader(ByteReader& list, size_t min, std::string_view what, ByteReader& entry) {
  if (list.remaining() < min) {
    return Invalid(what, "truncated (", list.remaining(), " bytes left, need ", min, ")");
  }
  size_t start = list.position();
  ByteReader peek = list;
  uint16_t len = peek.U16();
  if (len < min) return Invalid(what, "length ", len, " < ", min, " at offset ", start);
  if (len > list.remaining()) {
    return Invalid(what, "length ", len, " exceeds the ", list.remaining(), " bytes left");
  }
  entry = list.Sub(len);
  return absl::OkStatus();
}

absl::Status DecodeGroupType(uint8_t v, GroupType& out) {
  if (v > static_cast<uint8_t>(GroupType::kFastFailover)) {
    return Invalid("group", "unknown group type ", v);
  }
  out = static_cast<GroupType>(v);
  return absl::OkStatus();
}

// ---- reply bodies ----

absl::Status EncodeFlowStats(const std::vector<FlowStats>& v, ByteWriter& w) {
  for (const FlowStats& f : v) {
    size_t start = w.size();
    w.U16(0), w.U8(f.table_id), w.U8(0), w.U32(f.duration_sec), w.U32(f.duration_nsec);
    w.U16(f.priority), w.U16(f.idle_timeout), w.U16(f.hard_timeout), w.U16(f.flags), w.Zeros(4);
    w.U64(f.cookie), w.U64(f.packet_count), w.U64(f.byte_count);
    RETURN_IF_ERROR(EncodeMatch(f.match, w));
    RETURN_IF_ERROR(EncodeInstructions(f.instructions, w));
    RETURN_IF_ERROR(PatchLength(w, start, 0, "flow stats"));
  }
  return absl::OkStatus();
}

absl::Status DecodeFlowStats(ByteReader& r, std::vector<FlowStats>& out) {
  for (size_t i = 0; r.remaining() > 0; ++i) {
    std::string where = absl::StrCat("flow stats ", i);
    ByteReader e({});
    RETURN_IF_ERROR(EntryReader(r, kFlowStatsFixedLen + 8, where, e));
    FlowStats f;
    e.Skip(2);
    f.table_id = e.U8();
    e.Skip(1);
    f.duration_sec = e.U32();
    f.duration_nsec = e.U32();
    f.priority = e.U16();
    f.idle_timeout = e.U16();
    f.hard_timeout = e.U16();
    f.flags = e.U16();
    e.Skip(4);
    f.cookie = e.U64();
    f.packet_count = e.U64();
    f.byte_count = e.U64();
    RETURN_IF_ERROR(Annotate(DecodeMatchInto(e, f.match), where));
    RETURN_IF_ERROR(Annotate(DecodeInstructionsInto(e, e.remaining(), f.instructions), where));
    out.push_back(std::move(f));
  }
  return absl::OkStatus();
}

absl::Status EncodeGroupDescs(const std::vector<GroupDesc>& v, ByteWriter& w) {
  for (const GroupDesc& g : v) {
    size_t start = w.size();
    w.U16(0), w.U8(static_cast<uint8_t>(g.type)), w.U8(0), w.U32(g.group_id);
    RETURN_IF_ERROR(EncodeBuckets(g.buckets, w));
    RETURN_IF_ERROR(PatchLength(w, start, 0, "group desc"));
  }
  return absl::OkStatus();
}

absl::Status DecodeGroupDescs(ByteReader& r, std::vector<GroupDesc>& out) {
  for (size_t i = 0; r.remaining() > 0; ++i) {
    std::string where = absl::StrCat("group desc ", i);
    ByteReader e({});
    RETURN_IF_ERROR(EntryReader(r, kGroupDescFixedLen, where, e));
    GroupDesc g;
    e.Skip(2);
    RETURN_IF_ERROR(Annotate(DecodeGroupType(e.U8(), g.type), where));
    e.Skip(1);
    g.group_id = e.U32();
    RETURN_IF_ERROR(Annotate(DecodeBuckets(e, e.remaining(), g.buckets), where));
    out.push_back(std::move(g));
  }
  return absl::OkStatus();
}

absl::Status EncodeMeterConfigs(const std::vector<MeterConfig>& v, ByteWriter& w) {
  for (const MeterConfig& m : v) {
    size_t start = w.size();
    w.U16(0), w.U16(m.flags), w.U32(m.meter_id);
    RETURN_IF_ERROR(EncodeBands(m.bands, w));
    RETURN_IF_ERROR(PatchLength(w, start, 0, "meter config"));
  }
  return absl::OkStatus();
}

absl::Status DecodeMeterConfigs(ByteReader& r, std::vector<MeterConfig>& out) {
  for (size_t i = 0; r.remaining() > 0; ++i) {
    std::string where = absl::StrCat("meter config ", i);
    ByteReader e({});
    RETURN_IF_ERROR(EntryReader(r, kMeterConfigFixedLen, where, e));
    MeterConfig m;
    e.Skip(2);
    m.flags = e.U16();
    m.meter_id = e.U32();
    RETURN_IF_ERROR(Annotate(DecodeBands(e, e.remaining(), m.bands), where));
    out.push_back(std::move(m));
  }
  return absl::OkStatus();
}

struct ReplyBodyEncoder {
  ByteWriter& w;
  absl::Status operator()(const std::vector<FlowStats>& v) { return EncodeFlowStats(v, w); }
  absl::Status operator()(const std::vector<GroupDesc>& v) { return EncodeGroupDescs(v, w); }
  absl::Status operator()(const GroupFeatures& g) {
    w.U32(g.types), w.U32(g.capabilities);
    for (uint32_t v : g.max_groups) w.U32(v);
    for (uint32_t v : g.actions) w.U32(v);
    return absl::OkStatus();
  }
  absl::Status operator()(const std::vector<MeterConfig>& v) { return EncodeMeterConfigs(v, w); }
  absl::Status operator()(const MeterFeatures& m) {
    w.U32(m.max_meter), w.U32(m.band_types), w.U32(m.capabilities);
    w.U8(m.max_bands), w.U8(m.max_color), w.Zeros(2);
    return absl::OkStatus();
  }
  absl::Status operator()(const std::vector<PortDesc>& v) {
    for (const PortDesc& p : v) RETURN_IF_ERROR(EncodePortDesc(p, w));
    return absl::OkStatus();
  }
};

uint16_t ReplyType(const MultipartReply& m) {
  static constexpr uint16_t kTypes[] = {kMultipartFlow,          kMultipartGroupDesc,
                                        kMultipartGroupFeatures, kMultipartMeterConfig,
                                        kMultipartMeterFeatures, kMultipartPortDesc};
  return kTypes[m.body.index()];
}

uint16_t RequestType(const MultipartRequest& m) {
  static constexpr uint16_t kTypes[] = {kMultipartFlow,          kMultipartGroupDesc,
                                        kMultipartGroupFeatures, kMultipartMeterConfig,
                                        kMultipartMeterFeatures, kMultipartPortDesc};
  return kTypes[m.body.index()];
}

}  // namespace

absl::Status EncodeMultipartRequest(const MultipartRequest& m, ByteWriter& w) {
  w.U16(RequestType(m)), w.U16(m.flags), w.Zeros(4);
  if (const auto* f = std::get_if<FlowStatsRequest>(&m.body)) {
    w.U8(f->table_id), w.Zeros(3), w.U32(f->out_port), w.U32(f->out_group), w.Zeros(4);
    w.U64(f->cookie), w.U64(f->cookie_mask);
    return EncodeMatch(f->match, w);
  }
  if (const auto* mc = std::get_if<MeterConfigRequest>(&m.body)) {
    w.U32(mc->meter_id), w.Zeros(4);
  }
  return absl::OkStatus();
}

absl::Status DecodeMultipartRequest(ByteReader& r, MultipartRequest& out) {
  if (r.remaining() < 8) return Invalid("multipart request", "truncated header");
  uint16_t type = r.U16();
  out.flags = r.U16();
  r.Skip(4);
  switch (type) {
    case kMultipartFlow: {
      if (r.remaining() < 32 + 8) {
        return Invalid("flow stats request", "body of ", r.remaining(), " bytes < 40");
      }
      FlowStatsRequest f;
      f.table_id = r.U8();
      r.Skip(3);
      f.out_port = r.U32();
      f.out_group = r.U32();
      r.Skip(4);
      f.cookie = r.U64();
      f.cookie_mask = r.U64();
      RETURN_IF_ERROR(Annotate(DecodeMatchInto(r, f.match), "flow stats request"));
      RETURN_IF_ERROR(ExpectEnd(r, "flow stats request"));
      out.body = std::move(f);
      return absl::OkStatus();
    }
    case kMultipartGroupDesc:
      RETURN_IF_ERROR(ExpectSize(r, 0, "group desc request"));
      out.body = GroupDescRequest{};
      return absl::OkStatus();
    case kMultipartGroupFeatures:
      RETURN_IF_ERROR(ExpectSize(r, 0, "group features request"));
      out.body = GroupFeaturesRequest{};
      return absl::OkStatus();
    case kMultipartMeterConfig: {
      RETURN_IF_ERROR(ExpectSize(r, 8, "meter config request"));
      out.body = MeterConfigRequest{r.U32()};
      return absl::OkStatus();
    }
    case kMultipartMeterFeatures:
      RETURN_IF_ERROR(ExpectSize(r, 0, "meter features request"));
      out.body = MeterFeaturesRequest{};
      return absl::OkStatus();
    case kMultipartPortDesc:
      RETURN_IF_ERROR(ExpectSize(r, 0, "port desc request"));
      out.body = PortDescRequest{};
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(
          absl::StrCat("multipart request: unsupported multipart type ", type));
  }
}

absl::Status EncodeMultipartReply(const MultipartReply& m, ByteWriter& w) {
  w.U16(ReplyType(m)), w.U16(m.flags), w.Zeros(4);
  return std::visit(ReplyBodyEncoder{w}, m.body);
}

absl::Status DecodeMultipartReply(ByteReader& r, MultipartReply& out) {
  if (r.remaining() < 8) return Invalid("multipart reply", "truncated header");
  uint16_t type = r.U16();
  out.flags = r.U16();
  r.Skip(4);
  switch (type) {
    case kMultipartFlow: {
      std::vector<FlowStats> v;
      RETURN_IF_ERROR(Annotate(DecodeFlowStats(r, v), "flow stats reply"));
      out.body = std::move(v);
      return absl::OkStatus();
    }
    case kMultipartGroupDesc: {
      std::vector<GroupDesc> v;
      RETURN_IF_ERROR(Annotate(DecodeGroupDescs(r, v), "group desc reply"));
      out.body = std::move(v);
      return absl::OkStatus();
    }
    case kMultipartGroupFeatures: {
      RETURN_IF_ERROR(ExpectSize(r, kGroupFeaturesLen, "group features reply"));
      GroupFeatures g;
      g.types = r.U32();
      g.capabilities = r.U32();
      for (uint32_t& v : g.max_groups) v = r.U32();
      for (uint32_t& v : g.actions) v = r.U32();
      out.body = g;
      return absl::OkStatus();
    }
    case kMultipartMeterConfig: {
      std::vector<MeterConfig> v;
      RETURN_IF_ERROR(Annotate(DecodeMeterConfigs(r, v), "meter config reply"));
      out.body = std::move(v);
      return absl::OkStatus();
    }
    case kMultipartMeterFeatures: {
      RETURN_IF_ERROR(ExpectSize(r, kMeterFeaturesLen, "meter features reply"));
      MeterFeatures m;
      m.max_meter = r.U32();
      m.band_types = r.U32();
      m.capabilities = r.U32();
      m.max_bands = r.U8();
      m.max_color = r.U8();
      out.body = m;
      return absl::OkStatus();
    }
    case kMultipartPortDesc: {
      if (r.remaining() % kPortDescLen != 0) {
        return Invalid("port desc reply", "body of ", r.remaining(),
                       " bytes is not a multiple of 64");
      }
      std::vector<PortDesc> v(r.remaining() / kPortDescLen);
      for (PortDesc& p : v) RETURN_IF_ERROR(Annotate(DecodePortDesc(r, p), "port desc reply"));
      out.body = std::move(v);
      return absl::OkStatus();
    }
    default:
      return absl::UnimplementedError(
          absl::StrCat("multipart reply: unsupported multipart type ", type));
  }
}

}  // namespace shortcut::of::internal
