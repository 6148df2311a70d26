// The control module against two simulated hosts: VMs come online when their
// port is bound and their host confirms the rules; only the designated
// gateway programs a host; moves and deletes invalidate direct paths on
// every host of the VPC; bad input changes nothing.
#include "src/gateway/gateway.h"

#include <asio/io_context.hpp>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/pipeline/pipeline.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::testing::HasSubstr;

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1", "host2"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    gw_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
  }

  // A cluster where this gateway is designated for every host: itself alone.
  ClusterConfig Cluster() { return Cluster(OneMember()); }
  static std::vector<ClusterMember> OneMember() { return {{"gw1", "172.31.2.1"}}; }
  ClusterConfig Cluster(std::vector<ClusterMember> members) {
    ClusterConfig c;
    c.cluster_id = 9;
    c.self = "gw1";
    c.members = std::move(members);
    c.hosts = {{"host1", "172.31.1.1", targets_["host1"], ""},
               {"host2", "172.31.1.2", targets_["host2"], ""}};
    return c;
  }
  static Endpoint Ep(const std::string& key, const std::string& ip, const std::string& host) {
    return {key, "vpc1", "net1", ip, "", "02:00:00:00:00:" + key.substr(key.size() - 2), host, key};
  }
  asio::awaitable<void> Prepare() {
    ClusterConfig c = Cluster();
    absl::Status s = co_await gw_->SetCluster(std::move(c));
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_TRUE(AddVpc().ok());
  }
  // Outside the coroutines: g++ 12 miscompiles some braced initialisers of
  // string members inside a coroutine body.
  absl::Status AddVpc() {
    Vpc vpc{"vpc1", 100, "02:5c:00:00:00:01"};
    std::vector<Network> networks = {{"net1", "10.0.0.0/24", ""}};
    return gw_->AddVpc(vpc, networks);
  }
  static std::vector<ClusterMember> TwoMembers() {
    return {{"gw1", "172.31.2.1"}, {"gw2", "172.31.2.2"}};
  }
  // Three good endpoints (ep11, ep12 on host1, ep13 on host2) and, unless
  // `bad` is empty, a fourth that is refused for the reason `bad` names.
  static std::vector<Endpoint> Batch(const std::string& bad = "") {
    std::vector<Endpoint> batch = {Ep("ep11", "10.0.0.11", "host1"),
                                   Ep("ep12", "10.0.0.12", "host1"),
                                   Ep("ep13", "10.0.0.13", "host2")};
    Endpoint e = Ep("ep14", "10.0.0.14", "host2");
    if (bad == "outside") e.ipv4 = "10.0.9.9";
    if (bad == "taken") e.ipv4 = "10.0.0.10";  // ep01's, in the DB already.
    if (bad == "twice") e.ipv4 = "10.0.0.12";  // ep12's, earlier in the batch.
    if (bad == "host") e.host = "host9";
    if (bad == "vpc") e.vpc = "vpc9";
    if (bad == "mac") e.mac = "01:00:00:00:00:14";  // Multicast.
    if (!bad.empty()) batch.push_back(e);
    return batch;
  }
  size_t Flows(const char* host) { return switches_[host]->flow_count(); }
  // Direct paths (cookie kind kCookieDirect) on the host's switch.
  size_t DirectPaths(const char* host) {
    size_t n = 0;
    for (const of::FlowStats& f : switches_[host]->Flows()) {
      n += (f.cookie & pipeline::kCookieKindMask) == pipeline::kCookieDirect;
    }
    return n;
  }
  ClusterConfig Renumbered() {
    ClusterConfig c = Cluster();
    c.hosts[1].underlay_ipv4 = "172.31.9.2";  // host2.
    return c;
  }
  size_t DirectPathDeletes(const char* host) { return switches_[host]->counters().flow_mods; }

  ManualClock clock_;  // Outlives io_: timers on it are io_'s.
  asio::io_context io_;
  testing::TempDir dir_{"shortcut-gateway"};
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::unique_ptr<Gateway> gw_;
};

