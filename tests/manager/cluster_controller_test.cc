// The cluster controller with the real gateway driver, fake gateways and an
// in-memory state of record, time driven by the test. Membership is read
// back from the store's rows, and what each gateway was told from the
// gateway's own content (compared with DesiredContent, an oracle that does
// not depend on the controller).
#include "src/manager/cluster_controller.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manager/driver.h"
#include "tests/manager/driver_fixture.h"
#include "tests/manager/memory_store.h"
#include "tests/manager/test_state.h"

namespace shortcut::manager {
namespace {

using ::testing::HasSubstr;
using testing::HoldsExactly;

class ClusterControllerTest : public ::testing::Test {
 protected:
  ClusterControllerTest() : store_(io_.get_executor()) {
    testing::FillSmallState(store_);  // Cluster 1: gw-a gw-b (blue); 2: gw-c (red).
    store_.PutGateway(testing::Gateway("gw-s", "172.31.2.9", 0, 60009));  // A spare.
    Settings s;
    s.health_deadline_ms = 1000;
    s.min_cluster_members = 1;
    s.hold_down_ms = 5000;
    store_.PutSettings(s);
    (void)store_.TakeChanges();
  }
  ~ClusterControllerTest() override {
    if (controller_) controller_->Stop();
    if (driver_) driver_->Stop();
    EXPECT_TRUE(testing::RunUntil(io_, [&] {
      return (!controller_ || controller_->finished()) && (!driver_ || driver_->finished());
    }));
  }

  void Start(Millis tick = 100) {
    GatewayDriver::Options d;
    d.health_interval = 200;
    d.backoff_min = 100;
    d.backoff_max = 400;
    driver_ = std::make_unique<GatewayDriver>(io_.get_executor(), store_, gateways_.Factory(),
                                              timers_, d);
    ClusterController::Options c;
    c.tick = tick;
    c.probe_interval = 100;
    c.drain_grace = 300;
    GatewayDriver* driver = driver_.get();
    controller_ = std::make_unique<ClusterController>(
        io_.get_executor(), store_, gateways_.Factory(), timers_,
        ClusterController::DriverProgress{
            [driver](uint32_t cluster) { return driver->ClusterSettled(cluster); },
            [driver](uint32_t cluster, const std::string& vpc) {
              return driver->VpcSettled(cluster, vpc);
            }},
        c);
    driver_->Start();
    controller_->Start();
  }

  // Moves time by `ms` in steps of 20 ms, running what each step wakes, one
  // handler at a time; stops as soon as `done()` (checked after each).
  bool Advance(
      Millis ms, const std::function<bool()>& done = [] { return false; }) {
    for (Millis t = 0; t < ms; t += 20) {
      timers_.Advance(20);
      for (int i = 0; i < 10000; ++i) {
        if (done()) return true;
        io_.restart();
        if (io_.poll_one() == 0) break;
      }
    }
    return done();
  }
  // Advances time until `done()`, at most `limit` ms of the test's time.
  bool AdvanceUntil(const std::function<bool()>& done, Millis limit = 20000) {
    return done() || Advance(limit, done);
  }

  testing::FakeGateway& gw(const std::string& name) { return gateways_.Get(name); }
  const GatewayRow& Row(const std::string& name) { return store_.state().gateways.at(name); }
  bool Holds(const std::string& name) {
    return static_cast<bool>(
        HoldsExactly(gw(name).Content(), DesiredContent(store_.state(), name)));
  }
  // Whether `member` is in the buckets as `holder` was last told.
  std::optional<bool> ServingAsToldTo(const std::string& holder, const std::string& member) {
    GatewayContent c = gw(holder).Content();
    for (const gwv1::GatewayMember& m : c.cluster.members()) {
      if (m.name() == member) return !m.standby();
    }
    return std::nullopt;
  }

