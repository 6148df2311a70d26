// Cluster management (cluster_mgmt.h) on hand-built states, each expected
// result worked out by hand in the comment beside it.
#include "src/manager/cluster_mgmt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/manager/cluster_scale_state.h"
#include "tests/manager/nb_state_builder.h"

namespace shortcut::manager::cluster {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kNow = 100'000;

Settings TestSettings() {
  Settings s;
  s.overload_vms_per_gateway = 100;  // Band: overloaded until <= 90.
  s.underload_vms_per_gateway = 20;  // Band: underloaded until >= 22.
  s.min_cluster_members = 2;
  s.health_deadline_ms = 3000;
  s.hold_down_ms = 30000;
  return s;
}

// Adds a VPC with `n` endpoints (only the load matters here).
void AddVpc(testing::NbStateBuilder& b, const std::string& id, uint32_t cluster, int n) {
  static uint32_t vni = 1;
  b.Vpc(id, vni++, cluster);
  for (int i = 0; i < n; ++i) {
    std::string key = id + "-" + std::to_string(i);
    b.Endpoint(key, id, "net", "10.0.0.1", "02:00:00:00:00:02", "h1");
  }
}

// Every gateway of `st` answered ok at `at`.
HealthTable AllHealthy(const NbState& st, int64_t at = kNow) {
  std::vector<HealthSample> samples;
  for (const auto& [name, gw] : st.gateways) samples.push_back({name, true, at});
  HealthTable t;
  RecordHealth(t, samples);
  return t;
}

// g3 answered ok 5 s ago, then failed twice.
void FailG3(HealthTable& t) {
  t.erase("g3");
  RecordHealth(t,
               {{"g3", true, kNow - 5000}, {"g3", false, kNow - 2000}, {"g3", false, kNow - 1000}});
}

// ---- detect_failed_gw ---------------------------------------------------------

TEST(ClusterHealth, RecordHealthFoldsSamplesInTimeOrder) {
  HealthTable t;
  // Given out of order: sorted before folding.
  RecordHealth(t, {{"g1", false, 2000}, {"g1", true, 0}, {"g1", false, 1000}});
  EXPECT_EQ(t["g1"], (GatewayHealth{0, 0, 2000, 2, std::nullopt}));
  // A late answer (older than the last sample) changes nothing.
  RecordHealth(t, {{"g1", true, 1500}});
  EXPECT_EQ(t["g1"], (GatewayHealth{0, 0, 2000, 2, std::nullopt}));
  RecordHealth(t, {{"g1", true, 2500}});
  EXPECT_EQ(t["g1"], (GatewayHealth{0, 2500, 2500, 0, 2500}));
  // The run of ok answers starts at its first one, and a failure ends it.
  RecordHealth(t, {{"g1", true, 2600}});
  EXPECT_EQ(t["g1"].ok_since_ms, 2500);
  RecordHealth(t, {{"g1", false, 2700}});
  EXPECT_EQ(t["g1"].ok_since_ms, std::nullopt);
}

TEST(ClusterHealth, FailedAfterTheDeadlineWithoutAnOkAnswer) {
  std::vector<HealthSample> samples = {
      {"g1", true, 0},      // Last ok at 0.
      {"g2", false, 1000},  // Never ok: counted from 1000.
      {"g3", true, 3500},   // Fine.
      {"g1", false, 2000},
  };
  // At 3000: g1 is 3000 ms past its ok answer (not more than the deadline).
  EXPECT_THAT(DetectFailedGateways(samples, 3000, 3000), IsEmpty());
  EXPECT_THAT(DetectFailedGateways(samples, 3001, 3000), ElementsAre("g1"));
  EXPECT_THAT(DetectFailedGateways(samples, 4000, 3000), ElementsAre("g1"));
  EXPECT_THAT(DetectFailedGateways(samples, 4001, 3000), ElementsAre("g1", "g2"));
  EXPECT_THAT(DetectFailedGateways(std::vector<HealthSample>{}, 4001, 3000), IsEmpty());
}

TEST(ClusterHealth, AFlappingGatewayAnsweringWithinTheDeadlineIsNotFailed) {
  HealthTable t;
  for (int64_t at = 0; at <= 20000; at += 1000) {
    RecordHealth(t, {{"g1", (at / 1000) % 2 == 0, at}});
    EXPECT_THAT(DetectFailedGateways(t, at, 3000), IsEmpty()) << at;
  }
}

// ---- loads and the detectors ------------------------------------------------------

TEST(ClusterLoads, CountLiveMembersOnly) {
  testing::NbStateBuilder b;
  b.Cluster(1).Cluster(2);
  b.Gateway("g1", "", 100, 1, 60001)
      .Gateway("g2", "", 50, 1, 60002)
      .Gateway("g3", "", 70, 1, 60003);
  b.Gateway("s1", "", 500, 0, 60004);
  AddVpc(b, "a", 1, 3);
  AddVpc(b, "b", 2, 2);
  NbState st = b.Build();
  st.gateways["g2"].state = GatewayState::kDown;
  // Cluster 1: members g1 g2 g3; g2 is down, g3 failed: 1 live (g1, 100).
  // Cluster 2: no member, 2 endpoints: infinitely loaded.
  std::vector<ClusterLoad> loads = ClusterLoads(st, {"g3"});
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[0], (ClusterLoad{1, 3, 1, 100, 3, 1, 3.0}));
  EXPECT_EQ(loads[1].id, 2u);
  EXPECT_EQ(loads[1].live_members, 0u);
  EXPECT_EQ(loads[1].load, 2u);
  EXPECT_TRUE(std::isinf(loads[1].vms_per_live_gateway));
}

