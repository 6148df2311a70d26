// The codec against Open vSwitch: bytes we encode must be printed by
// `ovs-ofctl ofp-print` with the expected content, and bytes that ovs-ofctl
// itself sent (captured from `ovs-ofctl -O OpenFlow13 add-flow unix:SOCK ...`
// talking to a listening socket) must decode to the expected structs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "src/common/hex.h"
#include "src/openflow/codec.h"
#include "tests/support/ovs_oracle.h"

namespace shortcut::of {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kOvsOfctl = "/usr/bin/ovs-ofctl";

std::string OfpPrint(const Bytes& bytes) {
  std::string cmd = std::string(kOvsOfctl) + " ofp-print " + ToHex(bytes) + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "popen failed";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

Bytes MustEncode(const Message& m) {
  absl::StatusOr<Bytes> b = Encode(m);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : Bytes{};
}

Message MustDecodeHex(std::string_view hex) {
  absl::StatusOr<Bytes> b = FromHex(hex);
  EXPECT_TRUE(b.ok()) << b.status();
  absl::StatusOr<Message> m = Decode(*b);
  EXPECT_TRUE(m.ok()) << m.status();
  // What OVS sent re-encodes to a message that decodes equal.
  if (m.ok()) {
    absl::StatusOr<Bytes> again = Encode(*m);
    EXPECT_TRUE(again.ok()) << again.status();
    if (again.ok()) {
      absl::StatusOr<Message> m2 = Decode(*again);
      EXPECT_TRUE(m2.ok() && *m2 == *m);
    }
  }
  return m.ok() ? *m : Message{};
}

class OvsPrintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kOvsOfctl, X_OK) != 0) {
      if (shortcut::testing::OvsOracleRequired())
        FAIL() << kOvsOfctl << " not installed, and required";
      GTEST_SKIP() << "ovs-ofctl not installed";
    }
  }
  void ExpectPrints(const Message& m, const std::vector<std::string>& substrings) {
    std::string out = OfpPrint(MustEncode(m));
    EXPECT_THAT(out, Not(HasSubstr("decode error")));
    EXPECT_THAT(out, Not(HasSubstr("WARN")));
    for (const std::string& s : substrings) EXPECT_THAT(out, HasSubstr(s));
  }
};

TEST_F(OvsPrintTest, FlowModWithEveryInstructionAndAction) {
  FlowMod fm;
  fm.table_id = 3;
  fm.priority = 100;
  fm.cookie = 0x1234;
  fm.idle_timeout = 10;
  fm.flags = kFlowSendFlowRem;
  fm.match.Set(Field::kInPort, 5);
  fm.match.Set(Field::kEthType, 0x0800);
  fm.match.SetIpv4Masked(Field::kIpv4Dst, 0x0a000000, 0xffffff00);
  fm.match.SetMasked(Field::kReg3, 0x10, 0xff);
  fm.match.Set(Field::kTunIpv4Src, 0xc0a80001);
  fm.match.SetMasked(Field::kVlanVid, kVidPresent, kVidPresent);
  ActionController c;
  c.userdata = {1, 2, 3};
  c.pause = true;
  c.meter_id = 7;
  c.max_len = 100;
  c.controller_id = 3;
  c.reason = kPacketInNoMatch;
  fm.instructions.apply_actions = {
      ActionSetField{Field::kEthDst, FieldBytesFromU64(Field::kEthDst, 0x0a0b0c0d0e0f)},
      ActionOutput{2, 0},
      ActionResubmit{kPortInPort, 7},
      ActionResubmit{kPortLocal, 1},
      ActionPushVlan{0x8100},
      ActionPopVlan{},
      ActionDecTtl{},
      ActionGroup{9},
      c,
  };
  fm.instructions.goto_table = 5;
  fm.instructions.meter = 4;
  fm.instructions.write_metadata = Instructions::Metadata{0x10, 0xff};
  fm.instructions.write_actions = ActionList{ActionOutput{kPortController, 128}};
  fm.instructions.clear_actions = true;
  ExpectPrints(Message{kVersion13, 1, fm},
               {"OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD table:3 priority=100,ip,reg3=0x10/0xff,"
                "tun_src=192.168.0.1,in_port=5,vlan_tci=0x1000/0x1000,nw_dst=10.0.0.0/24 "
                "cookie:0x1234 idle:10 send_flow_rem",
                "actions=meter:4,set_field:0a:0b:0c:0d:0e:0f->eth_dst,output:2,resubmit(,7),"
                "resubmit(LOCAL,1),push_vlan:0x8100,pop_vlan,dec_ttl,group:9,"
                "controller(reason=no_match,max_len=100,id=3,userdata=01.02.03,pause,meter_id=7),"
                "clear_actions,write_actions(CONTROLLER:128),write_metadata:0x10/0xff,"
                "goto_table:5"});
}