  asio::io_context io_;
  testing::MemoryStore store_;
  testing::FakeGateways gateways_;
  ManualTimers timers_{1000};
  std::unique_ptr<GatewayDriver> driver_;
  std::unique_ptr<ClusterController> controller_;
};

TEST_F(ClusterControllerTest, NothingChangesWhileEveryGatewayAnswers) {
  Start();
  Advance(3000);
  EXPECT_EQ(store_.membership_writes, 0);
  EXPECT_EQ(Row("gw-a").role, GatewayRole::kServing);
  EXPECT_EQ(Row("gw-s").cluster_id, 0u);
  EXPECT_TRUE(Holds("gw-a"));
  EXPECT_EQ(ServingAsToldTo("gw-a", "gw-b"), true);
  EXPECT_EQ(controller_->health().size(), 4u);  // Spares are probed too.
}

TEST_F(ClusterControllerTest, AFailedMemberLeavesTheBucketsThenRejoinsOnceReloaded) {
  Start();
  Advance(500);
  gw("gw-a").down = true;
  // Not before its deadline (1000 ms without an ok answer)...
  Advance(600);
  EXPECT_EQ(Row("gw-a").role, GatewayRole::kServing);
  // ... and soon after it: out of the buckets, still a member.
  ASSERT_TRUE(AdvanceUntil([&] { return Row("gw-a").role == GatewayRole::kJoining; }, 1000));
  EXPECT_EQ(Row("gw-a").cluster_id, 1u);
  // gw-b is told: gw-a is standby, so gw-b is designated for every host.
  ASSERT_TRUE(AdvanceUntil([&] { return ServingAsToldTo("gw-b", "gw-a") == false; }));
  EXPECT_TRUE(Holds("gw-b"));

  // It comes back empty (a restart). It is reloaded, but joins only once
  // its bridge holds its flows and it has answered for a whole deadline.
  gw("gw-a").Restart();
  gw("gw-a").bridge_behind = true;
  gw("gw-a").down = false;
  ASSERT_TRUE(AdvanceUntil([&] { return Holds("gw-a"); }));
  Advance(2000);
  EXPECT_EQ(Row("gw-a").state, GatewayState::kLoading);
  EXPECT_THAT(Row("gw-a").detail, HasSubstr("bridge"));
  EXPECT_EQ(Row("gw-a").role, GatewayRole::kJoining);
  gw("gw-a").bridge_behind = false;
  ASSERT_TRUE(AdvanceUntil([&] { return Row("gw-a").role == GatewayRole::kServing; }, 3000));
  EXPECT_EQ(Row("gw-a").state, GatewayState::kReady);
  ASSERT_TRUE(AdvanceUntil([&] {
    return ServingAsToldTo("gw-b", "gw-a") == true && ServingAsToldTo("gw-a", "gw-a") == true;
  }));
  EXPECT_TRUE(Holds("gw-a"));
  EXPECT_TRUE(Holds("gw-b"));
}

TEST_F(ClusterControllerTest, ADrainedMemberLeavesTheBucketsBeforeItIsUnloaded) {
  Start();
  Advance(500);
  GatewayRow b = Row("gw-b");
  b.role = GatewayRole::kDraining;  // As RemoveClusterMember writes it.
  store_.PutGateway(b);
  ASSERT_TRUE(AdvanceUntil([&] { return Row("gw-b").cluster_id == 0; }));
  // At that point gw-a, the member left, had been told gw-b takes no traffic.
  EXPECT_EQ(ServingAsToldTo("gw-a", "gw-b"), false);
  EXPECT_FALSE(gw("gw-b").Content().vpcs.empty());  // Not unloaded before.
  ASSERT_TRUE(AdvanceUntil([&] { return gw("gw-b").Content().vpcs.empty(); }));
  EXPECT_EQ(driver_->unloads(), 1u);
  ASSERT_TRUE(AdvanceUntil([&] { return !ServingAsToldTo("gw-a", "gw-b").has_value(); }));
  EXPECT_TRUE(Holds("gw-a"));
  EXPECT_EQ(Row("gw-a").role, GatewayRole::kServing);
}

TEST_F(ClusterControllerTest, AClusterBelowItsMinimumGetsASpareThatLoadsBeforeItServes) {
  Settings s = store_.state().settings;
  s.min_cluster_members = 2;  // Cluster 2 has one member.
  store_.PutSettings(s);
  gw("gw-s").bridge_behind = true;
  Start();
  ASSERT_TRUE(AdvanceUntil([&] { return Row("gw-s").cluster_id == 2; }));
  EXPECT_EQ(Row("gw-s").role, GatewayRole::kJoining);
  ASSERT_TRUE(AdvanceUntil([&] { return Holds("gw-s"); }));
  Advance(2000);
  EXPECT_EQ(Row("gw-s").role, GatewayRole::kJoining);  // Its bridge is behind.
  EXPECT_EQ(ServingAsToldTo("gw-c", "gw-s"), false);
  gw("gw-s").bridge_behind = false;
  ASSERT_TRUE(AdvanceUntil([&] { return Row("gw-s").role == GatewayRole::kServing; }));
  ASSERT_TRUE(AdvanceUntil([&] { return ServingAsToldTo("gw-c", "gw-s") == true; }));
  // Cluster 1 (two members already) was left alone.
  EXPECT_EQ(Row("gw-a").cluster_id, 1u);
  EXPECT_FALSE(ServingAsToldTo("gw-a", "gw-s").has_value());
}

TEST_F(ClusterControllerTest, ADryRunSaysWhatWouldBeDoneAndChangesNothing) {
  Start(/*tick=*/1'000'000);  // Plans only on request (after the first tick).
  Advance(500);
  gw("gw-c").down = true;
  Advance(1500);
  auto rebalance = [&](bool dry) {
    std::optional<absl::StatusOr<cluster::RebalancePlan>> out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out = co_await controller_->Rebalance(dry); },
        asio::detached);
    EXPECT_TRUE(testing::RunUntil(io_, [&] { return out.has_value(); }));
    return *out;
  };
  auto plan = rebalance(true);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(cluster::FormatPlan(*plan),
              HasSubstr("take gateway gw-c out of cluster 2's buckets: failed"));
  EXPECT_EQ(Row("gw-c").role, GatewayRole::kServing);
  EXPECT_EQ(store_.membership_writes, 0);
  plan = rebalance(false);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Row("gw-c").role, GatewayRole::kJoining);
  EXPECT_EQ(store_.membership_writes, 1);
}

