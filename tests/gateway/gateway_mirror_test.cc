// The gateway's own bridge follows the DB (Gateway::AttachBridge): against
// a simulated switch, what the DB holds at attach time goes in, and every
// later change (UpdateEndpoint, AddEndpoints, LoadVpc, the deletes, a host's
// new underlay) adds, rewrites or removes exactly its flows; refused changes
// leave the bridge as it was.
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/gateway/gateway.h"
#include "src/gateway/gateway_bridge.h"
#include "src/pipeline/gateway_pipeline.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;

constexpr Ipv4 kHost1 = 0xac1f0101;            // 172.31.1.1
constexpr Ipv4 kHost2 = 0xac1f0102;            // 172.31.1.2
constexpr Ipv4 kHost2Renumbered = 0xac1f0902;  // 172.31.9.2
constexpr uint32_t kVni = 100;
constexpr uint32_t kVni2 = 200;
constexpr uint32_t kPacketInRate = 500;
constexpr Millis kWait = 5000;

constexpr Ipv4 V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// The flow the switch holds at `key`, if any.
std::optional<of::FlowStats> FlowAt(const fakes::FakeSwitch& sw, const reconcile::FlowKey& key) {
  for (const of::FlowStats& f : sw.Flows()) {
    if (f.table_id == key.table && f.priority == key.priority && f.match == key.match) return f;
  }
  return std::nullopt;
}

// The switch forwards (vni, ip) toward `host_ip`: the endpoint's flow is
// there with the instructions that set tun_dst to that host.
bool Forwards(const fakes::FakeSwitch& sw, uint32_t vni, Ipv4 ip, Ipv4 host_ip) {
  auto f = FlowAt(sw, pipeline::GatewayEndpointKey(vni, ip));
  return f && f->instructions == pipeline::GatewayEndpointFlow(vni, ip, host_ip).instructions;
}
bool HasEndpoint(const fakes::FakeSwitch& sw, uint32_t vni, Ipv4 ip) {
  return FlowAt(sw, pipeline::GatewayEndpointKey(vni, ip)).has_value();
}
bool HasVpc(const fakes::FakeSwitch& sw, uint32_t vni) {
  auto f = FlowAt(sw, pipeline::GatewayVpcKey(vni));
  return f && f->instructions == pipeline::GatewayVpcFlow(vni).instructions;
}

// Flows of one kind: endpoint forwarding flows, VPC classify flows.
size_t CountAt(const fakes::FakeSwitch& sw, uint8_t table, uint16_t priority) {
  size_t n = 0;
  for (const of::FlowStats& f : sw.Flows()) n += f.table_id == table && f.priority == priority;
  return n;
}
size_t EndpointFlows(const fakes::FakeSwitch& sw) {
  return CountAt(sw, pipeline::kGwTableForward, pipeline::GatewayEndpointKey(1, 1).priority);
}
size_t VpcFlows(const fakes::FakeSwitch& sw) {
  return CountAt(sw, pipeline::kGwTableClassify, pipeline::GatewayVpcKey(1).priority);
}
// What the switch holds, without the figures that change by themselves
// (durations, packet counts).
std::vector<of::FlowStats> Contents(const fakes::FakeSwitch& sw) {
  std::vector<of::FlowStats> flows = sw.Flows();
  for (of::FlowStats& f : flows) {
    f.duration_sec = f.duration_nsec = 0;
    f.packet_count = f.byte_count = 0;
  }
  return flows;
}
size_t BaseFlows() {
  pipeline::GatewayBridgeConfig config;
  config.meter_id = 1;
  config.packet_in_rate_pps = kPacketInRate;
  return pipeline::BuildGatewayBase(config).flow_count();
}

class GatewayMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1", "host2", "gw"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    gw_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
  }
  void TearDown() override {
    if (bridge_) bridge_->Stop();
  }

  // Starts the gateway bridge on the "gw" switch and attaches it.
  void Attach() {
    GatewayBridge::Options o;
    o.target = *ofconn::ParseTarget(targets_["gw"]);
    o.session.min_backoff = 50;
    o.session.connection.probe_interval = 0;
    o.call_timeout = 2000;
    o.packet_in_rate_pps = kPacketInRate;
    bridge_ = GatewayBridge::Start(io_.get_executor(), o, nullptr);
    gw_->AttachBridge(bridge_);
  }
  const fakes::FakeSwitch& Bridge() { return *switches_["gw"]; }

  // Outside the coroutines (g++ 12 and braced initialisers of strings).
  ClusterConfig Cluster(const std::string& host2_underlay = "172.31.1.2") {
    ClusterConfig c;
    c.cluster_id = 9;
    c.self = "gw1";
    c.members = {{"gw1", "172.31.2.1"}};
    c.hosts = {{"host1", "172.31.1.1", targets_["host1"], ""},
               {"host2", host2_underlay, targets_["host2"], ""}};
    return c;
  }
  // vpc1 (VNI 100): net1 10.0.0.0/24, net2 10.0.1.0/24.
  absl::Status AddVpc() {
    Vpc vpc{"vpc1", kVni, "02:5c:00:00:00:01"};
    std::vector<Network> networks = {{"net1", "10.0.0.0/24", ""}, {"net2", "10.0.1.0/24", ""}};
    return gw_->AddVpc(vpc, networks);
  }
  static Endpoint Ep(const std::string& key, const std::string& ip, const std::string& host,
                     const std::string& vpc = "vpc1", const std::string& network = "net1") {
    return {key, vpc, network, ip, "", "02:00:00:00:00:" + key.substr(key.size() - 2), host, key};
  }
  // vpc2 (VNI 200): net1 10.2.0.0/24, and endpoints for LoadVpc: ep21 on
  // host1, ep22 on host2 (or, `duplicate`, at ep21's address).
  static Vpc Vpc2() { return {"vpc2", kVni2, "02:5c:00:00:00:02"}; }
  static std::vector<Network> Networks2() { return {{"net1", "10.2.0.0/24", ""}}; }
  static std::vector<Endpoint> Endpoints2(bool duplicate = false) {
    return {Ep("ep21", "10.2.0.21", "host1", "vpc2"),
            Ep("ep22", duplicate ? "10.2.0.21" : "10.2.0.22", "host2", "vpc2")};
  }
  // For AddEndpoints: endpoints of both VPCs.
  static std::vector<Endpoint> MoreEndpoints() {
    return {Ep("ep11", "10.0.0.11", "host1"), Ep("ep12", "10.0.1.12", "host2", "vpc1", "net2"),
            Ep("ep23", "10.2.0.23", "host2", "vpc2")};
  }
  // A good endpoint, then one outside its network.
  static std::vector<Endpoint> BadBatch() {
    return {Ep("ep05", "10.0.0.50", "host1"), Ep("ep06", "10.0.9.9", "host1")};
  }
  asio::awaitable<void> Prepare() {
    ClusterConfig c = Cluster();
    absl::Status s = co_await gw_->SetCluster(std::move(c));
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_TRUE(AddVpc().ok());
  }
  // ep01 (10.0.0.10) on host1, ep02 (10.0.0.11) on host2, ep03 (10.0.1.10,
  // net2) on host1.
  asio::awaitable<void> ThreeEndpoints() {
    Endpoint a = Ep("ep01", "10.0.0.10", "host1");
    Endpoint b = Ep("ep02", "10.0.0.11", "host2");
    Endpoint c = Ep("ep03", "10.0.1.10", "host1", "vpc1", "net2");
    Endpoint* all[] = {&a, &b, &c};
    for (Endpoint* e : all) {
      auto r = co_await gw_->UpdateEndpoint(*e);
      EXPECT_TRUE(r.ok()) << r.status();
    }
  }
  asio::awaitable<absl::Status> Installed() { co_return co_await bridge_->WaitInstalled(kWait); }

  asio::io_context io_;
  testing::TempDir dir_{"shortcut-gw-mirror"};
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::unique_ptr<Gateway> gw_;
  std::shared_ptr<GatewayBridge> bridge_;
};

TEST_F(GatewayMirrorTest, AttachPutsInEveryVpcAndEndpointAlreadyInTheDb) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    co_await ThreeEndpoints();
    Attach();
    EXPECT_EQ(gw_->bridge(), bridge_.get());
    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(Bridge().flow_count(), BaseFlows() + 1 + 3);
    EXPECT_EQ(VpcFlows(Bridge()), 1u);
    EXPECT_TRUE(HasVpc(Bridge(), kVni));
    EXPECT_EQ(EndpointFlows(Bridge()), 3u);
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 10), kHost1));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 11), kHost2));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 1, 10), kHost1));
    EXPECT_EQ(bridge_->desired_flows(), Bridge().flow_count());
    EXPECT_TRUE(bridge_->in_sync());
  });
}

TEST_F(GatewayMirrorTest, AnEmptyDbLeavesTheBridgeAloneUntilAVpcBringsTheBaseAndItsFlow) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    // A flow left by an earlier gateway process (a restart): kept while the
    // DB is empty, so the data plane keeps forwarding until reloaded.
    of::FlowMod left =
        pipeline::GatewayFlowAdd(pipeline::GatewayEndpointFlow(kVni, V4(10, 0, 0, 99), kHost1));
    CO_ASSERT_OK(switches_["gw"]->Apply(left));
    Attach();
    CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return bridge_->connected(); }, kWait));
    for (int i = 0; i < 20; ++i) co_await asio::post(io_, asio::use_awaitable);
    EXPECT_EQ(Bridge().flow_count(), 1u);
    EXPECT_FALSE(bridge_->in_sync());
    co_await Prepare();  // Gateway::AddVpc with a bridge attached: the first change.
    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(Bridge().flow_count(), BaseFlows() + 1);  // The stale flow went.
    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(VpcFlows(Bridge()), 1u);
    EXPECT_TRUE(HasVpc(Bridge(), kVni));
    EXPECT_EQ(EndpointFlows(Bridge()), 0u);
  });
}

