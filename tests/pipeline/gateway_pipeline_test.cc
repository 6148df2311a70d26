// The gateway bridge's rules as values, against their text written out
// literally (golden): a change to what the gateway's data plane does shows
// here, whatever the code that builds them. What the rules do to packets is
// checked on a real switch with ofproto/trace in
// tests/e2e/gateway_pipeline_trace_test.cc.
#include "src/pipeline/gateway_pipeline.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/openflow/text.h"

namespace shortcut::pipeline {
namespace {

using ::testing::UnorderedElementsAre;

// Every meter and flow of `s` as ovs-ofctl add-meter / add-flow text.
std::vector<std::string> Text(const reconcile::SwitchState& s) {
  std::vector<std::string> out;
  for (const auto& [id, m] : s.meters()) {
    out.push_back(of::FormatMeterSpec(reconcile::ToMeterMod(m, of::MeterModCommand::kAdd)));
  }
  for (const auto& [key, f] : s.flows()) {
    out.push_back(of::FormatFlowSpec(reconcile::ToFlowMod(f, of::FlowModCommand::kAdd)));
  }
  return out;
}

// One VPC (VNI 100) with two endpoints, 10.0.0.10 on host 172.31.1.1 and
// 10.0.0.11 on host 172.31.1.2; packet-ins metered by meter 3 at 500/s.
TEST(GatewayPipelineTest, AVpcWithTwoEndpointsIsTheseRules) {
  GatewayBridgeConfig c;
  c.meter_id = 3;
  c.packet_in_rate_pps = 500;
  reconcile::SwitchState s = BuildGatewayBase(c);
  s.AddFlow(GatewayVpcFlow(100));
  s.AddFlow(GatewayEndpointFlow(100, 0x0a00000a, 0xac1f0101));
  s.AddFlow(GatewayEndpointFlow(100, 0x0a00000b, 0xac1f0102));
  EXPECT_THAT(
      Text(s),
      UnorderedElementsAre(
          "meter=3,pktps,bands=type=drop,rate=500",
          // classify: the VPC's tunnel traffic, anything else dropped.
          "table=0,priority=90,cookie=0x5c00030000000064,ip,tun_id=0x64,"
          "actions=set_field:0x64->metadata,goto_table:20",
          "table=0,priority=0,cookie=0x5c00030000000000,actions=drop",
          // forward: an endpoint's host as the tunnel destination; a miss is
          // a metered copy to the daemon and nothing else.
          "table=20,priority=100,cookie=0x5c00030000000064,ip,metadata=0x64,nw_dst=10.0.0.10,"
          "actions=set_field:172.31.1.1->tun_dst,goto_table:30",
          "table=20,priority=100,cookie=0x5c00030000000064,ip,metadata=0x64,nw_dst=10.0.0.11,"
          "actions=set_field:172.31.1.2->tun_dst,goto_table:30",
          "table=20,priority=0,cookie=0x5c00030000000000,"
          "actions=controller(max_len=128,meter_id=3)",
          // out: a metered copy, then the shared tunnel port (back out of it
          // when the packet came in there).
          "table=30,priority=10,cookie=0x5c00030000000000,in_port=60000,"
          "actions=controller(max_len=128,meter_id=3),IN_PORT",
          "table=30,priority=0,cookie=0x5c00030000000000,"
          "actions=controller(max_len=128,meter_id=3),output:60000",
          // out without the copy (counting flows).
          "table=31,priority=10,cookie=0x5c00030000000000,in_port=60000,actions=IN_PORT",
          "table=31,priority=0,cookie=0x5c00030000000000,actions=output:60000"));
}

TEST(GatewayPipelineTest, WithoutAMeterTheCopiesAreUnmetered) {
  EXPECT_THAT(
      Text(BuildGatewayBase({})),
      UnorderedElementsAre(
          "table=0,priority=0,cookie=0x5c00030000000000,actions=drop",
          "table=20,priority=0,cookie=0x5c00030000000000,actions=CONTROLLER:128",
          "table=30,priority=10,cookie=0x5c00030000000000,in_port=60000,"
          "actions=CONTROLLER:128,IN_PORT",
          "table=30,priority=0,cookie=0x5c00030000000000,actions=CONTROLLER:128,output:60000",
          "table=31,priority=10,cookie=0x5c00030000000000,in_port=60000,actions=IN_PORT",
          "table=31,priority=0,cookie=0x5c00030000000000,actions=output:60000"));
}

TEST(GatewayPipelineTest, CountingFlowsAndTheirDeletes) {
  of::FlowMod add = GatewayCountFlowAdd(100, 0xac1f0101, 0x0a00000b, 0xac1f0102, 10);
  EXPECT_EQ(of::FormatFlowSpec(add),
            "table=20,priority=150,cookie=0x5c00050000000064,idle_timeout=10,ip,tun_src=172.31.1.1,"
            "metadata=0x64,nw_dst=10.0.0.11,"
            "actions=set_field:172.31.1.2->tun_dst,goto_table:31");
  EXPECT_TRUE(IsGatewayCountFlowMod(add));
  EXPECT_FALSE(IsGatewayCountFlowMod(GatewayFlowAdd(GatewayEndpointFlow(100, 1, 2))));
  of::FlowMod dst = GatewayCountFlowDeleteDst(100, 0x0a00000b);
  EXPECT_EQ(dst.command, of::FlowModCommand::kDelete);
  EXPECT_EQ(of::FormatFlowSpec(dst),
            "table=20,cookie=0x5c00050000000000/0xffffff0000000000,ip,metadata=0x64,"
            "nw_dst=10.0.0.11");
  EXPECT_EQ(of::FormatFlowSpec(GatewayCountFlowDeleteVpc(100)),
            "table=20,cookie=0x5c00050000000000/0xffffff0000000000,metadata=0x64");
  of::FlowStats dumped;
  dumped.cookie = add.cookie;
  dumped.match = add.match;
  std::optional<CountFlowKey> key = ParseCountFlow(dumped);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*key, (CountFlowKey{0xac1f0101, 100, 0x0a00000b}));
  dumped.cookie = kCookieGateway | 100;
  EXPECT_FALSE(ParseCountFlow(dumped).has_value());
}

TEST(GatewayPipelineTest, IncrementalAddsAndDeletes) {
  of::FlowMod add = GatewayFlowAdd(GatewayEndpointFlow(100, 0x0a00000a, 0xac1f0101));
  EXPECT_EQ(add.command, of::FlowModCommand::kAdd);
  EXPECT_EQ(of::FormatFlowSpec(add),
            "table=20,priority=100,cookie=0x5c00030000000064,ip,metadata=0x64,nw_dst=10.0.0.10,"
            "actions=set_field:172.31.1.1->tun_dst,goto_table:30");
  // Deletes are strict and within the gateway's cookie kind only.
  of::FlowMod endpoint = GatewayFlowDelete(GatewayEndpointKey(100, 0x0a00000a));
  EXPECT_EQ(endpoint.command, of::FlowModCommand::kDeleteStrict);
  EXPECT_EQ(of::FormatFlowSpec(endpoint),
            "table=20,priority=100,cookie=0x5c00030000000000/0xffffff0000000000,ip,metadata=0x64,"
            "nw_dst=10.0.0.10");
  of::FlowMod vpc = GatewayFlowDelete(GatewayVpcKey(100));
  EXPECT_EQ(vpc.command, of::FlowModCommand::kDeleteStrict);
  EXPECT_EQ(of::FormatFlowSpec(vpc),
            "table=0,priority=90,cookie=0x5c00030000000000/0xffffff0000000000,ip,tun_id=0x64");
}

}  // namespace
}  // namespace shortcut::pipeline