TEST_F(OvsPrintTest, FlowModDeleteAndDrop) {
  FlowMod del;
  del.command = FlowModCommand::kDeleteStrict;
  del.out_port = 3;
  del.cookie = 0x10;
  del.cookie_mask = 0xff;
  ExpectPrints(Message{kVersion13, 3, del},
               {"DEL_STRICT cookie:0x10/0xff out_port:3 actions=drop"});
}

TEST_F(OvsPrintTest, SimpleMessages) {
  ExpectPrints(Message{kVersion13, 0, Hello{{1, 4, 6}}}, {"version bitmap: 0x01, 0x04, 0x06"});
  ExpectPrints(Message{kVersion13, 4, Error{2, 4, 0, {}}}, {"OFPT_ERROR", "OFPBAC_BAD_OUT_PORT"});
  ExpectPrints(Message{kVersion13, 5, Error{0xffff, 2313, kOnfExperimenter, {}}},
               {"OFPBFC_MSG_FAILED"});
  ExpectPrints(Message{kVersion13, 5, Error{0xffff, 2, kNiciraExperimenter, {}}},
               {"NXBRC_NXM_INVALID"});
  ExpectPrints(Message{kVersion13, 6, EchoRequest{{9, 9}}}, {"OFPT_ECHO_REQUEST", "2 bytes"});
  ExpectPrints(Message{kVersion13, 7, FeaturesReply{0x123456789a, 256, 254, 0, 0x4f}},
               {"dpid:000000123456789a", "n_tables:254, n_buffers:256"});
  ExpectPrints(Message{kVersion13, 8, SetConfig{{0, 0xffff}}},
               {"OFPT_SET_CONFIG (OF1.3) (xid=0x8): frags=normal miss_send_len=65535"});
  ExpectPrints(Message{kVersion13, 17, BarrierRequest{}}, {"OFPT_BARRIER_REQUEST"});
  ExpectPrints(Message{kVersion13, 18, RoleRequest{kRoleMaster, 77}},
               {"role=primary generation_id=77"});
}

TEST_F(OvsPrintTest, PortStatusAndPacketInOut) {
  PortDesc pd;
  pd.port_no = 7;
  pd.hw_addr = {1, 2, 3, 4, 5, 6};
  pd.name = "veth-abc";
  pd.config = 1;
  pd.state = 4;
  pd.curr_speed = 10000000;
  ExpectPrints(Message{kVersion13, 9, PortStatus{2, pd}},
               {"MOD: 7(veth-abc): addr:01:02:03:04:05:06", "PORT_DOWN", "LIVE"});
  PacketIn pi;
  pi.reason = kPacketInAction;
  pi.table_id = 4;
  pi.cookie = 0xabc;
  pi.total_len = 14;
  pi.match.Set(Field::kInPort, 3);
  pi.match.Set(Field::kReg0, 0x55);
  pi.data = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x06};
  ExpectPrints(Message{kVersion13, 10, pi},
               {"table_id=4 cookie=0xabc total_len=14 reg0=0x55,in_port=3 (via action)"});
  PacketOut po;
  po.actions = {ActionOutput{kPortTable}};
  po.data = pi.data;
  ExpectPrints(Message{kVersion13, 11, po}, {"in_port=CONTROLLER actions=TABLE data_len=14"});
}

