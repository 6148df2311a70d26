#include "src/reconcile/extend_table.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::reconcile {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<uint32_t> Ids(auto&& view) {
  std::vector<uint32_t> ids;
  for (const ExtendEntry& e : view) ids.push_back(e.id);
  return ids;
}

// ---- IdPool ----

TEST(IdPoolTest, HandsOutLowestFreeIdAndNeverZero) {
  IdPool pool(0, 5);
  EXPECT_EQ(pool.min(), 1u);
  EXPECT_EQ(*pool.Allocate(), 1u);
  EXPECT_EQ(*pool.Allocate(), 2u);
  EXPECT_EQ(*pool.Allocate(), 3u);
  pool.Free(2);
  EXPECT_EQ(*pool.Allocate(), 2u);
  EXPECT_EQ(*pool.Allocate(), 4u);
  EXPECT_EQ(pool.used(), 4u);
}

TEST(IdPoolTest, ExhaustionIsResourceExhausted) {
  IdPool pool(1, 2);
  ASSERT_TRUE(pool.Allocate().ok());
  ASSERT_TRUE(pool.Allocate().ok());
  EXPECT_EQ(pool.Allocate().status().code(), absl::StatusCode::kResourceExhausted);
  pool.Free(1);
  EXPECT_EQ(*pool.Allocate(), 1u);
}

// Bug: id range overflow at the top (an id equal to the maximum must be usable,
// and nothing may wrap around to 0).
TEST(IdPoolTest, TopOfRangeIsAllocatableAndNothingWraps) {
  IdPool pool(0xfffffffeu, 0xffffffffu);
  EXPECT_EQ(*pool.Allocate(), 0xfffffffeu);
  EXPECT_EQ(*pool.Allocate(), 0xffffffffu);
  auto third = pool.Allocate();
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  pool.Free(0xffffffffu);
  EXPECT_TRUE(pool.IsFree(0xffffffffu));
  EXPECT_EQ(*pool.Allocate(), 0xffffffffu);
  pool.Free(0xfffffffeu);
  pool.Free(0xffffffffu);
  EXPECT_EQ(pool.used(), 0u);
  EXPECT_EQ(*pool.Allocate(), 0xfffffffeu);
}

