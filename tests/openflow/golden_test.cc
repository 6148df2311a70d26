// Golden tests: for every message kind, Encode it, let `ovs-ofctl ofp-print`
// print the bytes, and require FormatMessage(Decode(bytes)) to print the same
// text (modulo trailing whitespace). Skipped when ovs-ofctl is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "src/common/hex.h"
#include "src/openflow/codec.h"
#include "src/openflow/text.h"
#include "tests/support/ovs_oracle.h"
#include "tests/support/subprocess.h"

namespace shortcut::of {
namespace {

// The command's standard output (stderr discarded).
std::string RunCommand(const std::string& cmd) { return shortcut::testing::Shell(cmd).out; }

std::string TrimTrailing(std::string s) {
  std::string out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    std::string line = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    out += line;
    if (end == std::string::npos) break;
    out += '\n';
    start = end + 1;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

class GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override { SHORTCUT_NEED_OVS_OFCTL(); }

  // Encodes `body`, compares ovs's text with ours. `first_line_only` for
  // messages whose packet dissection we do not reproduce.
  void Check(const MessageBody& body, bool first_line_only = false) {
    Message msg{kVersion13, 0x1234, body};
    auto bytes = Encode(msg);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto decoded = Decode(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    std::string hex = ToHex(*bytes);
    std::string ovs = TrimTrailing(RunCommand("ovs-ofctl ofp-print " + hex));
    std::string ours = TrimTrailing(FormatMessage(*decoded));
    if (first_line_only) {
      ovs = FirstLine(ovs);
      ours = FirstLine(ours);
    }
    EXPECT_EQ(ours, ovs) << "hex: " << hex;
  }
};

FlowMod SampleFlow() {
  auto fm = ParseFlow(
      "table=1,priority=100,cookie=0x5,idle_timeout=10,hard_timeout=30,send_flow_rem,tcp,"
      "in_port=3,nw_dst=10.0.0.0/24,tp_dst=80,reg3=0x10/0xf0,tun_id=0x64,"
      "actions=meter:2,set_field:00:11:22:33:44:55->eth_dst,push_vlan:0x8100,"
      "set_field:4101->vlan_vid,output:2,group:7,controller(userdata=01.02,reason=no_match),"
      "resubmit(,3),dec_ttl,pop_vlan,CONTROLLER:128,clear_actions,write_actions(output:4),"
      "write_metadata:0x1/0x1,goto_table:5");
  EXPECT_TRUE(fm.ok()) << fm.status();
  return fm.ok() ? *fm : FlowMod{};
}

PortDesc SamplePort() {
  PortDesc p;
  p.port_no = 7;
  p.hw_addr = {0x02, 0x00, 0x00, 0x00, 0x00, 0x07};
  p.name = "vm-tap7";
  p.config = 1;
  p.state = 4;
  p.curr = (1 << 6) | (1 << 11);
  p.advertised = 1 << 5;
  p.supported = (1 << 5) | (1 << 6);
  p.curr_speed = 10000000;
  p.max_speed = 10000000;
  return p;
}

TEST_F(GoldenTest, Hello) {
  Check(Hello{});
  Check(Hello{{1, 4}});
  Check(Hello{{4}});
}

TEST_F(GoldenTest, Echo) {
  Check(EchoRequest{});
  Check(EchoRequest{{0xaa, 0xbb, 0xcc}});
  Bytes big(40);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i + 40);
  Check(EchoReply{big});
}

TEST_F(GoldenTest, Errors) {
  // Data: the start of a rejected flow_mod, truncated as switches do.
  auto fm = Encode(Message{kVersion13, 0x1234, SampleFlow()});
  ASSERT_TRUE(fm.ok());
  Bytes head(fm->begin(), fm->begin() + 64);
  Check(Error{2, 4, 0, head});  // OFPBAC_BAD_OUT_PORT
  // Data: a whole message.
  auto barrier = Encode(Message{kVersion13, 0x1234, BarrierRequest{}});
  ASSERT_TRUE(barrier.ok());
  Check(Error{1, 1, 0, *barrier});  // OFPBRC_BAD_TYPE
  Check(Error{5, 6, 0, *fm});       // OFPFMFC_BAD_COMMAND, whole flow_mod
  // ONF bundle error (experimenter) with the failing message.
  Check(Error{0xffff, 2300, kOnfExperimenter, head});
  Check(Error{0xffff, 2301, kOnfExperimenter, {}});
}

TEST_F(GoldenTest, FeaturesAndConfig) {
  Check(FeaturesRequest{});
  Check(FeaturesReply{0x0000aabbccddeeffULL, 256, 254, 0, 0x4f});
  Check(FeaturesReply{1, 0, 1, 2, 0});
  Check(GetConfigRequest{});
  Check(GetConfigReply{SwitchConfig{0, 128}});
  Check(SetConfig{SwitchConfig{0, 0xffff}});
}

TEST_F(GoldenTest, PortStatus) {
  for (uint8_t reason : {0, 1, 2}) Check(PortStatus{reason, SamplePort()});
  PortDesc local;
  local.port_no = kPortLocal;
  local.name = "br-int";
  Check(PortStatus{2, local});
}

TEST_F(GoldenTest, PacketIn) {
  PacketIn p;
  p.reason = kPacketInAction;
  p.table_id = 3;
  p.cookie = 0x99;
  p.total_len = 0;
  p.match.Set(Field::kInPort, 5);
  p.match.Set(Field::kReg0, 7);
  p.match.SetMasked(Field::kTunnelId, 0x64, 0xffff);
  Check(p);
  p.buffer_id = 0x100;
  p.cookie = UINT64_MAX;
  p.table_id = 0;
  Check(p);
  // With a frame: ovs dissects it on further lines; compare the first.
  PacketIn q;
  q.match.Set(Field::kInPort, 1);
  q.data = Bytes(60, 0);
  q.data[12] = 0x08;
  q.data[13] = 0x06;
  q.total_len = 60;
  Check(q, /*first_line_only=*/true);
}

TEST_F(GoldenTest, PacketOut) {
  PacketOut p;
  p.in_port = kPortController;
  p.actions = {ActionOutput{3, 0}, ActionOutput{kPortController, 0xffff}};
  Check(p);
  p.buffer_id = 0x42;
  p.in_port = 2;
  Check(p);
  PacketOut q;
  q.actions = {ActionOutput{kPortTable, 0}};
  q.data = Bytes(60, 0xff);
  Check(q, /*first_line_only=*/true);
}

TEST_F(GoldenTest, FlowModAllCommands) {
  FlowMod add = SampleFlow();
  Check(add);
  auto plain = ParseFlow("ip,actions=drop");
  ASSERT_TRUE(plain.ok());
  Check(*plain);
  for (FlowModCommand c : {FlowModCommand::kModify, FlowModCommand::kModifyStrict}) {
    auto f = ParseFlow("priority=7,cookie=0x5/0xff,ip,nw_src=1.2.3.4,actions=output:1", c);
    ASSERT_TRUE(f.ok()) << f.status();
    Check(*f);
  }
  auto del = ParseFlow("table=3,cookie=0x1/-1,out_port=5,out_group=4,tcp", FlowModCommand::kDelete);
  ASSERT_TRUE(del.ok()) << del.status();
  Check(*del);
  auto del_all = ParseFlow("", FlowModCommand::kDelete);
  ASSERT_TRUE(del_all.ok());
  Check(*del_all);
  auto del_strict = ParseFlow("priority=9,arp,arp_tpa=10.0.0.1", FlowModCommand::kDeleteStrict);
  ASSERT_TRUE(del_strict.ok());
  Check(*del_strict);
}

TEST_F(GoldenTest, FlowRemoved) {
  FlowRemoved fr;
  fr.cookie = 0x123;
  fr.priority = 100;
  fr.reason = 2;
  fr.table_id = 4;
  fr.duration_sec = 10;
  fr.duration_nsec = 500000000;
  fr.idle_timeout = 5;
  fr.hard_timeout = 60;
  fr.packet_count = 9;
  fr.byte_count = 900;
  fr.match.Set(Field::kEthType, 0x0800);
  fr.match.Set(Field::kIpv4Src, 0x0a000001);
  Check(fr);
  fr.reason = 0;
  fr.duration_nsec = 1234;
  fr.cookie = 0;
  fr.hard_timeout = 0;
  fr.priority = 0x8000;
  Check(fr);
}

TEST_F(GoldenTest, GroupModAllTypes) {
  const char* specs[] = {
      "group_id=1,type=all,bucket=output:1,bucket=output:2",
      "group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=actions=set_field:"
      "00:00:00:00:00:01->eth_dst,output:2,bucket=output:3",
      "group_id=3,type=indirect,bucket=actions=group:1",
      "group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:3,"
      "actions=output:2",
  };
  for (const char* spec : specs) {
    for (GroupModCommand c : {GroupModCommand::kAdd, GroupModCommand::kModify}) {
      auto g = ParseGroup(spec, c);
      ASSERT_TRUE(g.ok()) << spec << ": " << g.status();
      Check(*g);
    }
  }
  auto del = ParseGroup("group_id=4", GroupModCommand::kDelete);
  ASSERT_TRUE(del.ok());
  Check(*del);
  auto del_all = ParseGroup("", GroupModCommand::kDelete);
  ASSERT_TRUE(del_all.ok());
  Check(*del_all);
}

TEST_F(GoldenTest, MeterMod) {
  auto m = ParseMeter("meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100");
  ASSERT_TRUE(m.ok()) << m.status();
  Check(*m);
  auto m2 =
      ParseMeter("meter=2,pktps,bands=type=dscp_remark,rate=10,prec_level=1,type=drop,rate=20",
                 MeterModCommand::kModify);
  ASSERT_TRUE(m2.ok()) << m2.status();
  Check(*m2);
  auto del = ParseMeter("meter=2", MeterModCommand::kDelete);
  ASSERT_TRUE(del.ok());
  Check(*del);
}

TEST_F(GoldenTest, MultipartRequests) {
  FlowStatsRequest all;
  Check(MultipartRequest{0, all});
  FlowStatsRequest some;
  some.table_id = 3;
  some.out_port = 2;
  some.match.Set(Field::kEthType, 0x0800);
  Check(MultipartRequest{0, some});
  Check(MultipartRequest{0, GroupDescRequest{}});
  Check(MultipartRequest{0, GroupFeaturesRequest{}});
  Check(MultipartRequest{0, MeterConfigRequest{}});
  Check(MultipartRequest{0, MeterConfigRequest{5}});
  Check(MultipartRequest{0, MeterFeaturesRequest{}});
  Check(MultipartRequest{0, PortDescRequest{}});
}

TEST_F(GoldenTest, MultipartReplies) {
  FlowStats fs;
  fs.table_id = 2;
  fs.duration_sec = 3;
  fs.duration_nsec = 1000000;
  fs.priority = 10;
  fs.idle_timeout = 60;
  fs.flags = kFlowSendFlowRem;
  fs.cookie = 0xab;
  fs.packet_count = 5;
  fs.byte_count = 500;
  fs.match.Set(Field::kInPort, 1);
  fs.instructions.apply_actions = {ActionOutput{2, 0}};
  FlowStats empty;
  Check(MultipartReply{0, std::vector<FlowStats>{fs, empty}});
  Check(MultipartReply{kMultipartReplyMore, std::vector<FlowStats>{}});

  GroupDesc gd{GroupType::kSelect, 9, {Bucket{5, kPortAny, kGroupAny, {ActionOutput{1, 0}}}}};
  GroupDesc gd2{GroupType::kAll, 10, {}};
  Check(MultipartReply{0, std::vector<GroupDesc>{gd, gd2}});

  GroupFeatures gf;
  gf.types = 0xf;
  gf.capabilities = 0x7;
  gf.max_groups = {65535, 65535, 65535, 65535};
  gf.actions = {0x1, (1 << 0) | (1 << 22) | (1 << 25), 0, 0x3fff801};
  Check(MultipartReply{0, gf});

  MeterConfig mc{kMeterKbps | kMeterBurst, 4, {MeterBand{kMeterBandDrop, 100, 10, 0}}};
  MeterConfig mc2{kMeterPktps, 5, {MeterBand{kMeterBandDscpRemark, 100, 0, 2}}};
  Check(MultipartReply{0, std::vector<MeterConfig>{mc, mc2}});

  MeterFeatures mf{65536, 0x6, 0xf, 16, 8};
  Check(MultipartReply{0, mf});

  PortDesc local;
  local.port_no = kPortLocal;
  local.name = "br-int";
  local.config = 1;
  local.state = 1;
  Check(MultipartReply{0, std::vector<PortDesc>{SamplePort(), local}});
}

TEST_F(GoldenTest, BarrierAndRole) {
  Check(BarrierRequest{});
  Check(BarrierReply{});
  Check(RoleRequest{kRoleNoChange, 0});
  Check(RoleRequest{kRoleMaster, 7});
  Check(RoleReply{kRoleSlave, 8});
  Check(RoleReply{kRoleEqual, 0});
}

TEST_F(GoldenTest, Bundles) {
  for (uint16_t t = 0; t <= 7; ++t) {
    Check(BundleControl{0x10, static_cast<BundleControlType>(t), kBundleAtomic | kBundleOrdered});
  }
  Check(BundleControl{1, BundleControlType::kCommitRequest, 0});
  auto inner = Encode(Message{kVersion13, 0x1234, SampleFlow()});
  ASSERT_TRUE(inner.ok());
  Check(BundleAdd{0x10, kBundleAtomic, *inner});
  auto group = ParseGroup("group_id=1,type=all,bucket=output:1");
  ASSERT_TRUE(group.ok());
  auto inner2 = Encode(Message{kVersion13, 0x1234, *group});
  ASSERT_TRUE(inner2.ok());
  Check(BundleAdd{0x11, 0, *inner2});
}

}  // namespace
}  // namespace shortcut::of
