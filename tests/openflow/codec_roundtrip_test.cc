// Encode -> decode round trips for every message body, plus the canonical
// forms (instruction order, defaults) the encoder must produce.
#include <gtest/gtest.h>

#include "src/common/hex.h"
#include "src/openflow/codec.h"

namespace shortcut::of {
namespace {

FieldBytes Mac(uint64_t v) { return FieldBytesFromU64(Field::kEthDst, v); }

PortDesc SamplePort() {
  PortDesc p;
  p.port_no = 7;
  p.hw_addr = {1, 2, 3, 4, 5, 6};
  p.name = "veth-abc";
  p.config = 1;
  p.state = 4;
  p.curr = 0x840;
  p.advertised = 1;
  p.supported = 2;
  p.peer = 3;
  p.curr_speed = 10000000;
  p.max_speed = 20000000;
  return p;
}

FlowMod SampleFlowMod() {
  FlowMod fm;
  fm.table_id = 3;
  fm.priority = 100;
  fm.cookie = 0x1234;
  fm.idle_timeout = 10;
  fm.hard_timeout = 20;
  fm.flags = kFlowSendFlowRem | kFlowResetCounts;
  fm.match.Set(Field::kInPort, 5);
  fm.match.Set(Field::kEthType, 0x0800);
  fm.match.SetIpv4Masked(Field::kIpv4Dst, 0x0a000000, 0xffffff00);
  fm.match.SetMasked(Field::kReg3, 0x10, 0xff);
  fm.match.Set(Field::kTunIpv4Src, 0xc0a80001);
  fm.match.Set(Field::kVlanVid, kVidPresent | 10);
  fm.match.SetMac(Field::kEthSrc, {0, 1, 2, 3, 4, 5});
  Ipv6Addr v6{};
  v6[0] = 0xfe;
  v6[15] = 1;
  fm.match.SetIpv6(Field::kIpv6Src, v6);
  ActionController c;
  c.userdata = {1, 2, 3};
  c.pause = true;
  c.meter_id = 7;
  c.max_len = 100;
  c.controller_id = 3;
  c.reason = kPacketInNoMatch;
  fm.instructions.apply_actions = {
      ActionSetField{Field::kEthDst, Mac(0x0a0b0c0d0e0f)},
      ActionSetField{Field::kIpv6Dst, v6},
      ActionOutput{2, 0},
      ActionResubmit{kPortInPort, 7},
      ActionResubmit{kPortLocal, 1},
      ActionResubmit{12, kTableAll},
      ActionPushVlan{0x88a8},
      ActionPopVlan{},
      ActionDecTtl{},
      ActionGroup{9},
      c,
      ActionController{},
  };
  fm.instructions.goto_table = 5;
  fm.instructions.meter = 4;
  fm.instructions.write_metadata = Instructions::Metadata{0x10, 0xff};
  fm.instructions.write_actions = ActionList{ActionOutput{kPortController, 128}};
  fm.instructions.clear_actions = true;
  return fm;
}

std::vector<Bucket> SampleBuckets() {
  return {Bucket{5, kPortAny, kGroupAny, {ActionOutput{1}}},
          Bucket{7,
                 3,
                 4,
                 {ActionSetField{Field::kIpv4Dst, FieldBytesFromU64(Field::kIpv4Dst, 1)},
                  ActionOutput{2}}},
          Bucket{0, kPortAny, kGroupAny, {}}};
}

std::vector<MeterBand> SampleBands() {
  return {MeterBand{kMeterBandDrop, 1000, 100, 0}, MeterBand{kMeterBandDscpRemark, 500, 50, 2}};
}

// One message per MessageBody alternative (and per multipart body).
std::vector<Message> AllMessages() {
  std::vector<Message> v;
  uint32_t xid = 1;
  auto add = [&](MessageBody b) { v.push_back(Message{kVersion13, xid++, std::move(b)}); };
  add(Hello{});
  add(Hello{{1, 4, 6}});
  add(Hello{{4, 40, 200}});
  add(Error{2, 4, 0, {1, 2, 3, 4}});
  add(Error{0xffff, 2313, kOnfExperimenter, {4, 14, 0, 8, 0, 0, 0, 5}});
  add(EchoRequest{{9, 9}});
  add(EchoReply{{}});
  add(FeaturesRequest{});
  add(FeaturesReply{0x123456789a, 256, 254, 1, 0x4f});
  add(GetConfigRequest{});
  add(GetConfigReply{{1, 200}});
  add(SetConfig{{0, 0xffff}});
  add(PortStatus{2, SamplePort()});
  PacketIn pi;
  pi.reason = kPacketInAction;
  pi.table_id = 4;
  pi.cookie = 0xabc;
  pi.total_len = 14;
  pi.buffer_id = 77;
  pi.match.Set(Field::kInPort, 3);
  pi.match.Set(Field::kReg0, 0x55);
  pi.match.Set(Field::kTunnelId, 99);
  pi.data = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x06};
  add(pi);
  PacketOut po;
  po.buffer_id = 12;
  po.in_port = 3;
  po.actions = {ActionOutput{kPortTable}, ActionController{}};
  po.data = pi.data;
  add(po);
  add(SampleFlowMod());
  for (FlowModCommand cmd : {FlowModCommand::kModify, FlowModCommand::kModifyStrict,
                             FlowModCommand::kDelete, FlowModCommand::kDeleteStrict}) {
    FlowMod del;
    del.command = cmd;
    del.out_port = 3;
    del.out_group = 4;
    del.cookie = 0x10;
    del.cookie_mask = 0xff;
    del.buffer_id = 7;
    del.match.Set(Field::kMetadata, 1);
    add(del);
  }
  FlowRemoved fr{5, 7, 2, 1, 3, 4, 5, 6, 10, 1000, {}};
  fr.match.Set(Field::kEthType, 0x86dd);
  add(fr);
  add(GroupMod{GroupModCommand::kAdd, GroupType::kSelect, 10, SampleBuckets()});
  add(GroupMod{GroupModCommand::kModify, GroupType::kFastFailover, 11, SampleBuckets()});
  add(GroupMod{GroupModCommand::kDelete, GroupType::kAll, kGroupAll, {}});
  add(MeterMod{MeterModCommand::kAdd, kMeterKbps | kMeterBurst | kMeterStats, 3, SampleBands()});
  add(MeterMod{MeterModCommand::kDelete, kMeterPktps, kMeterAll, {}});
  FlowStatsRequest fsr;
  fsr.table_id = 2;
  fsr.match.Set(Field::kEthType, 0x0800);
  fsr.cookie = 1;
  fsr.cookie_mask = 0xff;
  add(MultipartRequest{0, fsr});
  add(MultipartRequest{0, GroupDescRequest{}});
  add(MultipartRequest{0, GroupFeaturesRequest{}});
  add(MultipartRequest{kMultipartRequestMore, MeterConfigRequest{5}});
  add(MultipartRequest{0, MeterFeaturesRequest{}});
  add(MultipartRequest{0, PortDescRequest{}});
  FlowStats fs;
  fs.table_id = 1;
  fs.duration_sec = 10;
  fs.duration_nsec = 11;
  fs.priority = 5;
  fs.idle_timeout = 6;
  fs.hard_timeout = 7;
  fs.flags = kFlowSendFlowRem;
  fs.cookie = 9;
  fs.packet_count = 3;
  fs.byte_count = 300;
  fs.match = SampleFlowMod().match;
  fs.instructions = SampleFlowMod().instructions;
  add(MultipartReply{kMultipartReplyMore, std::vector<FlowStats>{fs, FlowStats{}}});
  add(MultipartReply{0, std::vector<FlowStats>{}});
  add(MultipartReply{0, std::vector<GroupDesc>{GroupDesc{GroupType::kAll, 1, SampleBuckets()},
                                               GroupDesc{GroupType::kIndirect, 2, {}}}});
  add(MultipartReply{0, GroupFeatures{0xf, 0x5, {1, 2, 3, 4}, {5, 6, 7, 8}}});
  add(MultipartReply{0, std::vector<MeterConfig>{MeterConfig{kMeterKbps, 3, SampleBands()},
                                                 MeterConfig{kMeterPktps, 4, {}}}});
  add(MultipartReply{0, MeterFeatures{1000, 6, 0xf, 2, 1}});
  add(MultipartReply{0, std::vector<PortDesc>{SamplePort(), PortDesc{}}});
  add(BarrierRequest{});
  add(BarrierReply{});
  add(RoleRequest{kRoleMaster, 77});
  add(RoleReply{kRoleSlave, 78});
  for (uint16_t t = 0; t <= 7; ++t) {
    add(BundleControl{5, static_cast<BundleControlType>(t), kBundleAtomic | kBundleOrdered});
  }
  Bytes inner;
  EXPECT_TRUE(Encode(Message{kVersion13, xid, SampleFlowMod()}, inner).ok());
  add(BundleAdd{5, kBundleAtomic, inner});
  return v;
}

TEST(CodecRoundTripTest, EveryMessageDecodesToItself) {
  std::vector<Message> msgs = AllMessages();
  std::vector<bool> seen(std::variant_size_v<MessageBody>);
  for (const Message& m : msgs) {
    seen[m.body.index()] = true;
    absl::StatusOr<Bytes> bytes = Encode(m);
    ASSERT_TRUE(bytes.ok()) << "xid " << m.xid << ": " << bytes.status();
    ASSERT_GE(bytes->size(), kHeaderLen);
    absl::StatusOr<Header> h = DecodeHeader(*bytes);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->length, bytes->size());
    EXPECT_EQ(h->xid, m.xid);
    EXPECT_EQ(h->version, kVersion13);
    absl::StatusOr<Message> back = Decode(*bytes);
    ASSERT_TRUE(back.ok()) << "xid " << m.xid << ": " << back.status() << "\n" << ToHex(*bytes);
    EXPECT_TRUE(*back == m) << "xid " << m.xid << " body index " << m.body.index() << "\n"
                            << ToHex(*bytes);
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "body index " << i;
}

TEST(CodecRoundTripTest, EncodeAppendsAndLeavesOutputOnError) {
  Bytes out = {0xaa};
  ASSERT_TRUE(Encode(Message{kVersion13, 1, BarrierRequest{}}, out).ok());
  EXPECT_EQ(ToHex(out), "aa0414000800000001");
  // A port name longer than 15 bytes cannot be encoded.
  PortStatus ps;
  ps.desc.name = "0123456789abcdef";  // 16 characters: one too many.
  absl::Status st = Encode(Message{kVersion13, 2, ps}, out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToHex(out), "aa0414000800000001");
}

TEST(CodecRoundTripTest, EncodeRejectsMaskOnNonMaskableField) {
  FlowMod fm;
  FieldMatch f;
  f.field = Field::kInPort;
  f.masked = true;
  f.value = FieldBytesFromU64(Field::kInPort, 0);
  f.mask = FieldBytesFromU64(Field::kInPort, 0xf0);
  fm.match.Put(f);
  absl::StatusOr<Bytes> b = Encode(Message{kVersion13, 1, fm});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("in_port is not maskable"), std::string::npos) << b.status();
}

