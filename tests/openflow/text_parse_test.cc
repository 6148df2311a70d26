// Parser tests: ovs-ofctl flow / group / meter syntax into the type model,
// round trips through the *Spec formatters, and errors naming the bad token.
#include <gtest/gtest.h>

#include <string>

#include "src/openflow/text.h"

namespace shortcut::of {
namespace {

FlowMod MustParseFlow(const std::string& s, FlowModCommand c = FlowModCommand::kAdd) {
  auto f = ParseFlow(s, c);
  EXPECT_TRUE(f.ok()) << s << ": " << f.status();
  return f.ok() ? *f : FlowMod{};
}

// Every match field, by name and alias, and every action and instruction.
const char* const kFlows[] = {
    "actions=drop",
    "in_port=1,actions=output:2",
    "in_port=LOCAL,actions=IN_PORT",
    "metadata=0x5,actions=drop",
    "metadata=0x10/0xf0,actions=drop",
    "dl_src=00:11:22:33:44:55,dl_dst=66:77:88:99:aa:bb,actions=drop",
    "eth_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,eth_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
    "actions=drop",
    "dl_type=0x88cc,actions=drop",
    "eth_type=0x0800,actions=drop",
    "dl_vlan=5,actions=drop",
    "dl_vlan=0xffff,actions=drop",
    "vlan_vid=0x1000/0x1000,actions=drop",
    "vlan_vid=0x1005,actions=drop",
    "vlan_tci=0x1005/0x1fff,actions=drop",
    "ip,ip_dscp=46,actions=drop",
    "ip,nw_tos=184,actions=drop",
    "ip,nw_proto=47,actions=drop",
    "ipv6,ip_proto=47,actions=drop",
    "ip,nw_src=10.0.0.1,nw_dst=10.0.0.0/8,actions=drop",
    "ip,ip_src=10.0.0.0/255.0.255.0,ip_dst=1.2.3.4/32,actions=drop",
    "tcp,tp_src=1,tp_dst=0x50/0xfff0,actions=drop",
    "tcp,tcp_src=22,tcp_dst=80,actions=drop",
    "udp,udp_src=67,udp_dst=68,actions=drop",
    "udp6,tp_dst=53,actions=drop",
    "tcp6,tp_src=0x100/0xff00,actions=drop",
    "icmp,icmp_type=8,icmp_code=0,actions=drop",
    "icmp,icmpv4_type=3,icmpv4_code=1,actions=drop",
    "icmp6,icmpv6_type=135,icmpv6_code=0,actions=drop",
    "icmp6,icmp_type=136,actions=drop",
    "arp,arp_op=2,arp_spa=1.2.3.4,arp_tpa=1.2.3.0/24,actions=drop",
    "arp,arp_sha=00:11:22:33:44:55,arp_tha=00:11:22:33:44:00/ff:ff:ff:ff:ff:00,actions=drop",
    "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,actions=drop",
    "ipv6,ipv6_src=2001:db8::1/ffff::ffff,actions=drop",
    "tun_id=100,actions=drop",
    "tunnel_id=0x5/0xff,actions=drop",
    "tun_src=1.1.1.1,tun_dst=2.2.2.0/24,actions=drop",
    "reg0=1,reg1=0x2/0xf,reg2=3,reg3=4,reg4=5,reg5=6,reg6=7,reg7=8,reg8=9,reg9=10,reg10=11,"
    "reg11=12,reg12=13,reg13=14,reg14=15,reg15=0xffffffff,actions=drop",
    "table=3,priority=7,cookie=0xff,idle_timeout=5,hard_timeout=6,send_flow_rem,check_overlap,"
    "reset_counts,no_packet_counts,no_byte_counts,actions=drop",
    "actions=output:1,2,LOCAL,CONTROLLER,CONTROLLER:100,controller,NORMAL,FLOOD,ALL,TABLE,IN_PORT",
    "actions=group:1,group:4294967040",
    "actions=set_field:00:11:22:33:44:55->eth_dst,set_field:00:11:22:33:44:56->dl_src",
    "ip,actions=mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,mod_nw_src:1.2.3.4,"
    "mod_nw_dst:5.6.7.8,set_field:9.9.9.9->nw_dst,set_field:46->ip_dscp",
    "tcp,actions=set_field:80->tcp_dst,set_field:81->tp_src",
    "udp,actions=set_field:53->udp_dst",
    "ipv6,actions=set_field:2001:db8::1->ipv6_dst",
    "icmp,actions=set_field:3->icmp_type,set_field:1->icmp_code",
    "arp,actions=set_field:2->arp_op,set_field:1.2.3.4->arp_spa,"
    "set_field:00:00:00:00:00:09->arp_sha",
    "actions=set_field:5->reg3,set_field:0x64->tun_id,set_field:1.1.1.1->tun_dst,"
    "set_field:3->in_port,set_field:0x5->metadata",
    "actions=push_vlan:0x8100,set_field:4101->vlan_vid,push_vlan:0x88a8",
    "dl_vlan=3,actions=strip_vlan,pop_vlan",
    "ip,actions=dec_ttl",
    "actions=controller(reason=no_match,id=3,pause,meter_id=5,userdata=ab.cd)",
    "actions=controller(reason=invalid_ttl,max_len=128),controller(userdata=00)",
    "actions=resubmit:3,resubmit(3,4),resubmit(,4),resubmit(IN_PORT,4),resubmit(LOCAL)",
    "actions=meter:3,output:1,clear_actions,write_actions(output:2,group:1),"
    "write_metadata:0x5/0xff,goto_table:3",
    "actions=write_metadata:5,goto_table:1",
    "actions=write_actions(drop)",
    "actions=meter:1",
};

TEST(TextParseTest, FlowSpecRoundTrips) {
  for (const char* s : kFlows) {
    FlowMod f = MustParseFlow(s);
    std::string spec = FormatFlowSpec(f);
    EXPECT_EQ(MustParseFlow(spec), f) << s << " -> " << spec;
    EXPECT_EQ(FormatFlowSpec(MustParseFlow(spec)), spec);
  }
}

TEST(TextParseTest, FlowSpecRoundTripsForOtherCommands) {
  const std::pair<FlowModCommand, const char*> cases[] = {
      {FlowModCommand::kModify, "cookie=0x5/0xff,ip,actions=drop"},
      {FlowModCommand::kModify, "cookie=0x5,ip,actions=output:1"},
      {FlowModCommand::kModifyStrict, "priority=7,ip,idle_timeout=3,actions=output:1"},
      {FlowModCommand::kDelete, "table=3,cookie=0x1/-1,out_port=5,out_group=7,tcp"},
      {FlowModCommand::kDelete, ""},
      {FlowModCommand::kDeleteStrict, "priority=9,arp,out_port=LOCAL"},
  };
  for (const auto& [cmd, s] : cases) {
    FlowMod f = MustParseFlow(s, cmd);
    std::string spec = FormatFlowSpec(f);
    EXPECT_EQ(MustParseFlow(spec, cmd), f) << s << " -> " << spec;
  }
  FlowMod del = MustParseFlow("", FlowModCommand::kDelete);
  EXPECT_EQ(del.table_id, kTableAll);
  EXPECT_EQ(FormatFlowSpec(del), "table=255");
}

TEST(TextParseTest, FlowValues) {
  FlowMod f = MustParseFlow(
      "table=1,priority=100,cookie=0x5,idle_timeout=10,tcp,nw_dst=10.0.0.0/24,tp_dst=80,"
      "in_port=3,actions=output:2,group:5");
  EXPECT_EQ(f.table_id, 1);
  EXPECT_EQ(f.priority, 100);
  EXPECT_EQ(f.cookie, 5u);
  EXPECT_EQ(f.idle_timeout, 10);
  Match m;
  m.Set(Field::kInPort, 3);
  m.Set(Field::kEthType, 0x0800);
  m.Set(Field::kIpProto, 6);
  m.SetIpv4Masked(Field::kIpv4Dst, 0x0a000000, 0xffffff00);
  m.Set(Field::kTcpDst, 80);
  EXPECT_EQ(f.match, m);
  ActionList want = {ActionOutput{2, 0}, ActionGroup{5}};
  EXPECT_EQ(f.instructions.apply_actions, want);

  // tp_dst resolves to the UDP field once the protocol is known.
  FlowMod u = MustParseFlow("tp_dst=53,udp,actions=drop");
  EXPECT_TRUE(u.match.Has(Field::kUdpDst));
  EXPECT_FALSE(u.match.Has(Field::kTcpDst));
  // dl_vlan=N is vlan_vid N|OFPVID_PRESENT.
  FlowMod v = MustParseFlow("dl_vlan=5,actions=drop");
  EXPECT_EQ(v.match.Find(Field::kVlanVid)->ValueU64(), 0x1005u);
  // A controller action with only defaults is a plain output, as in ovs.
  FlowMod c = MustParseFlow("actions=controller(max_len=100)");
  EXPECT_EQ(c.instructions.apply_actions, (ActionList{ActionOutput{kPortController, 100}}));
  FlowMod meter = MustParseFlow("actions=meter:4,goto_table:2");
  EXPECT_EQ(meter.instructions.meter, 4u);
  EXPECT_EQ(meter.instructions.goto_table, 2);
}

TEST(TextParseTest, ParseMatchAndActionsAlone) {
  auto m = ParseMatch("ip,nw_src=1.2.3.4");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(FormatMatch(*m), "ip,nw_src=1.2.3.4");
  auto a = ParseActions("output:1,dec_ttl");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(FormatActions(*a), "output:1,dec_ttl");
  EXPECT_FALSE(ParseActions("goto_table:1").ok());  // an instruction, not an action
}

// Each bad input must fail, and the message must name the offending token.
TEST(TextParseTest, FlowErrorsNameTheToken) {
  const std::pair<const char*, const char*> cases[] = {
      {"foo=1,actions=drop", "foo"},
      {"nw_dst=1.2.3.4,actions=drop", "ip_dst"},
      {"ip,nw_dst=1.2.3.400,actions=drop", "1.2.3.400"},
      {"tp_dst=80,actions=drop", "tp_dst=80"},
      {"ip,tp_dst=80,actions=drop", "tp_dst=80"},
      {"icmp_type=3,actions=drop", "icmp_type=3"},
      {"arp_op=1,actions=drop", "arp_op"},
      {"ipv6_src=::1,actions=drop", "ipv6_src"},
      {"in_port=1/0xff,actions=drop", "in_port"},
      {"in_port=FOO,actions=drop", "FOO"},
      {"dl_src=00:11:22:33:44,actions=drop", "00:11:22:33:44"},
      {"reg0=0x100000000,actions=drop", "0x100000000"},
      {"priority=70000,actions=drop", "70000"},
      {"table=256,actions=drop", "table=256"},
      {"ip", "must specify an action"},
      {"actions=bogus", "bogus"},
      {"actions=output:FOO", "output:FOO"},
      {"actions=group:x", "group:x"},
      {"actions=set_field:1->nosuch", "nosuch"},
      {"actions=set_field:0x800->eth_type", "eth_type"},
      {"actions=set_field:1.2.3.4->ip_dst", "ip_dst"},
      {"actions=set_field:4101->vlan_vid", "vlan_vid"},
      {"actions=set_field:1/1->reg0", "reg0"},
      {"actions=push_vlan:0x800", "push_vlan:0x800"},
      {"actions=controller(foo=1)", "foo"},
      {"actions=controller(reason=bad)", "bad"},
      {"actions=resubmit(,)", "resubmit"},
      {"actions=goto_table:1,output:1", "output"},
      {"actions=goto_table:1,meter:1", "meter"},
      {"actions=drop,output:1", "drop"},
      {"table=3,actions=goto_table:2", "goto_table:2"},
      {"actions=meter:0", "0"},
      {"cookie=1/1,actions=drop", "cookie=1/1"},
      {"dec_ttl,actions=drop", "dec_ttl"},
  };
  for (const auto& [flow, token] : cases) {
    auto f = ParseFlow(flow);
    ASSERT_FALSE(f.ok()) << flow << " parsed as " << FormatFlowSpec(*f);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(f.status().message()).find(token), std::string::npos)
        << flow << ": " << f.status();
  }
  EXPECT_FALSE(ParseFlow("cookie=1,ip", FlowModCommand::kDelete).ok());
  EXPECT_FALSE(ParseFlow("ip,actions=drop", FlowModCommand::kDelete).ok());
  EXPECT_FALSE(ParseFlow("idle_timeout=1", FlowModCommand::kDelete).ok());
}

TEST(TextParseTest, Groups) {
  const char* groups[] = {
      "group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2",
      "group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=actions=output:2",
      "group_id=3,type=indirect,bucket=actions=group:1",
      "group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:3,"
      "actions=output:2",
      "group_id=5,type=all",
  };
  for (const char* s : groups) {
    auto g = ParseGroup(s);
    ASSERT_TRUE(g.ok()) << s << ": " << g.status();
    EXPECT_EQ(FormatGroupSpec(*g), s);
    auto again = ParseGroup(FormatGroupSpec(*g));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *g);
  }
  // Short bucket forms, defaults and fast_failover spelling.
  auto g = ParseGroup(
      "group_id=9,type=select,bucket=output:1,bucket=mod_dl_src:00:00:00:00:00:01,output:2");
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->buckets.size(), 2u);
  EXPECT_EQ(g->buckets[0].weight, 1);  // select buckets default to weight 1
  EXPECT_EQ(g->buckets[0].actions, (ActionList{ActionOutput{1, 0}}));
  EXPECT_EQ(g->buckets[1].actions.size(), 2u);
  auto ff = ParseGroup("group_id=9,type=fast_failover,bucket=watch_port:2,output:2");
  ASSERT_TRUE(ff.ok()) << ff.status();
  EXPECT_EQ(ff->type, GroupType::kFastFailover);
  EXPECT_EQ(ff->buckets[0].watch_port, 2u);
  auto del = ParseGroup("group_id=9", GroupModCommand::kDelete);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(FormatGroupSpec(*del), "group_id=9");
  EXPECT_EQ(ParseGroup("", GroupModCommand::kDelete)->group_id, kGroupAll);

  const std::pair<const char*, const char*> bad[] = {
      {"type=all,bucket=output:1", "group_id"},
      {"group_id=1,bucket=output:1", "type"},
      {"group_id=1,type=bogus", "bogus"},
      {"group_id=1,type=all,bucket=weight:5,output:1", "weight"},
      {"group_id=1,type=ff,bucket=output:1", "watch_port"},
      {"group_id=1,type=indirect,bucket=output:1,bucket=output:2", "at most one"},
      {"group_id=1,type=all,bucket=output:FOO", "FOO"},
      {"group_id=1,type=all,colour=red", "colour"},
  };
  for (const auto& [s, token] : bad) {
    auto r = ParseGroup(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(std::string(r.status().message()).find(token), std::string::npos)
        << s << ": " << r.status();
  }
}

