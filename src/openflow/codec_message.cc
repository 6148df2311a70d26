// Message framing (ofp_header) and the bodies of the non-multipart messages.
//
// Version policy: HELLO, ERROR and ECHO have the same layout in every
// OpenFlow version and are accepted with any version (version negotiation
// needs them); every other message must be OpenFlow 1.3.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of {
namespace internal {
namespace {

constexpr uint16_t kHelloElemVersionBitmap = 1;
constexpr uint16_t kErrorTypeExperimenter = 0xffff;

// ---- encoders: write the body after the ofp_header ----

struct BodyEncoder {
  ByteWriter& w;
  uint32_t xid;

  absl::Status operator()(const Hello& m) {
    if (m.versions.empty()) return absl::OkStatus();
    uint8_t max = 0;
    for (uint8_t v : m.versions) max = std::max(max, v);
    size_t n_bitmaps = max / 32 + 1;
    w.U16(kHelloElemVersionBitmap), w.U16(static_cast<uint16_t>(4 + 4 * n_bitmaps));
    for (size_t i = 0; i < n_bitmaps; ++i) {
      uint32_t bits = 0;
      for (uint8_t v : m.versions) {
        if (v / 32 == i) bits |= uint32_t{1} << (v % 32);
      }
      w.U32(bits);
    }
    if (n_bitmaps % 2 == 0) w.Zeros(4);  // Element padded to 8 bytes.
    return absl::OkStatus();
  }
  absl::Status operator()(const Error& m) {
    w.U16(m.type), w.U16(m.code);
    if (m.type == kErrorTypeExperimenter) w.U32(m.experimenter);
    w.Bytes(m.data);
    return absl::OkStatus();
  }
  absl::Status operator()(const EchoRequest& m) {
    w.Bytes(m.data);
    return absl::OkStatus();
  }
  absl::Status operator()(const EchoReply& m) {
    w.Bytes(m.data);
    return absl::OkStatus();
  }
  absl::Status operator()(const FeaturesRequest&) { return absl::OkStatus(); }
  absl::Status operator()(const FeaturesReply& m) {
    w.U64(m.datapath_id), w.U32(m.n_buffers), w.U8(m.n_tables), w.U8(m.auxiliary_id);
    w.Zeros(2), w.U32(m.capabilities), w.U32(0);
    return absl::OkStatus();
  }
  absl::Status operator()(const GetConfigRequest&) { return absl::OkStatus(); }
  absl::Status Config(const SwitchConfig& c) {
    w.U16(c.flags), w.U16(c.miss_send_len);
    return absl::OkStatus();
  }
  absl::Status operator()(const GetConfigReply& m) { return Config(m.config); }
  absl::Status operator()(const SetConfig& m) { return Config(m.config); }
  absl::Status operator()(const PortStatus& m) {
    w.U8(m.reason), w.Zeros(7);
    return EncodePortDesc(m.desc, w);
  }
  absl::Status operator()(const PacketIn& m) {
    w.U32(m.buffer_id), w.U16(m.total_len), w.U8(m.reason), w.U8(m.table_id), w.U64(m.cookie);
    RETURN_IF_ERROR(EncodeMatch(m.match, w));
    w.Zeros(2);
    w.Bytes(m.data);
    return absl::OkStatus();
  }
  absl::Status operator()(const PacketOut& m) {
    size_t start = w.size();
    w.U32(m.buffer_id), w.U32(m.in_port), w.U16(0), w.Zeros(6);
    size_t actions_start = w.size();
    RETURN_IF_ERROR(EncodeActions(m.actions, w));
    size_t actions_len = w.size() - actions_start;
    if (actions_len > 0xffff) return Invalid("packet_out", "actions too long");
    w.PatchU16(start + 8, static_cast<uint16_t>(actions_len));
    w.Bytes(m.data);
    return absl::OkStatus();
  }
  absl::Status operator()(const FlowMod& m) {
    Chunk<40> c;
    c.U64(m.cookie).U64(m.cookie_mask).U8(m.table_id).U8(static_cast<uint8_t>(m.command));
    c.U16(m.idle_timeout).U16(m.hard_timeout).U16(m.priority).U32(m.buffer_id);
    c.U32(m.out_port).U32(m.out_group).U16(m.flags).Zeros(2).AppendTo(w);
    RETURN_IF_ERROR(EncodeMatch(m.match, w));
    return EncodeInstructions(m.instructions, w);
  }
  absl::Status operator()(const FlowRemoved& m) {
    w.U64(m.cookie), w.U16(m.priority), w.U8(m.reason), w.U8(m.table_id);
    w.U32(m.duration_sec), w.U32(m.duration_nsec), w.U16(m.idle_timeout), w.U16(m.hard_timeout);
    w.U64(m.packet_count), w.U64(m.byte_count);
    return EncodeMatch(m.match, w);
  }
  absl::Status operator()(const GroupMod& m) {
    w.U16(static_cast<uint16_t>(m.command)), w.U8(static_cast<uint8_t>(m.type)), w.U8(0);
    w.U32(m.group_id);
    return EncodeBuckets(m.buckets, w);
  }
  absl::Status operator()(const MeterMod& m) {
    w.U16(static_cast<uint16_t>(m.command)), w.U16(m.flags), w.U32(m.meter_id);
    return EncodeBands(m.bands, w);
  }
  absl::Status operator()(const MultipartRequest& m) { return EncodeMultipartRequest(m, w); }
  absl::Status operator()(const MultipartReply& m) { return EncodeMultipartReply(m, w); }
  absl::Status operator()(const BarrierRequest&) { return absl::OkStatus(); }
  absl::Status operator()(const BarrierReply&) { return absl::OkStatus(); }
  absl::Status Role(uint32_t role, uint64_t generation_id) {
    w.U32(role), w.Zeros(4), w.U64(generation_id);
    return absl::OkStatus();
  }
  absl::Status operator()(const RoleRequest& m) { return Role(m.role, m.generation_id); }
  absl::Status operator()(const RoleReply& m) { return Role(m.role, m.generation_id); }
  absl::Status operator()(const BundleControl& m) { return EncodeBundleControl(m, w); }
  absl::Status operator()(const BundleAdd& m) { return EncodeBundleAddBody(m, xid, w); }
};

// Indexed by MessageBody::index().
constexpr MsgType kBodyTypes[] = {
    MsgType::kHello,
    MsgType::kError,
    MsgType::kEchoRequest,
    MsgType::kEchoReply,
    MsgType::kFeaturesRequest,
    MsgType::kFeaturesReply,
    MsgType::kGetConfigRequest,
    MsgType::kGetConfigReply,
    MsgType::kSetConfig,
    MsgType::kPortStatus,
    MsgType::kPacketIn,
    MsgType::kPacketOut,
    MsgType::kFlowMod,
    MsgType::kFlowRemoved,
    MsgType::kGroupMod,
    MsgType::kMeterMod,
    MsgType::kMultipartRequest,
    MsgType::kMultipartReply,
    MsgType::kBarrierRequest,
    MsgType::kBarrierReply,
    MsgType::kRoleRequest,
    MsgType::kRoleReply,
    MsgType::kExperimenter,
    MsgType::kExperimenter,
};
static_assert(std::size(kBodyTypes) == std::variant_size_v<MessageBody>);

bool AnyVersion(uint8_t type) { return type <= static_cast<uint8_t>(MsgType::kEchoReply); }

// ---- decoders: `r` holds the body after the ofp_header ----

absl::Status ExpectSize(const ByteReader& r, size_t n, std::string_view what) {
  if (r.remaining() != n) {
    return Invalid(what, "body of ", r.remaining(), " bytes, expected ", n);
  }
  return absl::OkStatus();
}

absl::Status ExpectEnd(const ByteReader& r, std::string_view what) {
  if (r.remaining() != 0) return Invalid(what, r.remaining(), " unexpected trailing bytes");
  return absl::OkStatus();
}

absl::Status NeedAtLeast(const ByteReader& r, size_t n, std::string_view what) {
  if (r.remaining() < n) {
    return Invalid(what, "body of ", r.remaining(), " bytes is shorter than ", n);
  }
  return absl::OkStatus();
}

Bytes Rest(ByteReader& r) {
  auto s = r.Span(r.remaining());
  return Bytes(s.begin(), s.end());
}

absl::Status DecodeHello(ByteReader& r, Hello& out) {
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Invalid("hello", "element header truncated");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    if (len < 4) return Invalid("hello", "element length ", len, " < 4");
    size_t padded = (size_t{len} + 7) / 8 * 8;
    // The last element may omit its padding.
    size_t body = std::min(padded - 4, r.remaining());
    if (len - 4u > r.remaining()) {
      return Invalid("hello", "element length ", len, " exceeds the ", r.remaining() + 4,
                     " bytes left");
    }
    ByteReader e = r.Sub(len - 4);
    r.Skip(body - (len - 4));
    if (type != kHelloElemVersionBitmap) continue;  // Unknown elements are ignored.
    out.versions.clear();
    for (size_t i = 0; e.remaining() >= 4; ++i) {
      uint32_t bits = e.U32();
      for (size_t b = 0; b < 32; ++b) {
        size_t v = i * 32 + b;
        if ((bits >> b & 1) && v <= 0xff) out.versions.push_back(static_cast<uint8_t>(v));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeError(ByteReader& r, Error& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 4, "error"));
  out.type = r.U16();
  out.code = r.U16();
  if (out.type == kErrorTypeExperimenter) {
    RETURN_IF_ERROR(NeedAtLeast(r, 4, "experimenter error"));
    out.experimenter = r.U32();
  }
  out.data = Rest(r);
  return absl::OkStatus();
}

absl::Status DecodeFeaturesReply(ByteReader& r, FeaturesReply& out) {
  RETURN_IF_ERROR(ExpectSize(r, 24, "features_reply"));
  out.datapath_id = r.U64();
  out.n_buffers = r.U32();
  out.n_tables = r.U8();
  out.auxiliary_id = r.U8();
  r.Skip(2);
  out.capabilities = r.U32();
  return absl::OkStatus();
}

absl::Status DecodeConfig(ByteReader& r, SwitchConfig& out, std::string_view what) {
  RETURN_IF_ERROR(ExpectSize(r, 4, what));
  out.flags = r.U16();
  out.miss_send_len = r.U16();
  return absl::OkStatus();
}

absl::Status DecodePortStatus(ByteReader& r, PortStatus& out) {
  RETURN_IF_ERROR(ExpectSize(r, 8 + kPortDescLen, "port_status"));
  out.reason = r.U8();
  r.Skip(7);
  return Annotate(DecodePortDesc(r, out.desc), "port_status");
}

absl::Status DecodePacketIn(ByteReader& r, PacketIn& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 16 + 8, "packet_in"));
  out.buffer_id = r.U32();
  out.total_len = r.U16();
  out.reason = r.U8();
  out.table_id = r.U8();
  out.cookie = r.U64();
  RETURN_IF_ERROR(Annotate(DecodeMatchInto(r, out.match), "packet_in"));
  if (r.remaining() < 2) return Invalid("packet_in", "truncated after match");
  r.Skip(2);
  out.data = Rest(r);
  return absl::OkStatus();
}

absl::Status DecodePacketOut(ByteReader& r, PacketOut& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 16, "packet_out"));
  out.buffer_id = r.U32();
  out.in_port = r.U32();
  uint16_t actions_len = r.U16();
  r.Skip(6);
  RETURN_IF_ERROR(Annotate(DecodeActionsInto(r, actions_len, out.actions), "packet_out"));
  out.data = Rest(r);
  return absl::OkStatus();
}