TEST(CodecRoundTripTest, EncodeRejectsOtherVersionsExceptHelloErrorEcho) {
  EXPECT_FALSE(Encode(Message{0x01, 1, FlowMod{}}).ok());
  absl::StatusOr<Bytes> hello = Encode(Message{kVersion15, 1, Hello{{4, 6}}});
  ASSERT_TRUE(hello.ok());
  absl::StatusOr<Message> back = Decode(*hello);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version, kVersion15);
  EXPECT_EQ(std::get<Hello>(back->body).versions, (std::vector<uint8_t>{4, 6}));
}

TEST(CodecRoundTripTest, InstructionsUseFixedOrderAndEmptyApplyIsOmitted) {
  FlowMod fm;
  fm.instructions.goto_table = 1;
  fm.instructions.meter = 2;
  Bytes out;
  ASSERT_TRUE(Encode(Message{kVersion13, 1, fm}, out).ok());
  // flow_mod fixed part (48) + empty match (8), then meter, then goto_table.
  ASSERT_EQ(out.size(), 56u + 8 + 8);
  EXPECT_EQ(ToHex(std::span(out).subspan(56)),
            "000600080000000200010008"
            "01000000");

  FlowMod drop;
  Bytes d;
  ASSERT_TRUE(Encode(Message{kVersion13, 1, drop}, d).ok());
  EXPECT_EQ(d.size(), 56u);
}

