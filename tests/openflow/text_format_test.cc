// Formatting tests: FormatMatch / FormatActions / FormatFlowSpec pieces, and
// a comparison of FormatMessage(ParseFlow(S)) with how ovs-ofctl itself reads
// S (`ovs-ofctl -O OpenFlow13 parse-flow S`). No codec involved.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "src/openflow/text.h"
#include "tests/support/ovs_oracle.h"
#include "tests/support/subprocess.h"

namespace shortcut::of {
namespace {

// The command's standard output (stderr discarded).
std::string Run(const std::string& cmd) { return shortcut::testing::Shell(cmd).out; }

// The "OFPT_FLOW_MOD ..." line of ovs-ofctl parse-flow.
std::string OvsParseFlow(const std::string& flow) {
  std::string out = Run("ovs-ofctl -O OpenFlow13 parse-flow '" + flow + "'");
  size_t pos = out.find("OFPT_FLOW_MOD");
  if (pos == std::string::npos) return "(no flow_mod: " + out + ")";
  size_t end = out.find('\n', pos);
  std::string line = out.substr(pos, end == std::string::npos ? end : end - pos);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

TEST(TextFormatTest, MatchShorthandsAndOrder) {
  auto m = ParseMatch("tcp,tp_dst=80,in_port=3,reg0=5/0xff,tun_id=100");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(FormatMatch(*m), "tcp,reg0=0x5/0xff,tun_id=0x64,in_port=3,tp_dst=80");
  m = ParseMatch("arp,arp_op=1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(FormatMatch(*m), "arp,arp_op=1");
  m = ParseMatch("ip,nw_dst=10.0.0.0/24");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(FormatMatch(*m), "ip,nw_dst=10.0.0.0/24");
  EXPECT_EQ(FormatMatch(Match()), "");
}

TEST(TextFormatTest, VlanForms) {
  Match m;
  m.Set(Field::kVlanVid, kVidPresent | 5);
  EXPECT_EQ(FormatMatch(m), "dl_vlan=5");
  m.SetMasked(Field::kVlanVid, kVidPresent, kVidPresent);
  EXPECT_EQ(FormatMatch(m), "vlan_tci=0x1000/0x1000");
  m.Set(Field::kVlanVid, 0);
  EXPECT_EQ(FormatMatch(m), "vlan_tci=0x0000/0x1fff");
}

TEST(TextFormatTest, Ports) {
  EXPECT_EQ(FormatPort(3), "3");
  EXPECT_EQ(FormatPort(kPortLocal), "LOCAL");
  EXPECT_EQ(FormatPort(kPortController), "CONTROLLER");
  EXPECT_EQ(FormatPort(kPortInPort), "IN_PORT");
  EXPECT_EQ(FormatPort(kPortAny), "ANY");
  EXPECT_EQ(FormatPort(kPortNormal), "NORMAL");
}

TEST(TextFormatTest, Actions) {
  EXPECT_EQ(FormatActions({}), "drop");
  ActionList a = {ActionOutput{2, 0},
                  ActionGroup{5},
                  ActionOutput{kPortController, 128},
                  ActionPushVlan{0x8100},
                  ActionPopVlan{},
                  ActionDecTtl{},
                  ActionResubmit{kPortInPort, 3},
                  ActionResubmit{7, kTableAll}};
  EXPECT_EQ(FormatActions(a),
            "output:2,group:5,CONTROLLER:128,push_vlan:0x8100,pop_vlan,dec_ttl,resubmit(,3),"
            "resubmit:7");
  ActionController c;
  c.reason = kPacketInNoMatch;
  c.userdata = {0xab, 0xcd};
  c.pause = true;
  EXPECT_EQ(FormatActions({c}), "controller(reason=no_match,userdata=ab.cd,pause)");
}

TEST(TextFormatTest, Instructions) {
  Instructions ins;
  EXPECT_EQ(FormatInstructions(ins), "drop");
  ins.meter = 3;
  ins.apply_actions = {ActionOutput{1, 0}};
  ins.clear_actions = true;
  ins.write_actions = ActionList{ActionGroup{1}};
  ins.write_metadata = Instructions::Metadata{5, 0xff};
  ins.goto_table = 3;
  EXPECT_EQ(FormatInstructions(ins),
            "meter:3,output:1,clear_actions,write_actions(group:1),write_metadata:0x5/0xff,"
            "goto_table:3");
}

TEST(TextFormatTest, FlowSpecAlwaysHasTableAndPriority) {
  auto f = ParseFlow("priority=100,cookie=0x5,idle_timeout=10,ip,nw_dst=10.0.0.1,actions=2");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(FormatFlowSpec(*f),
            "table=0,priority=100,cookie=0x5,idle_timeout=10,ip,nw_dst=10.0.0.1,actions=output:2");
}

// Flows whose ovs-ofctl reading must equal ours.
const char* const kOvsFlows[] = {
    "actions=drop",
    "ip,nw_dst=10.0.0.1,actions=output:2",
    "table=1,priority=100,cookie=0x5,idle_timeout=10,hard_timeout=20,tcp,tp_dst=80,in_port=3,"
    "reg0=5/0xff,tun_id=100,actions=set_field:00:11:22:33:44:55->eth_dst,group:3,"
    "controller(max_len=100,userdata=01.02),resubmit(,3),dec_ttl",
    "arp,arp_op=1,arp_spa=1.2.3.4,arp_tpa=1.2.3.0/24,arp_sha=00:11:22:33:44:55,"
    "arp_tha=00:11:22:33:44:00/ff:ff:ff:ff:ff:00,actions=NORMAL",
    "dl_vlan=5,actions=strip_vlan,NORMAL",
    "vlan_vid=0x1000/0x1000,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1",
    "vlan_tci=0,actions=drop",
    "udp,tp_dst=53,actions=LOCAL",
    "udp6,udp_src=0x100/0xff00,actions=IN_PORT",
    "icmp,icmp_type=3,icmp_code=1,actions=FLOOD",
    "icmp6,icmpv6_type=135,icmpv6_code=0,actions=ALL",
    "ip,ip_dscp=46,nw_src=10.0.0.0/255.0.255.0,ip_proto=47,actions=TABLE",
    "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,actions=output:65000",
    "tun_src=1.1.1.1,tun_dst=2.2.2.0/24,tun_id=0x5/0xff,metadata=0x10/0xf0,in_port=LOCAL,"
    "dl_src=00:00:00:00:00:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,dl_type=0x88cc,"
    "reg1=0,reg15=0xffffffff,actions=drop",
    "send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,actions=drop",
    "priority=0,actions=meter:3,output:1,clear_actions,write_actions(output:2,group:1),"
    "write_metadata:0x5/0xff,goto_table:3",
    "actions=write_metadata:5,goto_table:1",
    "actions=controller,controller:100,output:CONTROLLER,CONTROLLER:200",
    "actions=controller(reason=no_match,id=3,pause,meter_id=5,userdata=ab.cd),"
    "controller(reason=invalid_ttl),controller(max_len=65535)",
    "actions=resubmit:3,resubmit(3,4),resubmit(,4),resubmit(IN_PORT,4)",
    "ip,actions=mod_dl_src:00:00:00:00:00:01,mod_nw_dst:1.2.3.4,mod_nw_src:5.6.7.8,"
    "mod_dl_dst:00:00:00:00:00:02",
    "tcp,actions=set_field:80->tcp_dst,set_field:5->reg3,set_field:0x64->tun_id,"
    "set_field:1.1.1.1->tun_dst,set_field:46->ip_dscp,set_field:3->in_port,"
    "set_field:0x5->metadata",
    "ipv6,actions=set_field:2001:db8::1->ipv6_dst",
    "priority=65535,ipv6,nw_proto=47,actions=drop",
    "eth_type=0x800,ip_proto=6,tcp_src=22,actions=drop",
    "ip,nw_tos=184,actions=drop",
    "dl_vlan=0xffff,actions=drop",
    "in_port=CONTROLLER,actions=output:CONTROLLER",
};

TEST(TextFormatTest, FlowModMatchesOvsOfctlParseFlow) {
  SHORTCUT_NEED_OVS_OFCTL();
  for (const char* flow : kOvsFlows) {
    auto fm = ParseFlow(flow);
    ASSERT_TRUE(fm.ok()) << flow << ": " << fm.status();
    Message msg{kVersion13, 1, *fm};
    EXPECT_EQ(FormatMessage(msg), OvsParseFlow(flow)) << flow;
  }
}

}  // namespace
}  // namespace shortcut::of