TEST_F(GatewayTest, VmGoesOnlineWhenItsPortIsBoundAndItsHostConfirms) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    // Nothing was said about host1 yet: untouched. Its first rules come
    // with its first endpoint, the table-miss drops among them.
    EXPECT_EQ(Flows("host1"), 0u);
    const size_t empty = 2;
    CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    EXPECT_TRUE(r.update.created);
    EXPECT_FALSE(r.online);                // No port yet.
    EXPECT_EQ(Flows("host1"), empty + 3);  // The VPC's rules, no VM rules.
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep01", 5));
    EXPECT_EQ(Flows("host1"), empty + 3 + 4);
    EXPECT_EQ(switches_["host1"]->group_count(), 1u);
    // Bound first, then the endpoint: online at once.
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep02", 6));
    CO_ASSERT_OK_AND_ASSIGN(auto r2,
                            co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.11", "host1")));
    EXPECT_TRUE(r2.online);
    EXPECT_EQ(Flows("host1"), empty + 3 + 8);
    EXPECT_EQ(Flows("host2"), 0u);  // Holds no VPC, never touched.
  });
}

TEST_F(GatewayTest, ARestartedGatewayLeavesItsHostsAloneUntilTheirEndpointsAreBack) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep01", 5));
    CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    CO_ASSERT_TRUE(r.online);
    const size_t installed = Flows("host1");
    const uint64_t flow_mods = switches_["host1"]->counters().flow_mods;
    // The gateway restarts: same cluster, an empty DB.
    gw_ = std::make_unique<Gateway>(io_.get_executor(), gw_->options());
    ClusterConfig c = Cluster();
    CO_ASSERT_OK(co_await gw_->SetCluster(std::move(c)));
    CO_ASSERT_TRUE(
        co_await testing::WaitUntil([&] { return gw_->programmer("host1")->connected(); }, 5000));
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep01", 5));  // Its OVSDB reports the port.
    EXPECT_EQ(Flows("host1"), installed);                      // The VM's rules are still there.
    EXPECT_EQ(switches_["host1"]->counters().flow_mods, flow_mods);
    // Its endpoints come back: the same rules, nothing to change.
    EXPECT_TRUE(AddVpc().ok());
    CO_ASSERT_OK_AND_ASSIGN(auto again,
                            co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    EXPECT_TRUE(again.online);
    EXPECT_EQ(Flows("host1"), installed);
    EXPECT_EQ(switches_["host1"]->counters().flow_mods, flow_mods);
  });
}

