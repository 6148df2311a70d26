#include "src/reconcile/plan.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/reconcile/state.h"

namespace shortcut::reconcile {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

FlowEntry Flow(uint16_t in_port, uint32_t out_port, uint64_t cookie = 0x1, int origin = 0,
               uint8_t table = 0, uint16_t priority = 100) {
  FlowEntry f;
  f.key.table = table;
  f.key.priority = priority;
  f.key.match.Set(of::Field::kInPort, in_port);
  f.cookie = cookie;
  f.instructions.apply_actions.push_back(of::ActionOutput{out_port});
  f.origin = origin;
  return f;
}

FlowEntry ToGroup(uint16_t in_port, uint32_t group, int origin = 0) {
  FlowEntry f = Flow(in_port, 0, 0x1, origin);
  f.instructions.apply_actions = {of::ActionGroup{group}};
  return f;
}

GroupEntry Group(uint32_t id, std::vector<uint32_t> ports, int origin = 0) {
  GroupEntry g;
  g.id = id;
  g.type = of::GroupType::kSelect;
  for (uint32_t p : ports)
    g.buckets.push_back(of::Bucket{1, of::kPortAny, of::kGroupAny, {of::ActionOutput{p}}});
  g.origin = origin;
  return g;
}

MeterEntry Meter(uint32_t id, uint32_t rate, int origin = 0) {
  MeterEntry m;
  m.id = id;
  m.flags = of::kMeterKbps | of::kMeterBurst;
  m.bands.push_back(of::MeterBand{of::kMeterBandDrop, rate, rate / 10, 0});
  m.origin = origin;
  return m;
}

// A readable digest of a planned message: "flow add in_port=1 origin=3".
std::string Describe(const PlannedMessage& m) {
  std::string s;
  if (const auto* f = std::get_if<of::FlowMod>(&m.mod)) {
    static const char* kCmd[] = {"add", "modify", "modify_strict", "delete", "delete_strict"};
    s = std::string("flow ") + kCmd[static_cast<int>(f->command)] +
        " in_port=" + std::to_string(f->match.Find(of::Field::kInPort)->ValueU64());
  } else if (const auto* g = std::get_if<of::GroupMod>(&m.mod)) {
    static const char* kCmd[] = {"add", "modify", "delete"};
    s = std::string("group ") + kCmd[static_cast<int>(g->command)] + " " +
        std::to_string(g->group_id);
  } else if (const auto* mm = std::get_if<of::MeterMod>(&m.mod)) {
    static const char* kCmd[] = {"add", "modify", "delete"};
    s = std::string("meter ") + kCmd[static_cast<int>(mm->command)] + " " +
        std::to_string(mm->meter_id);
  }
  return s + " origin=" + std::to_string(m.origin);
}

std::vector<std::string> Describe(const std::vector<PlannedMessage>& v) {
  std::vector<std::string> out;
  for (const auto& m : v) out.push_back(Describe(m));
  return out;
}

Ownership Cookie1() {
  Ownership own;
  own.cookie = 0x1;
  own.cookie_mask = 0xff;
  return own;
}

TEST(PlanTest, IdenticalStatesGiveAnEmptyPlan) {
  SwitchState s;
  s.AddFlow(Flow(1, 2));
  s.AddGroup(Group(1, {1, 2}));
  s.AddMeter(Meter(1, 1000));
  SwitchState installed = s;
  // Origins are not part of the comparison.
  FlowEntry f = Flow(1, 2);
  f.origin = 42;
  installed.AddFlow(f);
  Plan plan = ComputePlan(s, installed, Cookie1());
  EXPECT_TRUE(plan.empty());
  EXPECT_TRUE(plan.summary.empty());
  EXPECT_EQ(plan.summary.ToString(), "flows: +0 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0");
}

TEST(PlanTest, NewFlowIsAddedWithItsOrigin) {
  SwitchState desired;
  desired.AddFlow(Flow(1, 2, 0x1, 7));
  Plan plan = ComputePlan(desired, SwitchState{}, Cookie1());
  EXPECT_THAT(Describe(plan.bundle), ElementsAre("flow add in_port=1 origin=7"));
  const auto& mod = std::get<of::FlowMod>(plan.bundle[0].mod);
  EXPECT_EQ(mod.cookie, 0x1u);
  EXPECT_EQ(mod.priority, 100);
  EXPECT_EQ(plan.summary.flows, (ChangeCounts{1, 0, 0}));
  EXPECT_EQ(plan.summary.ToString(), "flows: +1 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0");
}

TEST(PlanTest, UndesiredFlowIsDeletedStrictWithinTheCookieSpace) {
  SwitchState installed;
  FlowEntry f = Flow(3, 4, 0x101, 0, /*table=*/5, /*priority=*/77);
  f.idle_timeout = 10;
  installed.AddFlow(f);
  Plan plan = ComputePlan(SwitchState{}, installed, Cookie1());
  ASSERT_THAT(Describe(plan.bundle), ElementsAre("flow delete_strict in_port=3 origin=0"));
  const auto& mod = std::get<of::FlowMod>(plan.bundle[0].mod);
  EXPECT_EQ(mod.table_id, 5);
  EXPECT_EQ(mod.priority, 77);
  EXPECT_EQ(mod.match, f.key.match);
  EXPECT_EQ(mod.cookie, 0x1u);
  EXPECT_EQ(mod.cookie_mask, 0xffu);
  EXPECT_EQ(mod.instructions, of::Instructions{});
  EXPECT_EQ(plan.summary.flows, (ChangeCounts{0, 0, 1}));
}

TEST(PlanTest, InstructionChangeIsModifyStrict) {
  SwitchState desired, installed;
  desired.AddFlow(Flow(1, 3, 0x1, 9));
  installed.AddFlow(Flow(1, 2));
  Plan plan = ComputePlan(desired, installed, Cookie1());
  ASSERT_THAT(Describe(plan.bundle), ElementsAre("flow modify_strict in_port=1 origin=9"));
  const auto& mod = std::get<of::FlowMod>(plan.bundle[0].mod);
  EXPECT_EQ(mod.instructions, Flow(1, 3).instructions);
  EXPECT_EQ(mod.cookie_mask, 0xffu);
  EXPECT_EQ(plan.summary.flows, (ChangeCounts{0, 1, 0}));
}

// OF1.3 MODIFY keeps the cookie (and OVS keeps timeouts and flags): replace.
TEST(PlanTest, CookieTimeoutOrFlagChangeIsDeleteStrictThenAdd) {
  for (int what = 0; what < 3; ++what) {
    SwitchState desired, installed;
    FlowEntry want = Flow(1, 2, 0x201, 4);
    if (what == 1) want = Flow(1, 2), want.hard_timeout = 30, want.origin = 4;
    if (what == 2) want = Flow(1, 2), want.flags = of::kFlowSendFlowRem, want.origin = 4;
    desired.AddFlow(want);
    installed.AddFlow(Flow(1, 2));
    Plan plan = ComputePlan(desired, installed, Cookie1());
    EXPECT_THAT(Describe(plan.bundle),
                ElementsAre("flow delete_strict in_port=1 origin=4", "flow add in_port=1 origin=4"))
        << what;
    const auto& add = std::get<of::FlowMod>(plan.bundle[1].mod);
    EXPECT_EQ(add.cookie, want.cookie);
    EXPECT_EQ(add.hard_timeout, want.hard_timeout);
    EXPECT_EQ(add.flags, want.flags);
    EXPECT_EQ(plan.summary.flows, (ChangeCounts{0, 1, 0})) << what;
  }
}

TEST(PlanTest, GroupsAroundFlowsAndMetersAroundTheBundle) {
  SwitchState desired, installed;
  desired.AddMeter(Meter(1, 1000, 1));  // New.
  desired.AddMeter(Meter(2, 2000, 2));  // Changed.
  installed.AddMeter(Meter(2, 500));
  installed.AddMeter(Meter(3, 300));       // Gone.
  desired.AddGroup(Group(10, {1}, 3));     // New.
  desired.AddGroup(Group(11, {1, 2}, 4));  // Changed.
  installed.AddGroup(Group(11, {1}));
  installed.AddGroup(Group(12, {5}));  // Gone.
  desired.AddFlow(Flow(1, 2, 0x1, 5));
  installed.AddFlow(Flow(9, 9));

  Plan plan = ComputePlan(desired, installed, Cookie1());
  EXPECT_THAT(Describe(plan.meters_before),
              ElementsAre("meter add 1 origin=1", "meter modify 2 origin=2"));
  EXPECT_THAT(Describe(plan.meters_undo),
              ElementsAre("meter modify 2 origin=2", "meter delete 1 origin=1"));
  EXPECT_THAT(Describe(plan.bundle),
              ElementsAre("group add 10 origin=3", "group modify 11 origin=4",
                          "flow delete_strict in_port=9 origin=0", "flow add in_port=1 origin=5",
                          "group delete 12 origin=0"));
  EXPECT_THAT(Describe(plan.meters_after), ElementsAre("meter delete 3 origin=0"));
  // The undo of a modify restores the installed bands.
  EXPECT_EQ(std::get<of::MeterMod>(plan.meters_undo[0].mod).bands, Meter(2, 500).bands);
  EXPECT_EQ(plan.summary.ToString(), "flows: +1 ~0 -1  groups: +1 ~1 -1  meters: +1 ~1 -1");
  EXPECT_EQ(plan.message_count(), 8u);
}

// Bug: meter bands not updated for an existing meter (same id, new bands).
TEST(PlanTest, MeterWithSameIdAndDifferentBandsIsModified) {
  SwitchState desired, installed;
  MeterEntry want = Meter(5, 1000, 12);
  want.bands.push_back(of::MeterBand{of::kMeterBandDscpRemark, 2000, 200, 1});
  desired.AddMeter(want);
  installed.AddMeter(Meter(5, 1000));
  Plan plan = ComputePlan(desired, installed, Ownership{});
  ASSERT_THAT(Describe(plan.meters_before), ElementsAre("meter modify 5 origin=12"));
  const auto& mod = std::get<of::MeterMod>(plan.meters_before[0].mod);
  EXPECT_EQ(mod.command, of::MeterModCommand::kModify);
  EXPECT_EQ(mod.bands, want.bands);
  EXPECT_EQ(plan.summary.meters, (ChangeCounts{0, 1, 0}));
  EXPECT_TRUE(plan.bundle.empty());
}

// Repointing flows from one group to another: the new group comes first, the
// flow moves, the old group goes last (a group delete takes its flows along).
TEST(PlanTest, RepointingDeletesTheOldGroupAfterTheFlowsMoved) {
  SwitchState desired, installed;
  installed.AddGroup(Group(1, {1, 2}));
  installed.AddFlow(ToGroup(7, 1));
  desired.AddGroup(Group(2, {1, 2, 3}, 1));
  desired.AddFlow(ToGroup(7, 2, 2));
  Plan plan = ComputePlan(desired, installed, Cookie1());
  EXPECT_THAT(Describe(plan.bundle),
              ElementsAre("group add 2 origin=1", "flow modify_strict in_port=7 origin=2",
                          "group delete 1 origin=0"));
}

TEST(PlanTest, EntriesOutsideOwnershipAreNeverTouched) {
  Ownership own = Cookie1();
  own.group_min = 100;
  own.group_max = 199;
  own.meter_min = 10;
  own.meter_max = 19;
  SwitchState desired, installed;
  installed.AddFlow(Flow(1, 2, /*cookie=*/0x2));  // Another controller's flow.
  installed.AddGroup(Group(5, {1}));              // Group outside our range.
  installed.AddMeter(Meter(1, 100));              // Meter outside our range.
  installed.AddFlow(Flow(2, 2, 0x301));           // Ours (cookie & 0xff == 1): deleted.
  Plan plan = ComputePlan(desired, installed, own);
  EXPECT_THAT(Describe(plan.bundle), ElementsAre("flow delete_strict in_port=2 origin=0"));
  EXPECT_TRUE(plan.meters_after.empty());

  // Desired entries outside ownership are skipped and reported.
  desired.AddFlow(Flow(3, 3, 0x2, 21));
  desired.AddGroup(Group(6, {1}, 22));
  desired.AddMeter(Meter(2, 100, 23));
  plan = ComputePlan(desired, installed, own);
  EXPECT_THAT(Describe(plan.bundle), ElementsAre("flow delete_strict in_port=2 origin=0"));
  EXPECT_TRUE(plan.meters_before.empty());
  absl::Status st = CheckDesired(desired, own);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("origin 21"));
  EXPECT_THAT(st.message(), HasSubstr("group 6 (origin 22)"));
  EXPECT_THAT(st.message(), HasSubstr("meter 2 (origin 23)"));
  EXPECT_TRUE(CheckDesired(SwitchState{}, own).ok());
}

