// Host rules as values: what a VM and a VPC cost, cookies, the group. What
// the rules do to packets is checked on a real switch with ofproto/trace in
// tests/e2e/host_pipeline_test.cc.
#include "src/pipeline/pipeline.h"

#include <optional>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/openflow/text.h"
#include "src/reconcile/plan.h"

namespace shortcut::pipeline {
namespace {

using ::testing::HasSubstr;

HostRules Rules(int vms) {
  HostRules r;
  r.cluster_id = 7;
  r.gateway_ports = {101, 102};
  r.vpcs = {{0x64, {2, 0x5c, 0, 0, 0, 1}}};
  for (int i = 0; i < vms; ++i) {
    r.vms.push_back({0x64,
                     0x0a000000u + 10 + i,
                     {2, 0, 0, 0, 0, static_cast<uint8_t>(i)},
                     static_cast<uint32_t>(i + 1)});
  }
  return r;
}

TEST(PipelineTest, AVmCostsFourFlowsAndAVpcThree) {
  size_t base = BuildHostState(Rules(0)).flows().size();
  EXPECT_EQ(base, 2u + 3u);  // Two table-miss drops, then the VPC's three.
  EXPECT_EQ(BuildHostState(Rules(1)).flows().size(), base + 4);
  EXPECT_EQ(BuildHostState(Rules(10)).flows().size(), base + 40);
  HostRules two_vpcs = Rules(1);
  two_vpcs.vpcs.push_back({0x65, {2, 0x5c, 0, 0, 0, 2}});
  EXPECT_EQ(BuildHostState(two_vpcs).flows().size(), base + 4 + 3);
}

TEST(PipelineTest, EveryFlowIsInItsClustersCookieSpaceOrShared) {
  reconcile::SwitchState s = BuildHostState(Rules(3));
  reconcile::Ownership own = HostOwnership(7);
  size_t shared = 0;
  for (const auto& [key, flow] : s.flows()) {
    EXPECT_TRUE(own.CoversFlow(flow.cookie)) << std::hex << flow.cookie;
    EXPECT_EQ(flow.idle_timeout, 0);
    if (key.priority == 0) {
      // The table-miss drops: the shared kind, the same for every cluster.
      EXPECT_EQ(flow.cookie, 0x5c00040000000000ull) << key.table;
      EXPECT_TRUE(own.SharesFlow(flow.cookie));
      EXPECT_FALSE(own.OwnsFlow(flow.cookie));
      ++shared;
    } else {
      // Kind 0x01, cluster 7 in bits 24..39, VNI 0x64 in the low 24 bits.
      EXPECT_EQ(flow.cookie, 0x5c00010007000064ull) << key.table << "/" << key.priority;
      EXPECT_TRUE(own.OwnsFlow(flow.cookie));
    }
  }
  EXPECT_EQ(shared, 2u);
  EXPECT_FALSE(own.CoversFlow(DirectPathAdd(0x64, 1, 2, 30).cookie));
}

TEST(PipelineTest, CookiesCarryTheClusterAndTheVni) {
  EXPECT_EQ(HostCookie(1, 0x64), 0x5c00010001000064ull);
  EXPECT_EQ(HostCookie(2, 0xffffff), 0x5c00010002ffffffull);
  EXPECT_EQ(HostCookie(65535, 0x123456), 0x5c0001ffff123456ull);
  HostRules r = Rules(1);
  r.cluster_id = 0x1234;
  r.vpcs[0].vni = 0xabcdef;
  r.vms[0].vni = 0xabcdef;
  const reconcile::SwitchState state = BuildHostState(r);
  for (const auto& [key, flow] : state.flows()) {
    if (key.priority != 0) {
      EXPECT_EQ(flow.cookie, 0x5c00011234abcdefull);
    }
  }
}

// Two clusters serving VPCs on one host: neither owns the other's flows or
// group, both share the table-miss drops for adding only, and neither
// touches direct paths or any meter.
TEST(PipelineTest, TwoClustersOwnDisjointParts) {
  reconcile::Ownership one = HostOwnership(1);
  reconcile::Ownership two = HostOwnership(2);
  EXPECT_EQ(one.cookie, 0x5c00010001000000ull);
  EXPECT_EQ(one.cookie_mask, 0xffffffffff000000ull);
  EXPECT_EQ(two.cookie, 0x5c00010002000000ull);
  EXPECT_TRUE(one.OwnsFlow(0x5c00010001000064ull));
  EXPECT_FALSE(one.OwnsFlow(0x5c00010002000065ull));
  EXPECT_FALSE(two.OwnsFlow(0x5c00010001000064ull));
  EXPECT_FALSE(one.CoversFlow(0x5c00010002000065ull));
  EXPECT_FALSE(one.CoversFlow(0x5c00010000000064ull));  // No cluster 0.
  EXPECT_TRUE(one.SharesFlow(0x5c00040000000000ull));
  EXPECT_TRUE(two.SharesFlow(0x5c00040000000000ull));
  EXPECT_FALSE(one.CoversFlow(0x5c00020000000064ull));  // Direct paths.
  EXPECT_TRUE(one.OwnsGroup(1));
  EXPECT_FALSE(one.OwnsGroup(2));
  EXPECT_TRUE(two.OwnsGroup(2));
  EXPECT_FALSE(two.OwnsGroup(1));
  EXPECT_FALSE(one.OwnsMeter(1));

  // Each cluster's plan against a switch holding both clusters' rules
  // touches nothing: the other's entries are outside its ownership.
  HostRules r1 = Rules(1);
  r1.cluster_id = 1;
  HostRules r2;
  r2.cluster_id = 2;
  r2.gateway_ports = {201};
  r2.vpcs = {{0x65, {2, 0x5c, 0, 0, 0, 2}}};
  r2.vms = {{0x65, 0x0b000005, {2, 0, 0, 0, 1, 5}, 9}};
  reconcile::SwitchState both = BuildHostState(r1);
  const reconcile::SwitchState state2 = BuildHostState(r2);
  for (const auto& [key, flow] : state2.flows()) both.AddFlow(flow);
  for (const auto& [id, group] : state2.groups()) both.AddGroup(group);
  EXPECT_EQ(both.flow_count(), 2u + 2 * (3 + 4));
  EXPECT_EQ(both.group_count(), 2u);
  EXPECT_TRUE(reconcile::ComputePlan(BuildHostState(r1), both.Owned(one), one).empty());
  EXPECT_TRUE(reconcile::ComputePlan(BuildHostState(r2), both.Owned(two), two).empty());
  EXPECT_TRUE(reconcile::ComputePlan(BuildHostState(r1), both, one).empty());
  EXPECT_TRUE(reconcile::ComputePlan(BuildHostState(r2), both, two).empty());

  // Cluster 2 with no VPC left on the host: its own flows and group go,
  // the shared drops and cluster 1's part stay.
  HostRules empty2;
  empty2.cluster_id = 2;
  reconcile::Plan plan = reconcile::ComputePlan(BuildHostState(empty2), both.Owned(two), two);
  EXPECT_EQ(plan.summary.flows.deleted, 7u);
  EXPECT_EQ(plan.summary.flows.added, 0u);
  EXPECT_EQ(plan.summary.groups.deleted, 1u);
  for (const reconcile::PlannedMessage& m : plan.bundle) {
    if (const auto* f = std::get_if<of::FlowMod>(&m.mod)) {
      EXPECT_EQ(f->cookie, 0x5c00010002000000ull);  // Strict delete within cluster 2's space.
      EXPECT_EQ(f->cookie_mask, 0xffffffffff000000ull);
    } else if (const auto* g = std::get_if<of::GroupMod>(&m.mod)) {
      EXPECT_EQ(g->group_id, 2u);
    }
  }
}

// The shared drops are added when missing and never modified or deleted,
// even when they differ from what this cluster would install.
TEST(PipelineTest, SharedFlowsAreAddedOnly) {
  reconcile::Ownership own = HostOwnership(1);
  HostRules r = Rules(0);
  r.cluster_id = 1;
  reconcile::SwitchState want = BuildHostState(r);
  reconcile::Plan first = reconcile::ComputePlan(want, reconcile::SwitchState{}, own);
  EXPECT_EQ(first.summary.flows.added, 5u);

  reconcile::SwitchState installed = want;
  // The switch's shared drop in table 0 differs (another version's), and
  // the table 10 drop is there too: neither is touched.
  reconcile::FlowEntry odd;
  odd.key.table = 0;
  odd.key.priority = 0;
  odd.cookie = 0x5c00040000000000ull;
  odd.instructions.goto_table = 10;
  installed.AddFlow(odd);
  EXPECT_TRUE(reconcile::ComputePlan(want, installed, own).empty());
  // Not desired any more: still not deleted.
  reconcile::SwitchState nothing;
  reconcile::Plan none = reconcile::ComputePlan(nothing, installed, own);
  EXPECT_EQ(none.summary.flows.deleted, 3u);  // The VPC's three, not the drops.
}

TEST(PipelineTest, OneSelectGroupWithABucketPerGateway) {
  reconcile::SwitchState s = BuildHostState(Rules(1));
  ASSERT_EQ(s.groups().size(), 1u);
  const reconcile::GroupEntry& g = s.groups().begin()->second;
  EXPECT_EQ(g.id, 7u);
  EXPECT_EQ(g.type, of::GroupType::kSelect);
  ASSERT_EQ(g.buckets.size(), 2u);
  EXPECT_EQ(g.buckets[0].watch_port, 101u);
  // No cluster: no group and no default rule.
  HostRules none = Rules(1);
  none.cluster_id = 0;
  EXPECT_TRUE(BuildHostState(none).groups().empty());
  EXPECT_EQ(BuildHostState(none).flows().size(), BuildHostState(Rules(1)).flows().size() - 1);
}

// A host holding none of the cluster's VPCs gets nothing of it: no group
// (a change of members must not touch it, seed 3.3), no flows, not even
// the shared drops; the text form agrees.
TEST(PipelineTest, NoVpcOfTheClusterOnTheHostNoGroupNorFlows) {
  HostRules none;
  none.cluster_id = 7;
  none.gateway_ports = {101, 102};
  EXPECT_FALSE(GatewayGroup(none).has_value());
  reconcile::SwitchState s = BuildHostState(none);
  EXPECT_EQ(s.flow_count(), 0u);
  EXPECT_EQ(s.group_count(), 0u);
  EXPECT_TRUE(HostStateText(none).empty());
  // With a VPC, the group is there with a bucket per port given.
  HostRules one = Rules(0);
  std::optional<reconcile::GroupEntry> group = GatewayGroup(one);
  ASSERT_TRUE(group.has_value());
  EXPECT_EQ(group->buckets.size(), 2u);
  // No serving gateway (no bucket port): no group either.
  one.gateway_ports.clear();
  EXPECT_FALSE(GatewayGroup(one).has_value());

  // A host that loses its last VPC of the cluster: the plan against what
  // it held deletes the cluster's flows and its group, and keeps the
  // shared drops.
  const reconcile::Ownership own = HostOwnership(7);
  reconcile::Plan plan = reconcile::ComputePlan(s, BuildHostState(Rules(2)), own);
  EXPECT_EQ(plan.summary.groups.deleted, 1u);
  EXPECT_EQ(plan.summary.flows.deleted, 3u + 2 * 4);
  EXPECT_EQ(plan.summary.flows.added + plan.summary.flows.modified, 0u);
  // Held nothing, wants nothing: nothing to send.
  EXPECT_TRUE(reconcile::ComputePlan(s, reconcile::SwitchState{}, own).empty());
}

// The host's flows are built field by field; their ovs-ofctl text, parsed,
// gives the same state (flows, cookies, group).
TEST(PipelineTest, HostStateIsItsTextParsed) {
  HostRules with_cluster = Rules(3);
  with_cluster.vpcs.push_back({0x1234, {2, 0x5c, 0, 0, 0x12, 0x34}});
  with_cluster.vms.push_back({0x1234, 0xc0a80105, {0x52, 0x54, 0, 0xab, 0xcd, 0xef}, 65000});
  HostRules without_cluster = with_cluster;
  without_cluster.cluster_id = 0;
  for (const HostRules& rules : {with_cluster, without_cluster}) {
    reconcile::SwitchState parsed;
    for (const std::string& line : HostStateText(rules)) {
      if (line.starts_with("group_id=")) {
        auto group = of::ParseGroup(line);
        ASSERT_TRUE(group.ok()) << line << ": " << group.status();
        parsed.AddGroup(reconcile::GroupFromMod(*group));
      } else {
        auto flow = of::ParseFlow(line);
        ASSERT_TRUE(flow.ok()) << line << ": " << flow.status();
        parsed.AddFlow(reconcile::FlowFromMod(*flow));
      }
    }
    reconcile::SwitchState built = BuildHostState(rules);
    EXPECT_EQ(built.flow_count(), 2u + 2 * (rules.cluster_id ? 3 : 2) + 4 * 4);
    EXPECT_EQ(parsed.flow_count(), built.flow_count());
    for (const auto& [key, flow] : parsed.flows()) {
      const reconcile::FlowEntry* b = built.FindFlow(key);
      ASSERT_NE(b, nullptr) << of::FormatFlowSpec(reconcile::ToFlowMod(flow, {}));
      EXPECT_TRUE(b->SameAs(flow)) << of::FormatFlowSpec(reconcile::ToFlowMod(flow, {})) << "\n"
                                   << of::FormatFlowSpec(reconcile::ToFlowMod(*b, {}));
    }
    EXPECT_TRUE(built.SameAs(parsed));
  }
}

TEST(PipelineTest, DirectPathsAddAndDelete) {
  of::FlowMod add = DirectPathAdd(0x64, 0x0a000005, 0xac1f0102, 30);
  EXPECT_EQ(add.command, of::FlowModCommand::kAdd);
  EXPECT_EQ(add.idle_timeout, 30);
  EXPECT_EQ(add.cookie, kCookieDirect | 0x64);
  std::string text = of::FormatFlowSpec(add);
  EXPECT_THAT(text, HasSubstr("nw_dst=10.0.0.5"));
  EXPECT_THAT(text, HasSubstr("set_field:172.31.1.2->tun_dst"));
  EXPECT_THAT(text, HasSubstr("output:60000"));
  // Built field by field; the same as its text parsed.
  auto parsed = of::ParseFlow(DirectPathText(0x64, 0x0a000005, 0xac1f0102, 30));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(add, *parsed);

  of::FlowMod del = DirectPathDelete(0x64, 0x0a000005);
  EXPECT_EQ(del.command, of::FlowModCommand::kDelete);  // Non-strict: whatever the priority.
  EXPECT_EQ(del.cookie_mask, kCookieKindMask);
  EXPECT_EQ(del.match, add.match);
  of::FlowMod vpc = DirectPathDeleteVpc(0x64);
  EXPECT_EQ(vpc.match.size(), 1u);  // metadata only.
}

}  // namespace
}  // namespace shortcut::pipeline