TEST(TunnelPortsLayoutTest, HostsReachMembersInNameOrderAndGatewaysReachEveryHost) {
  std::vector<ClusterMember> members = {{"gw2", "172.31.2.2"}, {"gw1", "172.31.2.1"}};
  auto on_host = TunnelPortsOnHost(members);
  ASSERT_TRUE(on_host.ok()) << on_host.status();
  ASSERT_EQ(on_host->size(), 2u);
  EXPECT_EQ((*on_host)[0], (host::TunnelPort{"sc-ac1f0201", "172.31.2.1", kGatewayOfportBase}));
  EXPECT_EQ((*on_host)[1], (host::TunnelPort{"sc-ac1f0202", "172.31.2.2", kGatewayOfportBase + 1}));
  std::vector<Host> hosts = {{"host1", "172.31.1.1", "", ""}, {"host2", "172.31.1.2", "", ""}};
  auto on_gateway = TunnelPortsOnGateway(hosts);
  ASSERT_TRUE(on_gateway.ok()) << on_gateway.status();
  EXPECT_EQ((*on_gateway)[1], (host::TunnelPort{"sc-ac1f0102", "172.31.1.2", std::nullopt}));
  members.push_back({"gw3", "not-an-ip"});
  EXPECT_EQ(TunnelPortsOnHost(members).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GatewayTest, EachGatewayHasAnInstanceIdOfItsOwn) {
  const std::string id = gw_->instance_id();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  // A restarted gateway (a new Gateway) is recognisable by its new id.
  Gateway restarted(io_.get_executor(), TestGatewayOptions());
  EXPECT_NE(restarted.instance_id(), id);
  EXPECT_EQ(restarted.instance_id().size(), 16u);
}

TEST(ClusterConfigTest, IdsAndTunnelOfportsAreChecked) {
  ClusterConfig c;
  c.cluster_id = 1;
  c.self = "gw1";
  c.members = {{"gw1", "172.31.2.1", 0}, {"gw2", "172.31.2.2", 0}};
  EXPECT_TRUE(CheckClusterConfig(c).ok());
  auto error = [](const ClusterConfig& config) {
    absl::Status s = CheckClusterConfig(config);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return std::string(s.message());
  };
  ClusterConfig bad = c;
  bad.cluster_id = 65535;
  EXPECT_TRUE(CheckClusterConfig(bad).ok());
  bad.cluster_id = 65536;  // Does not fit the cookie's 16 bits.
  EXPECT_THAT(error(bad), HasSubstr("cluster_id: 65536 is not in 1..65535"));
  bad.cluster_id = 0;
  EXPECT_THAT(error(bad), HasSubstr("cluster_id"));

  ClusterConfig ofports = c;
  ofports.members[0].tunnel_ofport = 60010;
  ofports.members[1].tunnel_ofport = 65279;
  EXPECT_TRUE(CheckClusterConfig(ofports).ok());
  bad = ofports;
  bad.members[1].tunnel_ofport = 0;  // All or none.
  EXPECT_THAT(error(bad), HasSubstr("members[1].tunnel_ofport"));
  bad = c;
  bad.members[1].tunnel_ofport = 60002;
  EXPECT_THAT(error(bad), HasSubstr("members[1].tunnel_ofport"));
  bad = ofports;
  bad.members[1].tunnel_ofport = 60010;  // Twice.
  EXPECT_THAT(error(bad), HasSubstr("members[1].tunnel_ofport: 60010"));
  bad = ofports;
  bad.members[0].tunnel_ofport = 60000;  // sc-tun's.
  EXPECT_THAT(error(bad), HasSubstr("members[0].tunnel_ofport: 60000 is not in 60001..65279"));
  bad.members[0].tunnel_ofport = 65280;
  EXPECT_THAT(error(bad), HasSubstr("members[0].tunnel_ofport: 65280"));
}

TEST(TunnelPortsLayoutTest, MembersTunnelOfportsNameTheBucketsAndPorts) {
  std::vector<ClusterMember> members = {{"gw4", "172.31.3.4", 60104}, {"gw3", "172.31.3.3", 60103}};
  EXPECT_EQ(MemberOfports(members), (std::vector<uint32_t>{60103, 60104}));
  auto on_host = TunnelPortsOnHost(members);
  ASSERT_TRUE(on_host.ok()) << on_host.status();
  EXPECT_EQ((*on_host)[0], (host::TunnelPort{"sc-ac1f0303", "172.31.3.3", 60103}));
  EXPECT_EQ((*on_host)[1], (host::TunnelPort{"sc-ac1f0304", "172.31.3.4", 60104}));
  // None set: 60001 + i in name order.
  members[0].tunnel_ofport = members[1].tunnel_ofport = 0;
  EXPECT_EQ(MemberOfports(members), (std::vector<uint32_t>{60001, 60002}));
}

// Two clusters serving VPCs on one host, each with its own designated
// gateway: the host holds both clusters' rules and groups, and neither
// gateway undoes the other's.
class TwoClustersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1"});
    ASSERT_TRUE(started.ok()) << started;
    target_ = hosts.targets["host1"];
    sw_ = std::move(hosts.switches["host1"]);
    gw1_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
    gw3_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
  }
  // Cluster 1: gw1 and gw2 (gw1 designated for host1 is checked below);
  // cluster 2: gw3 alone. Ofports assigned across clusters.
  ClusterConfig Cluster1(const std::string& self) {
    ClusterConfig c;
    c.cluster_id = 1;
    c.self = self;
    c.members = {{"gw1", "172.31.2.1", 60011}, {"gw2", "172.31.2.2", 60012}};
    c.hosts = {{"host1", "172.31.1.1", target_, ""}};
    return c;
  }
  ClusterConfig Cluster2() {
    ClusterConfig c;
    c.cluster_id = 2;
    c.self = "gw3";
    c.members = {{"gw3", "172.31.3.3", 60021}};
    c.hosts = {{"host1", "172.31.1.1", target_, ""}};
    return c;
  }
  absl::Status AddVpc(Gateway& gw, const std::string& id, uint32_t vni, const std::string& cidr) {
    Vpc vpc{id, vni, "02:5c:00:00:00:01"};
    std::vector<Network> networks = {{"net1", cidr, ""}};
    return gw.AddVpc(vpc, networks);
  }
  static Endpoint Ep(const std::string& key, const std::string& vpc, const std::string& ip) {
    return {key, vpc, "net1", ip, "", "02:00:00:00:00:" + key.substr(key.size() - 2), "host1", key};
  }
  // What the host's switch holds, as comparable values.
  reconcile::SwitchState Contents() const {
    reconcile::SwitchState s;
    for (const of::FlowStats& f : sw_->Flows()) s.AddFlow(reconcile::FlowFromStats(f));
    for (const of::GroupDesc& g : sw_->Groups()) s.AddGroup(reconcile::GroupFromDesc(g));
    return s;
  }
  size_t FlowsWithCookieSpace(uint64_t cookie, uint64_t mask) const {
    size_t n = 0;
    for (const of::FlowStats& f : sw_->Flows()) n += (f.cookie & mask) == cookie;
    return n;
  }

  asio::io_context io_;
  testing::TempDir dir_{"shortcut-gateway2"};
  std::string target_;
  std::unique_ptr<fakes::FakeSwitch> sw_;
  std::unique_ptr<Gateway> gw1_;
  std::unique_ptr<Gateway> gw3_;
};

