// SwitchReconciler, ReadSwitch and Apply against the simulated switch, over a
// real OpenFlow connection on a Unix socket in a temporary directory.
#include "src/reconcile/reconciler.h"

#include <stdlib.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ofconn/connection.h"
#include "src/ofconn/target.h"
#include "tests/fakes/fake_switch.h"

namespace shortcut::reconcile {
namespace {

using fakes::FakeSwitch;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr uint64_t kCookie = 0x5c01000000000000;
constexpr uint64_t kMask = 0xffff000000000000;

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reconciler_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    StartSwitch({});
  }

  void TearDown() override {
    for (auto& c : conns_) c->Close();
    conns_.clear();
    sw_.reset();
    // Let closing sessions finish before the loop goes away.
    io_.restart();
    io_.poll();
    std::filesystem::remove_all(dir_);
  }

  void StartSwitch(FakeSwitch::Options options) {
    sw_.reset();
    sw_ = std::make_unique<FakeSwitch>(io_.get_executor(), options);
    auto target = sw_->ListenUnix(dir_ + "/br0.sock");
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = *target;
  }

  // Runs a coroutine to completion on the test's io_context.
  template <typename T>
  T Run(asio::awaitable<T> a) {
    std::optional<T> result;
    asio::co_spawn(io_, std::move(a), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      result.emplace(std::move(v));
    });
    io_.restart();
    while (!result) io_.run_one();
    return std::move(*result);
  }

  ofconn::Connection& Connect() {
    auto target = ofconn::ParseTarget(target_);
    EXPECT_TRUE(target.ok());
    ofconn::Connection::Options options;
    options.probe_interval = 0;
    auto conn = Run(ofconn::Connection::Connect(io_.get_executor(), *target, options));
    EXPECT_TRUE(conn.ok()) << conn.status();
    conns_.push_back(*conn);
    return **conn;
  }

  static SwitchReconciler::Options ReconcilerOptions() {
    SwitchReconciler::Options o;
    o.ownership.cookie = kCookie;
    o.ownership.cookie_mask = kMask;
    o.group_pool_min = 1000;
    o.group_pool_max = 1999;
    o.driver.timeout_ms = 5000;
    return o;
  }

  // What the simulated switch holds, as a SwitchState.
  SwitchState SwitchContents(const Ownership& own = {}) const {
    SwitchState s;
    for (const auto& f : sw_->Flows()) s.AddFlow(FlowFromStats(f));
    for (const auto& g : sw_->Groups()) s.AddGroup(GroupFromDesc(g));
    for (const auto& m : sw_->Meters()) s.AddMeter(MeterFromConfig(m));
    return s.Owned(own);
  }

  asio::io_context io_;
  std::string dir_;
  std::unique_ptr<FakeSwitch> sw_;
  std::string target_;
  std::vector<std::shared_ptr<ofconn::Connection>> conns_;
};

FlowEntry Flow(uint32_t n, uint32_t out_port, int origin = 0) {
  FlowEntry f;
  f.key.table = static_cast<uint8_t>(n % 3 * 10);
  f.key.priority = 100;
  f.key.match.Set(of::Field::kEthType, 0x0800);
  f.key.match.Set(of::Field::kIpv4Dst, 0x0a000000 + n);
  f.cookie = kCookie | n;
  f.instructions.apply_actions = {of::ActionOutput{out_port}};
  f.origin = origin;
  return f;
}

GroupEntry Group(uint32_t id, std::vector<uint32_t> ports, int origin = 0) {
  GroupEntry g;
  g.id = id;
  g.type = of::GroupType::kSelect;
  for (uint32_t p : ports) {
    g.buckets.push_back(of::Bucket{1, of::kPortAny, of::kGroupAny, {of::ActionOutput{p}}});
  }
  g.origin = origin;
  return g;
}

MeterEntry Meter(uint32_t id, uint32_t rate, int origin = 0) {
  MeterEntry m;
  m.id = id;
  m.flags = of::kMeterKbps | of::kMeterBurst;
  m.bands = {of::MeterBand{of::kMeterBandDrop, rate, rate / 10, 0}};
  m.origin = origin;
  return m;
}