TEST_F(GatewayMirrorTest, UpdateEndpointAddsMovesAndReaddressesFlows) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    Attach();
    co_await ThreeEndpoints();  // Each a new endpoint: its flow goes in.
    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(EndpointFlows(Bridge()), 3u);
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 10), kHost1));

    // A move: the flow stays at its key, tun_dst becomes the new host's.
    Endpoint moved = Ep("ep01", "10.0.0.10", "host2");
    CO_ASSERT_OK_AND_ASSIGN(auto m, co_await gw_->UpdateEndpoint(moved));
    EXPECT_TRUE(m.update.moved);
    CO_ASSERT_OK(co_await Installed());
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 10), kHost2));
    EXPECT_EQ(EndpointFlows(Bridge()), 3u);

    // A readdress: the old address's flow goes, the new one's comes.
    Endpoint readdressed = Ep("ep02", "10.0.0.12", "host2");
    CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw_->UpdateEndpoint(readdressed));
    EXPECT_TRUE(r.update.readdressed);
    CO_ASSERT_OK(co_await Installed());
    EXPECT_FALSE(HasEndpoint(Bridge(), kVni, V4(10, 0, 0, 11)));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 12), kHost2));
    EXPECT_EQ(EndpointFlows(Bridge()), 3u);

    // Moved and readdressed at once.
    Endpoint both = Ep("ep03", "10.0.1.20", "host2", "vpc1", "net2");
    CO_ASSERT_OK_AND_ASSIGN(auto b, co_await gw_->UpdateEndpoint(both));
    EXPECT_TRUE(b.update.moved);
    CO_ASSERT_OK(co_await Installed());
    EXPECT_FALSE(HasEndpoint(Bridge(), kVni, V4(10, 0, 1, 10)));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 1, 20), kHost2));

    // A new MAC or iface-id alone changes no flow.
    Endpoint rebound = Ep("ep02", "10.0.0.12", "host2");
    rebound.iface_id = "ep02-new-port";
    rebound.mac = "02:00:00:00:01:02";
    uint64_t mods = Bridge().counters().flow_mods;
    CO_ASSERT_OK_AND_ASSIGN(auto n, co_await gw_->UpdateEndpoint(rebound));
    EXPECT_TRUE(n.update.changed);
    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(Bridge().counters().flow_mods, mods);
    EXPECT_EQ(EndpointFlows(Bridge()), 3u);
    EXPECT_EQ(bridge_->desired_flows(), Bridge().flow_count());
  });
}

TEST_F(GatewayMirrorTest, RefusedChangesLeaveTheBridgeAsItWas) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    co_await ThreeEndpoints();
    Attach();
    CO_ASSERT_OK(co_await Installed());
    std::vector<of::FlowStats> before = Contents(Bridge());
    uint64_t mods = Bridge().counters().flow_mods;

    Endpoint outside = Ep("ep04", "10.0.9.9", "host1");
    auto r1 = co_await gw_->UpdateEndpoint(outside);
    EXPECT_EQ(r1.status().code(), absl::StatusCode::kInvalidArgument) << r1.status();
    Endpoint taken = Ep("ep04", "10.0.0.10", "host1");  // ep01's address.
    auto r2 = co_await gw_->UpdateEndpoint(taken);
    EXPECT_EQ(r2.status().code(), absl::StatusCode::kAlreadyExists) << r2.status();
    std::vector<Endpoint> bad = BadBatch();
    absl::Status r3 = co_await gw_->AddEndpoints(bad);
    EXPECT_EQ(r3.code(), absl::StatusCode::kInvalidArgument) << r3;
    Vpc vpc2 = Vpc2();
    std::vector<Network> nets2 = Networks2();
    std::vector<Endpoint> eps2 = Endpoints2(/*duplicate=*/true);
    absl::Status r4 = co_await gw_->LoadVpc(vpc2, nets2, eps2);
    EXPECT_EQ(r4.code(), absl::StatusCode::kAlreadyExists) << r4;
    absl::Status r5 = co_await gw_->DeleteEndpoint("nope");
    EXPECT_EQ(r5.code(), absl::StatusCode::kNotFound);
    auto r6 = co_await gw_->DeleteVpc("vpc9");
    EXPECT_EQ(r6.status().code(), absl::StatusCode::kNotFound);
    auto r7 = co_await gw_->DeleteNetwork("vpc1", "net9");
    EXPECT_EQ(r7.status().code(), absl::StatusCode::kNotFound);

    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(Bridge().counters().flow_mods, mods);
    EXPECT_EQ(Contents(Bridge()), before);
    EXPECT_TRUE(bridge_->in_sync());
  });
}