TEST_F(TwoClustersTest, EachClusterKeepsItsOwnPartOfASharedHost) {
  // gw1 or gw2, whichever cluster 1 designates for host1, plays cluster 1.
  const std::string self1 = DesignatedMember("host1", Cluster1("gw1").members);
  const ClusterConfig c1 = Cluster1(self1);
  const ClusterConfig c2 = Cluster2();
  const Endpoint ep1 = Ep("ep01", "vpc1", "10.0.0.10");
  const Endpoint ep2 = Ep("ep02", "vpc2", "10.0.0.20");  // Same address, other VPC would do too.
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await gw1_->SetCluster(c1));
    CO_ASSERT_OK(co_await gw3_->SetCluster(c2));
    CO_ASSERT_TRUE(gw1_->Designated("host1"));
    CO_ASSERT_TRUE(gw3_->Designated("host1"));
    CO_ASSERT_OK(AddVpc(*gw1_, "vpc1", 100, "10.0.0.0/24"));
    CO_ASSERT_OK(AddVpc(*gw3_, "vpc2", 200, "10.0.0.0/24"));
    CO_ASSERT_OK(co_await gw1_->BindPort("host1", "ep01", 5));
    CO_ASSERT_OK(co_await gw3_->BindPort("host1", "ep02", 6));
    CO_ASSERT_OK_AND_ASSIGN(auto r1, co_await gw1_->UpdateEndpoint(ep1));
    EXPECT_TRUE(r1.online);
    CO_ASSERT_OK_AND_ASSIGN(auto r2, co_await gw3_->UpdateEndpoint(ep2));
    EXPECT_TRUE(r2.online);

    // Both clusters' rules: the two shared drops, then per cluster a VPC's
    // 3 and a VM's 4, each in its cluster's cookie space.
    EXPECT_EQ(sw_->flow_count(), 2u + 7 + 7);
    EXPECT_EQ(FlowsWithCookieSpace(0x5c00040000000000ull, 0xffffff0000000000ull), 2u);
    EXPECT_EQ(FlowsWithCookieSpace(0x5c00010001000064ull, 0xffffffffffffffffull), 7u);
    EXPECT_EQ(FlowsWithCookieSpace(0x5c000100020000c8ull, 0xffffffffffffffffull), 7u);
    std::vector<of::GroupDesc> groups = sw_->Groups();
    CO_ASSERT_TRUE(groups.size() == 2u);
    EXPECT_EQ(groups[0].group_id, 1u);
    EXPECT_EQ(groups[1].group_id, 2u);
    CO_ASSERT_TRUE(groups[0].buckets.size() == 2u);
    EXPECT_EQ(groups[0].buckets[0].watch_port, 60011u);
    EXPECT_EQ(groups[0].buckets[1].watch_port, 60012u);
    CO_ASSERT_TRUE(groups[1].buckets.size() == 1u);
    EXPECT_EQ(groups[1].buckets[0].watch_port, 60021u);
    // Each VPC's default goes to its own cluster's group.
    for (const of::FlowStats& f : sw_->Flows()) {
      if (f.table_id != pipeline::kTableEgress || f.priority != pipeline::kPriorityDefault) {
        continue;
      }
      CO_ASSERT_TRUE(f.instructions.apply_actions.size() == 2u);
      const auto* group = std::get_if<of::ActionGroup>(&f.instructions.apply_actions[1]);
      CO_ASSERT_TRUE(group != nullptr);
      EXPECT_EQ(group->group_id, (f.cookie & 0xffffff) == 100 ? 1u : 2u);
    }

    // Further syncs of either change nothing: the same endpoint again, a
    // new VM of one cluster, and a reconnect (both read the switch and
    // converge on it).
    const reconcile::SwitchState before = Contents();
    const uint64_t flow_mods = sw_->counters().flow_mods;
    const uint64_t group_mods = sw_->counters().group_mods;
    CO_ASSERT_OK_AND_ASSIGN(auto again1, co_await gw1_->UpdateEndpoint(ep1));
    CO_ASSERT_OK_AND_ASSIGN(auto again2, co_await gw3_->UpdateEndpoint(ep2));
    EXPECT_TRUE(again1.online && again2.online);
    const uint64_t syncs1 = gw1_->programmer("host1")->counters().syncs;
    const uint64_t syncs3 = gw3_->programmer("host1")->counters().syncs;
    sw_->DropConnections();
    CO_ASSERT_TRUE(co_await testing::WaitUntil(
        [&] {
          return gw1_->programmer("host1")->counters().syncs > syncs1 &&
                 gw3_->programmer("host1")->counters().syncs > syncs3;
        },
        5000));
    EXPECT_EQ(sw_->counters().flow_mods, flow_mods);
    EXPECT_EQ(sw_->counters().group_mods, group_mods);
    EXPECT_TRUE(Contents().SameAs(before));

    // Cluster 2's VPC leaves the host: its flows go, cluster 1's part and
    // the shared drops stay.
    CO_ASSERT_OK(co_await gw3_->DeleteEndpoint("ep02"));
    EXPECT_EQ(sw_->flow_count(), 2u + 7);
    EXPECT_EQ(FlowsWithCookieSpace(0x5c00010001000064ull, 0xffffffffffffffffull), 7u);
    EXPECT_EQ(FlowsWithCookieSpace(0x5c00040000000000ull, 0xffffffffffffffffull), 2u);
    groups = sw_->Groups();
    CO_ASSERT_TRUE(!groups.empty());
    EXPECT_EQ(groups[0].group_id, 1u);
    EXPECT_EQ(groups[0].buckets.size(), 2u);
  });
}