// 100 flows (origin = n + 1), a group used by 10 of them, a meter used by 5.
SwitchState Desired(size_t n_flows = 100) {
  SwitchState s;
  s.AddMeter(Meter(7, 1000, 1000));
  s.AddGroup(Group(5, {1, 2}, 1001));
  for (uint32_t i = 0; i < n_flows; ++i) {
    FlowEntry f = Flow(i, 1 + i % 4, static_cast<int>(i) + 1);
    if (i % 10 == 0) f.instructions.apply_actions = {of::ActionGroup{5}};
    if (i % 20 == 1) f.instructions.meter = 7;
    s.AddFlow(f);
  }
  return s;
}

TEST_F(ReconcilerTest, SyncIntoEmptySwitch) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  SwitchState desired = Desired();
  auto result = Run(rec.Sync(conn, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->read_switch);
  EXPECT_EQ(result->planned.ToString(), "flows: +100 ~0 -0  groups: +1 ~0 -0  meters: +1 ~0 -0");
  EXPECT_EQ(result->installed, result->planned);
  EXPECT_TRUE(SwitchContents().SameAs(desired));
  EXPECT_TRUE(rec.installed().SameAs(desired));
  EXPECT_EQ(sw_->counters().bundle_commits, 1u);
  EXPECT_EQ(sw_->counters().bundle_adds, 101u);
}

TEST_F(ReconcilerTest, ResyncWithoutChangeSendsNothingButDumps) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  SwitchState desired = Desired();
  ASSERT_TRUE(Run(rec.Sync(conn, desired)).ok());

  sw_->ResetCounters();
  auto again = Run(rec.Sync(conn, desired));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->read_switch);
  EXPECT_EQ(again->messages, 0u);
  EXPECT_EQ(sw_->counters().messages, 0u);

  // A fresh reconciler reads the switch and then has nothing to send.
  SwitchReconciler fresh(ReconcilerOptions());
  auto third = Run(fresh.Sync(conn, desired));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(third->read_switch);
  EXPECT_TRUE(third->planned.empty());
  EXPECT_EQ(sw_->counters().multipart_requests, 3u);
  EXPECT_EQ(sw_->counters().messages, 3u);
}

TEST_F(ReconcilerTest, TenPercentChange) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  ASSERT_TRUE(Run(rec.Sync(conn, Desired(1000))).ok());

  SwitchState desired = Desired(1000);
  for (uint32_t i = 3; i < 1000; i += 30) desired.AddFlow(Flow(i, 99, 5000 + i));  // ~ modify
  for (uint32_t i = 13; i < 1000; i += 30) desired.RemoveFlow(Flow(i, 0).key);     // - delete
  for (uint32_t i = 0; i < 34; ++i) desired.AddFlow(Flow(2000 + i, 3, 9000 + i));  // + add
  sw_->ResetCounters();
  auto result = Run(rec.Sync(conn, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->planned.ToString(), "flows: +34 ~34 -33  groups: +0 ~0 -0  meters: +0 ~0 -0");
  EXPECT_EQ(sw_->counters().flow_mods, 101u);
  EXPECT_TRUE(SwitchContents().SameAs(desired));
  EXPECT_TRUE(rec.installed().SameAs(desired));
}

