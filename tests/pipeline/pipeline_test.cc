// Host rules as values: what a VM and a VPC cost, cookies, the group. What
// the rules do to packets is checked on a real switch with ofproto/trace in
// tests/e2e/host_pipeline_test.cc.
#include "src/pipeline/pipeline.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/openflow/text.h"

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

TEST(PipelineTest, EveryFlowIsInTheBaseCookieSpace) {
  reconcile::SwitchState s = BuildHostState(Rules(3));
  reconcile::Ownership own = BaseOwnership();
  for (const auto& [key, flow] : s.flows()) {
    EXPECT_TRUE(own.OwnsFlow(flow.cookie)) << std::hex << flow.cookie;
    EXPECT_EQ(flow.idle_timeout, 0);
  }
  EXPECT_FALSE(own.OwnsFlow(DirectPathAdd(0x64, 1, 2, 30).cookie));
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