TEST(CodecRoundTripTest, InstructionsDecodeInAnyOrder) {
  // goto_table(3) then apply_actions(output:1) then meter(9): wire order
  // differs from the encoder's, the struct is the same.
  auto hex = FromHex(
      "00010008 03000000"
      "00040018 00000000 00000010 00000001 ffff0000 00000000"
      "00060008 00000009");
  ASSERT_TRUE(hex.ok());
  ByteReader r(*hex);
  absl::StatusOr<Instructions> ins = DecodeInstructions(r, hex->size());
  ASSERT_TRUE(ins.ok()) << ins.status();
  Instructions want;
  want.goto_table = 3;
  want.apply_actions = {ActionOutput{1, 0xffff}};
  want.meter = 9;
  EXPECT_EQ(*ins, want);
}

TEST(CodecRoundTripTest, ControllerActionWritesOnlyNonDefaultProperties) {
  // Defaults: a bare NXAST_CONTROLLER2 header (16 bytes).
  Bytes out;
  ByteWriter w(out);
  ASSERT_TRUE(EncodeActions({ActionController{}}, w).ok());
  EXPECT_EQ(ToHex(out), "ffff0010000023200025000000000000");
  out.clear();
  ActionController c;
  c.meter_id = 4;
  ASSERT_TRUE(EncodeActions({c}, w).ok());
  EXPECT_EQ(ToHex(out),
            "ffff0018000023200025000000000000"
            "0005000800000004");
}

