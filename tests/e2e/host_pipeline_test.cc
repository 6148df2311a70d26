// The host pipeline (src/pipeline) on a real ovs-vswitchd: the rules are
// synced with `shortcutctl switch sync`, and Open vSwitch's own
// ofproto/trace says what each packet would become.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"
#include "src/ctl/switch_file.h"
#include "src/ofconn/connection.h"
#include "src/openflow/text.h"
#include "src/pipeline/pipeline.h"
#include "tests/e2e/bridge_fixture.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kVm1Mac[] = "02:00:00:00:00:01";
constexpr char kVm2Mac[] = "02:00:00:00:00:02";
constexpr char kRouterMac[] = "02:5c:00:00:00:01";

class HostPipelineTest : public BridgeFixture {
 protected:
  void SetUp() override {
    StartBridge("172.31.1.1");
    if (HasFatalFailure()) return;
    // Two VMs and two gateway tunnel ports, as dummy ports at fixed ofports.
    for (auto [name, ofport] : {std::pair{"vm1", 1}, {"vm2", 2}, {"gw1", 101}, {"gw2", 102}}) {
      AddPort(name, ofport);
      if (HasFatalFailure()) return;
    }
    pipeline::HostRules rules;
    rules.cluster_id = 7;
    rules.gateway_ports = {101, 102};
    rules.vpcs = {{0x64, {0x02, 0x5c, 0, 0, 0, 1}}};
    rules.vms = {{0x64, 0x0a00000a, {2, 0, 0, 0, 0, 1}, 1},
                 {0x64, 0x0a00000b, {2, 0, 0, 0, 0, 2}, 2}};
    state_ = ctl::FormatSwitchFile(pipeline::BuildHostState(rules));
    ASSERT_TRUE(Sync().ok());
  }

  // The host's rules are cluster 7's (kind 0x01) and the shared drops
  // (kind 0x04); the cookie mask covers the kind's 0x02 bit alone, so the
  // sync owns both kinds and never touches direct paths (kind 0x02).
  RunResult Sync() { return SyncBridge(state_, "0x5c00000000000000/0xffff020000000000"); }

 public:
  // Sends `mod` and a barrier over a Shortcut OpenFlow connection.
  absl::Status SendFlowMod(of::FlowMod mod) {
    asio::io_context io;
    absl::Status result = absl::InternalError("not run");
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto target = ofconn::ParseTarget(ovs_.OpenflowTarget("br-int"));
          auto conn = co_await ofconn::Connection::Connect(io.get_executor(), *target, {});
          if (!conn.ok()) {
            result = conn.status();
            co_return;
          }
          of::Message msg;
          msg.body = std::move(mod);
          auto sent = co_await (*conn)->Send(std::move(msg));
          result = sent.ok() ? co_await (*conn)->Barrier(5000) : sent.status();
          (*conn)->Close();
        },
        asio::detached);
    io.run_for(std::chrono::seconds(30));
    return result;
  }
  static std::string FromVm1(const std::string& rest) {
    return absl::StrCat("in_port=1,dl_src=", kVm1Mac, ",dl_dst=", kRouterMac, ",", rest);
  }

  std::string state_;
};

TEST_F(HostPipelineTest, SyncIsStable) {
  RunResult r = Sync();
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("flows: +0 ~0 -0  groups: +0 ~0 -0"));
}

TEST_F(HostPipelineTest, LocalVmIsReachedWithItsMac) {
  std::string t = Trace(FromVm1("ip,nw_src=10.0.0.10,nw_dst=10.0.0.11"));
  EXPECT_THAT(t, HasSubstr(absl::StrCat("set_field:", kVm2Mac, "->eth_dst")));
  EXPECT_THAT(t, HasSubstr("output:2"));
  EXPECT_THAT(t, Not(HasSubstr("group:7")));
}

// The bucket OVS picks for a packet sent to the gateway group: select
// groups hash the packet and recirculate, so the second pass is traced
// from the recirculation id and hash the first one chose.
std::string HostPipelineBucketTrace(HostPipelineTest* t, const std::string& first,
                                    int dp_hash = 1) {
  size_t at = first.find("recirc(");
  if (at == std::string::npos) return first;
  std::string id = first.substr(at + 7, first.find(')', at) - at - 7);
  std::string final_flow = first.substr(first.find("Final flow: ") + 12);
  final_flow = final_flow.substr(0, final_flow.find('\n'));
  return t->Trace(absl::StrCat("recirc_id=", id, ",dp_hash=", dp_hash, ",", final_flow));
}

TEST_F(HostPipelineTest, UnknownDestinationGoesToTheGatewayGroup) {
  std::string t = Trace(FromVm1("ip,nw_src=10.0.0.10,nw_dst=10.0.9.9"));
  EXPECT_THAT(t, HasSubstr("set_field:0x64->tun_id"));
  EXPECT_THAT(t, HasSubstr("group:7"));
  std::string bucket = HostPipelineBucketTrace(this, t);
  EXPECT_THAT(bucket, ::testing::AnyOf(HasSubstr("output:101"), HasSubstr("output:102"))) << bucket;
}

