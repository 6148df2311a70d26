// The gateway driver against fake gateways and an in-memory state of
// record, time driven by the test. Every check of a gateway compares its
// whole content with DesiredContent (an oracle independent of the driver's
// bookkeeping), and statuses are read back from the store's rows.
#include "src/manager/driver.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/manager/driver_fixture.h"
#include "tests/manager/memory_store.h"
#include "tests/manager/test_state.h"

namespace shortcut::manager {
namespace {

using ::testing::Contains;
using testing::Ep;
using ::testing::HasSubstr;
using testing::HoldsExactly;
using ::testing::Not;

class DriverTest : public ::testing::Test {
 protected:
  DriverTest() : store_(io_.get_executor()) {
    testing::FillSmallState(store_);
    (void)store_.TakeChanges();  // The driver starts from the state as it is.
  }
  ~DriverTest() override {
    if (!driver_) return;
    driver_->Stop();
    EXPECT_TRUE(RunUntil([&] { return driver_->finished(); }));
  }

  void StartDriver() {
    GatewayDriver::Options o;
    o.health_interval = 500;
    o.backoff_min = 100;
    o.backoff_max = 1000;
    o.poll_interval = 200;
    driver_ = std::make_unique<GatewayDriver>(io_.get_executor(), store_, gateways_.Factory(),
                                              timers_, o);
    driver_->Start();
  }

  testing::FakeGateway& gw(const std::string& name) { return gateways_.Get(name); }
  std::optional<GatewayContent> Desired(const std::string& name) {
    return DesiredContent(store_.state(), name);
  }
  bool Holds(const std::string& name) {
    return static_cast<bool>(HoldsExactly(gw(name).Content(), Desired(name)));
  }
  // Until the driver has nothing left to do and every gateway holds exactly
  // its desired content.
  bool Settle() {
    return testing::RunUntil(
        io_, [&] { return driver_->settled() && Holds("gw-a") && Holds("gw-b") && Holds("gw-c"); });
  }
  const GatewayRow& Row(const std::string& name) { return store_.state().gateways.at(name); }
  EndpointStatus Status(const std::string& key) { return store_.state().endpoints.at(key).status; }
  bool RunUntil(const std::function<bool()>& done) { return testing::RunUntil(io_, done); }

  asio::io_context io_;
  testing::MemoryStore store_;
  testing::FakeGateways gateways_;
  ManualTimers timers_;
  std::unique_ptr<GatewayDriver> driver_;
};

TEST_F(DriverTest, FirstContactLoadsEachGatewayWithItsClusterOnly) {
  StartDriver();
  ASSERT_TRUE(Settle());
  for (const char* name : {"gw-a", "gw-b", "gw-c"}) {
    EXPECT_TRUE(HoldsExactly(gw(name).Content(), Desired(name))) << name;
    EXPECT_EQ(Row(name).state, GatewayState::kReady) << name;
    EXPECT_EQ(Row(name).instance_id, gw(name).instance_id());
    EXPECT_EQ(Row(name).detail, "");
  }
  EXPECT_EQ(gw("gw-c").Content().vpcs.count("blue"), 0u);
  EXPECT_EQ(gw("gw-a").Content().vpcs.count("red"), 0u);
  // SetCluster before any VPC: the VPC's endpoints name its hosts.
  EXPECT_EQ(gw("gw-a").calls()[1], "SetCluster");
  EXPECT_EQ(gw("gw-a").calls()[2], "AddVpc blue");
  // Then, everything sent, the load is complete: once, after the VPCs.
  for (const char* name : {"gw-a", "gw-b", "gw-c"}) {
    const auto& calls = gw(name).calls();
    auto complete = std::find(calls.begin(), calls.end(), "CompleteLoad");
    ASSERT_NE(complete, calls.end()) << name;
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "CompleteLoad"), 1) << name;
    for (auto it = complete; it != calls.end(); ++it) {
      EXPECT_FALSE(it->starts_with("AddVpc")) << name << ": " << *it << " after CompleteLoad";
    }
    EXPECT_TRUE(std::any_of(calls.begin(), complete, [](const std::string& c) {
      return c.starts_with("AddVpc");
    })) << name;
  }
}

