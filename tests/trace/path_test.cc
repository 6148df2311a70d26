// The trace model on a hand-made VPC: what each node does with the packet,
// written out by hand from the table layout in ARCHITECTURE.md (the
// pipeline's own builders make the tables; the expectations do not use
// them). The lab test tests/lab/trace.sh holds the result against Open
// vSwitch's ofproto/trace.
#include "src/trace/path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/model/address.h"
#include "src/pipeline/pipeline.h"

namespace shortcut::trace {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

uint32_t Ip(const char* text) { return *model::ParseIpv4(text); }
of::MacAddr Mac(const char* text) { return *model::ParseMac(text); }

EndpointInfo Ep(const char* key, const char* host, const char* ip, const char* mac) {
  return {key, host, std::string("if-") + key, Ip(ip), Mac(mac), true};
}

// VPC blue (VNI 100) on cluster 1: gw-a and gw-b serve, gw-c stands by;
// a and c on h1, b on h2.
TraceInput Blue(const char* dst) {
  TraceInput in;
  in.vpc = "blue";
  in.vni = 100;
  in.router_mac = Mac("02:5c:ff:00:00:01");
  in.cluster_id = 1;
  in.endpoints = {Ep("a", "h1", "10.0.0.10", "02:00:00:00:00:0a"),
                  Ep("b", "h2", "10.0.0.11", "02:00:00:00:00:0b"),
                  Ep("c", "h1", "10.0.0.12", "02:00:00:00:00:0c")};
  in.src = in.endpoints[0];
  in.host_underlay = {{"h1", Ip("172.31.1.1")}, {"h2", Ip("172.31.1.2")}};
  in.gateways = {{"gw-b", Ip("172.31.2.2"), 60002, true, "READY"},
                 {"gw-a", Ip("172.31.2.1"), 60001, true, "READY"},
                 {"gw-c", Ip("172.31.2.3"), 60003, false, "READY"}};
  in.dst_ipv4 = Ip(dst);
  return in;
}

std::vector<int> Tables(const Hop& h) {
  std::vector<int> t;
  for (const Step& s : h.walk.steps) t.push_back(s.table);
  return t;
}

TEST(TracePath, FirstPacketThroughEveryServingGatewayToTheDestination) {
  TraceInput in = Blue("10.0.0.11");
  TraceResult r = Trace(in);
  ASSERT_EQ(r.hops.size(), 4u);
  EXPECT_EQ(r.hops[0].node, "h1");
  EXPECT_THAT(Tables(r.hops[0]), ElementsAre(0, 20));
  EXPECT_THAT(r.hops[0].then, ElementsAre(HasSubstr("group 1 (select, 2 buckets"),
                                          "  bucket out port 60001 to gw-a (172.31.2.1, READY)",
                                          "  bucket out port 60002 to gw-b (172.31.2.2, READY)"));
  for (int g : {1, 2}) {
    const Hop& gw = r.hops[g];
    EXPECT_TRUE(gw.gateway);
    EXPECT_THAT(Tables(gw), ElementsAre(0, 20, 30));
    EXPECT_EQ(gw.in.Get(of::Field::kTunnelId), 100u);  // The VNI rode the tunnel.
    EXPECT_THAT(gw.then, ElementsAre(HasSubstr("copy to shortcut-gatewayd"),
                                     "forwarded: out port 60000 to h2 (172.31.1.2)"));
  }
  EXPECT_EQ(r.hops[1].node, "gw-a");
  EXPECT_EQ(r.hops[2].node, "gw-b");
  const Hop& h2 = r.hops[3];
  EXPECT_EQ(h2.node, "h2");
  EXPECT_THAT(Tables(h2), ElementsAre(0, 30));
  EXPECT_THAT(h2.then, ElementsAre("delivered: out port 1001 to b"));
  // Delivered with the VM's MAC as destination and the router's as source.
  ASSERT_EQ(h2.walk.outputs.size(), 1u);
  EXPECT_EQ(h2.walk.outputs[0].packet.Get(of::Field::kEthDst), 0x02000000000bu);
  EXPECT_EQ(h2.walk.outputs[0].packet.Get(of::Field::kEthSrc), 0x025cff000001u);
  EXPECT_EQ(r.summary,
            "a -> b on h2: first packets via gateway gw-a or gw-b (by hash); later packets "
            "direct once the gateway installed the path");
}

TEST(TracePath, SameHostIsDeliveredLocally) {
  TraceResult r = Trace(Blue("10.0.0.12"));
  ASSERT_EQ(r.hops.size(), 1u);
  EXPECT_THAT(Tables(r.hops[0]), ElementsAre(0, 20, 30));
  EXPECT_THAT(r.hops[0].then, ElementsAre("delivered: out port 1002 to c"));
  EXPECT_EQ(r.summary, "a -> c on h1: delivered on h1");
}

TEST(TracePath, NoEndpointAtTheAddressDiesAtTheGateway) {
  TraceResult r = Trace(Blue("10.0.0.99"));
  ASSERT_EQ(r.hops.size(), 3u);  // h1 and both gateways; no destination host.
  EXPECT_THAT(Tables(r.hops[1]), ElementsAre(0, 20));
  EXPECT_THAT(r.hops[1].then, ElementsAre(HasSubstr("copy to shortcut-gatewayd"),
                                          "dropped: no endpoint 10.0.0.99 in VPC blue"));
  EXPECT_THAT(r.summary, HasSubstr("not delivered"));
}

TEST(TracePath, SpoofedSourceIsDroppedAtClassification) {
  TraceInput in = Blue("10.0.0.11");
  in.src.mac = Mac("02:00:00:00:00:99");  // Not the endpoint's MAC.
  TraceResult r = Trace(in);
  ASSERT_EQ(r.hops.size(), 1u);
  EXPECT_THAT(Tables(r.hops[0]), ElementsAre(0));
  EXPECT_THAT(r.hops[0].then, ElementsAre("dropped"));
}

TEST(TracePath, LiveTablesWithADirectPathGoDirect) {
  TraceInput in = Blue("10.0.0.11");
  // h1's switch: its standing rules (as the pipeline makes them, ports
  // 1001/1002) plus the direct path a gateway installed.
  pipeline::HostRules rules;
  rules.cluster_id = 1;
  rules.gateway_ports = {60001, 60002};
  rules.vpcs = {{100, in.router_mac}};
  rules.vms = {{100, Ip("10.0.0.10"), Mac("02:00:00:00:00:0a"), 7},
               {100, Ip("10.0.0.12"), Mac("02:00:00:00:00:0c"), 8}};
  reconcile::SwitchState h1 = pipeline::BuildHostState(rules);
  h1.AddFlow(
      reconcile::FlowFromMod(pipeline::DirectPathAdd(100, Ip("10.0.0.11"), Ip("172.31.1.2"), 30)));
  in.live_tables["h1"] = h1;
  in.live_ofports["h1"] = {{"if-a", 7}, {"if-c", 8}};
  TraceResult r = Trace(in);
  ASSERT_EQ(r.hops.size(), 2u);
  EXPECT_TRUE(r.hops[0].live);
  EXPECT_EQ(r.hops[0].in.Get(of::Field::kInPort), 7u);
  EXPECT_EQ(r.hops[0].then[0], "direct path: out sc-tun (60000) to h2 (172.31.1.2), VNI 100");
  EXPECT_THAT(r.hops[0].then.back(), HasSubstr("a direct path installed on demand"));
  EXPECT_TRUE(r.hops[0].differs.empty());
  EXPECT_EQ(r.hops[1].node, "h2");
  EXPECT_EQ(r.hops[1].in.Get(of::Field::kInPort), 60000u);
  EXPECT_THAT(r.hops[1].then, ElementsAre("delivered: out port 1001 to b"));
  EXPECT_EQ(r.summary, "a -> b on h2: direct, h1 -> h2");
}

TEST(TracePath, LiveTablesMissingARuleDiffer) {
  TraceInput in = Blue("10.0.0.11");
  pipeline::HostRules rules;
  rules.cluster_id = 1;
  rules.gateway_ports = {60001, 60002};
  rules.vpcs = {{100, in.router_mac}};
  // b's rules are missing on h2 (its port was never bound, say).
  in.live_tables["h2"] = pipeline::BuildHostState(rules);
  in.live_ofports["h2"] = {{"if-b", 5}};
  TraceResult r = Trace(in);
  const Hop& h2 = r.hops.back();
  EXPECT_TRUE(h2.live);
  EXPECT_THAT(h2.then, ElementsAre("dropped: no flow in table 30"));
  EXPECT_EQ(h2.differs, "computed: delivered: out port 5 to b");
  std::string text = FormatTrace(in, r);
  EXPECT_THAT(text, HasSubstr("DIFFERS from the computed: delivered: out port 5 to b"));
  EXPECT_EQ(TraceJson(in, r)["hops"][3]["differs"], "computed: delivered: out port 5 to b");
}

// ofproto/trace's output (the form Open vSwitch 3.1 prints) against a hop.
TEST(TraceOfproto, VerdictComparesFlowsAndOutputs) {
  TraceResult r = Trace(Blue("10.0.0.11"));
  const Hop& h2 = r.hops.back();
  EXPECT_EQ(OfprotoFlow(h2),
            "icmp,tun_id=0x64,tun_src=172.31.2.1,tun_dst=172.31.1.2,in_port=60001,"
            "dl_src=02:00:00:00:00:0a,dl_dst=02:5c:ff:00:00:01,nw_src=10.0.0.10,"
            "nw_dst=10.0.0.11,icmp_type=8,icmp_code=0");
  const std::string agrees = R"(Flow: icmp,tun_src=172.31.2.1,in_port=60001

bridge("br-int")
----------------
 0. tun_id=0x64, priority 90, cookie 0x5c00010001000064
    set_field:0x64->metadata
    goto_table:30
30. ip,metadata=0x64,nw_dst=10.0.0.11, priority 100, cookie 0x5c00010001000064
    set_field:02:5c:ff:00:00:01->eth_src
    set_field:02:00:00:00:00:0b->eth_dst
    output:1001

Final flow: icmp,output:7
Datapath actions: 6
)";
  EXPECT_EQ(OfprotoVerdict(h2, agrees),
            "agrees: table 0 priority 90 cookie 0x5c00010001000064, table 30 priority 100 cookie "
            "0x5c00010001000064 -> output:1001");
  std::string other = agrees;
  other.replace(other.find("    output:1001"), 15, "    output:1002");
  EXPECT_EQ(OfprotoVerdict(h2, other),
            "DIFFERS: ofproto/trace went table 0 priority 90 cookie 0x5c00010001000064, table 30 "
            "priority 100 cookie 0x5c00010001000064 -> output:1002; this trace table 0 priority 90 "
            "cookie 0x5c00010001000064, table 30 priority 100 cookie 0x5c00010001000064 -> "
            "output:1001");
  EXPECT_THAT(OfprotoVerdict(h2, "ovs-appctl: cannot connect"), HasSubstr("DIFFERS"));
}