TEST_F(ReconcilerTest, SyncChangedComparesTheChangeAndReadsOnANewConnection) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  // The first sync reads the switch and compares everything, keys or not.
  auto first = Run(rec.SyncChanged(conn, Desired(1000), FlowKeySet{}));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->read_switch);
  EXPECT_EQ(first->planned.flows.added, 1000u);

  SwitchState desired = Desired(1000);
  FlowKeySet changed;
  for (uint32_t i = 3; i < 1000; i += 30) {
    desired.AddFlow(Flow(i, 99, 5000 + i));
    changed.insert(Flow(i, 0).key);
  }
  for (uint32_t i = 13; i < 1000; i += 30) {
    desired.RemoveFlow(Flow(i, 0).key);
    changed.insert(Flow(i, 0).key);
  }
  for (uint32_t i = 0; i < 34; ++i) {
    desired.AddFlow(Flow(2000 + i, 3, 9000 + i));
    changed.insert(Flow(2000 + i, 0).key);
  }
  sw_->ResetCounters();
  auto result = Run(rec.SyncChanged(conn, desired, changed));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->read_switch);
  EXPECT_EQ(result->planned.ToString(), "flows: +34 ~34 -33  groups: +0 ~0 -0  meters: +0 ~0 -0");
  EXPECT_TRUE(SwitchContents().SameAs(desired));
  EXPECT_TRUE(rec.installed().SameAs(desired));

  // A change left out of `changed` is not seen (the caller's promise) ...
  desired.AddFlow(Flow(3000, 1, 3000));
  result = Run(rec.SyncChanged(conn, desired, FlowKeySet{}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->planned.empty());
  // ... until the switch is read again, on a new connection.
  sw_->DropConnections();
  auto& second = Connect();
  result = Run(rec.SyncChanged(second, desired, FlowKeySet{}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->read_switch);
  EXPECT_EQ(result->planned.ToString(), "flows: +1 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0");
  EXPECT_TRUE(SwitchContents().SameAs(desired));
}

// A restarted controller, its state still partial, keeps what it has not
// decided about; once told its state is whole, it deletes the leftovers.
TEST_F(ReconcilerTest, KeepUnknownKeepsWhatNoDesiredStateHeldUntilTurnedOff) {
  auto& conn = Connect();
  {
    // What the previous controller left: 20 flows, group 5, meter 7.
    SwitchReconciler before(ReconcilerOptions());
    ASSERT_TRUE(Run(before.Sync(conn, Desired(20))).ok());
  }
  const SwitchState left = SwitchContents();
  ASSERT_EQ(left.flow_count(), 20u);

  SwitchReconciler rec(ReconcilerOptions());
  rec.SetKeepUnknown(true);
  // Loaded so far: flows 2..4 (flow 3 with a new action), neither the
  // group nor the meter (nor flows 0 and 1, which use them).
  SwitchState partial;
  for (uint32_t i = 2; i < 5; ++i) partial.AddFlow(Desired(20).flows().at(Flow(i, 0).key));
  partial.AddFlow(Flow(3, 77, 1));
  auto r = Run(rec.Sync(conn, partial));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->planned.ToString(), "flows: +0 ~1 -0  groups: +0 ~0 -0  meters: +0 ~0 -0");
  EXPECT_EQ(SwitchContents().flow_count(), 20u);
  EXPECT_NE(SwitchContents().FindGroup(5), nullptr);
  EXPECT_NE(SwitchContents().FindMeter(7), nullptr);

  // A flow the desired state held and dropped is deleted as usual, even
  // in a full comparison (a reconnect).
  SwitchState less = partial;
  less.RemoveFlow(Flow(4, 0).key);
  FlowKeySet changed = {Flow(4, 0).key};
  r = Run(rec.SyncChanged(conn, less, changed));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->planned.flows.deleted, 1u);
  rec.ForgetInstalled();
  r = Run(rec.Sync(conn, less));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->planned.empty()) << r->planned.ToString();
  EXPECT_EQ(SwitchContents().flow_count(), 19u);

  // Whole now: everything not desired goes, group and meter included.
  rec.SetKeepUnknown(false);
  r = Run(rec.Sync(conn, less));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->read_switch);
  EXPECT_TRUE(SwitchContents().SameAs(less));
  EXPECT_EQ(SwitchContents().FindGroup(5), nullptr);
  EXPECT_EQ(SwitchContents().FindMeter(7), nullptr);
}

TEST_F(ReconcilerTest, RejectedChangeLeavesSwitchUnchangedAndNamesOrigin) {
  for (auto at : {FakeSwitch::RejectAt::kApply, FakeSwitch::RejectAt::kBundleAdd}) {
    SCOPED_TRACE(at == FakeSwitch::RejectAt::kApply ? "at commit" : "at bundle add");
    sw_->Restart();
    auto& conn = Connect();
    SwitchReconciler rec(ReconcilerOptions());
    ASSERT_TRUE(Run(rec.Sync(conn, Desired())).ok());
    const SwitchState before = SwitchContents();

    SwitchState desired = Desired();
    desired.AddMeter(Meter(8, 5000, 2000));  // Added before the bundle, then undone.
    desired.AddMeter(Meter(7, 3000, 2001));  // Modified before the bundle, then undone.
    for (uint32_t i = 100; i < 110; ++i) desired.AddFlow(Flow(i, 1, 3000 + static_cast<int>(i)));
    // Bundle: 10 adds in origin order; the 4th is origin 3103.
    sw_->RejectFlowMod(4, fakes::BadOutPortError(), at);
    auto result = Run(rec.Sync(conn, desired));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(result.status().message(), HasSubstr("OFPBAC_BAD_OUT_PORT"));
    EXPECT_THAT(result.status().message(), HasSubstr("origin 3103"));
    ASSERT_THAT(rec.last_errors(), SizeIs(1));
    EXPECT_EQ(rec.last_errors()[0].origin, 3103);
    EXPECT_EQ(rec.last_errors()[0].error.type, 2);
    EXPECT_EQ(rec.last_errors()[0].error.code, 4);
    EXPECT_TRUE(SwitchContents().SameAs(before));
    EXPECT_TRUE(rec.needs_read());

    // Nothing injected any more: the next sync reads the switch and converges.
    auto retry = Run(rec.Sync(conn, desired));
    ASSERT_TRUE(retry.ok()) << retry.status();
    EXPECT_TRUE(retry->read_switch);
    EXPECT_TRUE(SwitchContents().SameAs(desired));
  }
}