TEST_F(DriverTest, AnEndpointCreatedMovedAndDeletedReachesOnlyItsClustersGateways) {
  StartDriver();
  ASSERT_TRUE(Settle());
  size_t red_calls = gw("gw-c").calls().size();

  store_.PutEndpoint(Ep("b3", "blue", "web", "10.0.0.3", "h1", 4));
  ASSERT_TRUE(Settle());
  EXPECT_TRUE(gw("gw-a").HoldsEndpoint("b3"));
  EXPECT_TRUE(gw("gw-b").HoldsEndpoint("b3"));
  EXPECT_EQ(gw("gw-a").Count("UpdateEndpoint b3"), 1u);

  EndpointRow moved = store_.state().endpoints.at("b3");
  moved.endpoint.host = "h2";
  store_.PutEndpoint(moved);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-b").Content().vpcs.at("blue").endpoints.back().host(), "h2");

  store_.DeleteEndpoint("b3");
  ASSERT_TRUE(Settle());
  EXPECT_FALSE(gw("gw-a").HoldsEndpoint("b3"));
  EXPECT_FALSE(gw("gw-b").HoldsEndpoint("b3"));

  // Cluster 2's gateway heard nothing of it (GetStats aside).
  for (size_t i = red_calls; i < gw("gw-c").calls().size(); ++i) {
    EXPECT_THAT(gw("gw-c").calls()[i], Not(HasSubstr("b3")));
  }
  EXPECT_EQ(gw("gw-a").Count("AddVpc"), 1u);  // Incremental, no reload.
}

TEST_F(DriverTest, ManyNewEndpointsGoInBulkAndTheirStatusComesFromThePoll) {
  StartDriver();
  ASSERT_TRUE(Settle());
  // A bulk load: 100 endpoints of blue at once, one bound on its host.
  for (int i = 0; i < 100; ++i) {
    store_.PutEndpoint(Ep("bulk" + std::to_string(i), "blue", "web",
                          "10.0.0." + std::to_string(100 + i), "h1", 0x20 + i));
  }
  gw("gw-a").bound.insert("bulk7");
  gw("gw-b").bound.insert("bulk7");
  ASSERT_TRUE(Settle());
  for (const char* name : {"gw-a", "gw-b"}) {
    EXPECT_EQ(gw(name).Count("AddEndpoints 100"), 1u) << name;
    EXPECT_EQ(gw(name).Count("UpdateEndpoint bulk"), 0u) << name;
  }
  EXPECT_EQ(gw("gw-c").Count("AddEndpoints"), 0u);
  // The bound one is found online by the poll of its host.
  ASSERT_TRUE(RunUntil([&] {
    timers_.Advance(200);
    return Status("bulk7") == EndpointStatus::kOnline;
  }));
  EXPECT_EQ(Status("bulk8"), EndpointStatus::kPending);
}

TEST_F(DriverTest, AVpcCreatedDeletedAndMovedBetweenClusters) {
  StartDriver();
  ASSERT_TRUE(Settle());
  store_.PutVpc(VpcRow{{"green", 300, "02:00:00:00:03:00"}, 2});
  store_.PutNetwork(NetworkRow{"green", {"n", "10.2.0.0/24", ""}});
  store_.PutEndpoint(Ep("g1", "green", "n", "10.2.0.1", "h1", 7));
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-c").Content().vpcs.count("green"), 1u);
  EXPECT_EQ(gw("gw-a").Count("AddVpc green"), 0u);

  // Moved to cluster 1: gone from gw-c, loaded on gw-a and gw-b.
  store_.PutVpc(VpcRow{{"green", 300, "02:00:00:00:03:00"}, 1});
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-c").Content().vpcs.count("green"), 0u);
  EXPECT_TRUE(gw("gw-a").HoldsEndpoint("g1"));

  store_.DeleteVpc("green");
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc green"), 1u);
}