TEST_F(OvsPrintTest, GroupAndMeter) {
  GroupMod gm;
  gm.type = GroupType::kSelect;
  gm.group_id = 10;
  gm.buckets = {
      Bucket{5, kPortAny, kGroupAny, {ActionOutput{1, 0}}},
      Bucket{7,
             3,
             kGroupAny,
             {ActionSetField{Field::kIpv4Dst, FieldBytesFromU64(Field::kIpv4Dst, 0x0a000001)},
              ActionOutput{2, 0}}}};
  ExpectPrints(Message{kVersion13, 13, gm},
               {"ADD group_id=10,type=select,bucket=weight:5,actions=output:1,bucket=weight:7,"
                "watch_port:3,actions=set_field:10.0.0.1->ip_dst,output:2"});
  MeterMod mm;
  mm.meter_id = 3;
  mm.flags = kMeterKbps | kMeterBurst | kMeterStats;
  mm.bands = {MeterBand{kMeterBandDrop, 1000, 100, 0}, MeterBand{kMeterBandDscpRemark, 500, 50, 2}};
  ExpectPrints(Message{kVersion13, 14, mm},
               {"ADD meter=3 kbps burst stats bands=", "type=drop rate=1000 burst_size=100",
                "type=dscp_remark rate=500 burst_size=50 prec_level=2"});
}

TEST_F(OvsPrintTest, Multipart) {
  FlowStatsRequest fsr;
  fsr.table_id = 2;
  fsr.match.Set(Field::kEthType, 0x0800);
  ExpectPrints(Message{kVersion13, 15, MultipartRequest{0, fsr}},
               {"OFPST_FLOW request (OF1.3) (xid=0xf): table=2 ip"});
  ExpectPrints(Message{kVersion13, 15, MultipartRequest{0, MeterConfigRequest{}}},
               {"OFPST_METER_CONFIG request", "meter=all"});
  ExpectPrints(Message{kVersion13, 15, MultipartRequest{0, PortDescRequest{}}},
               {"OFPST_PORT_DESC request"});
  FlowStats fs;
  fs.table_id = 1;
  fs.duration_sec = 10;
  fs.priority = 5;
  fs.cookie = 9;
  fs.packet_count = 3;
  fs.byte_count = 300;
  fs.match.Set(Field::kInPort, 1);
  fs.instructions.apply_actions = {ActionOutput{2, 0}};
  ExpectPrints(
      Message{kVersion13, 16, MultipartReply{kMultipartReplyMore, std::vector<FlowStats>{fs}}},
      {"OFPST_FLOW reply (OF1.3) (xid=0x10): flags=[more]",
       "cookie=0x9, duration=10s, table=1, n_packets=3, n_bytes=300, priority=5,in_port=1 "
       "actions=output:2"});
  ExpectPrints(
      Message{
          kVersion13, 16,
          MultipartReply{
              0, std::vector<GroupDesc>{GroupDesc{
                     GroupType::kAll, 1, {Bucket{0, kPortAny, kGroupAny, {ActionOutput{1, 0}}}}}}}},
      {"OFPST_GROUP_DESC reply", "group_id=1,type=all,bucket=actions=output:1"});
  ExpectPrints(Message{kVersion13, 16, MultipartReply{0, MeterFeatures{1000, 6, 0xf, 2, 0}}},
               {"max_meter:1000 max_bands:2", "band_types: drop dscp_remark"});
}

TEST_F(OvsPrintTest, Bundles) {
  ExpectPrints(
      Message{kVersion13, 19,
              BundleControl{5, BundleControlType::kOpenRequest, kBundleAtomic | kBundleOrdered}},
      {"ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x13):",
       "bundle_id=0x5 type=OPEN_REQUEST flags=atomic ordered"});
  ExpectPrints(Message{kVersion13, 19, BundleControl{5, BundleControlType::kCommitRequest, 0}},
               {"type=COMMIT_REQUEST"});
  FlowMod fm;
  fm.match.Set(Field::kInPort, 1);
  fm.instructions.apply_actions = {ActionOutput{2, 0}};
  Bytes out;
  ASSERT_TRUE(EncodeBundleAdd(20, 5, kBundleAtomic, Message{kVersion13, 0, fm}, out).ok());
  std::string text = OfpPrint(out);
  EXPECT_THAT(text, Not(HasSubstr("decode error")));
  EXPECT_THAT(text, HasSubstr("ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0x14):"));
  EXPECT_THAT(text, HasSubstr("bundle_id=0x5 flags=atomic"));
  EXPECT_THAT(text, HasSubstr("OFPT_FLOW_MOD (OF1.3) (xid=0x14): ADD in_port=1 actions=output:2"));
}

// ---- Bytes captured from ovs-ofctl 3.1 (-O OpenFlow13 --no-names) ----