TEST_F(GatewayTest, OnlyTheDesignatedGatewayProgramsAHost) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    std::vector<ClusterMember> members = TwoMembers();
    std::string for_host1 = DesignatedMember("host1", members);
    std::string for_host2 = DesignatedMember("host2", members);
    ClusterConfig c = Cluster(members);
    CO_ASSERT_OK(co_await gw_->SetCluster(c));
    EXPECT_EQ(gw_->Designated("host1"), for_host1 == "gw1");
    EXPECT_EQ(gw_->Designated("host2"), for_host2 == "gw1");
    // Two buckets, one per member.
    EXPECT_EQ(gw_->RulesFor("host1").gateway_ports,
              (std::vector<uint32_t>{kGatewayOfportBase, kGatewayOfportBase + 1}));
    // Nothing on either host until one of its endpoints changes.
    EXPECT_EQ(Flows("host1") + Flows("host2"), 0u);
    EXPECT_TRUE(AddVpc().ok());
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    CO_ASSERT_OK_AND_ASSIGN(auto b, co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.11", "host2")));
    for (const char* host : {"host1", "host2"}) {
      bool mine = gw_->Designated(host);
      EXPECT_EQ(switches_[host]->group_count(), mine ? 1u : 0u) << host;
    }
  });
}

TEST_F(GatewayTest, AMoveInvalidatesDirectPathsOnEveryHostOfTheVpc) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep01", 5));
    CO_ASSERT_OK(co_await gw_->BindPort("host2", "ep02", 5));
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    CO_ASSERT_OK_AND_ASSIGN(auto b, co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.11", "host2")));
    // A direct path toward ep01 on host2, as the forwarding module installs it.
    std::vector<of::FlowMod> path = {pipeline::DirectPathAdd(100, 0x0a00000a, 0xac1f0101, 60)};
    CO_ASSERT_OK(co_await gw_->programmer("host2")->SendDirectPaths(path));
    size_t host2_with_path = Flows("host2");

    // ep01 moves to host2 (its port there is bound first, as Nova would).
    CO_ASSERT_OK(co_await gw_->BindPort("host2", "ep01", 6));
    CO_ASSERT_OK_AND_ASSIGN(auto moved,
                            co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host2")));
    EXPECT_TRUE(moved.update.moved);
    EXPECT_TRUE(moved.online);
    // Sent to the hosts holding the VPC after the move: host2 only (host1's
    // last VM of the VPC left, so its VPC rules go and nothing there can
    // use a direct path of the VPC). host2: the stale path is gone and
    // ep01's 4 rules are there.
    EXPECT_EQ(DirectPaths("host2"), 0u);
    EXPECT_EQ(Flows("host2"), host2_with_path - 1 + 4);
    // host1 no longer holds the VPC: only its table-miss drops remain, and
    // the cluster's group went with its last VPC.
    EXPECT_EQ(Flows("host1"), 2u);
    EXPECT_EQ(switches_["host1"]->group_count(), 0u);
  });
}

