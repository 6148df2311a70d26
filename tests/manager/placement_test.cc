// vpc_map_to_cluster (placement.h): the cluster with the most remaining
// capacity, ties to the lowest id, memberless clusters never.
#include "src/manager/placement.h"

#include <gtest/gtest.h>

#include "tests/manager/nb_state_builder.h"

namespace shortcut::manager {
namespace {

TEST(Placement, MostRemainingCapacityWins) {
  // 1: 100 - 90 = 10 left; 2: 50 - 0 = 50 left; 3: 200 - 180 = 20 left.
  std::vector<ClusterLoad> loads = {{1, 1, 100, 90}, {2, 1, 50, 0}, {3, 2, 200, 180}};
  EXPECT_EQ(*VpcMapToCluster(loads), 2u);
}

TEST(Placement, TiesGoToTheLowestId) {
  std::vector<ClusterLoad> loads = {{7, 1, 100, 50}, {3, 1, 60, 10}, {5, 1, 50, 0}};
  EXPECT_EQ(*VpcMapToCluster(loads), 3u);
}

TEST(Placement, OverloadedClustersCompareBelowZero) {
  // Both over capacity: 1 is 50 over, 2 is 10 over.
  std::vector<ClusterLoad> loads = {{1, 1, 100, 150}, {2, 1, 10, 20}};
  EXPECT_EQ(*VpcMapToCluster(loads), 2u);
}

TEST(Placement, ClustersWithoutMembersAreNeverChosen) {
  std::vector<ClusterLoad> loads = {{1, 0, 0, 0}, {2, 1, 10, 10}};
  EXPECT_EQ(*VpcMapToCluster(loads), 2u);
  std::vector<ClusterLoad> none = {{1, 0, 0, 0}};
  EXPECT_EQ(VpcMapToCluster(none).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(VpcMapToCluster({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Placement, LoadsFromState) {
  testing::NbStateBuilder b;
  b.Host("h1", "172.31.1.1");
  b.Gateway("g1", "172.31.2.1", 100, 1, 60001).Gateway("g2", "172.31.2.2", 30, 1, 60002);
  b.Gateway("g3", "172.31.2.3", 80, 2, 60003).Gateway("spare", "172.31.2.4", 999, 0, 60004);
  b.Cluster(1).Cluster(2).Cluster(3);
  b.Vpc("blue", 100, 1).Network("blue", "web", "10.0.0.0/24", "");
  b.Vpc("red", 200, 2).Network("red", "web", "10.0.0.0/24", "");
  b.Endpoint("a", "blue", "web", "10.0.0.1", "02:00:00:00:00:01", "h1");
  b.Endpoint("b", "blue", "web", "10.0.0.2", "02:00:00:00:00:02", "h1");
  b.Endpoint("c", "red", "web", "10.0.0.3", "02:00:00:00:00:03", "h1");
  std::vector<ClusterLoad> want = {{1, 2, 130, 2}, {2, 1, 80, 1}, {3, 0, 0, 0}};
  EXPECT_EQ(ClusterLoads(b.Build()), want);
  EXPECT_EQ(*VpcMapToCluster(ClusterLoads(b.Build())), 1u);  // 128 left against 79.
}

}  // namespace
}  // namespace shortcut::manager