TEST_F(ReconcilerTest, GroupExistsOnCommitIsReportedWithOrigin) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  ASSERT_TRUE(Run(rec.Sync(conn, Desired())).ok());
  // Someone else created group 6 behind our back; our belief says it is free.
  ASSERT_TRUE(sw_->Apply(of::GroupMod{of::GroupModCommand::kAdd, of::GroupType::kAll, 6, {}}).ok());
  const SwitchState before = SwitchContents();
  SwitchState desired = Desired();
  desired.AddGroup(Group(6, {3}, 4242));
  auto result = Run(rec.Sync(conn, desired));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("OFPGMFC_GROUP_EXISTS"));
  EXPECT_THAT(result.status().message(), HasSubstr("origin 4242"));
  EXPECT_TRUE(SwitchContents().SameAs(before));
  // After re-reading, group 6 is known and modified instead.
  auto retry = Run(rec.Sync(conn, desired));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->planned.groups, (ChangeCounts{0, 1, 0}));
}

TEST_F(ReconcilerTest, ReconnectConvergesWithoutFlushing) {
  auto& first = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  ASSERT_TRUE(Run(rec.Sync(first, Desired())).ok());
  const auto flows_before = sw_->Flows();

  sw_->DropConnections();
  auto& second = Connect();
  SwitchState desired = Desired();
  desired.AddFlow(Flow(500, 2, 500));
  sw_->ResetCounters();
  auto result = Run(rec.Sync(second, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->read_switch);
  EXPECT_EQ(result->planned.ToString(), "flows: +1 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0");
  EXPECT_EQ(sw_->counters().flow_mods, 1u);
  EXPECT_EQ(sw_->counters().group_mods, 0u);
  EXPECT_TRUE(SwitchContents().SameAs(desired));

  // A restarted switch (empty) gets everything back.
  sw_->Restart();
  auto& third = Connect();
  result = Run(rec.Sync(third, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->planned.ToString(), "flows: +101 ~0 -0  groups: +1 ~0 -0  meters: +1 ~0 -0");
  EXPECT_TRUE(SwitchContents().SameAs(desired));
}

TEST_F(ReconcilerTest, OwnershipIsRespected) {
  // Another controller's flow (other cookie), group and meter ids below ours.
  of::FlowMod foreign;
  foreign.cookie = 0x1234;
  foreign.priority = 100;
  foreign.match.Set(of::Field::kEthType, 0x0800);
  foreign.match.Set(of::Field::kIpv4Dst, 0x0a000001);
  foreign.instructions.apply_actions = {of::ActionOutput{9}};
  ASSERT_TRUE(sw_->Apply(foreign).ok());
  ASSERT_TRUE(
      sw_->Apply(of::GroupMod{of::GroupModCommand::kAdd, of::GroupType::kAll, 99, {}}).ok());

  auto& conn = Connect();
  SwitchReconciler::Options options = ReconcilerOptions();
  options.ownership.group_min = 1;
  options.ownership.group_max = 50;
  SwitchReconciler rec(options);
  ASSERT_TRUE(Run(rec.Sync(conn, Desired())).ok());
  // Now desire nothing: everything of ours goes, theirs stays.
  auto result = Run(rec.Sync(conn, SwitchState{}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->planned.ToString(), "flows: +0 ~0 -100  groups: +0 ~0 -1  meters: +0 ~0 -1");
  ASSERT_EQ(sw_->flow_count(), 1u);
  EXPECT_EQ(sw_->Flows()[0].cookie, 0x1234u);
  ASSERT_EQ(sw_->group_count(), 1u);
  EXPECT_EQ(sw_->Groups()[0].group_id, 99u);
  EXPECT_TRUE(rec.installed().empty());

  // Desired entries outside the ownership are refused before anything is sent.
  SwitchState bad;
  FlowEntry f = Flow(1, 1, 77);
  f.cookie = 0x1;
  bad.AddFlow(f);
  sw_->ResetCounters();
  auto refused = Run(rec.Sync(conn, bad));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("origin 77"));
  EXPECT_EQ(sw_->counters().messages, 0u);
}

TEST_F(ReconcilerTest, MultipartContinuationIsFollowed) {
  FakeSwitch::Options options;
  options.entries_per_reply = 7;
  StartSwitch(options);
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  SwitchState desired = Desired(100);
  for (uint32_t id = 10; id < 30; ++id) desired.AddGroup(Group(id, {1}));
  ASSERT_TRUE(Run(rec.Sync(conn, desired)).ok());

  sw_->ResetCounters();
  auto state = Run(ReadSwitch(conn, ReconcilerOptions().ownership));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->flow_count(), 100u);
  EXPECT_EQ(state->group_count(), 21u);
  EXPECT_TRUE(state->SameAs(desired));
  EXPECT_EQ(sw_->counters().multipart_parts, 15u + 3u + 1u);  // 100/7, 21/7, 1 meter.
}

// Bug: meter bands not updated for an existing meter.
TEST_F(ReconcilerTest, MeterBandsOfAnExistingMeterAreModified) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  ASSERT_TRUE(Run(rec.Sync(conn, Desired())).ok());
  SwitchState desired = Desired();
  desired.AddMeter(Meter(7, 2500));
  sw_->ResetCounters();
  auto result = Run(rec.Sync(conn, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->planned.meters, (ChangeCounts{0, 1, 0}));
  EXPECT_EQ(sw_->counters().meter_mods, 1u);
  ASSERT_EQ(sw_->meter_count(), 1u);
  EXPECT_EQ(sw_->Meters()[0].bands[0].rate, 2500u);
  EXPECT_TRUE(rec.installed().SameAs(desired));
  EXPECT_EQ(sw_->flow_count(), 100u);  // The flows using it are still there.
}

// The fake switch deletes flows with their group, as OVS does: repointing
// works only because group deletes come after the flow changes.
TEST_F(ReconcilerTest, RepointingFlowsToANewGroupKeepsThem) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  ASSERT_TRUE(Run(rec.Sync(conn, Desired())).ok());
  SwitchState desired = Desired();
  desired.RemoveGroup(5);
  desired.AddGroup(Group(6, {1, 2, 3}));
  const SwitchState original = Desired();
  for (const auto& [key, flow] : original.flows()) {
    if (flow.instructions.apply_actions == of::ActionList{of::ActionGroup{5}}) {
      FlowEntry f = flow;
      f.instructions.apply_actions = {of::ActionGroup{6}};
      desired.AddFlow(f);
    }
  }
  auto result = Run(rec.Sync(conn, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->planned.ToString(), "flows: +0 ~10 -0  groups: +1 ~0 -1  meters: +0 ~0 -0");
  EXPECT_TRUE(SwitchContents().SameAs(desired));
  EXPECT_TRUE(rec.installed().SameAs(desired));
}

TEST_F(ReconcilerTest, ExtendTableIdsSurviveAReconnect) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  GroupEntry lb = Group(0, {1, 2, 3});
  auto id = rec.AssignGroupId(GroupSpec(lb), "vpc-1");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 1000u);
  lb.id = *id;
  SwitchState desired = Desired();
  desired.AddGroup(lb);
  ASSERT_TRUE(Run(rec.Sync(conn, desired)).ok());
  EXPECT_TRUE(rec.group_ids().IsExisting(1000));

  // A new process (new reconciler, new connection) recognises the group.
  sw_->DropConnections();
  auto& again = Connect();
  SwitchReconciler rec2(ReconcilerOptions());
  auto result = Run(rec2.Sync(again, desired));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->planned.empty());
  EXPECT_TRUE(rec2.group_ids().IsExisting(1000));
  EXPECT_EQ(*rec2.AssignGroupId(GroupSpec(Group(0, {1, 2, 3})), "vpc-1"), 1000u);
  EXPECT_EQ(*rec2.AssignGroupId(GroupSpec(Group(0, {4})), "vpc-2"), 1001u);
}

TEST_F(ReconcilerTest, ClosedConnectionIsUnavailable) {
  auto& conn = Connect();
  SwitchReconciler rec(ReconcilerOptions());
  conn.Close();
  auto result = Run(rec.Sync(conn, Desired()));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace shortcut::reconcile