TEST_F(GatewayTest, AnUnreachableHostLeavesTheEndpointPendingUntilItComesBack) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep01", 5));
    switches_["host1"].reset();  // The host's switch is gone.
    auto r = co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("pending"));
    EXPECT_TRUE(gw_->db().FindEndpoint("ep01").has_value());
    // The switch comes back: the wanted rules go in without another call.
    auto sw = std::make_unique<fakes::FakeSwitch>(io_.get_executor());
    CO_ASSERT_TRUE(sw->ListenUnix(dir_.File("host1.mgmt")).ok());
    switches_["host1"] = std::move(sw);
    CO_ASSERT_TRUE(
        co_await testing::WaitUntil([&] { return gw_->programmer("host1")->in_sync(); }, 10000));
    EXPECT_EQ(Flows("host1"), 2u + 3u + 4u);
  });
}

TEST_F(GatewayTest, AnUnreachableHostGetsItsDirectPathDeletesOnceItIsBack) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    CO_ASSERT_OK_AND_ASSIGN(auto b, co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.11", "host2")));
    const of::FlowMod stale = pipeline::DirectPathAdd(100, 0x0a00000a, 0xac1f0101, 60);
    std::vector<of::FlowMod> path = {stale};
    CO_ASSERT_OK(co_await gw_->programmer("host2")->SendDirectPaths(path));
    switches_["host2"].reset();  // host2's OpenFlow listener is gone.
    CO_ASSERT_TRUE(
        co_await testing::WaitUntil([&] { return !gw_->programmer("host2")->connected(); }, 5000));

    // ep01 is readdressed: the path toward its old address on host2 cannot
    // go now. The change is done; the answer says what is pending.
    auto r = co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.20", "host1"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("endpoint ep01 is stored but pending: invalidation on host host2 not "
                          "confirmed"));
    EXPECT_EQ(gw_->db().FindEndpoint("ep01")->ipv4, 0x0a000014u);
    EXPECT_EQ(gw_->PendingInvalidations("host2"), 1u);
    EXPECT_EQ(gw_->PendingInvalidations("host1"), 0u);
    EXPECT_EQ(gw_->counters().invalidations_queued, 1u);

    // host2 comes back still holding the stale path (its datapath kept
    // running): the queued delete goes as soon as the session is up.
    auto sw = std::make_unique<fakes::FakeSwitch>(io_.get_executor());
    CO_ASSERT_OK(sw->Apply(stale));
    CO_ASSERT_TRUE(sw->ListenUnix(dir_.File("host2.mgmt")).ok());
    switches_["host2"] = std::move(sw);
    CO_ASSERT_TRUE(co_await testing::WaitUntil(
        [&] { return DirectPaths("host2") == 0 && gw_->PendingInvalidations("host2") == 0; },
        10000));
    EXPECT_EQ(gw_->counters().invalidations_resent, 1u);
  });
}

// A queued invalidation is resent on the gateway's clock: first at the
// next poll (100 ms), then after a backoff that doubles while the host
// refuses it; nothing goes a millisecond early.
TEST_F(GatewayTest, QueuedInvalidationsAreResentOnTheGatewaysClock) {
  Gateway::Options o = TestGatewayOptions();
  o.clock = &clock_;
  gw_ = std::make_unique<Gateway>(io_.get_executor(), o);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    CO_ASSERT_OK_AND_ASSIGN(auto b, co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.11", "host2")));
    fakes::FakeSwitch& host2 = *switches_["host2"];
    CO_ASSERT_OK(host2.Apply(pipeline::DirectPathAdd(100, 0x0a00000a, 0xac1f0101, 60)));
    CO_ASSERT_TRUE(DirectPaths("host2") == 1u);

    // host2 refuses the delete that ep01's readdress sends: queued.
    host2.RejectFlowMod(1, fakes::BadOutPortError());
    auto r = co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.20", "host1"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    CO_ASSERT_TRUE(gw_->PendingInvalidations("host2") == 1u);
    const uint64_t sent = DirectPathDeletes("host2");

    // Refused again at 100, 200 and 400 ms; accepted at 800 ms.
    Millis now = 0;
    uint64_t attempts = 0;
    for (Millis at : {100, 200, 400, 800}) {
      if (at != 800) host2.RejectFlowMod(1, fakes::BadOutPortError());
      clock_.Advance(at - 1 - now);
      co_await testing::Settle();
      EXPECT_EQ(DirectPathDeletes("host2"), sent + attempts) << "a resend before " << at << " ms";
      clock_.Advance(1);
      now = at;
      co_await testing::Settle();
      EXPECT_EQ(DirectPathDeletes("host2"), sent + attempts + 1) << "no resend at " << at << " ms";
      ++attempts;
      if (at != 800) {
        EXPECT_EQ(DirectPaths("host2"), 1u);
        EXPECT_EQ(gw_->PendingInvalidations("host2"), 1u);
      }
    }
    CO_ASSERT_TRUE(co_await testing::WaitUntil(
        [&] { return DirectPaths("host2") == 0 && gw_->PendingInvalidations("host2") == 0; },
        10000));
    EXPECT_EQ(gw_->counters().invalidations_resent, 1u);
  });
}

