// The gateway bridge's rules (src/pipeline/gateway_pipeline.h) on a real
// ovs-vswitchd (userspace datapath): synced with `shortcutctl switch sync`,
// and Open vSwitch's own ofproto/trace says what a packet from a host
// becomes: toward a known endpoint, out of the shared tunnel port to that
// endpoint's host; toward an unknown one, a copy to the daemon and nothing
// out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/ctl/switch_file.h"
#include "src/pipeline/gateway_pipeline.h"
#include "tests/e2e/bridge_fixture.h"

namespace shortcut::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A gateway at 172.31.2.1 of a cluster serving VPC 100 (VNI 0x64) with
// endpoints 10.0.0.10 on host 172.31.1.1 and 10.0.0.11 on host 172.31.1.2;
// its tunnel port toward host1 at ofport 101, as the gateway keeps it.
class GatewayPipelineTraceTest : public BridgeFixture {
 protected:
  void SetUp() override {
    StartBridge("172.31.2.1");
    if (HasFatalFailure()) return;
    AddPort("sc-ac1f0101", 101, {"type=vxlan", "options:remote_ip=172.31.1.1", "options:key=flow"});
    if (HasFatalFailure()) return;
    pipeline::GatewayBridgeConfig c;
    c.meter_id = 1;
    c.packet_in_rate_pps = 1000;
    reconcile::SwitchState s = pipeline::BuildGatewayBase(c);
    s.AddFlow(pipeline::GatewayVpcFlow(0x64));
    s.AddFlow(pipeline::GatewayEndpointFlow(0x64, 0x0a00000a, 0xac1f0101));
    s.AddFlow(pipeline::GatewayEndpointFlow(0x64, 0x0a00000b, 0xac1f0102));
    RunResult r = SyncBridge(ctl::FormatSwitchFile(s));
    ASSERT_TRUE(r.ok()) << r.err;
  }
  // A packet of VNI `vni` from host1's VM 10.0.0.10 toward `dst`, as it
  // arrives on `in_port`.
  std::string FromHost1(const std::string& dst, const std::string& vni = "0x64",
                        int in_port = 101) {
    return absl::StrCat("in_port=", in_port, ",tun_id=", vni,
                        ",tun_src=172.31.1.1,tun_dst=172.31.2.1,dl_dst=02:5c:00:00:00:01,"
                        "ip,nw_src=10.0.0.10,nw_dst=",
                        dst);
  }
  static std::string FinalFlow(const std::string& trace) {
    size_t at = trace.find("Final flow: ");
    if (at == std::string::npos) return "";
    std::string f = trace.substr(at + 12);
    return f.substr(0, f.find('\n'));
  }
};

TEST_F(GatewayPipelineTraceTest, AKnownEndpointIsForwardedToItsHost) {
  std::string t = Trace(FromHost1("10.0.0.11"));
  EXPECT_THAT(t, HasSubstr("set_field:172.31.1.2->tun_dst")) << t;
  EXPECT_THAT(t, HasSubstr("output:60000")) << t;
  EXPECT_THAT(t, HasSubstr("controller(")) << t;  // The copy to the daemon.
  EXPECT_THAT(FinalFlow(t), HasSubstr("tun_dst=172.31.1.2")) << t;
  EXPECT_THAT(FinalFlow(t), HasSubstr("metadata=0x64")) << t;
  EXPECT_THAT(t, Not(HasSubstr("172.31.1.1->tun_dst"))) << t;
  // The other endpoint: the other host.
  std::string back = Trace(FromHost1("10.0.0.10"));
  EXPECT_THAT(FinalFlow(back), HasSubstr("tun_dst=172.31.1.1")) << back;
  EXPECT_THAT(back, HasSubstr("output:60000")) << back;
}

TEST_F(GatewayPipelineTraceTest, AnUnknownEndpointIsNotForwarded) {
  std::string t = Trace(FromHost1("10.0.0.99"));
  EXPECT_THAT(t, HasSubstr("controller(")) << t;  // A miss, counted by the daemon.
  EXPECT_THAT(t, Not(HasSubstr("->tun_dst"))) << t;
  EXPECT_THAT(t, Not(HasSubstr("output:60000"))) << t;
  EXPECT_THAT(t, Not(HasSubstr("IN_PORT"))) << t;
  // Another VNI, even toward a known address: dropped at classify.
  std::string other = Trace(FromHost1("10.0.0.11", "0x65"));
  EXPECT_THAT(other, HasSubstr("Datapath actions: drop")) << other;
  EXPECT_THAT(other, Not(HasSubstr("->tun_dst"))) << other;
}

TEST_F(GatewayPipelineTraceTest, TrafficFromTheSharedTunnelPortGoesBackOutOfIt) {
  std::string t = Trace(FromHost1("10.0.0.11", "0x64", 60000));
  EXPECT_THAT(t, HasSubstr("set_field:172.31.1.2->tun_dst")) << t;
  EXPECT_THAT(t, HasSubstr("IN_PORT")) << t;
}

}  // namespace
}  // namespace shortcut::testing
