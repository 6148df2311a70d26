// Times PlanRebalance (cluster_mgmt.h) on 10,000 VPCs over 100 clusters
// (tests/manager/cluster_scale_state.h: 3 clusters overloaded, 3 failed
// gateways, 10 spares). Target: at most 100 ms per plan.
//
// Usage: rebalance_bench [ROUNDS]   (default 20). Prints the plan's size and
// the minimum and median time of a plan over the rounds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "src/manager/cluster_mgmt.h"
#include "tests/manager/cluster_scale_state.h"

namespace mgr = shortcut::manager;

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  if (rounds <= 0) {
    std::fprintf(stderr, "usage: rebalance_bench [ROUNDS > 0]\n");
    return 2;
  }
  mgr::NbState st = mgr::testing::BuildScaleState();
  mgr::cluster::HealthTable health = mgr::testing::ScaleHealth(st);
  mgr::Settings settings = mgr::testing::ScaleSettings();
  std::vector<double> ms;
  size_t actions = 0;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    mgr::cluster::RebalancePlan plan = mgr::cluster::PlanRebalance(
        st, health, settings, mgr::testing::kScaleNowMs, mgr::cluster::RebalanceHistory{});
    auto t1 = std::chrono::steady_clock::now();
    actions = plan.actions.size();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "PlanRebalance: %u VPCs, %u clusters, %zu gateways, %zu actions: min %.2f ms, "
      "median %.2f ms over %d rounds (target <= 100 ms)\n",
      mgr::testing::kScaleVpcs, mgr::testing::kScaleClusters, st.gateways.size(), actions,
      ms.front(), ms[ms.size() / 2], rounds);
  return 0;
}