TEST_F(DriverTest, ANetworkDeletedIsDeleteNetworkAndOneAddedReloadsTheVpc) {
  StartDriver();
  ASSERT_TRUE(Settle());
  store_.PutNetwork(NetworkRow{"blue", {"app", "10.0.1.0/24", ""}});
  store_.PutEndpoint(Ep("a1", "blue", "app", "10.0.1.1", "h1", 8));
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc blue"), 1u);  // No AddNetwork in the gateway API.
  EXPECT_TRUE(gw("gw-a").HoldsEndpoint("a1"));

  store_.DeleteNetwork("blue", "app");
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-a").Count("DeleteNetwork blue/app"), 1u);
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc blue"), 1u);
  EXPECT_FALSE(gw("gw-a").HoldsEndpoint("a1"));
}

TEST_F(DriverTest, AnOffloadPolicyChangedIsSetVpcOffloadOnItsClusterOnlyAndNoReload) {
  StartDriver();
  ASSERT_TRUE(Settle());
  VpcRow blue{{"blue", 100, "02:00:00:00:01:00"}, 1};
  blue.vpc.offload = {model::OffloadMode::kThreshold, 20, 0, 500};
  store_.PutVpc(blue);
  ASSERT_TRUE(Settle());
  for (const char* name : {"gw-a", "gw-b"}) {  // Cluster 1.
    EXPECT_EQ(gw(name).Count("SetVpcOffload blue"), 1u) << name;
    EXPECT_EQ(gw(name).Count("DeleteVpc blue"), 0u) << name;  // Changed in place.
    const GatewayContent content = gw(name).Content();
    const gwv1::OffloadPolicy& held = content.vpcs.at("blue").vpc.offload();
    EXPECT_EQ(held.mode(), gwv1::OFFLOAD_MODE_THRESHOLD) << name;
    EXPECT_EQ(held.packets(), 20u) << name;
    EXPECT_EQ(held.window_ms(), 500u) << name;
  }
  EXPECT_EQ(gw("gw-c").Count("SetVpcOffload"), 0u);
  // Back to the default: the gateways hold no policy, as a fresh load would.
  store_.PutVpc(VpcRow{{"blue", 100, "02:00:00:00:01:00"}, 1});
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-a").Count("SetVpcOffload blue"), 2u);
  EXPECT_FALSE(gw("gw-a").Content().vpcs.at("blue").vpc.has_offload());
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc blue"), 0u);
}

TEST_F(DriverTest, AHostsBudgetGoesToTheGatewaysInSetCluster) {
  StartDriver();
  ASSERT_TRUE(Settle());
  model::Host h3{"h3", "172.31.1.3", "", ""};
  h3.direct_path_budget = 300;
  store_.PutHost(h3);
  ASSERT_TRUE(Settle());
  bool found = false;
  const GatewayContent held = gw("gw-a").Content();
  for (const gwv1::Host& h : held.cluster.hosts()) {
    if (h.name() != "h3") continue;
    found = true;
    EXPECT_EQ(h.direct_path_budget(), 300u);
  }
  EXPECT_TRUE(found);
}

TEST_F(DriverTest, HostsAndMembersChangedAreSetClusterOnTheClustersConcerned) {
  StartDriver();
  ASSERT_TRUE(Settle());
  store_.PutHost({"h3", "172.31.1.3", "", ""});
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-c").Count("SetCluster"), 2u);

  // gw-d joins cluster 2: loaded; gw-c's members follow; cluster 1 unchanged.
  store_.PutGateway(testing::Gateway("gw-d", "172.31.2.4", 2, 60004));
  ASSERT_TRUE(Settle());
  ASSERT_TRUE(RunUntil([&] { return Holds("gw-d"); }));
  EXPECT_EQ(gw("gw-c").Count("SetCluster"), 3u);
  EXPECT_EQ(gw("gw-a").Count("SetCluster"), 2u);
  EXPECT_EQ(Row("gw-d").state, GatewayState::kReady);

  // gw-b leaves cluster 1: unloaded, then no more updates; gw-a's members
  // follow.
  ASSERT_FALSE(gw("gw-b").Content().vpcs.empty());
  GatewayRow b = Row("gw-b");
  b.cluster_id = 0;
  store_.PutGateway(b);
  ASSERT_TRUE(RunUntil([&] {
    return Holds("gw-a") && Row("gw-b").detail == "not a member of a cluster: not driven" &&
           driver_->unloads() == 1;
  }));
  EXPECT_TRUE(gw("gw-b").Content().vpcs.empty());
  EXPECT_EQ(gw("gw-b").Count("DeleteVpc blue"), 1u);
  size_t b_calls = gw("gw-b").calls().size();
  EXPECT_EQ(Row("gw-b").state, GatewayState::kUnknown);
  store_.PutEndpoint(Ep("b9", "blue", "web", "10.0.0.9", "h1", 9));
  ASSERT_TRUE(RunUntil([&] { return gw("gw-a").HoldsEndpoint("b9") && driver_->settled(); }));
  EXPECT_EQ(gw("gw-b").calls().size(), b_calls);
}