ClusterLoad WithRatio(uint32_t id, double r, uint64_t live = 2) {
  return ClusterLoad{id, live, live, 1000, static_cast<uint64_t>(r * live), 1, r};
}

TEST(ClusterDetect, OverloadHasHysteresis) {
  Settings s = TestSettings();  // Over 100; stays until <= 90.
  std::set<uint32_t> flags;
  std::vector<double> samples = {101, 99, 101, 99, 95, 90.5, 90, 99, 101};
  std::vector<bool> expected = {true, true, true, true, true, true, false, false, true};
  int rises = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    std::set<uint32_t> next = DetectOverloadedClusters({WithRatio(7, samples[i])}, s, flags);
    EXPECT_EQ(next.contains(7), expected[i]) << i;
    if (next.contains(7) && !flags.contains(7)) ++rises;
    flags = next;
  }
  EXPECT_EQ(rises, 2);  // Without the band: 4.
  s.overload_vms_per_gateway = 0;
  EXPECT_THAT(DetectOverloadedClusters({WithRatio(7, 1e9)}, s, {}), IsEmpty());
}

TEST(ClusterDetect, UnderloadHasHysteresis) {
  Settings s = TestSettings();  // Under 20; stays until >= 22.
  std::set<uint32_t> flags;
  std::vector<double> samples = {19, 21, 21.9, 22, 21, 19.5};
  std::vector<bool> expected = {true, true, true, false, false, true};
  for (size_t i = 0; i < samples.size(); ++i) {
    flags = DetectUnderloadedClusters({WithRatio(3, samples[i])}, s, flags);
    EXPECT_EQ(flags.contains(3), expected[i]) << i;
  }
  // No live member: never underloaded (it is a repair, not a surplus).
  EXPECT_THAT(DetectUnderloadedClusters({ClusterLoad{4, 1, 0, 0, 0, 0, 0}}, s, {}), IsEmpty());
  s.underload_vms_per_gateway = 0;
  EXPECT_THAT(DetectUnderloadedClusters({WithRatio(3, 0)}, s, {}), IsEmpty());
}

// ---- create_cluster_set ---------------------------------------------------------------

TEST(ClusterSet, CountFromGatewaysHostsAndVpcs) {
  EXPECT_EQ(ClusterCountFor({.gateways = 0}), 0u);
  EXPECT_EQ(ClusterCountFor({.gateways = 10}), 1u);
  EXPECT_EQ(ClusterCountFor({.gateways = 1}), 1u);
  // ceil(200 / 64) = 4 <= floor(10 / 2) = 5.
  EXPECT_EQ(ClusterCountFor({.gateways = 10, .expected_vpcs = 200}), 4u);
  // ceil(1000 / 64) = 16, capped at 5.
  EXPECT_EQ(ClusterCountFor({.gateways = 10, .expected_vpcs = 1000}), 5u);
  // ceil(1000 / 256) = 4 hosts-wise.
  EXPECT_EQ(ClusterCountFor({.gateways = 10, .hosts = 1000}), 4u);
  EXPECT_EQ(ClusterCountFor({.gateways = 3, .expected_vpcs = 1000}), 1u);
  EXPECT_EQ(ClusterCountFor({.gateways = 12, .expected_vpcs = 1000, .min_members = 3}), 4u);
}