TEST_F(GatewayTest, DeletesAndBadInputChangeOnlyWhatTheyShould) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep01", 5));
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    size_t before = Flows("host1");

    auto outside = co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.9.9", "host1"));
    EXPECT_EQ(outside.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(outside.status().message()), HasSubstr("10.0.9.9"));
    auto nohost = co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.12", "host9"));
    EXPECT_EQ(nohost.status().code(), absl::StatusCode::kNotFound);
    auto dup = co_await gw_->UpdateEndpoint(Ep("ep03", "10.0.0.10", "host1"));
    EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(gw_->db().GetStats().endpoints, 1u);
    EXPECT_EQ(Flows("host1"), before);

    ClusterConfig bad = Cluster(OneMember());
    bad.self = "gw7";
    absl::Status s = co_await gw_->SetCluster(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr("self"));
    EXPECT_EQ(gw_->cluster().self, "gw1");

    CO_ASSERT_OK(co_await gw_->DeleteEndpoint("ep01"));
    EXPECT_EQ(Flows("host1"), 2u);  // The VM's and the VPC's rules are gone.
    EXPECT_EQ((co_await gw_->DeleteEndpoint("ep01")).code(), absl::StatusCode::kNotFound);
    CO_ASSERT_OK_AND_ASSIGN(size_t n, co_await gw_->DeleteVpc("vpc1"));
    EXPECT_EQ(n, 0u);
  });
}

TEST_F(GatewayTest, AHostsNewUnderlayInvalidatesDirectPathsTowardItsEndpoints) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    CO_ASSERT_OK_AND_ASSIGN(auto b, co_await gw_->UpdateEndpoint(Ep("ep02", "10.0.0.11", "host2")));
    // Direct paths both ways, as the forwarding module installs them: on
    // host1 toward ep02 at host2's underlay, on host2 toward ep01.
    std::vector<of::FlowMod> to_ep02 = {pipeline::DirectPathAdd(100, 0x0a00000b, 0xac1f0102, 60)};
    std::vector<of::FlowMod> to_ep01 = {pipeline::DirectPathAdd(100, 0x0a00000a, 0xac1f0101, 60)};
    CO_ASSERT_OK(co_await gw_->programmer("host1")->SendDirectPaths(to_ep02));
    CO_ASSERT_OK(co_await gw_->programmer("host2")->SendDirectPaths(to_ep01));
    CO_ASSERT_TRUE(DirectPaths("host1") == 1u && DirectPaths("host2") == 1u);
    const uint64_t before = gw_->counters().invalidations;

    // host2 is renumbered: the path toward ep02 would tunnel to the old
    // address for as long as traffic keeps it from idling out, so it goes.
    ClusterConfig c = Renumbered();
    CO_ASSERT_OK(co_await gw_->SetCluster(std::move(c)));
    EXPECT_EQ(DirectPaths("host1"), 0u);
    EXPECT_EQ(DirectPaths("host2"), 1u);  // Toward ep01, whose host did not change.
    EXPECT_GT(gw_->counters().invalidations, before);
    EXPECT_EQ(gw_->db().FindEndpoint("ep02")->host_underlay, 0xac1f0902u);

    // The same cluster again: nothing more is invalidated.
    const uint64_t after = gw_->counters().invalidations;
    ClusterConfig same = Renumbered();
    CO_ASSERT_OK(co_await gw_->SetCluster(std::move(same)));
    EXPECT_EQ(gw_->counters().invalidations, after);
    EXPECT_EQ(DirectPaths("host2"), 1u);
  });
}