absl::Status DecodeFlowMod(ByteReader& r, FlowMod& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 40 + 8, "flow_mod"));
  out.cookie = r.U64();
  out.cookie_mask = r.U64();
  out.table_id = r.U8();
  uint8_t command = r.U8();
  if (command > static_cast<uint8_t>(FlowModCommand::kDeleteStrict)) {
    return Invalid("flow_mod", "unknown command ", command);
  }
  out.command = static_cast<FlowModCommand>(command);
  out.idle_timeout = r.U16();
  out.hard_timeout = r.U16();
  out.priority = r.U16();
  out.buffer_id = r.U32();
  out.out_port = r.U32();
  out.out_group = r.U32();
  out.flags = r.U16();
  r.Skip(2);
  RETURN_IF_ERROR(Annotate(DecodeMatchInto(r, out.match), "flow_mod"));
  return Annotate(DecodeInstructionsInto(r, r.remaining(), out.instructions), "flow_mod");
}

absl::Status DecodeFlowRemoved(ByteReader& r, FlowRemoved& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 40 + 8, "flow_removed"));
  out.cookie = r.U64();
  out.priority = r.U16();
  out.reason = r.U8();
  out.table_id = r.U8();
  out.duration_sec = r.U32();
  out.duration_nsec = r.U32();
  out.idle_timeout = r.U16();
  out.hard_timeout = r.U16();
  out.packet_count = r.U64();
  out.byte_count = r.U64();
  RETURN_IF_ERROR(Annotate(DecodeMatchInto(r, out.match), "flow_removed"));
  return ExpectEnd(r, "flow_removed");
}