TEST(ClusterSet, EqualSplitSortedByName) {
  auto set = CreateClusterSet({"g5", "g1", "g4", "g2", "g3", "g7", "g6"}, 3);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(*set, (std::map<uint32_t, std::vector<std::string>>{
                      {1, {"g1", "g2", "g3"}}, {2, {"g4", "g5"}}, {3, {"g6", "g7"}}}));
  // n from the sizing: 10 gateways, 200 VPCs -> 4 clusters of 3, 3, 2, 2.
  std::vector<std::string> ten;
  for (int i = 9; i >= 0; --i) ten.push_back("g0" + std::to_string(i));
  auto sized = CreateClusterSet(ten, 0, {.expected_vpcs = 200});
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_EQ(*sized, (std::map<uint32_t, std::vector<std::string>>{{1, {"g00", "g01", "g02"}},
                                                                  {2, {"g03", "g04", "g05"}},
                                                                  {3, {"g06", "g07"}},
                                                                  {4, {"g08", "g09"}}}));
  EXPECT_THAT(*CreateClusterSet({}, 0), IsEmpty());
}

TEST(ClusterSet, InvalidInputNamesTheField) {
  auto dup = CreateClusterSet({"g1", "g2", "g1"}, 1);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(), HasSubstr("gw_total_set"));
  auto empty = CreateClusterSet({"g1", ""}, 1);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("gw_total_set"));
  auto many = CreateClusterSet({"g1", "g2"}, 3);
  EXPECT_EQ(many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(many.status().message(), HasSubstr("n_clusters"));
}

// ---- create_cluster / del_cluster / is_cluster_empty -------------------------------------

NbState SmallState() {
  testing::NbStateBuilder b;
  b.Cluster(1).Cluster(2).Cluster(4);
  b.Gateway("g1", "", 1000, 1, 60001).Gateway("g3", "", 1000, 2, 60003);
  b.Gateway("g2", "", 1000, 2, 60002);
  b.Gateway("s1", "", 1000, 0, 60004).Gateway("s2", "", 1000, 0, 60005);
  AddVpc(b, "a", 1, 1);
  return b.Build();
}

TEST(ClusterCreate, TakesTheFirstFreeIdAndSpares) {
  NbState st = SmallState();
  auto c = CreateCluster(st, {"s2", "s1"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, 3u);  // 1, 2 and 4 are taken.
  EXPECT_THAT(c->members, ElementsAre("s1", "s2"));
  EXPECT_EQ(CreateCluster(st, {})->id, 3u);
}

TEST(ClusterCreate, InvalidInputNamesTheField) {
  NbState st = SmallState();
  auto unknown = CreateCluster(st, {"s1", "nope"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("gw_set[1]: no gateway nope"));
  auto member = CreateCluster(st, {"g1"});
  EXPECT_EQ(member.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(member.status().message(),
              HasSubstr("gw_set[0]: gateway g1 is a member of cluster 1"));
  auto dup = CreateCluster(st, {"s1", "s2", "s1"});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(), HasSubstr("gw_set[2]"));
  NbState full;
  for (uint32_t id = 1; id <= 65535; ++id) full.clusters[id].id = id;
  EXPECT_EQ(CreateCluster(full, {}).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ClusterDelete, OnlyWhenEmpty) {
  NbState st = SmallState();
  EXPECT_FALSE(IsClusterEmpty(st, 1));  // Serves a.
  EXPECT_TRUE(IsClusterEmpty(st, 2));
  EXPECT_TRUE(IsClusterEmpty(st, 4));
  auto busy = DelCluster(st, 1);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(busy.status().message(), HasSubstr("cluster_key"));
  auto released = DelCluster(st, 2);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_THAT(*released, ElementsAre("g2", "g3"));
  EXPECT_THAT(*DelCluster(st, 4), IsEmpty());
  EXPECT_EQ(DelCluster(st, 9).status().code(), absl::StatusCode::kNotFound);
}

// ---- vpc_set_map_to_cluster ------------------------------------------------------------

TEST(ClusterPlace, PickMatchesVpcMapToClusterOnLiveMembers) {
  // 1: 100 - 90 = 10 left; 2: 50 left; 3: 20 left.
  EXPECT_EQ(PickClusterWithMostRoom({{1, 1, 1, 100, 90}, {2, 1, 1, 50, 0}, {3, 2, 2, 200, 180}}),
            2u);
  // Ties to the lowest id.
  EXPECT_EQ(PickClusterWithMostRoom({{7, 1, 1, 100, 50}, {3, 1, 1, 60, 10}}), 3u);
  // A cluster whose members are all dead is never chosen.
  EXPECT_EQ(PickClusterWithMostRoom({{1, 3, 0, 0, 0}, {2, 1, 1, 10, 10}}), 2u);
  EXPECT_EQ(PickClusterWithMostRoom({{1, 3, 0, 0, 0}}), std::nullopt);
}

TEST(ClusterPlace, ManyVpcsLargestFirst) {
  std::vector<ClusterLoad> loads = {{1, 1, 1, 100, 0}, {2, 1, 1, 60, 0}, {3, 1, 0, 0, 0}};
  // a(50) -> 1 (100 vs 60 left): 1 has 50 left.  b(30) -> 2 (60): 30 left.
  // c(30) -> 1 (50): 20 left.  d(10) -> 2 (30): 20 left.  e(10) -> tie, 1.
  auto placed = VpcSetMapToCluster({{"e", 10}, {"d", 10}, {"c", 30}, {"b", 30}, {"a", 50}}, loads);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(*placed,
            (std::map<std::string, uint32_t>{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 2}, {"e", 1}}));
  EXPECT_THAT(*VpcSetMapToCluster({}, loads), IsEmpty());
  auto none = VpcSetMapToCluster({{"a", 1}}, {{3, 1, 0, 0, 0}});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClusterPlace, ManyVpcsEvenOut) {
  // 1,000 VPCs of 1..50 endpoints over 10 equal clusters: greedy on the
  // largest first ends within one largest VPC (50) of even.
  std::map<std::string, uint64_t> vpcs;
  for (int i = 0; i < 1000; ++i) vpcs["v" + std::to_string(i)] = i % 50 + 1;
  std::vector<ClusterLoad> loads;
  for (uint32_t id = 1; id <= 10; ++id) loads.push_back({id, 2, 2, 100000, 0});
  auto placed = VpcSetMapToCluster(vpcs, loads);
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->size(), 1000u);
  std::map<uint32_t, uint64_t> load;
  for (const auto& [id, c] : *placed) load[c] += vpcs[id];
  ASSERT_EQ(load.size(), 10u);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& [c, n] : load) lo = std::min(lo, n), hi = std::max(hi, n);
  EXPECT_LE(hi - lo, 50u);
}