TEST(TextParseTest, Meters) {
  const char* meters[] = {
      "meter=1,kbps,bands=type=drop,rate=1000",
      "meter=2,pktps,burst,stats,bands=type=drop,rate=10,burst_size=5",
      "meter=3,kbps,bands=type=dscp_remark,rate=10,prec_level=1,type=drop,rate=20",
  };
  for (const char* s : meters) {
    auto m = ParseMeter(s);
    ASSERT_TRUE(m.ok()) << s << ": " << m.status();
    EXPECT_EQ(FormatMeterSpec(*m), s);
    auto again = ParseMeter(FormatMeterSpec(*m));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *m);
  }
  auto m = ParseMeter("meter=7 kbps burst bands=type=drop rate=100 burst_size=10");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->meter_id, 7u);
  EXPECT_EQ(m->flags, kMeterKbps | kMeterBurst);
  ASSERT_EQ(m->bands.size(), 1u);
  EXPECT_EQ(m->bands[0], (MeterBand{kMeterBandDrop, 100, 10, 0}));
  auto del = ParseMeter("meter=7", MeterModCommand::kDelete);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(FormatMeterSpec(*del), "meter=7");
  EXPECT_EQ(ParseMeter("meter=all", MeterModCommand::kDelete)->meter_id, kMeterAll);

  const std::pair<const char*, const char*> bad[] = {
      {"kbps,bands=type=drop,rate=1", "meter"},
      {"meter=1,bands=type=drop,rate=1", "kbps"},
      {"meter=1,kbps", "bands"},
      {"meter=0,kbps,bands=type=drop,rate=1", "0"},
      {"meter=1,kbps,bands=type=frob,rate=1", "frob"},
      {"meter=1,kbps,bands=rate=1", "type"},
      {"meter=1,kbps,bands=type=drop", "rate"},
      {"meter=1,kbps,bands=type=drop,rate=1,burst_size=3", "burst"},
      {"meter=1,kbps,burst,bands=type=drop,rate=1", "burst_size"},
      {"meter=1,kbps,bands=type=dscp_remark,rate=1", "prec_level"},
      {"meter=1,kbps,bands=type=drop,rate=1,colour=3", "colour"},
  };
  for (const auto& [s, token] : bad) {
    auto r = ParseMeter(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(std::string(r.status().message()).find(token), std::string::npos)
        << s << ": " << r.status();
  }
}

}  // namespace
}  // namespace shortcut::of
