// A large NbState for cluster management at scale (10,000 VPCs over 100
// clusters of 3 gateways, 10 spares), shared by the unit test that checks
// the plan's properties and bench/rebalance_bench.cc that times it.
//
// Only what cluster management reads is filled: gateways, clusters, VPCs
// and the endpoints-by-VPC index (the load); endpoint rows are left out.
//
// Shape: VPC i is served by cluster (i % 100) + 1, 100 VPCs per cluster.
// The VPCs of clusters 1..3 have 100 endpoints each (10,000 per cluster,
// 3,333 per gateway: overloaded at 500); the others have (i / 100) % 20 + 1
// (1,050 per cluster, 350 per gateway). Gateways gw-050-0, gw-051-0 and
// gw-052-0 last answered ok 10 s before kScaleNowMs: failed at the 3 s
// deadline; every other one answers now. Minimum members: 3.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "src/manager/cluster_mgmt.h"
#include "src/manager/nb.h"

namespace shortcut::manager::testing {

inline constexpr int64_t kScaleNowMs = 1'000'000;
inline constexpr uint32_t kScaleClusters = 100;
inline constexpr uint32_t kScaleVpcs = 10'000;

inline Settings ScaleSettings() {
  Settings s;
  s.overload_vms_per_gateway = 500;
  s.underload_vms_per_gateway = 50;
  s.min_cluster_members = 3;
  s.health_deadline_ms = 3000;
  s.hold_down_ms = 30000;
  return s;
}

inline bool ScaleFailed(const std::string& gw) {
  return gw == "gw-050-0" || gw == "gw-051-0" || gw == "gw-052-0";
}

inline NbState BuildScaleState() {
  NbState st;
  auto add_gw = [&](const std::string& name, uint32_t cluster) {
    GatewayRow& g = st.gateways[name];
    g.name = name;
    g.capacity = 2000;
    g.cluster_id = cluster;
    g.state = GatewayState::kReady;
    g.role = cluster != 0 ? GatewayRole::kServing : GatewayRole::kJoining;
    if (cluster != 0) st.gateways_by_cluster[cluster].insert(name);
  };
  for (uint32_t c = 1; c <= kScaleClusters; ++c) {
    st.clusters[c].id = c;
    for (int m = 0; m < 3; ++m) add_gw(absl::StrFormat("gw-%03d-%d", c, m), c);
  }
  for (int s = 0; s < 10; ++s) add_gw(absl::StrFormat("spare-%02d", s), 0);
  for (uint32_t i = 0; i < kScaleVpcs; ++i) {
    std::string id = absl::StrFormat("vpc-%05d", i);
    uint32_t cluster = i % kScaleClusters + 1;
    VpcRow& v = st.vpcs[id];
    v.vpc.id = id;
    v.vpc.vni = i + 1;
    v.cluster_id = cluster;
    uint32_t n = cluster <= 3 ? 100 : (i / 100) % 20 + 1;
    auto& eps = st.endpoints_by_vpc[id];
    for (uint32_t e = 0; e < n; ++e) eps.insert(absl::StrFormat("%s-ep-%03d", id, e));
  }
  return st;
}

inline cluster::HealthTable ScaleHealth(const NbState& st) {
  std::vector<cluster::HealthSample> samples;
  for (const auto& [name, gw] : st.gateways) {
    samples.push_back({name, true, ScaleFailed(name) ? kScaleNowMs - 10'000 : kScaleNowMs});
  }
  cluster::HealthTable table;
  cluster::RecordHealth(table, samples);
  return table;
}

}  // namespace shortcut::manager::testing