TEST(IdPoolTest, ReserveSplitsAndFreeMerges) {
  IdPool pool(1, 10);
  ASSERT_TRUE(pool.Reserve(5).ok());
  EXPECT_EQ(pool.Reserve(5).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(pool.Reserve(11).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(pool.Reserve(0).code(), absl::StatusCode::kOutOfRange);
  std::vector<uint32_t> got;
  for (int i = 0; i < 9; ++i) got.push_back(*pool.Allocate());
  EXPECT_THAT(got, ElementsAre(1, 2, 3, 4, 6, 7, 8, 9, 10));
  for (uint32_t id : {3u, 5u, 4u}) pool.Free(id);
  pool.Free(4);  // Double free is ignored.
  EXPECT_EQ(pool.used(), 7u);
  EXPECT_EQ(*pool.Allocate(), 3u);
  EXPECT_EQ(*pool.Allocate(), 4u);
  EXPECT_EQ(*pool.Allocate(), 5u);
}

TEST(IdPoolTest, FullGroupRangeCostsNoMemoryUpFront) {
  IdPool pool(1, 0xffffff00u);
  EXPECT_EQ(*pool.Allocate(), 1u);
  ASSERT_TRUE(pool.Reserve(0xffffff00u).ok());
  EXPECT_EQ(pool.used(), 2u);
}

// ---- ExtendTable ----

TEST(ExtendTableTest, SameSpecSameIdDifferentSpecDifferentId) {
  ExtendTable t(1, 100);
  EXPECT_EQ(*t.Assign("type=select,bucket=output:1", "lb1"), 1u);
  EXPECT_EQ(*t.Assign("type=select,bucket=output:2", "lb2"), 2u);
  EXPECT_EQ(*t.Assign("type=select,bucket=output:1", "lb1"), 1u);
  EXPECT_THAT(Ids(t.Uninstalled()), ElementsAre(1, 2));
  EXPECT_THAT(Ids(t.Undesired()), IsEmpty());
}

TEST(ExtendTableTest, InstalledThenUndesiredThenRemoved) {
  ExtendTable t(1, 100);
  uint32_t id = *t.Assign("a", "o");
  t.MarkInstalled(id);
  EXPECT_THAT(Ids(t.Uninstalled()), IsEmpty());
  t.RemoveOwner("o");
  EXPECT_THAT(Ids(t.Undesired()), ElementsAre(id));
  EXPECT_FALSE(t.pool().IsFree(id));  // The switch still holds it.
  t.MarkRemoved(id);
  EXPECT_TRUE(t.pool().IsFree(id));
  EXPECT_THAT(Ids(t.Undesired()), IsEmpty());
}

// Bug: ids freed on clear while installed groups still used them, so a new
// group got the id of an installed one and its ADD failed with GROUP_EXISTS.
TEST(ExtendTableTest, ClearDesiredKeepsIdsOfInstalledEntries) {
  ExtendTable t(1, 100);
  uint32_t a = *t.Assign("a", "o");
  t.MarkInstalled(a);
  t.ClearDesired();
  EXPECT_FALSE(t.pool().IsFree(a));
  uint32_t b = *t.Assign("b", "o");
  EXPECT_NE(b, a);
  // The same spec as the installed entry gets its id back (nothing to send).
  EXPECT_EQ(*t.Assign("a", "o"), a);
  EXPECT_THAT(Ids(t.Uninstalled()), ElementsAre(b));
}

// Bug: after a switch restart, clearing the existing side freed ids that
// desired entries still held; they were handed out again and the whole
// bundle failed.
TEST(ExtendTableTest, ClearExistingKeepsIdsOfDesiredEntries) {
  ExtendTable t(1, 100);
  uint32_t a = *t.Assign("a", "o");
  t.MarkInstalled(a);
  uint32_t b = *t.Assign("b", "o");  // Desired, not yet installed.
  t.ClearExisting();                 // The switch restarted empty.
  EXPECT_FALSE(t.pool().IsFree(a));
  EXPECT_FALSE(t.pool().IsFree(b));
  uint32_t c = *t.Assign("c", "o");
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_THAT(Ids(t.Uninstalled()), ElementsAre(a, b, c));  // All to (re)install.
}

// Bug: a group shared by two users was deleted when one of them went away.
TEST(ExtendTableTest, SharedEntryStaysWhileAnyOwnerHoldsIt) {
  ExtendTable t(1, 100);
  uint32_t x = *t.Assign("shared", "vm1");
  EXPECT_EQ(*t.Assign("shared", "vm2"), x);
  t.MarkInstalled(x);
  t.RemoveOwner("vm1");
  EXPECT_TRUE(t.IsDesired(x));
  EXPECT_THAT(Ids(t.Undesired()), IsEmpty());
  t.RemoveOwner("vm2");
  EXPECT_FALSE(t.IsDesired(x));
  EXPECT_THAT(Ids(t.Undesired()), ElementsAre(x));
}

// Bug: clear iterated or freed the wrong side (OVN's destroy walked the
// existing map twice and leaked the desired one; clear freed ids of the side
// it did not clear).
TEST(ExtendTableTest, EachClearTouchesOnlyItsOwnSide) {
  ExtendTable t(1, 100);
  uint32_t installed_only = *t.Assign("i", "o");
  t.MarkInstalled(installed_only);
  t.RemoveOwner("o");
  uint32_t desired_only = *t.Assign("d", "o");
  uint32_t both = *t.Assign("b", "o");
  t.MarkInstalled(both);

  t.ClearDesired();
  EXPECT_EQ(t.desired_size(), 0u);
  EXPECT_EQ(t.existing_size(), 2u);
  EXPECT_TRUE(t.IsExisting(installed_only));
  EXPECT_TRUE(t.IsExisting(both));
  EXPECT_TRUE(t.pool().IsFree(desired_only));
  EXPECT_FALSE(t.pool().IsFree(both));
  EXPECT_THAT(Ids(t.Undesired()), ElementsAre(installed_only, both));

  ASSERT_EQ(*t.Assign("d", "o"), desired_only);  // Lowest free again.
  t.ClearExisting();
  EXPECT_EQ(t.existing_size(), 0u);
  EXPECT_EQ(t.desired_size(), 1u);
  EXPECT_TRUE(t.pool().IsFree(installed_only));
  EXPECT_TRUE(t.pool().IsFree(both));
  EXPECT_FALSE(t.pool().IsFree(desired_only));
}

TEST(ExtendTableTest, SetExistingFromDumpReservesAndIsReused) {
  ExtendTable t(1, 100);
  ASSERT_TRUE(t.SetExisting(1, "a").ok());
  ASSERT_TRUE(t.SetExisting(3, "c").ok());
  EXPECT_EQ(t.SetExisting(101, "z").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(*t.Assign("c", "o"), 3u);  // Reused: nothing to send.
  EXPECT_EQ(*t.Assign("b", "o"), 2u);  // 1 and 3 are taken by the switch.
  EXPECT_THAT(Ids(t.Uninstalled()), ElementsAre(2));
  EXPECT_THAT(Ids(t.Undesired()), ElementsAre(1));
}

TEST(ExtendTableTest, ExistingWithOtherSpecUnderDesiredIdIsUninstalled) {
  ExtendTable t(1, 100);
  uint32_t a = *t.Assign("a", "o");
  ASSERT_TRUE(t.SetExisting(a, "stale").ok());        // The switch has other content there.
  EXPECT_THAT(Ids(t.Uninstalled()), ElementsAre(a));  // To modify.
  EXPECT_THAT(Ids(t.Undesired()), IsEmpty());
  // Asking for the stale spec must not take over the desired id.
  uint32_t s = *t.Assign("stale", "o");
  EXPECT_NE(s, a);
  EXPECT_EQ(*t.DesiredSpec(a), "a");
}

TEST(ExtendTableTest, ExhaustedPoolIsReported) {
  ExtendTable t(1, 2);
  ASSERT_TRUE(t.Assign("a", "o").ok());
  ASSERT_TRUE(t.Assign("b", "o").ok());
  EXPECT_EQ(t.Assign("c", "o").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*t.Assign("a", "p"), 1u);  // Existing specs still resolve.
}

TEST(ExtendTableTest, ViewsAreOrderedByIdAndCarrySpecs) {
  ExtendTable t(1, 100);
  ASSERT_TRUE(t.SetExisting(7, "seven").ok());
  ASSERT_TRUE(t.SetExisting(4, "four").ok());
  std::vector<std::string> specs;
  for (const ExtendEntry& e : t.Undesired()) specs.emplace_back(e.spec);
  EXPECT_THAT(specs, ElementsAre("four", "seven"));
}

}  // namespace
}  // namespace shortcut::reconcile