absl::Status DecodeGroupMod(ByteReader& r, GroupMod& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 8, "group_mod"));
  uint16_t command = r.U16();
  if (command > static_cast<uint16_t>(GroupModCommand::kDelete)) {
    return Invalid("group_mod", "unknown command ", command);
  }
  out.command = static_cast<GroupModCommand>(command);
  uint8_t type = r.U8();
  if (type > static_cast<uint8_t>(GroupType::kFastFailover)) {
    return Invalid("group_mod", "unknown group type ", type);
  }
  out.type = static_cast<GroupType>(type);
  r.Skip(1);
  out.group_id = r.U32();
  return Annotate(DecodeBuckets(r, r.remaining(), out.buckets), "group_mod");
}

absl::Status DecodeMeterMod(ByteReader& r, MeterMod& out) {
  RETURN_IF_ERROR(NeedAtLeast(r, 8, "meter_mod"));
  uint16_t command = r.U16();
  if (command > static_cast<uint16_t>(MeterModCommand::kDelete)) {
    return Invalid("meter_mod", "unknown command ", command);
  }
  out.command = static_cast<MeterModCommand>(command);
  out.flags = r.U16();
  out.meter_id = r.U32();
  return Annotate(DecodeBands(r, r.remaining(), out.bands), "meter_mod");
}