TEST(CodecRoundTripTest, ResubmitMapsReservedPortsTo16Bits) {
  Bytes out;
  ByteWriter w(out);
  ASSERT_TRUE(
      EncodeActions({ActionResubmit{kPortInPort, 7}, ActionResubmit{kPortLocal, 1}}, w).ok());
  EXPECT_EQ(ToHex(out),
            "ffff001000002320000efff807000000"
            "ffff001000002320000efffe01000000");
  out.clear();
  EXPECT_FALSE(EncodeActions({ActionResubmit{0x10000, 1}}, w).ok());
}

TEST(CodecRoundTripTest, BundleAddFastPathMatchesTwoStepEncoding) {
  FlowMod fm = SampleFlowMod();
  Bytes inner;
  ASSERT_TRUE(Encode(Message{kVersion13, 42, fm}, inner).ok());
  absl::StatusOr<Bytes> two_step =
      Encode(Message{kVersion13, 42, BundleAdd{9, kBundleAtomic | kBundleOrdered, inner}});
  ASSERT_TRUE(two_step.ok()) << two_step.status();

  Bytes fast = {0x01};
  // The inner message's own xid is replaced by the outer one.
  ASSERT_TRUE(
      EncodeBundleAdd(42, 9, kBundleAtomic | kBundleOrdered, Message{kVersion13, 7, fm}, fast)
          .ok());
  EXPECT_EQ(ToHex(std::span(fast).subspan(1)), ToHex(*two_step));

  // Errors leave the output untouched.
  PortStatus bad;
  bad.desc.name = std::string(20, 'x');
  EXPECT_FALSE(EncodeBundleAdd(1, 1, 0, Message{kVersion13, 1, bad}, fast).ok());
  EXPECT_EQ(fast.size(), 1 + two_step->size());
}

TEST(CodecRoundTripTest, BundleAddRequiresMatchingInnerXid) {
  Bytes inner;
  ASSERT_TRUE(Encode(Message{kVersion13, 5, BarrierRequest{}}, inner).ok());
  absl::StatusOr<Bytes> b = Encode(Message{kVersion13, 6, BundleAdd{1, 0, inner}});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("xid"), std::string::npos) << b.status();
}

}  // namespace
}  // namespace shortcut::of