TEST_F(DriverTest, ARestartedGatewayIsReloadedToExactlyTheDesiredContent) {
  StartDriver();
  ASSERT_TRUE(Settle());
  std::string first = gw("gw-a").instance_id();
  gw("gw-a").Restart();  // New instance id, nothing held.
  store_.PutEndpoint(Ep("b4", "blue", "web", "10.0.0.4", "h2", 5));
  timers_.Advance(500);  // The health check notices it.
  ASSERT_TRUE(Settle());
  EXPECT_NE(gw("gw-a").instance_id(), first);
  EXPECT_EQ(Row("gw-a").instance_id, gw("gw-a").instance_id());
  EXPECT_EQ(driver_->view("gw-a")->full_loads, 2u);
  EXPECT_EQ(driver_->view("gw-b")->full_loads, 1u);
}

// A manager taking over: a new driver over the same store, gateways loaded
// by the previous one (instance ids in their rows). It verifies what they
// hold, sends only what changed meanwhile, and never writes LOADING; a
// gateway that restarted during the handover is reloaded.
TEST_F(DriverTest, ANewDriverVerifiesGatewaysLoadedBeforeInsteadOfReloadingThem) {
  StartDriver();
  ASSERT_TRUE(Settle());
  driver_->Stop();
  ASSERT_TRUE(RunUntil([&] { return driver_->finished(); }));
  driver_.reset();
  (void)store_.TakeChanges();
  // Meanwhile: a VM created, and gw-c restarted empty.
  store_.PutEndpoint(Ep("b5", "blue", "web", "10.0.0.5", "h2", 6));
  gw("gw-c").Restart();
  std::map<std::string, size_t> before;
  for (const char* name : {"gw-a", "gw-b", "gw-c"}) before[name] = gw(name).calls().size();
  (void)store_.TakeChanges();

  StartDriver();
  bool saw_loading_ab = false;
  ASSERT_TRUE(RunUntil([&] {
    saw_loading_ab = saw_loading_ab || Row("gw-a").state == GatewayState::kLoading ||
                     Row("gw-b").state == GatewayState::kLoading;
    return driver_->settled() && Holds("gw-a") && Holds("gw-b") && Holds("gw-c");
  }));
  EXPECT_FALSE(saw_loading_ab);
  for (const char* name : {"gw-a", "gw-b"}) {
    for (size_t i = before[name]; i < gw(name).calls().size(); ++i) {
      const std::string& call = gw(name).calls()[i];
      EXPECT_FALSE(call.starts_with("AddVpc") || call.starts_with("DeleteVpc") ||
                   call.starts_with("DeleteEndpoint") || call.starts_with("AddEndpoints"))
          << name << ": " << call;
    }
    EXPECT_EQ(gw(name).Count("UpdateEndpoint b5"), 1u) << name;
    EXPECT_EQ(Row(name).state, GatewayState::kReady);
  }
  // The restarted one: loaded again, all of it.
  EXPECT_GT(gw("gw-c").Count("AddVpc"), 0u);
  EXPECT_EQ(Row("gw-c").instance_id, gw("gw-c").instance_id());
}