// ---- the plan ---------------------------------------------------------------------------

// Two clusters of 1000-VM gateways: 1 = g1 g2 g3, 2 = g4 g5.
testing::NbStateBuilder TwoClusters() {
  testing::NbStateBuilder b;
  b.Cluster(1).Cluster(2);
  b.Gateway("g1", "", 1000, 1, 60001).Gateway("g2", "", 1000, 1, 60002);
  b.Gateway("g3", "", 1000, 1, 60003);
  b.Gateway("g4", "", 1000, 2, 60004).Gateway("g5", "", 1000, 2, 60005);
  return b;
}

TEST(ClusterPlan, FailedMemberLeavesRegardlessOfHoldDown) {
  testing::NbStateBuilder b = TwoClusters();
  AddVpc(b, "a", 1, 90);  // 30 per live gateway: neither over nor under.
  AddVpc(b, "b", 2, 60);  // 30.
  NbState st = b.Build();
  HealthTable h = AllHealthy(st);
  FailG3(h);
  RebalanceHistory held;
  held.cluster_action_ms[1] = kNow - 1;
  held.gateway_action_ms["g3"] = kNow - 1;
  RebalancePlan plan = PlanRebalance(st, h, TestSettings(), kNow, held);
  EXPECT_THAT(plan.failed, ElementsAre("g3"));
  EXPECT_EQ(FormatPlan(plan),
            "take gateway g3 out of cluster 1's buckets: failed (no ok answer for 5000 ms "
            "(deadline 3000 ms), 2 failures in a row)\n");
  // It stays a member, out of the buckets: the next plan leaves it alone.
  NbState after = ProjectPlan(st, plan);
  EXPECT_EQ(after.gateways["g3"].cluster_id, 1u);
  EXPECT_EQ(after.gateways["g3"].role, GatewayRole::kJoining);
  EXPECT_THAT(PlanRebalance(after, h, TestSettings(), kNow, held).actions, IsEmpty());
}

TEST(ClusterPlan, FailedMemberBelowMinimumIsReplacedFromSpares) {
  testing::NbStateBuilder b;
  b.Cluster(1).Gateway("g1", "", 1000, 1, 60001).Gateway("g3", "", 1000, 1, 60003);
  AddVpc(b, "a", 1, 60);
  b.Gateway("s1", "", 1000, 0, 60010);
  NbState st = b.Build();
  HealthTable h = AllHealthy(st);
  FailG3(h);
  RebalancePlan plan = PlanRebalance(st, h, TestSettings(), kNow, {});
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(std::get<LeaveBuckets>(plan.actions[0]).gateway, "g3");
  EXPECT_EQ(std::get<AddGatewayToCluster>(plan.actions[1]),
            (AddGatewayToCluster{"s1", 1, Reason::kBelowMinMembers, "1 live members, minimum 2"}));
  // Without a spare the failed member still leaves: one live member is
  // better than a bucket toward a dead gateway.
  st.gateways.erase("s1");
  plan = PlanRebalance(st, h, TestSettings(), kNow, {});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<LeaveBuckets>(plan.actions[0]).gateway, "g3");
}