// add-flow "table=3,priority=200,ip,in_port=7,nw_dst=10.1.0.0/16,reg1=0x5/0xff,
//   tun_id=0x64,actions=set_field:00:11:22:33:44:55->eth_dst,resubmit(,5),
//   controller(userdata=01.02,meter_id=4),output:3"
constexpr const char* kOvsAddFlow =
    "040e00c0000000020000000000000000000000000000000003000000000000c8ffffffffffffffffffffffff"
    "0000000000010036800000040000000780000a020800800019080a010000ffff000080004c08000000000000"
    "00640001030800000005000000ff0000000400580000000000190010800006060011223344550000ffff0010"
    "00002320000efff805000000ffff00200000232000250000000000000003000601020000000500080000000400"
    "000010000000030000000000000000";

TEST(OvsCapturedTest, AddFlowWithNiciraActions) {
  Message m = MustDecodeHex(kOvsAddFlow);
  EXPECT_EQ(m.xid, 2u);
  ASSERT_TRUE(std::holds_alternative<FlowMod>(m.body));
  const FlowMod& fm = std::get<FlowMod>(m.body);
  EXPECT_EQ(fm.table_id, 3);
  EXPECT_EQ(fm.priority, 200);
  EXPECT_EQ(fm.command, FlowModCommand::kAdd);
  Match want;
  want.Set(Field::kInPort, 7);
  want.Set(Field::kEthType, 0x0800);
  want.SetIpv4Masked(Field::kIpv4Dst, 0x0a010000, 0xffff0000);
  want.SetMasked(Field::kReg1, 5, 0xff);
  want.Set(Field::kTunnelId, 0x64);
  EXPECT_EQ(fm.match, want);
  ActionController c;
  c.userdata = {1, 2};
  c.meter_id = 4;
  ActionList actions = {
      ActionSetField{Field::kEthDst, FieldBytesFromU64(Field::kEthDst, 0x001122334455)},
      ActionResubmit{kPortInPort, 5}, c, ActionOutput{3, 0}};
  EXPECT_EQ(fm.instructions.apply_actions, actions);
  EXPECT_FALSE(fm.instructions.goto_table.has_value());
  // Our encoding of the decoded flow is byte-identical to OVS's.
  EXPECT_EQ(ToHex(MustEncode(m)), kOvsAddFlow);
}

TEST(OvsCapturedTest, AddFlowWithOldControllerActionAndMasks) {
  // add-flow "priority=9,arp,arp_tpa=10.0.0.1,arp_op=1,
  //   dl_src=00:00:00:00:00:01/01:00:00:00:00:00,actions=resubmit(LOCAL,2),
  //   controller(max_len=64,reason=no_match),controller(id=3),output:CONTROLLER"
  Message m = MustDecodeHex(
      "040e00a000000002000000000000000000000000000000000000000000000009ffffffffffffffffffffffff"
      "00000000000100288000090c00000000000001000000000080000a02080680002a02000180002e040a000001"
      "0004004800000000ffff001000002320000efffe02000000ffff0010000023200014004000000000ffff0010"
      "000023200014ffff0003010000000010fffffffdffff000000000000");
  const FlowMod& fm = std::get<FlowMod>(m.body);
  const FieldMatch* src = fm.match.Find(Field::kEthSrc);
  ASSERT_NE(src, nullptr);
  EXPECT_TRUE(src->masked);
  EXPECT_EQ(src->ValueU64(), 0u);  // 00:..:01 under mask 01:00:..: bit outside mask is cleared.
  EXPECT_EQ(fm.match.Find(Field::kArpOp)->ValueU64(), 1u);
  EXPECT_EQ(fm.match.Find(Field::kArpTpa)->ValueU64(), 0x0a000001u);
  ActionController c1;
  c1.max_len = 64;
  c1.reason = kPacketInNoMatch;
  ActionController c2;
  c2.controller_id = 3;
  ActionList want = {ActionResubmit{kPortLocal, 2}, c1, c2, ActionOutput{kPortController, 0xffff}};
  EXPECT_EQ(fm.instructions.apply_actions, want);
}