// Whether the gateway holds blue (nullopt: not at all) as standby.
std::optional<bool> BlueIn(testing::FakeGateway& g) {
  GatewayContent c = g.Content();
  auto it = c.vpcs.find("blue");
  if (it == c.vpcs.end()) return std::nullopt;
  return it->second.vpc.standby();
}

TEST_F(ClusterControllerTest, AVpcMovesMakeBeforeBreak) {
  Start();
  ASSERT_TRUE(AdvanceUntil([&] { return driver_->settled() && BlueIn(gw("gw-a")) == false; }));
  VpcRow blue = store_.state().vpcs.at("blue");
  blue.moving_to = 2;  // As MoveVpc writes it.
  blue.move_phase = MovePhase::kLoading;
  store_.PutVpc(blue);
  // Checked after every step: until cluster 2 (gw-c) serves blue, both
  // members of cluster 1 serve it; gw-c serves it only after holding it
  // as standby.
  bool broken = false;
  bool standby_seen = false;
  bool switching_seen = false;
  auto step = [&] {
    std::optional<bool> c = BlueIn(gw("gw-c"));
    if (c == true) standby_seen = true;
    if (c == false && !standby_seen) broken = true;  // Served before it was loaded.
    if (c != false && (BlueIn(gw("gw-a")) != false || BlueIn(gw("gw-b")) != false)) broken = true;
    const VpcRow& now = store_.state().vpcs.at("blue");
    switching_seen = switching_seen || now.move_phase == MovePhase::kSwitching;
    return now.cluster_id == 2 && now.moving_to == 0 && !BlueIn(gw("gw-a")).has_value() &&
           !BlueIn(gw("gw-b")).has_value();
  };
  ASSERT_TRUE(AdvanceUntil(step, 10000));
  EXPECT_FALSE(broken);
  EXPECT_TRUE(standby_seen);
  EXPECT_TRUE(switching_seen);
  EXPECT_EQ(store_.state().vpcs.at("blue").move_phase, MovePhase::kNone);
  EXPECT_EQ(gw("gw-c").Count("SetVpcStandby blue 0"), 1u);
  // The old cluster dropped it keeping the direct paths (endpoints unchanged).
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc blue keep_direct_paths"), 1u);
  EXPECT_EQ(gw("gw-b").Count("DeleteVpc blue keep_direct_paths"), 1u);
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc blue"), 1u);
  EXPECT_EQ(BlueIn(gw("gw-c")), false);
  EXPECT_TRUE(Holds("gw-a"));
  EXPECT_TRUE(Holds("gw-c"));
}

TEST_F(ClusterControllerTest, AMoveWaitsForTheNewClusterAndCarriesChangesMadeMeanwhile) {
  Start();
  ASSERT_TRUE(AdvanceUntil([&] { return driver_->settled(); }));
  gw("gw-c").bridge_behind = true;  // Its bridge does not confirm the VPC's flows.
  VpcRow blue = store_.state().vpcs.at("blue");
  blue.moving_to = 2;
  blue.move_phase = MovePhase::kLoading;
  store_.PutVpc(blue);
  ASSERT_TRUE(AdvanceUntil([&] { return BlueIn(gw("gw-c")) == true; }));
  // A VM of blue created meanwhile reaches both clusters.
  store_.PutEndpoint(testing::Ep("b3", "blue", "web", "10.0.0.3", "h1", 9));
  Advance(2000);
  EXPECT_EQ(store_.state().vpcs.at("blue").move_phase, MovePhase::kLoading);
  EXPECT_EQ(gw("gw-c").Count("SetVpcStandby"), 0u);
  EXPECT_TRUE(gw("gw-c").HoldsEndpoint("b3"));
  EXPECT_TRUE(gw("gw-a").HoldsEndpoint("b3"));
  EXPECT_TRUE(gw("gw-b").HoldsEndpoint("b3"));
  gw("gw-c").bridge_behind = false;
  ASSERT_TRUE(AdvanceUntil([&] {
    const VpcRow& now = store_.state().vpcs.at("blue");
    return now.cluster_id == 2 && now.moving_to == 0 && !BlueIn(gw("gw-a")).has_value();
  }));
  EXPECT_TRUE(gw("gw-c").HoldsEndpoint("b3"));
  EXPECT_EQ(BlueIn(gw("gw-c")), false);
}