TEST(ClusterPlan, ALoadedMemberJoinsTheBucketsAfterADeadlineOfOkAnswers) {
  testing::NbStateBuilder b = TwoClusters();
  AddVpc(b, "a", 1, 90);
  NbState st = b.Build();
  st.gateways["g3"].role = GatewayRole::kJoining;
  st.gateways["g3"].state = GatewayState::kLoading;
  // Every gateway answered ok from kNow - 5000 to kNow.
  HealthTable h = AllHealthy(st, kNow - 5000);
  auto answer_all = [&](int64_t at) {
    for (const auto& [name, gw] : st.gateways) RecordHealth(h, {{name, true, at}});
  };
  answer_all(kNow);
  // Still loading: not yet.
  EXPECT_THAT(PlanRebalance(st, h, TestSettings(), kNow, {}).actions, IsEmpty());
  st.gateways["g3"].state = GatewayState::kReady;
  RebalancePlan plan = PlanRebalance(st, h, TestSettings(), kNow, {});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<JoinBuckets>(plan.actions[0]).gateway, "g3");
  EXPECT_EQ(ProjectPlan(st, plan).gateways["g3"].role, GatewayRole::kServing);
  // Ok answers for less than a deadline since its last failure: not yet.
  RecordHealth(h, {{"g3", false, kNow + 1}, {"g3", true, kNow + 2}});
  answer_all(kNow + 2000);
  EXPECT_THAT(PlanRebalance(st, h, TestSettings(), kNow + 2000, {}).actions, IsEmpty());
  answer_all(kNow + 3002);
  EXPECT_EQ(PlanRebalance(st, h, TestSettings(), kNow + 3002, {}).actions.size(), 1u);
  // A draining member is not live and never joins back.
  st.gateways["g3"].role = GatewayRole::kDraining;
  EXPECT_THAT(PlanRebalance(st, h, TestSettings(), kNow + 3002, {}).actions, IsEmpty());
  EXPECT_EQ(ClusterLoads(st, {})[0].live_members, 2u);
}

// Cluster 1: g1 g2 with 202 endpoints (101 per gateway, over 100).
testing::NbStateBuilder Overloaded() {
  testing::NbStateBuilder b;
  b.Cluster(1).Gateway("g1", "", 1000, 1, 60001).Gateway("g2", "", 1000, 1, 60002);
  AddVpc(b, "big", 1, 202);
  return b;
}

TEST(ClusterPlan, OverloadedClusterGetsASpare) {
  testing::NbStateBuilder b = Overloaded();
  b.Gateway("s1", "", 1000, 0, 60010).Gateway("s2", "", 1000, 0, 60011);
  NbState st = b.Build();
  RebalancePlan plan = PlanRebalance(st, AllHealthy(st), TestSettings(), kNow, {});
  // One spare: 202 / 3 = 67.3 <= 90.
  EXPECT_EQ(FormatPlan(plan),
            "add gateway s1 to cluster 1: overload (101.0 VMs per live gateway > 100 (aim: at "
            "most 90.0))\n");
  EXPECT_THAT(plan.overloaded, ElementsAre(1u));
}

TEST(ClusterPlan, OverloadAddsSparesUntilInsideTheBand) {
  // 10 members, 1010 endpoints: 101 each. One spare gives 91.8 (> 90), two
  // give 84.2.
  testing::NbStateBuilder b;
  b.Cluster(1);
  for (int i = 0; i < 10; ++i) b.Gateway("g" + std::to_string(i), "", 1000, 1, 60001 + i);
  AddVpc(b, "big", 1, 1010);
  b.Gateway("s1", "", 1000, 0, 60020).Gateway("s2", "", 1000, 0, 60021);
  b.Gateway("s3", "", 1000, 0, 60022);
  NbState st = b.Build();
  RebalancePlan plan = PlanRebalance(st, AllHealthy(st), TestSettings(), kNow, {});
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(std::get<AddGatewayToCluster>(plan.actions[0]).gateway, "s1");
  EXPECT_EQ(std::get<AddGatewayToCluster>(plan.actions[1]).gateway, "s2");
}

