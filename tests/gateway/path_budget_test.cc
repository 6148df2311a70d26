// PathBudget: a gateway's share of a host's direct-path budget, eviction
// of its least recently used path (as the reads' packet counters show),
// refusal, and the reads that keep the count honest. Expected values are
// worked out by hand in the comments.
#include "src/gateway/path_budget.h"

#include "gtest/gtest.h"

namespace shortcut::gateway {
namespace {

constexpr model::Ipv4 kHost = 0xac1f0101;
constexpr uint32_t kVni = 7;

PathBudget::PathKey P(model::Ipv4 dst) { return {kVni, dst}; }

TEST(PathBudgetTest, AHostWithoutABudgetTakesEveryPathAndKeepsNoState) {
  PathBudget b;
  b.SetMembers(1, {1});
  for (model::Ipv4 d = 1; d <= 100; ++d) EXPECT_TRUE(b.Admit(kHost, P(d), 0).install);
  EXPECT_FALSE(b.Limited(kHost));
  EXPECT_FALSE(b.View(kHost).has_value());
}

TEST(PathBudgetTest, EachServingMemberGetsAnEqualShareAndEvictsItsLeastRecentlyUsed) {
  PathBudget b(PathBudget::Action::kEvict);
  b.SetMembers(1, {1, 2});  // Two serving gateways: 10 / 2 = 5 each.
  b.SetBudget(kHost, 10);
  for (model::Ipv4 d = 1; d <= 5; ++d) {
    PathBudget::Decision dec = b.Admit(kHost, P(d), 100 * d);  // Installed at 100..500.
    EXPECT_TRUE(dec.install);
    EXPECT_TRUE(dec.evict.empty());
  }
  EXPECT_EQ(b.View(kHost)->limit, 5u);
  // A read at 1000: paths 1, 2 and 4 carried packets (used now); 3 and 5 did not.
  uint64_t begun = b.BeginRead(kHost);
  b.EndRead(kHost, begun,
            {{P(1), 1, 10},
             {P(2), 1, 3},
             {P(3), 1, 0},
             {P(4), 1, 8},
             {P(5), 1, 0},
             {P(50), 2, 4}},  // The other member's path: not ours, not stale.
            1000);
  EXPECT_EQ(b.View(kHost)->others, 1u);
  EXPECT_EQ(b.View(kHost)->stale, 0u);
  // Full: the sixth evicts path 3 (last used 300, older than 5's 500).
  PathBudget::Decision d6 = b.Admit(kHost, P(6), 1100);
  EXPECT_TRUE(d6.install);
  ASSERT_EQ(d6.evict.size(), 1u);
  EXPECT_EQ(d6.evict[0].dst, 3u);
  // Then path 5.
  PathBudget::Decision d7 = b.Admit(kHost, P(7), 1200);
  ASSERT_EQ(d7.evict.size(), 1u);
  EXPECT_EQ(d7.evict[0].dst, 5u);
  // A path we hold already takes no new slot.
  PathBudget::Decision again = b.Admit(kHost, P(1), 1300);
  EXPECT_TRUE(again.install);
  EXPECT_TRUE(again.evict.empty());
  EXPECT_EQ(b.View(kHost)->own, 5u);
  EXPECT_EQ(b.View(kHost)->evicted, 2u);
  EXPECT_EQ(b.evicted(), 2u);
}

TEST(PathBudgetTest, RefuseKeepsThePathsItHasAndCountsTheRefusal) {
  PathBudget b(PathBudget::Action::kRefuse);
  b.SetMembers(1, {1});
  b.SetBudget(kHost, 2);
  EXPECT_TRUE(b.Admit(kHost, P(1), 0).install);
  EXPECT_TRUE(b.Admit(kHost, P(2), 0).install);
  PathBudget::Decision d = b.Admit(kHost, P(3), 0);
  EXPECT_FALSE(d.install);
  EXPECT_TRUE(d.evict.empty());
  EXPECT_EQ(b.View(kHost)->own, 2u);
  EXPECT_EQ(b.View(kHost)->refused, 1u);
  EXPECT_EQ(b.refused(), 1u);
}

TEST(PathBudgetTest, PathsOfGatewaysThatNoLongerServeShrinkEveryShare) {
  PathBudget b;
  b.SetMembers(1, {1, 2});
  b.SetBudget(kHost, 10);
  // 4 paths tagged 9 (a gateway gone) and 1 untagged: (10 - 5) / 2 = 2.
  b.EndRead(kHost, b.BeginRead(kHost),
            {{P(91), 9, 0}, {P(92), 9, 0}, {P(93), 9, 0}, {P(94), 9, 0}, {P(95), 0, 0}}, 0);
  EXPECT_EQ(b.View(kHost)->stale, 5u);
  EXPECT_EQ(b.View(kHost)->limit, 2u);
  EXPECT_TRUE(b.Admit(kHost, P(1), 1).install);
  EXPECT_TRUE(b.Admit(kHost, P(2), 2).install);
  std::vector<PathBudget::PathKey> evicted = b.Admit(kHost, P(3), 3).evict;
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0].dst, 1u);
  // More stale than the budget: no share at all, so nothing is installed
  // and this gateway's own paths (2, then 3) go as well.
  b.SetBudget(kHost, 4);
  EXPECT_EQ(b.View(kHost)->limit, 0u);
  PathBudget::Decision none = b.Admit(kHost, P(4), 4);
  EXPECT_FALSE(none.install);
  ASSERT_EQ(none.evict.size(), 2u);
  EXPECT_EQ(none.evict[0].dst, 2u);
  EXPECT_EQ(none.evict[1].dst, 3u);
  EXPECT_EQ(b.View(kHost)->own, 0u);
}