TEST_F(GatewayMirrorTest, DeletesRemoveTheirFlows) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    co_await ThreeEndpoints();
    Attach();
    CO_ASSERT_OK(co_await Installed());
    CO_ASSERT_TRUE(EndpointFlows(Bridge()) == 3u);

    CO_ASSERT_OK(co_await gw_->DeleteEndpoint("ep02"));
    CO_ASSERT_OK(co_await Installed());
    EXPECT_FALSE(HasEndpoint(Bridge(), kVni, V4(10, 0, 0, 11)));
    EXPECT_EQ(EndpointFlows(Bridge()), 2u);

    // The network's endpoint goes; the other network's stays, and the VPC.
    CO_ASSERT_OK_AND_ASSIGN(size_t removed, co_await gw_->DeleteNetwork("vpc1", "net2"));
    EXPECT_EQ(removed, 1u);
    CO_ASSERT_OK(co_await Installed());
    EXPECT_FALSE(HasEndpoint(Bridge(), kVni, V4(10, 0, 1, 10)));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 10), kHost1));
    EXPECT_TRUE(HasVpc(Bridge(), kVni));

    // The VPC: its endpoints and its classify flow.
    CO_ASSERT_OK_AND_ASSIGN(size_t gone, co_await gw_->DeleteVpc("vpc1"));
    EXPECT_EQ(gone, 1u);
    CO_ASSERT_OK(co_await Installed());
    EXPECT_EQ(EndpointFlows(Bridge()), 0u);
    EXPECT_EQ(VpcFlows(Bridge()), 0u);
    EXPECT_EQ(Bridge().flow_count(), BaseFlows());
    EXPECT_EQ(bridge_->desired_flows(), BaseFlows());
  });
}

TEST_F(GatewayMirrorTest, LoadVpcAndAddEndpointsAddTheirFlows) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    Attach();
    CO_ASSERT_OK(co_await Installed());

    Vpc vpc2 = Vpc2();
    std::vector<Network> nets2 = Networks2();
    std::vector<Endpoint> eps2 = Endpoints2();
    CO_ASSERT_OK(co_await gw_->LoadVpc(vpc2, nets2, eps2));
    CO_ASSERT_OK(co_await Installed());
    EXPECT_TRUE(HasVpc(Bridge(), kVni2));
    EXPECT_TRUE(Forwards(Bridge(), kVni2, V4(10, 2, 0, 21), kHost1));
    EXPECT_TRUE(Forwards(Bridge(), kVni2, V4(10, 2, 0, 22), kHost2));

    // More endpoints of both VPCs in one call.
    std::vector<Endpoint> more = MoreEndpoints();
    CO_ASSERT_OK(co_await gw_->AddEndpoints(more));
    CO_ASSERT_OK(co_await Installed());
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 11), kHost1));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 1, 12), kHost2));
    EXPECT_TRUE(Forwards(Bridge(), kVni2, V4(10, 2, 0, 23), kHost2));
    EXPECT_EQ(EndpointFlows(Bridge()), 5u);
    EXPECT_EQ(VpcFlows(Bridge()), 2u);
    EXPECT_EQ(Bridge().flow_count(), BaseFlows() + 2 + 5);
  });
}

TEST_F(GatewayMirrorTest, AHostsNewUnderlayRewritesItsEndpointsFlows) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    co_await ThreeEndpoints();
    Attach();
    CO_ASSERT_OK(co_await Installed());
    ClusterConfig c = Cluster("172.31.9.2");
    CO_ASSERT_OK(co_await gw_->SetCluster(std::move(c)));
    CO_ASSERT_OK(co_await Installed());
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 11), kHost2Renumbered));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 10), kHost1));  // host1 unchanged.
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 1, 10), kHost1));
    EXPECT_EQ(EndpointFlows(Bridge()), 3u);
  });
}

TEST_F(GatewayMirrorTest, ARestartedBridgeSwitchGetsTheMirroredStateBack) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    co_await ThreeEndpoints();
    Attach();
    CO_ASSERT_OK(co_await Installed());
    size_t before = Bridge().flow_count();
    switches_["gw"]->Restart();
    CO_ASSERT_TRUE(co_await testing::WaitUntil(
        [&] { return Bridge().flow_count() == before && bridge_->in_sync(); }, 10000));
    EXPECT_TRUE(Forwards(Bridge(), kVni, V4(10, 0, 0, 11), kHost2));
    EXPECT_TRUE(HasVpc(Bridge(), kVni));
  });
}

}  // namespace
}  // namespace shortcut::gateway