// The ARP responder in table 10, walked: the move actions swap the
// addresses as the switch does.
TEST(TraceWalk, ArpRequestAnsweredInPlace) {
  pipeline::HostRules rules;
  rules.cluster_id = 1;
  rules.vpcs = {{100, Mac("02:5c:ff:00:00:01")}};
  rules.vms = {{100, Ip("10.0.0.10"), Mac("02:00:00:00:00:0a"), 7}};
  Packet p;
  p.Set(of::Field::kInPort, 7);
  p.Set(of::Field::kEthSrc, 0x02000000000a);
  p.Set(of::Field::kEthDst, 0xffffffffffff);
  p.Set(of::Field::kEthType, 0x0806);
  p.Set(of::Field::kArpOp, 1);
  p.Set(of::Field::kArpSpa, Ip("10.0.0.10"));
  p.Set(of::Field::kArpTpa, Ip("10.0.0.1"));
  p.Set(of::Field::kArpSha, 0x02000000000a);
  Walk w = WalkBridge(pipeline::BuildHostState(rules), p);
  ASSERT_EQ(w.outputs.size(), 1u);
  const Packet& out = w.outputs[0].packet;
  EXPECT_EQ(w.outputs[0].port, 7u);  // IN_PORT.
  EXPECT_EQ(out.Get(of::Field::kArpOp), 2u);
  EXPECT_EQ(out.Get(of::Field::kEthDst), 0x02000000000au);
  EXPECT_EQ(out.Get(of::Field::kEthSrc), 0x025cff000001u);
  EXPECT_EQ(out.Get(of::Field::kArpSha), 0x025cff000001u);
  EXPECT_EQ(out.Get(of::Field::kArpTha), 0x02000000000au);
  EXPECT_EQ(out.Get(of::Field::kArpSpa), Ip("10.0.0.1"));
  EXPECT_EQ(out.Get(of::Field::kArpTpa), Ip("10.0.0.10"));
}

}  // namespace
}  // namespace shortcut::trace