// Cluster 1 (g1 g2): a 120, b 50, c 40 = 210 (105 each); cluster 2 (g4 g5):
// d with `d` endpoints; cluster 3 (g6 g7, 300 each): e 20.
NbState MoveState(int d) {
  testing::NbStateBuilder b;
  b.Cluster(1).Cluster(2).Cluster(3);
  b.Gateway("g1", "", 1000, 1, 60001).Gateway("g2", "", 1000, 1, 60002);
  b.Gateway("g4", "", 1000, 2, 60004).Gateway("g5", "", 1000, 2, 60005);
  b.Gateway("g6", "", 300, 3, 60006).Gateway("g7", "", 300, 3, 60007);
  AddVpc(b, "a", 1, 120);
  AddVpc(b, "b", 1, 50);
  AddVpc(b, "c", 1, 40);
  AddVpc(b, "d", 2, d);
  AddVpc(b, "e", 3, 20);
  return b.Build();
}

TEST(ClusterPlan, WithoutSparesTheSmallestVpcMovesToTheMostRoom) {
  NbState st = MoveState(100);
  // c (40) is smallest. Room: 2 has 2000 - 100, 3 has 600 - 20: 2. Then 1
  // holds 170 (85 each): inside the band.
  RebalancePlan plan = PlanRebalance(st, AllHealthy(st), TestSettings(), kNow, {});
  EXPECT_EQ(FormatPlan(plan),
            "move vpc c (40 endpoints) from cluster 1 to cluster 2: overload (105.0 VMs per live "
            "gateway > 100 (aim: at most 90.0))\n");
  NbState after = ProjectPlan(st, plan);
  EXPECT_EQ(after.vpcs["c"].cluster_id, 2u);
  EXPECT_EQ(after.vpcs["a"].cluster_id, 1u);
}

TEST(ClusterPlan, AMoveDoesNotPushItsDestinationOutOfTheBand) {
  // d has 150: 2 would hold 190 (95 each) after taking c: 3 takes it.
  NbState st = MoveState(150);
  RebalancePlan plan = PlanRebalance(st, AllHealthy(st), TestSettings(), kNow, {});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<MoveVpc>(plan.actions[0]),
            (MoveVpc{"c", 1, 3, 40, std::get<MoveVpc>(plan.actions[0]).detail}));
}

TEST(ClusterPlan, HoldDown) {
  Settings s = TestSettings();
  {  // The overloaded cluster acted on 1 s ago: nothing; 30 s ago: again.
    testing::NbStateBuilder b = Overloaded();
    b.Gateway("s1", "", 1000, 0, 60010);
    NbState st = b.Build();
    RebalanceHistory hist;
    hist.cluster_action_ms[1] = kNow - 1000;
    EXPECT_THAT(PlanRebalance(st, AllHealthy(st), s, kNow, hist).actions, IsEmpty());
    hist.cluster_action_ms[1] = kNow - 30000;
    EXPECT_EQ(PlanRebalance(st, AllHealthy(st), s, kNow, hist).actions.size(), 1u);
  }
  {  // A VPC moved recently stays; the next smallest goes.
    NbState st = MoveState(100);
    RebalanceHistory hist;
    hist.vpc_action_ms["c"] = kNow - 1000;
    RebalancePlan plan = PlanRebalance(st, AllHealthy(st), s, kNow, hist);
    ASSERT_EQ(plan.actions.size(), 1u);
    EXPECT_EQ(std::get<MoveVpc>(plan.actions[0]).vpc, "b");  // 160 left: 80 each.
    // A destination acted on recently receives nothing.
    hist = {};
    hist.cluster_action_ms[2] = kNow - 1000;
    plan = PlanRebalance(st, AllHealthy(st), s, kNow, hist);
    ASSERT_EQ(plan.actions.size(), 1u);
    EXPECT_EQ(std::get<MoveVpc>(plan.actions[0]).to, 3u);
  }
  {  // A spare that just left a cluster (a flapping gateway) is not taken back.
    testing::NbStateBuilder b = Overloaded();
    b.Gateway("s1", "", 1000, 0, 60010).Gateway("s2", "", 500, 0, 60011);
    NbState st = b.Build();
    RebalanceHistory hist;
    hist.gateway_action_ms["s1"] = kNow - 1000;
    RebalancePlan plan = PlanRebalance(st, AllHealthy(st), s, kNow, hist);
    ASSERT_EQ(plan.actions.size(), 1u);
    EXPECT_EQ(std::get<AddGatewayToCluster>(plan.actions[0]).gateway, "s2");
  }
}