TEST(PathBudgetTest, WhenAMemberJoinsTheNextPathTrimsTheOldShareDownToTheNewOne) {
  PathBudget b;
  b.SetMembers(1, {1});
  b.SetBudget(kHost, 6);  // Alone: 6.
  for (model::Ipv4 d = 1; d <= 6; ++d) b.Admit(kHost, P(d), d);
  b.SetMembers(1, {1, 2});  // Two: 3 each; this one holds 6.
  PathBudget::Decision d = b.Admit(kHost, P(7), 10);
  EXPECT_TRUE(d.install);
  // Down to 2 before the new one: the four oldest (1..4) go.
  ASSERT_EQ(d.evict.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(d.evict[i].dst, i + 1) << i;
  EXPECT_EQ(b.View(kHost)->own, 3u);
}

TEST(PathBudgetTest, AReadForgetsPathsThatIdledOutButKeepsThoseAdmittedAfterItBegan) {
  PathBudget b(PathBudget::Action::kRefuse);
  b.SetMembers(1, {1});
  b.SetBudget(kHost, 3);
  b.Admit(kHost, P(1), 0);
  b.Admit(kHost, P(2), 0);
  const uint64_t begun = b.BeginRead(kHost);
  b.Admit(kHost, P(3), 0);  // Sent after the read: the switch's answer may miss it.
  EXPECT_FALSE(b.Admit(kHost, P(4), 0).install);  // Full.
  // The read finds path 1 only: 2 idled out; 3 is kept.
  b.EndRead(kHost, begun, {{P(1), 1, 5}}, 10);
  EXPECT_EQ(b.View(kHost)->own, 2u);
  EXPECT_TRUE(b.Admit(kHost, P(4), 20).install);
  EXPECT_FALSE(b.Admit(kHost, P(5), 20).install);
  // A path of ours the gateway did not know (it restarted) counts.
  b.EndRead(kHost, b.BeginRead(kHost), {{P(1), 1, 5}, {P(3), 1, 0}, {P(4), 1, 0}, {P(8), 1, 0}},
            30);
  EXPECT_EQ(b.View(kHost)->own, 4u);
  EXPECT_EQ(b.View(kHost)->reads, 2u);
}

TEST(PathBudgetTest, TurningTheBudgetOffForgetsTheHost) {
  PathBudget b;
  b.SetMembers(1, {1});
  b.SetBudget(kHost, 1);
  b.Admit(kHost, P(1), 0);
  b.SetBudget(kHost, 0);
  EXPECT_FALSE(b.Limited(kHost));
  EXPECT_TRUE(b.Admit(kHost, P(2), 0).install);
  EXPECT_TRUE(b.Hosts().empty());
}

}  // namespace
}  // namespace shortcut::gateway
