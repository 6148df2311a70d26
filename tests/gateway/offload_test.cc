// The forwarder's offload policy and host budgets against simulated hosts
// and a simulated gateway bridge: with `threshold`, a first packet gets a
// counting flow on the bridge and no direct path, and the path comes once
// the bridge's counters cross; with a budget, a host holds at most its
// share, evicting the least recently used path or refusing the new one.
// What is checked is what the switches hold.
#include <asio/io_context.hpp>

#include "gtest/gtest.h"
#include "src/gateway/forwarder.h"
#include "src/gateway/gateway_bridge.h"
#include "src/packet/packet.h"
#include "src/pipeline/gateway_pipeline.h"
#include "src/pipeline/pipeline.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/co_assert.h"
#include "tests/support/poll.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;

constexpr Ipv4 kHost1 = 0xac1f0101;  // 172.31.1.1
constexpr Ipv4 kHost2 = 0xac1f0102;
constexpr uint32_t kVni = 100;
constexpr Ipv4 kA = 0x0a00000a;   // 10.0.0.10 on host1
constexpr Ipv4 kX1 = 0x0a000014;  // 10.0.0.20.. on host2
constexpr Ipv4 kX2 = 0x0a000015;
constexpr Ipv4 kX3 = 0x0a000016;

of::PacketIn PacketIn(Ipv4 from_host, Ipv4 src, Ipv4 dst) {
  return TestPacketIn(from_host, kVni, src, dst);
}

// Destinations of the direct paths a host holds, with their cookies' tags.
std::map<Ipv4, uint16_t> DirectPaths(const fakes::FakeSwitch& sw) {
  std::map<Ipv4, uint16_t> out;
  for (const of::FlowStats& f : sw.Flows()) {
    if ((f.cookie & pipeline::kCookieKindMask) != pipeline::kCookieDirect) continue;
    out[static_cast<Ipv4>(f.match.Find(of::Field::kIpv4Dst)->ValueU64())] =
        static_cast<uint16_t>((f.cookie >> 24) & 0xffff);
  }
  return out;
}

std::vector<of::FlowStats> CountFlows(const fakes::FakeSwitch& sw) {
  std::vector<of::FlowStats> out;
  for (const of::FlowStats& f : sw.Flows()) {
    if ((f.cookie & pipeline::kCookieKindMask) == pipeline::kCookieGatewayCount) out.push_back(f);
  }
  return out;
}

class OffloadTest : public ::testing::Test {
 protected:
  void Build(model::OffloadPolicy policy, uint32_t host1_budget, PathBudget::Action action) {
    policy_ = policy;
    host1_budget_ = host1_budget;
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1", "host2", "gw"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    gw_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
    GatewayBridge::Options bo;
    bo.target = *ofconn::ParseTarget(targets_["gw"]);
    bo.session.min_backoff = 50;
    bo.session.connection.probe_interval = 0;
    Forwarder::Options fo;
    fo.clock = &clock_;
    fo.budget_action = action;
    fwd_ = std::make_unique<Forwarder>(io_.get_executor(), *gw_, fo);
    Forwarder* fwd = fwd_.get();
    bridge_ =
        GatewayBridge::Start(io_.get_executor(), bo,
                             [fwd](std::span<const of::PacketIn> pins) { fwd->OnPacketIns(pins); });
    gw_->AttachBridge(bridge_);
  }
  void TearDown() override {
    fwd_.reset();
    if (bridge_) bridge_->Stop();
  }
  ClusterConfig Cluster() {
    ClusterConfig c;
    c.cluster_id = 9;
    c.self = "gw1";
    c.members = {{"gw1", "172.31.2.1"}};  // Tunnel ofport 60001: tag 1.
    c.hosts = {{"host1", "172.31.1.1", targets_["host1"], "", host1_budget_},
               {"host2", "172.31.1.2", targets_["host2"], ""}};
    return c;
  }
  static Endpoint Ep(const std::string& key, Ipv4 ip, const std::string& host) {
    return {
        key,  "vpc1", "net1", FormatIpv4(ip), "", "02:00:00:00:00:" + key.substr(key.size() - 2),
        host, key};
  }
  asio::awaitable<void> Prepare() {
    ClusterConfig c = Cluster();
    EXPECT_TRUE((co_await gw_->SetCluster(std::move(c))).ok());
    Vpc vpc{"vpc1", kVni, "02:5c:00:00:00:01"};
    vpc.offload = policy_;
    std::vector<Network> networks = {{"net1", "10.0.0.0/16", ""}};
    EXPECT_TRUE(gw_->AddVpc(vpc, networks).ok());
    for (const Endpoint& e : {Ep("ep01", kA, "host1"), Ep("ep02", kX1, "host2"),
                              Ep("ep03", kX2, "host2"), Ep("ep04", kX3, "host2")}) {
      EXPECT_TRUE((co_await gw_->UpdateEndpoint(e)).ok());
    }
    EXPECT_TRUE((co_await bridge_->WaitInstalled(5000)).ok());
  }