TEST(OvsCapturedTest, AddFlowWithWriteInstructions) {
  // add-flow "priority=9,ip,ip_dscp=10,tcp_src=80,actions=push_vlan:0x8100,
  //   set_field:4196->vlan_vid,dec_ttl,write_actions(output:5),
  //   write_metadata:0x1/0x3,goto_table:4"  (OVS drops tcp_src: no ip_proto)
  Message m = MustDecodeHex(
      "040e00a000000002000000000000000000000000000000000000000000000009ffffffffffffffffffffffff"
      "000000000001000f80000a020800800010010a00000400280000000000110008810000000019001080000c02"
      "106400000000000000180008000000000003001800000000000000100000000500000000000000000002001800"
      "000000000000000000000100000000000000030001000804000000");
  const FlowMod& fm = std::get<FlowMod>(m.body);
  EXPECT_EQ(fm.match.Find(Field::kIpDscp)->ValueU64(), 10u);
  EXPECT_FALSE(fm.match.Has(Field::kTcpSrc));
  ActionList apply = {ActionPushVlan{0x8100},
                      ActionSetField{Field::kVlanVid, FieldBytesFromU64(Field::kVlanVid, 4196)},
                      ActionDecTtl{}};
  EXPECT_EQ(fm.instructions.apply_actions, apply);
  ASSERT_TRUE(fm.instructions.write_actions.has_value());
  EXPECT_EQ(*fm.instructions.write_actions, (ActionList{ActionOutput{5, 0}}));
  EXPECT_EQ(fm.instructions.write_metadata, (Instructions::Metadata{1, 3}));
  EXPECT_EQ(fm.instructions.goto_table, 4);
}

TEST(OvsCapturedTest, AddFlowIpv6TunnelMeterClear) {
  // add-flow "priority=1,ipv6,ipv6_dst=fe80::1/64,tun_dst=1.1.1.1,
  //   vlan_vid=0x1000/0x1000,actions=meter:3,clear_actions"
  Message m = MustDecodeHex(
      "040e008000000002000000000000000000000000000000000000000000000001ffffffffffffffffffffffff"
      "000000000001003e80000a0286dd80000d041000100080003720fe800000000000000000000000000000ffff"
      "ffffffffffff00000000000000000001400401010101000000060008000000030005000800000000");
  const FlowMod& fm = std::get<FlowMod>(m.body);
  const FieldMatch* v6 = fm.match.Find(Field::kIpv6Dst);
  ASSERT_NE(v6, nullptr);
  EXPECT_TRUE(v6->masked);
  EXPECT_EQ(v6->value[0], 0xfe);
  EXPECT_EQ(v6->mask[7], 0xff);
  EXPECT_EQ(v6->mask[8], 0x00);
  EXPECT_EQ(fm.match.Find(Field::kTunIpv4Dst)->ValueU64(), 0x01010101u);
  EXPECT_EQ(fm.match.Find(Field::kVlanVid)->MaskU64(), kVidPresent);
  EXPECT_EQ(fm.instructions.meter, 3u);
  EXPECT_TRUE(fm.instructions.clear_actions);
  EXPECT_TRUE(fm.instructions.apply_actions.empty());
}

TEST(OvsCapturedTest, ResubmitTableWithDefaultTable) {
  // add-flow "priority=1,icmp,icmp_type=8,icmp_code=0,actions=resubmit(3)"
  Message m = MustDecodeHex(
      "040e006800000002000000000000000000000000000000000000000000000001ffffffffffffffffffffffff"
      "000000000001001980000a020800800014010180002601088000280100000000000000000004001800000000"
      "ffff001000002320000e0003ff000000");
  const FlowMod& fm = std::get<FlowMod>(m.body);
  EXPECT_EQ(fm.match.Find(Field::kIcmpv4Type)->ValueU64(), 8u);
  EXPECT_EQ(fm.match.Find(Field::kIcmpv4Code)->ValueU64(), 0u);
  EXPECT_EQ(fm.instructions.apply_actions, (ActionList{ActionResubmit{3, kTableAll}}));
}