template <typename T>
absl::Status DecodeRole(ByteReader& r, T& out, std::string_view what) {
  RETURN_IF_ERROR(ExpectSize(r, 16, what));
  out.role = r.U32();
  r.Skip(4);
  out.generation_id = r.U64();
  return absl::OkStatus();
}

template <typename T>
absl::Status DecodeEmpty(ByteReader& r, MessageBody& body, std::string_view what) {
  RETURN_IF_ERROR(ExpectSize(r, 0, what));
  body = T{};
  return absl::OkStatus();
}

// Decodes into a T held by `body`.
template <typename T, typename F>
absl::Status Into(MessageBody& body, F&& f) {
  T& t = body.emplace<T>();
  return f(t);
}

absl::Status DecodeBody(uint8_t type, uint8_t version, uint32_t xid, ByteReader& r,
                        MessageBody& body) {
  switch (static_cast<MsgType>(type)) {
    case MsgType::kHello:
      return Into<Hello>(body, [&](Hello& m) { return DecodeHello(r, m); });
    case MsgType::kError:
      return Into<Error>(body, [&](Error& m) { return DecodeError(r, m); });
    case MsgType::kEchoRequest:
      return Into<EchoRequest>(body, [&](EchoRequest& m) {
        m.data = Rest(r);
        return absl::OkStatus();
      });
    case MsgType::kEchoReply:
      return Into<EchoReply>(body, [&](EchoReply& m) {
        m.data = Rest(r);
        return absl::OkStatus();
      });
    case MsgType::kExperimenter:
      return DecodeExperimenter(r, version, xid, body);
    case MsgType::kFeaturesRequest:
      return DecodeEmpty<FeaturesRequest>(r, body, "features_request");
    case MsgType::kFeaturesReply:
      return Into<FeaturesReply>(body, [&](FeaturesReply& m) { return DecodeFeaturesReply(r, m); });
    case MsgType::kGetConfigRequest:
      return DecodeEmpty<GetConfigRequest>(r, body, "get_config_request");
    case MsgType::kGetConfigReply:
      return Into<GetConfigReply>(
          body, [&](GetConfigReply& m) { return DecodeConfig(r, m.config, "get_config_reply"); });
    case MsgType::kSetConfig:
      return Into<SetConfig>(body,
                             [&](SetConfig& m) { return DecodeConfig(r, m.config, "set_config"); });
    case MsgType::kPacketIn:
      return Into<PacketIn>(body, [&](PacketIn& m) { return DecodePacketIn(r, m); });
    case MsgType::kFlowRemoved:
      return Into<FlowRemoved>(body, [&](FlowRemoved& m) { return DecodeFlowRemoved(r, m); });
    case MsgType::kPortStatus:
      return Into<PortStatus>(body, [&](PortStatus& m) { return DecodePortStatus(r, m); });
    case MsgType::kPacketOut:
      return Into<PacketOut>(body, [&](PacketOut& m) { return DecodePacketOut(r, m); });
    case MsgType::kFlowMod:
      return Into<FlowMod>(body, [&](FlowMod& m) { return DecodeFlowMod(r, m); });
    case MsgType::kGroupMod:
      return Into<GroupMod>(body, [&](GroupMod& m) { return DecodeGroupMod(r, m); });
    case MsgType::kMeterMod:
      return Into<MeterMod>(body, [&](MeterMod& m) { return DecodeMeterMod(r, m); });
    case MsgType::kMultipartRequest:
      return Into<MultipartRequest>(
          body, [&](MultipartRequest& m) { return DecodeMultipartRequest(r, m); });
    case MsgType::kMultipartReply:
      return Into<MultipartReply>(body,
                                  [&](MultipartReply& m) { return DecodeMultipartReply(r, m); });
    case MsgType::kBarrierRequest:
      return DecodeEmpty<BarrierRequest>(r, body, "barrier_request");
    case MsgType::kBarrierReply:
      return DecodeEmpty<BarrierReply>(r, body, "barrier_reply");
    case MsgType::kRoleRequest:
      return Into<RoleRequest>(body,
                               [&](RoleRequest& m) { return DecodeRole(r, m, "role_request"); });
    case MsgType::kRoleReply:
      return Into<RoleReply>(body, [&](RoleReply& m) { return DecodeRole(r, m, "role_reply"); });
    default:
      return absl::UnimplementedError(absl::StrCat("unsupported message type ", type));
  }
}

}  // namespace