TEST(ClusterPlan, UnderloadKeepsTheMinimum) {
  testing::NbStateBuilder b = TwoClusters();  // 1: g1 g2 g3.
  AddVpc(b, "a", 1, 30);                      // 10 each: under 20.
  AddVpc(b, "b", 2, 60);                      // 30 each.
  NbState st = b.Build();
  st.gateways["g2"].capacity = 500;
  Settings s = TestSettings();
  RebalanceHistory hist;
  RebalancePlan plan = PlanRebalance(st, AllHealthy(st), s, kNow, hist);
  // The smallest member leaves: g2 (500).
  EXPECT_EQ(FormatPlan(plan),
            "remove gateway g2 from cluster 1: underload (10.0 VMs per live gateway < 20; 15.0 "
            "after, 2 members left)\n");
  EXPECT_THAT(plan.underloaded, ElementsAre(1u));
  st = ProjectPlan(st, plan);
  EXPECT_EQ(st.gateways["g2"].cluster_id, 0u);
  EXPECT_EQ(st.gateways_by_cluster[1], (std::set<std::string>{"g1", "g3"}));
  RecordPlan(hist, plan, kNow);
  // Later, still underloaded (15), but at the minimum: nothing.
  plan = PlanRebalance(st, AllHealthy(st, kNow + 60000), s, kNow + 60000, hist);
  EXPECT_THAT(plan.actions, IsEmpty());
  EXPECT_THAT(plan.underloaded, ElementsAre(1u));
}

TEST(ClusterPlan, AnOscillatingLoadGivesOneAction) {
  // 202 endpoints on g1 g2 (101 each), then 198 and 202 in turn, a sample
  // every second, every plan applied; no hold-down, so only the band and
  // the aim inside it keep the planner quiet.
  Settings s = TestSettings();
  s.hold_down_ms = 0;
  testing::NbStateBuilder b = Overloaded();
  b.Gateway("s1", "", 1000, 0, 60010).Gateway("s2", "", 1000, 0, 60011);
  NbState st = b.Build();
  RebalanceHistory hist;
  int actions = 0;
  for (int i = 0; i < 20; ++i) {
    int64_t now = kNow + i * 1000;
    auto& eps = st.endpoints_by_vpc["big"];
    if (i % 2 == 1) {
      for (int k = 0; k < 4; ++k) eps.erase(std::prev(eps.end()));
    } else if (i > 0) {
      for (int k = 0; k < 4; ++k) eps.insert("big-extra-" + std::to_string(k));
    }
    RebalancePlan plan = PlanRebalance(st, AllHealthy(st, now), s, now, hist);
    actions += plan.actions.size();
    st = ProjectPlan(st, plan);
    RecordPlan(hist, plan, now);
  }
  EXPECT_EQ(actions, 1);
  EXPECT_EQ(st.gateways["s1"].cluster_id, 1u);
  EXPECT_EQ(st.gateways["s2"].cluster_id, 0u);
}

TEST(ClusterPlan, UpdateClusterSet) {
  Settings s = TestSettings();
  testing::NbStateBuilder b = TwoClusters();  // 1: g1 g2 g3; 2: g4 g5.
  AddVpc(b, "a", 1, 150);                     // 50 each.
  AddVpc(b, "b", 2, 160);                     // 80 each.
  b.Gateway("s1", "", 1000, 0, 60010);
  NbState st = b.Build();
  HealthTable h = AllHealthy(st);
  // A new spare joins the most loaded cluster (seed 3.3).
  RebalancePlan plan = UpdateClusterSet(st, h, s, kNow, {}, "s1");
  EXPECT_EQ(FormatPlan(plan),
            "add gateway s1 to cluster 2: new gateway (the most loaded cluster, 80.0 VMs per live "
            "gateway)\n");
  // ... unless it would make that cluster underloaded (then it stays spare).
  NbState light = st;
  light.endpoints_by_vpc["b"].clear();
  light.endpoints_by_vpc["a"].clear();
  EXPECT_THAT(UpdateClusterSet(light, h, s, kNow, {}, "s1").actions, IsEmpty());
  // A cluster below the minimum comes first.
  NbState thin = st;
  thin.gateways["g5"].state = GatewayState::kDown;
  plan = UpdateClusterSet(thin, h, s, kNow, {}, "s1");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<AddGatewayToCluster>(plan.actions[0]).cluster, 2u);
  EXPECT_EQ(std::get<AddGatewayToCluster>(plan.actions[0]).reason, Reason::kBelowMinMembers);
  // A failed member leaves.
  FailG3(h);
  plan = UpdateClusterSet(st, h, s, kNow, {}, "g3");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<LeaveBuckets>(plan.actions[0]).gateway, "g3");
  // A healthy member, an unknown gateway, a spare never heard from: nothing.
  EXPECT_THAT(UpdateClusterSet(st, h, s, kNow, {}, "g1").actions, IsEmpty());
  EXPECT_THAT(UpdateClusterSet(st, h, s, kNow, {}, "gone").actions, IsEmpty());
  h.erase("s1");
  EXPECT_THAT(UpdateClusterSet(st, h, s, kNow, {}, "s1").actions, IsEmpty());
}