// A desired flow whose key is held by a flow outside our cookie space: we add
// ours (OpenFlow allows one flow per key) but never delete theirs first.
TEST(PlanTest, KeyHeldByForeignFlowIsAddedNotDeleted) {
  SwitchState desired, installed;
  installed.AddFlow(Flow(1, 2, 0x2));
  desired.AddFlow(Flow(1, 3, 0x1, 1));
  Plan plan = ComputePlan(desired, installed, Cookie1());
  EXPECT_THAT(Describe(plan.bundle), ElementsAre("flow add in_port=1 origin=1"));
}

TEST(PlanTest, MaskZeroOwnsEveryFlow) {
  SwitchState installed;
  installed.AddFlow(Flow(1, 2, 0xdead));
  Plan plan = ComputePlan(SwitchState{}, installed, Ownership{});
  ASSERT_EQ(plan.bundle.size(), 1u);
  EXPECT_EQ(std::get<of::FlowMod>(plan.bundle[0].mod).cookie_mask, 0u);
}

TEST(PlanTest, FlowChangesComeOutInOriginOrder) {
  SwitchState desired;
  for (int i = 50; i >= 1; --i) desired.AddFlow(Flow(i, 1, 0x1, /*origin=*/i));
  Plan plan = ComputePlan(desired, SwitchState{}, Cookie1());
  ASSERT_EQ(plan.bundle.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(plan.bundle[i].origin, i + 1);
}

TEST(PlanTest, TenPercentChangeOfALargeTable) {
  SwitchState desired, installed;
  for (int i = 0; i < 1000; ++i) {
    installed.AddFlow(Flow(i, 1));
    desired.AddFlow(Flow(i, i % 10 == 0 ? 2 : 1));
  }
  Plan plan = ComputePlan(desired, installed, Cookie1());
  EXPECT_EQ(plan.summary.flows, (ChangeCounts{0, 100, 0}));
  EXPECT_EQ(plan.bundle.size(), 100u);
}

// ComputePlanFor, given the keys where the states differ, is ComputePlan:
// adds, deletes, modifies, replaces, foreign flows, groups and meters.
TEST(PlanTest, PlanForTheChangedKeysIsThePlanOfEverything) {
  SwitchState desired, installed;
  for (int i = 0; i < 200; ++i) {
    installed.AddFlow(Flow(i, 1, 0x1, i + 1));
    desired.AddFlow(Flow(i, 1, 0x1, i + 1));
  }
  installed.AddGroup(Group(5, {1}));
  desired.AddGroup(Group(5, {1, 2}, 1001));  // Modified: groups are always compared.
  desired.AddMeter(Meter(3, 100, 1002));
  FlowKeySet keys;
  auto change = [&](const FlowEntry& f) { keys.insert(f.key); };
  for (int i = 0; i < 200; i += 20) {
    desired.AddFlow(Flow(i, 2, 0x1, i + 1));  // ~ modify_strict
    change(Flow(i, 0));
  }
  for (int i = 3; i < 200; i += 40) {
    desired.AddFlow(Flow(i, 1, 0x101, i + 1));  // ~ delete_strict + add (cookie)
    change(Flow(i, 0));
  }
  for (int i = 5; i < 200; i += 50) {
    desired.RemoveFlow(Flow(i, 0).key);  // - delete_strict
    change(Flow(i, 0));
  }
  for (int i = 300; i < 305; ++i) {
    desired.AddFlow(Flow(i, 1, 0x1, i + 1));  // + add
    change(Flow(i, 0));
  }
  installed.AddFlow(Flow(400, 1, 0x2));  // Foreign: left alone either way.
  change(Flow(400, 0));
  change(Flow(7, 0));    // Listed but unchanged: nothing.
  change(Flow(999, 0));  // Listed, on neither side: nothing.
  const Ownership own = Cookie1();
  Plan all = ComputePlan(desired, installed, own);
  Plan some = ComputePlanFor(desired, installed, own, keys);
  EXPECT_EQ(some.summary, all.summary);
  EXPECT_EQ(all.summary.flows, (ChangeCounts{5, 15, 4}));
  EXPECT_EQ(Describe(some.bundle), Describe(all.bundle));
  EXPECT_EQ(Describe(some.meters_before), Describe(all.meters_before));
  EXPECT_TRUE(CheckDesired(desired, own, keys).ok());

  // Only the listed keys are compared, and checked.
  desired.AddFlow(Flow(500, 1, 0x2, 77));
  EXPECT_EQ(ComputePlanFor(desired, installed, own, keys).summary, all.summary);
  EXPECT_TRUE(CheckDesired(desired, own, keys).ok());
  keys.insert(Flow(500, 0).key);
  EXPECT_THAT(CheckDesired(desired, own, keys).message(), HasSubstr("origin 77"));
}

TEST(StateTest, NormalizationMakesMeterDumpsCompareEqual) {
  of::MeterMod sent;
  sent.meter_id = 3;
  sent.flags = of::kMeterKbps;
  sent.bands = {of::MeterBand{of::kMeterBandDrop, 1000, 0, 5}};
  of::MeterConfig dumped;  // What OVS's userspace datapath reports back.
  dumped.meter_id = 3;
  dumped.flags = of::kMeterKbps;
  dumped.bands = {of::MeterBand{of::kMeterBandDrop, 1000, 1000, 0}};
  EXPECT_TRUE(MeterFromMod(sent).SameAs(MeterFromConfig(dumped)));
}

TEST(StateTest, NormalizationDropsEmptyWriteActions) {
  // Open vSwitch does not report an empty WRITE_ACTIONS back.
  FlowEntry sent = Flow(1, 2);
  sent.instructions.write_actions = of::ActionList{};
  sent.instructions.clear_actions = true;
  of::FlowStats dumped;
  dumped.priority = 100;
  dumped.cookie = 0x1;
  dumped.match = sent.key.match;
  dumped.instructions = Flow(1, 2).instructions;
  dumped.instructions.clear_actions = true;
  EXPECT_TRUE(FlowFromMod(ToFlowMod(sent, of::FlowModCommand::kAdd)).SameAs(FlowFromStats(dumped)));
  SwitchState desired, installed;
  desired.AddFlow(sent);
  installed.AddFlow(FlowFromStats(dumped));
  EXPECT_TRUE(ComputePlan(desired, installed, Cookie1()).empty());
  // A non-empty write list is kept.
  sent.instructions.write_actions = of::ActionList{of::ActionOutput{3}};
  EXPECT_FALSE(
      FlowFromMod(ToFlowMod(sent, of::FlowModCommand::kAdd)).SameAs(FlowFromStats(dumped)));
}

TEST(StateTest, ConversionsRoundTrip) {
  FlowEntry f = Flow(1, 2, 0x55, 3, 4, 200);
  f.idle_timeout = 5;
  f.flags = of::kFlowSendFlowRem;
  of::FlowMod mod = ToFlowMod(f, of::FlowModCommand::kAdd);
  EXPECT_TRUE(FlowFromMod(mod, 3).SameAs(f));
  of::FlowStats stats;
  stats.table_id = 4;
  stats.priority = 200;
  stats.idle_timeout = 5;
  stats.flags = of::kFlowSendFlowRem;
  stats.cookie = 0x55;
  stats.match = f.key.match;
  stats.instructions = f.instructions;
  EXPECT_TRUE(FlowFromStats(stats).SameAs(f));

  SwitchState a, b;
  a.AddFlow(f);
  b.AddFlow(FlowFromStats(stats));
  EXPECT_TRUE(a.SameAs(b));
  b.AddGroup(Group(1, {1}));
  EXPECT_FALSE(a.SameAs(b));
  EXPECT_EQ(a.Owned(Cookie1()).flow_count(), 0u);  // Cookie 0x55 is not 0x1.
  EXPECT_EQ(a.Owned(Ownership{}).flow_count(), 1u);
}

}  // namespace
}  // namespace shortcut::reconcile