TEST_F(DriverTest, AVpcMovingGoesToBothClustersStandbyInTheNewOneThenServed) {
  StartDriver();
  ASSERT_TRUE(Settle());
  VpcRow blue = store_.state().vpcs.at("blue");
  blue.moving_to = 2;
  blue.move_phase = MovePhase::kLoading;
  store_.PutVpc(blue);
  ASSERT_TRUE(Settle());
  ASSERT_EQ(gw("gw-c").Content().vpcs.count("blue"), 1u);
  EXPECT_TRUE(gw("gw-c").Content().vpcs.at("blue").vpc.standby());
  EXPECT_TRUE(gw("gw-a").HoldsEndpoint("b1"));
  EXPECT_TRUE(RunUntil([&] { return driver_->VpcSettled(2, "blue"); }));
  EXPECT_FALSE(driver_->VpcSettled(1, "red"));  // Cluster 1 does not hold red.
  // Served by cluster 2 too, then only by it.
  blue.move_phase = MovePhase::kSwitching;
  store_.PutVpc(blue);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-c").Count("SetVpcStandby blue 0"), 1u);
  EXPECT_FALSE(gw("gw-c").Content().vpcs.at("blue").vpc.standby());
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc"), 0u);
  blue.cluster_id = 2;
  blue.moving_to = 0;
  blue.move_phase = MovePhase::kNone;
  store_.PutVpc(blue);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc blue keep_direct_paths"), 1u);
  EXPECT_EQ(gw("gw-b").Count("DeleteVpc blue keep_direct_paths"), 1u);
  EXPECT_EQ(gw("gw-c").Count("AddVpc blue"), 1u);  // Loaded once, never again.
  EXPECT_TRUE(Holds("gw-a"));
  EXPECT_TRUE(Holds("gw-c"));
}

TEST_F(DriverTest, ANewDriverSendsAMovingVpcsStandbyFlagAgain) {
  StartDriver();
  ASSERT_TRUE(Settle());
  VpcRow blue = store_.state().vpcs.at("blue");
  blue.moving_to = 2;
  blue.move_phase = MovePhase::kLoading;
  store_.PutVpc(blue);
  ASSERT_TRUE(Settle());
  ASSERT_TRUE(gw("gw-c").Content().vpcs.at("blue").vpc.standby());
  driver_->Stop();
  ASSERT_TRUE(RunUntil([&] { return driver_->finished(); }));
  driver_.reset();
  // The manager that stopped had written the next step, not sent it.
  blue.move_phase = MovePhase::kSwitching;
  store_.PutVpc(blue);
  (void)store_.TakeChanges();
  size_t before = gw("gw-c").calls().size();
  StartDriver();
  ASSERT_TRUE(Settle());
  EXPECT_FALSE(gw("gw-c").Content().vpcs.at("blue").vpc.standby());
  EXPECT_EQ(gw("gw-c").Count("SetVpcStandby blue 0"), 1u);
  for (size_t i = before; i < gw("gw-c").calls().size(); ++i) {
    EXPECT_FALSE(gw("gw-c").calls()[i].starts_with("AddVpc")) << gw("gw-c").calls()[i];
  }
  EXPECT_TRUE(Holds("gw-c"));
}

TEST_F(DriverTest, ARestartWithoutChangesIsFoundByTheHealthCheck) {
  StartDriver();
  ASSERT_TRUE(Settle());
  gw("gw-c").Restart();
  EXPECT_FALSE(Holds("gw-c"));
  timers_.Advance(500);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(driver_->view("gw-c")->full_loads, 2u);
}