TEST_F(HostPipelineTest, DeadGatewayPortsTakeTheirBucketsOut) {
  // Link down on a gateway port: watch_port takes its bucket out, in the
  // data plane alone (BFD does the same for tunnel ports).
  auto set_state = [&](const char* port, const char* state) {
    RunResult r = RunProcess({"ovs-appctl", "-t", ovs_.dir() + "/ovs-vswitchd.ctl",
                              "netdev-dummy/set-admin-state", port, state},
                             ovs_.ToolOptions());
    ASSERT_TRUE(r.ok()) << r.err;
  };
  // Which gateway each of 16 packet hashes goes to.
  auto spread = [&]() {
    std::string first = Trace(FromVm1("ip,nw_src=10.0.0.10,nw_dst=10.0.9.9"));
    std::set<std::string> ports;
    for (int hash = 0; hash < 16; ++hash) {
      std::string bucket = HostPipelineBucketTrace(this, first, hash);
      for (const char* port : {"output:101", "output:102"}) {
        if (bucket.find(port) != std::string::npos) ports.insert(port);
      }
    }
    return ports;
  };
  EXPECT_EQ(spread(), (std::set<std::string>{"output:101", "output:102"}));
  set_state("gw1", "down");
  EXPECT_EQ(spread(), (std::set<std::string>{"output:102"}));
  set_state("gw2", "down");
  std::string bucket =
      HostPipelineBucketTrace(this, Trace(FromVm1("ip,nw_src=10.0.0.10,nw_dst=10.0.9.9")));
  EXPECT_THAT(bucket, HasSubstr("Datapath actions: drop")) << bucket;
}

TEST_F(HostPipelineTest, SpoofedSourcesAreDropped) {
  EXPECT_THAT(Trace(FromVm1("ip,nw_src=10.0.0.77,nw_dst=10.0.0.11")),
              HasSubstr("Datapath actions: drop"));
  EXPECT_THAT(Trace("in_port=1,dl_src=02:00:00:00:00:99,ip,nw_src=10.0.0.10,nw_dst=10.0.0.11"),
              HasSubstr("Datapath actions: drop"));
  // VM1 claiming VM2's address in ARP.
  EXPECT_THAT(Trace(FromVm1(absl::StrCat("arp,arp_op=1,arp_spa=10.0.0.11,arp_sha=", kVm1Mac,
                                         ",arp_tpa=10.0.0.1"))),
              HasSubstr("Datapath actions: drop"));
}

TEST_F(HostPipelineTest, ArpIsAnsweredInPlaceWithTheRouterMac) {
  std::string t = Trace(absl::StrCat("in_port=1,dl_src=", kVm1Mac,
                                     ",dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.0.0.10,"
                                     "arp_sha=",
                                     kVm1Mac, ",arp_tpa=10.0.9.9"));
  // The reply: from the router MAC to VM1, saying 10.0.9.9 is at the router MAC.
  EXPECT_THAT(t, HasSubstr("IN_PORT"));
  std::string final_flow = t.substr(t.find("Final flow:"));
  final_flow = final_flow.substr(0, final_flow.find('\n'));
  EXPECT_THAT(final_flow, HasSubstr(absl::StrCat("dl_src=", kRouterMac, ",dl_dst=", kVm1Mac)));
  EXPECT_THAT(final_flow, HasSubstr("arp_spa=10.0.9.9,arp_tpa=10.0.0.10,arp_op=2"));
  EXPECT_THAT(final_flow, HasSubstr(absl::StrCat("arp_sha=", kRouterMac, ",arp_tha=", kVm1Mac)));
}

TEST_F(HostPipelineTest, TunnelTrafficOfTheVpcReachesItsVm) {
  std::string t = Trace(
      "in_port=60000,tun_id=0x64,tun_src=172.31.1.2,tun_dst=172.31.1.1,dl_dst=02:5c:00:00:00:01,"
      "ip,nw_src=10.0.0.20,nw_dst=10.0.0.10");
  EXPECT_THAT(t, HasSubstr("output:1"));
  // Another VNI: nothing.
  EXPECT_THAT(Trace("in_port=60000,tun_id=0x65,tun_src=172.31.1.2,tun_dst=172.31.1.1,ip,"
                    "nw_dst=10.0.0.10"),
              HasSubstr("Datapath actions: drop"));
}

TEST_F(HostPipelineTest, DirectPathWinsOverTheGroupUntilDeleted) {
  // Our own bytes, on our own connection, as the forwarding module sends them.
  ASSERT_TRUE(SendFlowMod(pipeline::DirectPathAdd(0x64, 0x0a000909, 0xac1f0102, 30)).ok());
  std::string t = Trace(FromVm1("ip,nw_src=10.0.0.10,nw_dst=10.0.9.9"));
  EXPECT_THAT(t, HasSubstr("set_field:172.31.1.2->tun_dst"));
  EXPECT_THAT(t, HasSubstr("output:60000"));
  EXPECT_THAT(t, Not(HasSubstr("group:7")));
  // The base rules' reconciler leaves direct paths alone.
  RunResult r = Sync();
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("flows: +0 ~0 -0"));
  // Invalidation: a non-strict delete on (VNI, destination).
  ASSERT_TRUE(SendFlowMod(pipeline::DirectPathDelete(0x64, 0x0a000909)).ok());
  RunResult left = ovs_.Ofctl({"dump-flows", ovs_.OpenflowTarget("br-int"), "table=20"});
  EXPECT_THAT(left.out, Not(HasSubstr("10.0.9.9")));
  EXPECT_THAT(Trace(FromVm1("ip,nw_src=10.0.0.10,nw_dst=10.0.9.9")), HasSubstr("group:7"));
}

}  // namespace
}  // namespace shortcut::testing
