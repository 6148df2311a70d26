// HostStateBuilder: after any sequence of rules, the state BuildHostState
// gives, and every flow that differs from the previous state is among the
// keys Update() reports.
#include "src/pipeline/host_state.h"

#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace shortcut::pipeline {
namespace {

HostVm Vm(uint32_t vni, int i) {
  return HostVm{vni, 0x0a000000u + static_cast<uint32_t>(i),
                of::MacAddr{2, 0, 0, 0, static_cast<uint8_t>(vni), static_cast<uint8_t>(i)},
                static_cast<uint32_t>(i + 1)};
}

HostRules Base() {
  HostRules r;
  r.cluster_id = 7;
  r.gateway_ports = {101, 102};
  r.vpcs = {HostVpc{0x64, {2, 0x5c, 0, 0, 0, 1}}, HostVpc{0x65, {2, 0x5c, 0, 0, 0, 2}}};
  for (int i = 0; i < 20; ++i) r.vms.push_back(Vm(i % 2 ? 0x65 : 0x64, i));
  return r;
}

class HostStateBuilderTest : public ::testing::Test {
 protected:
  // Updates to `rules` and checks the state and the reported keys; returns
  // whether the update was incremental.
  bool Step(const HostRules& rules) {
    reconcile::SwitchState before = builder_.state();
    std::optional<std::vector<reconcile::FlowKey>> changed = builder_.Update(rules);
    const reconcile::SwitchState& after = builder_.state();
    EXPECT_TRUE(after.SameAs(BuildHostState(rules)));
    if (!changed) return false;
    reconcile::FlowKeySet keys(changed->begin(), changed->end());
    for (const auto& [key, flow] : after.flows()) {
      const reconcile::FlowEntry* old = before.FindFlow(key);
      if (old == nullptr || !old->SameAs(flow)) {
        EXPECT_TRUE(keys.contains(key));
      }
    }
    for (const auto& [key, flow] : before.flows()) {
      if (after.FindFlow(key) == nullptr) {
        EXPECT_TRUE(keys.contains(key));
      }
    }
    last_keys_ = keys.size();
    return true;
  }

  HostStateBuilder builder_;
  size_t last_keys_ = 0;
};

TEST_F(HostStateBuilderTest, FollowsEveryKindOfChange) {
  HostRules r = Base();
  EXPECT_FALSE(Step(r));  // The first update builds everything.

  r.vms.push_back(Vm(0x64, 40));  // A VM comes online: its 4 flows.
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(last_keys_, 4u);

  r.vms.erase(r.vms.begin() + 3);  // One goes.
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(last_keys_, 4u);

  r.vms[5].ofport = 99;  // Rebound to another port.
  EXPECT_TRUE(Step(r));

  EXPECT_TRUE(Step(r));  // Nothing changed.
  EXPECT_EQ(last_keys_, 0u);

  std::swap(r.vms[0], r.vms[7]);  // Order alone changes nothing.
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(last_keys_, 0u);

  r.vpcs[1].router_mac[5] = 9;  // The VPC's and its VMs' flows.
  EXPECT_TRUE(Step(r));

  r.gateway_ports = {101};  // The group only.
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(last_keys_, 0u);

  r.cluster_id = 0;  // No default routes, no group.
  EXPECT_TRUE(Step(r));
  r.cluster_id = 8;
  EXPECT_TRUE(Step(r));

  r.vpcs.push_back(HostVpc{0x66, {2, 0x5c, 0, 0, 0, 3}});
  r.vms.push_back(Vm(0x66, 50));
  EXPECT_TRUE(Step(r));
  r.vms.pop_back();
  r.vpcs.pop_back();
  EXPECT_TRUE(Step(r));

  r.vms.clear();
  r.vpcs.clear();
  EXPECT_TRUE(Step(r));  // Nothing of the cluster left: no flow, no group.
  EXPECT_EQ(builder_.state().flow_count(), 0u);
  EXPECT_EQ(builder_.state().group_count(), 0u);
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(last_keys_, 0u);
  r.vpcs.push_back(HostVpc{0x64, {2, 0x5c, 0, 0, 0, 1}});  // A VPC again: drops and group too.
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(last_keys_, 2u + 3);
  EXPECT_EQ(builder_.state().group_count(), 1u);
}

// A first update without any VPC builds an empty state; the first VPC
// brings the shared drops and the group.
TEST_F(HostStateBuilderTest, StartsEmptyWithoutAVpc) {
  HostRules r;
  r.cluster_id = 7;
  r.gateway_ports = {101};
  EXPECT_FALSE(Step(r));
  EXPECT_EQ(builder_.state().flow_count(), 0u);
  EXPECT_EQ(builder_.state().group_count(), 0u);
  r.vpcs.push_back(HostVpc{0x64, {2, 0x5c, 0, 0, 0, 1}});
  r.vms.push_back(Vm(0x64, 1));
  EXPECT_TRUE(Step(r));
  EXPECT_EQ(builder_.state().flow_count(), 2u + 3 + 4);
  EXPECT_EQ(builder_.state().group_count(), 1u);
}

// Parts that share flow keys: the later one wins, as in BuildHostState, by
// whole rebuilds until the collision is gone.
TEST_F(HostStateBuilderTest, CollidingPartsAreRebuiltWhole) {
  HostRules r = Base();
  EXPECT_FALSE(Step(r));
  r.vms.push_back(r.vms[2]);  // Listed twice.
  EXPECT_FALSE(Step(r));
  EXPECT_FALSE(Step(r));
  r.vms.pop_back();
  EXPECT_FALSE(Step(r));  // Rebuilt once more, now without collision...
  r.vms.push_back(Vm(0x64, 60));
  EXPECT_TRUE(Step(r));  // ... so the next one is incremental.

  HostVm same_key = r.vms[4];  // Same port, MAC and IP, other VNI: some keys shared.
  same_key.vni = 0x65;
  r.vms.push_back(same_key);
  EXPECT_FALSE(Step(r));
  r.vms.pop_back();
  EXPECT_FALSE(Step(r));
  EXPECT_TRUE(Step(r));
}

}  // namespace
}  // namespace shortcut::pipeline