TEST_F(DriverTest, AGatewayDownThenBackWithTheSameInstanceGetsWhatItMissed) {
  StartDriver();
  ASSERT_TRUE(Settle());
  gw("gw-a").down = true;
  store_.PutEndpoint(Ep("b5", "blue", "web", "10.0.0.5", "h1", 6));
  store_.DeleteEndpoint("b2");
  ASSERT_TRUE(RunUntil([&] { return Row("gw-a").state == GatewayState::kDown; }));
  EXPECT_THAT(Row("gw-a").detail, HasSubstr("connection refused"));
  // gw-b is not held up by gw-a.
  ASSERT_TRUE(RunUntil([&] { return Holds("gw-b"); }));
  // After the backoff it asks again, finds it still down, and waits longer.
  size_t asked = gw("gw-a").Count("GetStats");
  timers_.Advance(100);
  ASSERT_TRUE(RunUntil([&] { return gw("gw-a").Count("GetStats") > asked; }));
  EXPECT_EQ(Row("gw-a").state, GatewayState::kDown);
  store_.DeleteNetwork("blue", "web");
  gw("gw-a").down = false;
  timers_.Advance(1000);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(Row("gw-a").state, GatewayState::kReady);
  EXPECT_EQ(Row("gw-a").detail, "");
  EXPECT_EQ(driver_->view("gw-a")->full_loads, 1u);  // The same instance: no reload.
  EXPECT_EQ(gw("gw-a").Count("AddVpc"), 1u);
  EXPECT_EQ(gw("gw-a").Count("DeleteNetwork blue/web"), 1u);
}

TEST_F(DriverTest, LostAnswersAreResentAndCountAsDoneWhenAlreadyApplied) {
  StartDriver();
  ASSERT_TRUE(Settle());
  // Applied by the gateway, answer lost: the driver cannot know.
  gw("gw-a").lose_answers = 1;
  store_.PutVpc(VpcRow{{"green", 300, "02:00:00:00:03:00"}, 1});
  store_.PutNetwork(NetworkRow{"green", {"n", "10.2.0.0/24", ""}});
  store_.PutEndpoint(Ep("g1", "green", "n", "10.2.0.1", "h1", 7));
  ASSERT_TRUE(RunUntil([&] { return Row("gw-a").state == GatewayState::kDown; }));
  timers_.Advance(100);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-a").Count("AddVpc green"), 2u);  // The second: ALREADY_EXISTS, identical.
  EXPECT_EQ(gw("gw-a").Count("DeleteVpc green"), 0u);

  gw("gw-a").lose_answers = 1;
  store_.DeleteEndpoint("g1");
  ASSERT_TRUE(RunUntil([&] { return Row("gw-a").state == GatewayState::kDown; }));
  timers_.Advance(100);
  ASSERT_TRUE(Settle());  // The second delete: NOT_FOUND, done.
  EXPECT_EQ(gw("gw-a").Count("DeleteEndpoint g1"), 2u);
}

TEST_F(DriverTest, ARefusedChangeIsReportedAndTriedAgainAtTheNextHealthCheck) {
  StartDriver();
  ASSERT_TRUE(Settle());
  gw("gw-b").refuse = 2;  // The change, and its first retry.
  store_.PutEndpoint(Ep("b6", "blue", "web", "10.0.0.6", "h1", 10));
  ASSERT_TRUE(
      RunUntil([&] { return gw("gw-b").Count("UpdateEndpoint b6") == 1 && Holds("gw-a"); }));
  timers_.Advance(500);  // The health check reports it, and tries again.
  ASSERT_TRUE(RunUntil([&] {
    return gw("gw-b").Count("UpdateEndpoint b6") == 2 &&
           Row("gw-b").detail.find("endpoint b6") != std::string::npos;
  }));
  EXPECT_EQ(Row("gw-b").state, GatewayState::kReady);
  EXPECT_THAT(Row("gw-b").detail, HasSubstr("refused by the test"));
  EXPECT_FALSE(gw("gw-b").HoldsEndpoint("b6"));
  EXPECT_FALSE(driver_->settled());
  timers_.Advance(500);  // The second retry goes through.
  ASSERT_TRUE(RunUntil([&] { return gw("gw-b").HoldsEndpoint("b6"); }));
  timers_.Advance(500);  // And the next health check clears the detail.
  ASSERT_TRUE(RunUntil([&] { return Row("gw-b").detail.empty(); }));
  ASSERT_TRUE(Settle());
  EXPECT_EQ(gw("gw-b").Count("UpdateEndpoint b6"), 3u);
}