TEST(OvsCapturedTest, DeleteAndModifyFlows) {
  // del-flows "cookie=0x10/0xff,out_port=3"
  Message del = MustDecodeHex(
      "040e003800000002000000000000001000000000000000ffff03000000008000ffffffff00000003ffffffff"
      "000000000001000400000000");
  const FlowMod& d = std::get<FlowMod>(del.body);
  EXPECT_EQ(d.command, FlowModCommand::kDelete);
  EXPECT_EQ(d.table_id, kTableAll);
  EXPECT_EQ(d.cookie, 0x10u);
  EXPECT_EQ(d.cookie_mask, 0xffu);
  EXPECT_EQ(d.out_port, 3u);
  EXPECT_EQ(d.out_group, kGroupAny);
  EXPECT_TRUE(d.match.empty());
  // mod-flows "ip,actions=drop"
  Message mod = MustDecodeHex(
      "040e004000000002000000000000000000000000000000000001000000008000ffffffffffffffffffffffff"
      "000000000001000a80000a020800000000000000");
  const FlowMod& f = std::get<FlowMod>(mod.body);
  EXPECT_EQ(f.command, FlowModCommand::kModify);
  EXPECT_EQ(f.instructions, Instructions{});
}

TEST(OvsCapturedTest, GroupMeterAndDumpFlows) {
  // add-group "group_id=7,type=select,bucket=weight:10,actions=output:1,
  //   bucket=weight:20,watch_port:2,actions=set_field:10.0.0.9->ip_dst,output:2"
  Message g = MustDecodeHex(
      "040f00600000000200000100000000070020000affffffffffffffff00000000000000100000000100000000"
      "000000000030001400000002ffffffff0000000000190010800018040a000009000000000000001000000002"
      "0000000000000000");
  GroupMod want_g{
      GroupModCommand::kAdd,
      GroupType::kSelect,
      7,
      {Bucket{10, kPortAny, kGroupAny, {ActionOutput{1, 0}}},
       Bucket{20,
              2,
              kGroupAny,
              {ActionSetField{Field::kIpv4Dst, FieldBytesFromU64(Field::kIpv4Dst, 0x0a000009)},
               ActionOutput{2, 0}}}}};
  EXPECT_EQ(std::get<GroupMod>(g.body), want_g);
  // add-meter "meter=5,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=200"
  Message mt = MustDecodeHex("041d0020000000020000000d0000000500010010000003e8000000c800000000");
  MeterMod want_m{MeterModCommand::kAdd,
                  kMeterKbps | kMeterBurst | kMeterStats,
                  5,
                  {MeterBand{kMeterBandDrop, 1000, 200, 0}}};
  EXPECT_EQ(std::get<MeterMod>(mt.body), want_m);
  // dump-flows "table=2,ip"
  Message df = MustDecodeHex(
      "0412004000000002000100000000000002000000ffffffffffffffff00000000000000000000000000000000"
      "000000000001000a80000a020800000000000000");
  const auto& req = std::get<MultipartRequest>(df.body);
  const auto& fsr = std::get<FlowStatsRequest>(req.body);
  EXPECT_EQ(fsr.table_id, 2);
  EXPECT_EQ(fsr.out_port, kPortAny);
  EXPECT_EQ(fsr.match.Find(Field::kEthType)->ValueU64(), 0x0800u);
}

TEST(OvsCapturedTest, Bundle) {
  // --bundle add-flow "priority=5,in_port=1,actions=drop": open, add, commit.
  Message open = MustDecodeHex("04040018000000034f4e4600000008fc0000000000000003");
  EXPECT_EQ(std::get<BundleControl>(open.body),
            (BundleControl{0, BundleControlType::kOpenRequest, kBundleAtomic | kBundleOrdered}));
  Message add = MustDecodeHex(
      "04040058000000024f4e4600000008fd0000000000000003040e00400000000200000000000000000000000000"
      "0000000000000000000005ffffffffffffffffffffffff000000000001000c800000040000000100000000");
  const BundleAdd& ba = std::get<BundleAdd>(add.body);
  EXPECT_EQ(ba.bundle_id, 0u);
  EXPECT_EQ(ba.flags, kBundleAtomic | kBundleOrdered);
  absl::StatusOr<Message> inner = Decode(ba.message);
  ASSERT_TRUE(inner.ok()) << inner.status();
  EXPECT_EQ(inner->xid, 2u);
  EXPECT_EQ(std::get<FlowMod>(inner->body).priority, 5);
  Message commit = MustDecodeHex("04040018000000054f4e4600000008fc0000000000040003");
  EXPECT_EQ(std::get<BundleControl>(commit.body).type, BundleControlType::kCommitRequest);
}

}  // namespace
}  // namespace shortcut::of