  asio::io_context io_;
  testing::TempDir dir_{"shortcut-offload"};
  ManualClock clock_{1000};
  model::OffloadPolicy policy_;
  uint32_t host1_budget_ = 0;
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::unique_ptr<Gateway> gw_;
  std::shared_ptr<GatewayBridge> bridge_;
  std::unique_ptr<Forwarder> fwd_;
};

TEST_F(OffloadTest, ThresholdCountsOnTheBridgeAndOffloadsOnlyOnceTheFlowCrosses) {
  Build({model::OffloadMode::kThreshold, 5, 0, 1000}, 0, PathBudget::Action::kEvict);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    fakes::FakeSwitch& gw = *switches_["gw"];
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    CO_ASSERT_OK(co_await bridge_->WaitInstalled(5000));
    EXPECT_TRUE(DirectPaths(*switches_["host1"]).empty());
    EXPECT_TRUE(DirectPaths(*switches_["host2"]).empty());
    std::vector<of::FlowStats> counting = CountFlows(gw);
    CO_ASSERT_TRUE(counting.size() == 1u);
    const of::FlowStats& cf = counting[0];
    // table 20, priority 150, tun_src=host1,metadata=VNI,ip,nw_dst=X1,
    // actions=set_field:host2->tun_dst,goto_table:31 (out without a copy).
    EXPECT_EQ(cf.table_id, 20);
    EXPECT_EQ(cf.priority, 150);
    EXPECT_EQ(cf.idle_timeout, 10);
    EXPECT_EQ(cf.match.Find(of::Field::kInPort), nullptr);  // A host's BFD port or the shared one.
    EXPECT_EQ(cf.match.Find(of::Field::kTunIpv4Src)->ValueU64(), kHost1);
    EXPECT_EQ(cf.match.Find(of::Field::kMetadata)->ValueU64(), kVni);
    EXPECT_EQ(cf.match.Find(of::Field::kIpv4Dst)->ValueU64(), kX1);
    CO_ASSERT_TRUE(cf.instructions.apply_actions.size() == 1u);
    const auto* set = std::get_if<of::ActionSetField>(&cf.instructions.apply_actions[0]);
    CO_ASSERT_TRUE(set != nullptr);
    EXPECT_EQ(set->field, of::Field::kTunIpv4Dst);
    EXPECT_EQ(set->value, of::FieldBytesFromU64(of::Field::kTunIpv4Dst, kHost2));
    EXPECT_EQ(cf.instructions.goto_table, std::optional<uint8_t>(31));
    // Another copy of the same flow (it raced the counting flow): nothing new.
    uint64_t mods = gw.counters().flow_mods;
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    EXPECT_EQ(fwd_->counters().counting, 1u);
    EXPECT_EQ(gw.counters().flow_mods, mods);
    // 5 packets within the window: not more than 5, stays on the gateway.
    EXPECT_EQ(gw.AddTraffic(20, cf.match, 5, 500), 1u);
    clock_.Advance(250);
    CO_ASSERT_OK(co_await fwd_->PollThresholds());
    co_await fwd_->Drain();
    EXPECT_TRUE(DirectPaths(*switches_["host1"]).empty());
    EXPECT_EQ(fwd_->counters().threshold_offloads, 0u);
    // One more: crossed. Both paths, tagged 1 (gw1).
    gw.AddTraffic(20, cf.match, 1, 100);
    clock_.Advance(250);
    CO_ASSERT_OK(co_await fwd_->PollThresholds());
    co_await fwd_->Drain();
    EXPECT_EQ(DirectPaths(*switches_["host1"]), (std::map<Ipv4, uint16_t>{{kX1, 1}}));
    EXPECT_EQ(DirectPaths(*switches_["host2"]), (std::map<Ipv4, uint16_t>{{kA, 1}}));
    EXPECT_EQ(fwd_->counters().threshold_offloads, 1u);
    EXPECT_EQ(fwd_->counters().setups, 1u);
    EXPECT_EQ(fwd_->vpc_counters().at(kVni).setups, 1u);
    // X1 goes: its counting flows go from the bridge with it.
    CO_ASSERT_OK(co_await gw_->DeleteEndpoint("ep02"));
    CO_ASSERT_OK(co_await bridge_->WaitInstalled(5000));
    EXPECT_TRUE(CountFlows(gw).empty());
  });
}

