// The `move` action (NXAST_REG_MOVE) on a real ovs-vswitchd: an ARP
// responder flow synced by shortcutctl is installed as written, a second sync
// finds the dumped flow equal to the file (nothing to do), and
// ofproto/trace shows the request rewritten into the reply.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using ::testing::HasSubstr;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";

// Answers "who has 10.0.0.9" with 02:5c:00:00:00:01, as OVN's ARP responder
// does; the second flow covers partial ranges, single bits and OXM-named
// fields, whose dump must also compare equal.
constexpr char kState[] =
    "flow table=0,priority=100,arp,arp_op=1,arp_tpa=10.0.0.9,"
    "actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:5c:00:00:00:01->eth_src,"
    "set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
    "set_field:02:5c:00:00:00:01->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_NX_REG0[],"
    "move:NXM_OF_ARP_TPA[]->NXM_OF_ARP_SPA[],move:NXM_NX_REG0[]->NXM_OF_ARP_TPA[],IN_PORT\n"
    "flow table=0,priority=50,tcp,actions=move:NXM_NX_REG0[0..15]->NXM_OF_TCP_DST[],"
    "move:OXM_OF_METADATA[32..63]->NXM_NX_REG2[],move:NXM_NX_REG4[5]->NXM_NX_REG15[31],"
    "move:eth_src[]->eth_dst[0..47],move:in_port_oxm[]->reg3[],NORMAL\n";

class MoveActionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ovs_.Start().ok()); }

  RunResult Sync() {
    std::string path = ovs_.dir() + "/state.sw";
    WriteFile(path, kState);
    RunOptions o;
    o.timeout_ms = 60000;
    return RunProcess({kCtl, "switch", "sync", ovs_.OpenflowTarget(), path}, o);
  }

  OvsSandbox ovs_;
};

TEST_F(MoveActionTest, ArpResponderSyncsOnceAndAnswers) {
  RunResult first = Sync();
  ASSERT_TRUE(first.ok()) << first.out << first.err;
  EXPECT_EQ(first.out, "flows: +2 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0\n");

  RunResult flows = ovs_.Ofctl({"dump-flows", "--no-stats", ovs_.OpenflowTarget()});
  ASSERT_TRUE(flows.ok()) << flows.err;
  EXPECT_THAT(flows.out, HasSubstr("move:NXM_OF_ARP_TPA[]->NXM_OF_ARP_SPA[],"
                                   "move:NXM_NX_REG0[]->NXM_OF_ARP_TPA[],IN_PORT"));
  EXPECT_THAT(flows.out, HasSubstr("move:NXM_NX_REG4[5]->NXM_NX_REG15[31],"
                                   "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                                   "move:OXM_OF_IN_PORT[]->NXM_NX_REG3[],NORMAL"));

  // The dump decodes to the values that were sent: nothing to change.
  RunResult again = Sync();
  ASSERT_TRUE(again.ok()) << again.out << again.err;
  EXPECT_EQ(again.out, "flows: +0 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0\n");

  // A port 1 for the request to come from and the reply to go back to.
  RunResult port = ovs_.Vsctl(
      {"add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1"});
  ASSERT_TRUE(port.ok()) << port.err;
  RunOptions o = ovs_.ToolOptions();
  RunResult trace =
      RunProcess({"ovs-appctl", "-t", ovs_.dir() + "/ovs-vswitchd.ctl", "ofproto/trace", "br0",
                  "in_port=1,arp,arp_op=1,dl_src=02:00:00:00:00:05,dl_dst=ff:ff:ff:ff:ff:ff,"
                  "arp_spa=10.0.0.5,arp_tpa=10.0.0.9,arp_sha=02:00:00:00:00:05"},
                 o);
  ASSERT_TRUE(trace.ok()) << trace.err;
  EXPECT_THAT(trace.out, HasSubstr("Final flow: arp,reg0=0xa000005,in_port=1,vlan_tci=0x0000,"
                                   "dl_src=02:5c:00:00:00:01,dl_dst=02:00:00:00:00:05,"
                                   "arp_spa=10.0.0.9,arp_tpa=10.0.0.5,arp_op=2,"
                                   "arp_sha=02:5c:00:00:00:01,arp_tha=02:00:00:00:00:05"))
      << trace.out;
  EXPECT_THAT(trace.out, HasSubstr("Datapath actions: set(eth(src=02:5c:00:00:00:01,"
                                   "dst=02:00:00:00:00:05)),set(arp(sip=10.0.0.9,tip=10.0.0.5,"
                                   "op=2,sha=02:5c:00:00:00:01,tha=02:00:00:00:00:05)),1"))
      << trace.out;
}

}  // namespace
}  // namespace shortcut::testing