TEST(ClusterPlan, DeterministicWhateverTheInsertionOrder) {
  // The same rows inserted in opposite orders.
  auto build = [](bool reverse) {
    testing::NbStateBuilder b;
    std::vector<int> order;
    for (int i = 0; i < 40; ++i) order.push_back(reverse ? 39 - i : i);
    for (int i : order) b.Cluster(i % 4 + 1);
    for (int i : order)
      b.Gateway("g" + std::to_string(i), "", 1000, i < 8 ? i % 4 + 1 : 0, 60001 + i);
    for (int i : order) AddVpc(b, "v" + std::to_string(i), i % 4 + 1, i % 4 == 0 ? 20 : 3);
    return b.Build();
  };
  NbState x = build(false), y = build(true);
  Settings s = TestSettings();
  s.overload_vms_per_gateway = 50;
  RebalancePlan px = PlanRebalance(x, AllHealthy(x), s, kNow, {});
  RebalancePlan py = PlanRebalance(y, AllHealthy(y), s, kNow, {});
  EXPECT_FALSE(px.actions.empty());
  EXPECT_EQ(px.actions, py.actions);
  EXPECT_EQ(FormatPlan(px), FormatPlan(py));
  EXPECT_EQ(FormatPlan(RebalancePlan{}), "no action\n");
}

// ---- at scale -----------------------------------------------------------------------------

TEST(ClusterPlanAtScale, TenThousandVpcsOverAHundredClusters) {
  NbState st = testing::BuildScaleState();
  HealthTable h = testing::ScaleHealth(st);
  Settings s = testing::ScaleSettings();
  RebalancePlan plan = PlanRebalance(st, h, s, testing::kScaleNowMs, {});
  EXPECT_THAT(plan.failed, ElementsAre("gw-050-0", "gw-051-0", "gw-052-0"));
  std::set<std::string> removed, added, moved;
  for (const Action& a : plan.actions) {
    if (const auto* rm = std::get_if<LeaveBuckets>(&a)) {
      EXPECT_TRUE(removed.insert(rm->gateway).second) << rm->gateway;
    } else if (const auto* add = std::get_if<AddGatewayToCluster>(&a)) {
      EXPECT_TRUE(added.insert(add->gateway).second) << add->gateway;
      EXPECT_EQ(add->gateway.rfind("spare-", 0), 0u);
    } else if (const auto* mv = std::get_if<MoveVpc>(&a)) {
      EXPECT_TRUE(moved.insert(mv->vpc).second) << mv->vpc;
      EXPECT_LE(mv->from, 3u);  // Only the overloaded clusters give.
      EXPECT_GT(mv->to, 3u);
    }
  }
  EXPECT_EQ(removed, (std::set<std::string>{"gw-050-0", "gw-051-0", "gw-052-0"}));
  // Every spare used: one each for 50..52 (back to 3 live), 7 for 1.
  EXPECT_EQ(added.size(), 10u);
  EXPECT_FALSE(moved.empty());
  EXPECT_THAT(plan.overloaded, ElementsAre(1u, 2u, 3u));

  NbState after = ProjectPlan(st, plan);
  std::set<std::string> failed(plan.failed.begin(), plan.failed.end());
  std::vector<ClusterLoad> before = ClusterLoads(st, failed), now = ClusterLoads(after, failed);
  ASSERT_EQ(now.size(), 100u);
  uint64_t total_before = 0, total_after = 0;
  for (size_t i = 0; i < now.size(); ++i) {
    total_before += before[i].load;
    total_after += now[i].load;
    EXPECT_GE(now[i].live_members, 3u) << now[i].id;
    // Givers end inside the band (450 per gateway): 97 receivers can take
    // 3 VPCs of 100 each (291) and 229 moves are needed; receivers stay in it.
    EXPECT_LE(now[i].vms_per_live_gateway, 450.0) << now[i].id;
  }
  EXPECT_EQ(total_before, total_after);
  // Equal inputs, equal plans.
  EXPECT_EQ(FormatPlan(PlanRebalance(st, h, s, testing::kScaleNowMs, {})), FormatPlan(plan));
}

}  // namespace
}  // namespace shortcut::manager::cluster