absl::Status EncodeWithXid(const Message& msg, uint32_t xid, Bytes& out) {
  uint8_t type = static_cast<uint8_t>(kBodyTypes[msg.body.index()]);
  if (msg.version != kVersion13 && !AnyVersion(type)) {
    return Invalid("encode", "message type ", type, " needs OpenFlow 1.3 (version 0x04), not 0x",
                   absl::Hex(msg.version));
  }
  size_t start = out.size();
  ByteWriter w(out);
  Chunk<8>().U8(msg.version).U8(type).U16(0).U32(xid).AppendTo(w);
  absl::Status st = std::visit(BodyEncoder{w, xid}, msg.body);
  if (st.ok()) st = PatchLength(w, start, 2, "message");
  if (!st.ok()) out.resize(start);
  return st;
}

}  // namespace internal

absl::StatusOr<Header> DecodeHeader(std::span<const uint8_t> data) {
  if (data.size() < kHeaderLen) {
    return absl::InvalidArgumentError(
        absl::StrCat("ofp_header: truncated (", data.size(), " bytes, need 8)"));
  }
  ByteReader r(data);
  Header h;
  h.version = r.U8();
  h.type = r.U8();
  h.length = r.U16();
  h.xid = r.U32();
  if (h.length < kHeaderLen) {
    return absl::InvalidArgumentError(absl::StrCat("ofp_header: length ", h.length, " < 8"));
  }
  return h;
}

absl::Status Encode(const Message& msg, Bytes& out) {
  // Grow geometrically: callers append many messages to one buffer, and a
  // fixed step would make that quadratic.
  if (out.capacity() - out.size() < 256)
    out.reserve(std::max(out.size() + 256, 2 * out.capacity()));
  return internal::EncodeWithXid(msg, msg.xid, out);
}

absl::StatusOr<Bytes> Encode(const Message& msg) {
  Bytes out;
  RETURN_IF_ERROR(Encode(msg, out));
  return out;
}

absl::StatusOr<Message> Decode(std::span<const uint8_t> data) {
  ASSIGN_OR_RETURN(Header h, DecodeHeader(data));
  if (h.length != data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ofp_header: length field ", h.length, " != message size ", data.size()));
  }
  if (h.version != kVersion13 && !internal::AnyVersion(h.type)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ofp_header: message type %u with unsupported version 0x%02x (need 0x04)",
                        h.type, h.version));
  }
  Message msg;
  msg.version = h.version;
  msg.xid = h.xid;
  ByteReader r(data.subspan(kHeaderLen));
  absl::Status st = internal::DecodeBody(h.type, h.version, h.xid, r, msg.body);
  if (!st.ok()) return st;
  if (!r.ok()) return internal::Truncated(r, "message");
  return msg;
}

}  // namespace shortcut::of