TEST_F(OffloadTest, LeavingThresholdDeletesTheCountingFlowsSoTheFlowComesBack) {
  Build({model::OffloadMode::kThreshold, 1000, 0, 0}, 0, PathBudget::Action::kEvict);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX2)));
    CO_ASSERT_OK(co_await bridge_->WaitInstalled(5000));
    EXPECT_EQ(CountFlows(*switches_["gw"]).size(), 2u);
    EXPECT_EQ(fwd_->CountingPerVni().at(kVni), 2u);
    CO_ASSERT_OK(gw_->SetVpcOffload("vpc1", model::OffloadPolicy{}));
    CO_ASSERT_OK(co_await bridge_->WaitInstalled(5000));
    EXPECT_TRUE(CountFlows(*switches_["gw"]).empty());
    // The next read forgets them; the next copy sets up at once.
    CO_ASSERT_OK(co_await fwd_->PollThresholds());
    EXPECT_EQ(fwd_->CountingPerVni().count(kVni), 0u);
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    EXPECT_EQ(DirectPaths(*switches_["host1"]).size(), 1u);
    EXPECT_EQ(gw_->SetVpcOffload("nope", {}).code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(gw_->SetVpcOffload("vpc1", {model::OffloadMode::kThreshold, 0, 0, 0}).code(),
              absl::StatusCode::kInvalidArgument);
  });
}

TEST_F(OffloadTest, AtItsBudgetAHostLosesItsLeastRecentlyUsedPath) {
  Build({}, 2, PathBudget::Action::kEvict);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    fakes::FakeSwitch& h1 = *switches_["host1"];
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    clock_.Advance(10);
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX2)));
    clock_.Advance(10);
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX3)));
    // X1, the oldest and never seen used, went for X3.
    EXPECT_EQ(DirectPaths(h1), (std::map<Ipv4, uint16_t>{{kX2, 1}, {kX3, 1}}));
    EXPECT_EQ(fwd_->counters().paths_evicted, 1u);
    EXPECT_EQ(DirectPaths(*switches_["host2"]).size(), 1u);  // Toward A; no budget there.
    // X2 carries traffic; a scan sees it. Past the merge window, X1 again
    // evicts X3, idle since it was installed.
    of::Match x2 = pipeline::DirectPathAdd(kVni, kX2, kHost2, 60).match;
    EXPECT_EQ(h1.AddTraffic(pipeline::kTableEgress, x2, 3, 300), 1u);
    clock_.Advance(100);
    co_await fwd_->ScanBudgets();
    EXPECT_EQ(fwd_->counters().budget_reads, 1u);
    clock_.Advance(2000);
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    EXPECT_EQ(DirectPaths(h1), (std::map<Ipv4, uint16_t>{{kX1, 1}, {kX2, 1}}));
    EXPECT_EQ(fwd_->counters().paths_evicted, 2u);
    std::optional<PathBudget::HostView> view = fwd_->budget().View(kHost1);
    CO_ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->budget, 2u);
    EXPECT_EQ(view->limit, 2u);
    EXPECT_EQ(view->own, 2u);
  });
}

TEST_F(OffloadTest, WithRefuseAFullHostKeepsItsPathsAndTheNewFlowStaysOnTheGateway) {
  Build({}, 1, PathBudget::Action::kRefuse);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX1)));
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kA, kX2)));
    EXPECT_EQ(DirectPaths(*switches_["host1"]), (std::map<Ipv4, uint16_t>{{kX1, 1}}));
    EXPECT_EQ(fwd_->counters().paths_refused, 1u);
    // The reverse of A→X2 went in on host2, which has no budget.
    EXPECT_EQ(DirectPaths(*switches_["host2"]).size(), 1u);
    EXPECT_EQ(fwd_->budget().View(kHost1)->refused, 1u);
  });
}

}  // namespace
}  // namespace shortcut::gateway