TEST_F(GatewayTest, AddEndpointsIsAllOrNothing) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep11", 5));
    CO_ASSERT_OK_AND_ASSIGN(auto a, co_await gw_->UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    const Stats before = gw_->db().GetStats();
    const size_t host1 = Flows("host1");
    const size_t host2 = Flows("host2");
    const char* cases[][3] = {
        // The bad endpoint, the code, what its message names.
        {"outside", "INVALID_ARGUMENT", "10.0.9.9 is outside network net1"},
        {"taken", "ALREADY_EXISTS", "already used by endpoint ep01"},
        {"twice", "ALREADY_EXISTS", "already used by endpoint ep12"},
        {"host", "NOT_FOUND", "host host9"},
        {"vpc", "NOT_FOUND", "vpc vpc9"},
        {"mac", "INVALID_ARGUMENT", "mac '01:00:00:00:00:14'"},
    };
    for (const auto& c : cases) {
      std::vector<Endpoint> batch = Batch(c[0]);
      absl::Status s = co_await gw_->AddEndpoints(batch);
      EXPECT_EQ(absl::StatusCodeToString(s.code()), c[1]) << c[0] << ": " << s;
      EXPECT_THAT(
          std::string(s.message()),
          ::testing::AllOf(::testing::StartsWith("endpoints[3]: endpoint ep14: "), HasSubstr(c[2])))
          << c[0];
      // Nothing of the batch stays: not the good endpoints before the bad one.
      EXPECT_EQ(gw_->db().GetStats(), before) << c[0];
      EXPECT_FALSE(gw_->db().FindEndpoint("ep11").has_value()) << c[0];
      EXPECT_FALSE(gw_->db().FindEndpoint("ep13").has_value()) << c[0];
      EXPECT_FALSE(gw_->db().LookupByVniIp(100, 0x0a00000b).has_value()) << c[0];
      EXPECT_EQ(Flows("host1"), host1) << c[0];
      EXPECT_EQ(Flows("host2"), host2) << c[0];
    }
    // The same batch without the bad endpoint goes in whole.
    std::vector<Endpoint> good = Batch();
    CO_ASSERT_OK(co_await gw_->AddEndpoints(good));
    EXPECT_EQ(gw_->db().GetStats().endpoints, before.endpoints + 3);
  });
}

TEST_F(GatewayTest, AddEndpointsProgramsTheirHosts) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_TRUE(Flows("host1") + Flows("host2") == 0u);  // Untouched so far.
    const size_t empty = 2;  // Table-miss drops, with a host's first rules.
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep11", 5));  // Bound before it exists.
    std::vector<Endpoint> batch = Batch();
    CO_ASSERT_OK(co_await gw_->AddEndpoints(batch));
    // ep11 is bound: its host holds its 4 rules with the VPC's 3, confirmed.
    EXPECT_EQ(Flows("host1"), empty + 3 + 4);
    EXPECT_TRUE(gw_->programmer("host1")->in_sync());
    EXPECT_EQ(gw_->RulesFor("host1").vms.size(), 1u);
    // ep13 is not bound yet: host2 gets the VPC's rules only, until it is.
    EXPECT_EQ(Flows("host2"), empty + 3);
    CO_ASSERT_OK(co_await gw_->BindPort("host2", "ep13", 9));
    EXPECT_EQ(Flows("host2"), empty + 3 + 4);
    CO_ASSERT_OK(co_await gw_->BindPort("host1", "ep12", 6));
    EXPECT_EQ(Flows("host1"), empty + 3 + 8);
  });
}

TEST_F(GatewayTest, AddEndpointsOnAnUnreachableHostAreStoredAndPending) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await gw_->BindPort("host2", "ep13", 9));
    switches_["host2"].reset();
    std::vector<Endpoint> batch = Batch();
    absl::Status s = co_await gw_->AddEndpoints(batch);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("stored but pending"));
    EXPECT_EQ(gw_->db().GetStats().endpoints, 3u);
    EXPECT_EQ(Flows("host1"), 2u + 3u);  // host1 was programmed all the same.
    // host2 comes back: its wanted rules go in without another call.
    auto sw = std::make_unique<fakes::FakeSwitch>(io_.get_executor());
    CO_ASSERT_TRUE(sw->ListenUnix(dir_.File("host2.mgmt")).ok());
    switches_["host2"] = std::move(sw);
    CO_ASSERT_TRUE(
        co_await testing::WaitUntil([&] { return gw_->programmer("host2")->in_sync(); }, 10000));
    EXPECT_EQ(Flows("host2"), 2u + 3u + 4u);
  });
}

}  // namespace
}  // namespace shortcut::gateway