TEST_F(DriverTest, EndpointsComeOnlineFromTheAnswerOrTheirHostsPoll) {
  gw("gw-a").designated = false;  // gw-b is the member designated for every host.
  gw("gw-b").bound.insert("b1");  // b1's port is up; b2's is not yet.
  StartDriver();
  ASSERT_TRUE(Settle());
  // After the load, the poll finds b1 online; b2 and r1 stay pending.
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] { return Status("b1") == EndpointStatus::kOnline; }));
  EXPECT_EQ(Status("b2"), EndpointStatus::kPending);
  EXPECT_EQ(Status("r1"), EndpointStatus::kPending);

  // b2's VM appears later: the next poll of its host finds it.
  gw("gw-b").bound.insert("b2");
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] { return Status("b2") == EndpointStatus::kOnline; }));

  // A new endpoint whose port is up: online from its UpdateEndpoint answer.
  gw("gw-b").bound.insert("b7");
  store_.PutEndpoint(Ep("b7", "blue", "web", "10.0.0.7", "h2", 11));
  ASSERT_TRUE(RunUntil([&] { return Status("b7") == EndpointStatus::kOnline; }));

  // A move: pending until confirmed on the new host.
  gw("gw-b").bound.erase("b7");
  EndpointRow moved = store_.state().endpoints.at("b7");
  moved.endpoint.host = "h1";
  store_.PutEndpoint(moved);
  ASSERT_TRUE(RunUntil([&] { return Status("b7") == EndpointStatus::kPending; }));
  ASSERT_TRUE(Settle());
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] { return driver_->settled(); }));
  EXPECT_EQ(Status("b7"), EndpointStatus::kPending);
  gw("gw-b").bound.insert("b7");
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] { return Status("b7") == EndpointStatus::kOnline; }));
}

TEST_F(DriverTest, AHostWithoutOvsdbTargetIsNotPolled) {
  // h3 cannot bind ports (no OVSDB target): its endpoint stays pending and
  // its host is never listed, while h2's pending endpoint is.
  gw("gw-a").designated = false;
  store_.PutHost({"h3", "172.31.1.3", "tcp:172.31.1.3:6653", ""});
  store_.PutEndpoint(Ep("b8", "blue", "web", "10.0.0.8", "h3", 12));
  StartDriver();
  ASSERT_TRUE(Settle());
  for (int round = 0; round < 3; ++round) {
    timers_.Advance(200);
    ASSERT_TRUE(RunUntil(
        [&] { return gw("gw-b").Count("ListEndpoints /h2") > static_cast<size_t>(round); }));
  }
  EXPECT_EQ(gw("gw-b").Count("ListEndpoints /h3"), 0u);
  EXPECT_EQ(Status("b8"), EndpointStatus::kPending);
  EXPECT_EQ(Status("b2"), EndpointStatus::kPending);
}

TEST_F(DriverTest, StatusWritesOfARoundGoInOneTransaction) {
  for (int i = 0; i < 20; ++i) {
    store_.PutEndpoint(Ep("m" + std::to_string(i), "blue", "web",
                          "10.0.0." + std::to_string(100 + i), "h1", 100 + i));
  }
  (void)store_.TakeChanges();
  StartDriver();
  ASSERT_TRUE(Settle());
  int writes = store_.writes;
  for (int i = 0; i < 20; ++i) gw("gw-a").bound.insert("m" + std::to_string(i));
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] {
    for (int i = 0; i < 20; ++i) {
      if (Status("m" + std::to_string(i)) != EndpointStatus::kOnline) return false;
    }
    return true;
  }));
  EXPECT_EQ(store_.writes, writes + 1);
}

TEST_F(DriverTest, AFailedStoreWriteIsRetried) {
  gw("gw-a").bound.insert("b1");
  store_.fail_writes = true;
  StartDriver();
  ASSERT_TRUE(RunUntil([&] { return store_.writes > 0; }));
  EXPECT_EQ(Row("gw-a").state, GatewayState::kUnknown);
  store_.fail_writes = false;
  timers_.Advance(100);
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] {
    return Row("gw-a").state == GatewayState::kReady && Status("b1") == EndpointStatus::kOnline;
  }));
}

}  // namespace
}  // namespace shortcut::manager