TEST_F(ClusterControllerTest, AMoveCancelledWhileLoadingLeavesTheVpcWhereItWas) {
  Start();
  ASSERT_TRUE(AdvanceUntil([&] { return driver_->settled(); }));
  gw("gw-c").bridge_behind = true;
  VpcRow blue = store_.state().vpcs.at("blue");
  blue.moving_to = 2;
  blue.move_phase = MovePhase::kLoading;
  store_.PutVpc(blue);
  ASSERT_TRUE(AdvanceUntil([&] { return BlueIn(gw("gw-c")) == true; }));
  blue.moving_to = 0;  // As MoveVpc to its own cluster writes it.
  blue.move_phase = MovePhase::kNone;
  store_.PutVpc(blue);
  ASSERT_TRUE(AdvanceUntil([&] { return !BlueIn(gw("gw-c")).has_value(); }));
  EXPECT_EQ(gw("gw-c").Count("DeleteVpc blue keep_direct_paths"), 1u);
  EXPECT_EQ(gw("gw-c").Count("SetVpcStandby"), 0u);
  Advance(1000);
  EXPECT_EQ(store_.state().vpcs.at("blue").cluster_id, 1u);
  EXPECT_EQ(BlueIn(gw("gw-a")), false);
  EXPECT_EQ(BlueIn(gw("gw-b")), false);
}

TEST_F(ClusterControllerTest, AnOverloadedClusterWithoutSpareGivesItsSmallestVpcAway) {
  // No spare: gw-s serves cluster 2. Cluster 1 holds blue (2 VMs) and
  // green (4): 3 VMs per gateway, over 2; cluster 2 (red, 1 VM) has room.
  store_.PutGateway(testing::Gateway("gw-s", "172.31.2.9", 2, 60009));
  store_.PutVpc(VpcRow{{"green", 300, "02:00:00:00:03:00"}, 1});
  store_.PutNetwork(NetworkRow{"green", {"n", "10.2.0.0/24", ""}});
  for (int i = 1; i <= 4; ++i) {
    store_.PutEndpoint(
        testing::Ep(absl::StrCat("g", i), "green", "n", absl::StrCat("10.2.0.", i), "h1", 20 + i));
  }
  Settings s = store_.state().settings;
  s.overload_vms_per_gateway = 2;
  store_.PutSettings(s);
  (void)store_.TakeChanges();
  Start();
  ASSERT_TRUE(AdvanceUntil([&] {
    const VpcRow& blue = store_.state().vpcs.at("blue");
    return blue.cluster_id == 2 && blue.moving_to == 0;
  }));
  EXPECT_EQ(store_.state().vpcs.at("green").cluster_id, 1u);
  EXPECT_EQ(store_.state().vpcs.at("green").moving_to, 0u);
  ASSERT_TRUE(AdvanceUntil([&] { return !BlueIn(gw("gw-a")).has_value(); }));
  EXPECT_EQ(BlueIn(gw("gw-c")), false);
  EXPECT_EQ(BlueIn(gw("gw-s")), false);
  EXPECT_EQ(gw("gw-c").Count("SetVpcStandby blue 0"), 1u);
  // Held down: it does not move again (cluster 1 is still over its aim).
  Advance(3000);
  EXPECT_EQ(store_.state().vpcs.at("blue").cluster_id, 2u);
  EXPECT_EQ(store_.state().vpcs.at("green").cluster_id, 1u);
  EXPECT_EQ(store_.state().vpcs.at("green").moving_to, 0u);
}

TEST_F(ClusterControllerTest, AFailedWriteIsPlannedAgain) {
  store_.fail_writes = true;
  Start();
  Advance(500);
  gw("gw-c").down = true;
  Advance(2000);
  EXPECT_GT(store_.membership_writes, 1);  // Tried at every tick.
  EXPECT_EQ(Row("gw-c").role, GatewayRole::kServing);
  store_.fail_writes = false;
  ASSERT_TRUE(AdvanceUntil([&] { return Row("gw-c").role == GatewayRole::kJoining; }, 500));
}

}  // namespace
}  // namespace shortcut::manager
