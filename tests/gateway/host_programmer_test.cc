// HostProgrammer against the simulated switch over a Unix socket: rules
// confirmed by barrier, bursts merged, an unreachable host that comes back,
// a switch restart, direct paths beside the reconciled rules.
#include "src/gateway/host_programmer.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::Settle;
using ::shortcut::testing::WaitUntil;

pipeline::HostRules Rules(int vms) {
  pipeline::HostRules r;
  r.cluster_id = 3;
  r.gateway_ports = {101, 102};
  r.vpcs = {{0x64, {2, 0x5c, 0, 0, 0, 1}}};
  for (int i = 0; i < vms; ++i) {
    r.vms.push_back({0x64,
                     0x0a00000au + i,
                     {2, 0, 0, 0, 1, static_cast<uint8_t>(i)},
                     static_cast<uint32_t>(i + 1)});
  }
  return r;
}

size_t Expected(int vms) { return pipeline::BuildHostState(Rules(vms)).flows().size(); }

class HostProgrammerTest : public ::testing::Test {
 protected:
  void SetUp() override { socket_ = dir_.File("br-int.mgmt"); }

  void StartSwitch() {
    sw_ = std::make_unique<fakes::FakeSwitch>(io_.get_executor());
    ASSERT_TRUE(sw_->ListenUnix(socket_).ok());
  }
  // Rules()'s cluster unless told otherwise.
  std::shared_ptr<HostProgrammer> StartProgrammer(uint32_t cluster_id = 3,
                                                  const Clock* clock = &SystemClock::Get()) {
    HostProgrammer::Options o;
    o.clock = clock;
    o.name = absl::StrCat("host1-cluster", cluster_id);
    o.target = *ofconn::ParseTarget("unix:" + socket_);
    o.session.min_backoff = 50;
    o.session.max_backoff = 200;
    o.session.connection.probe_interval = 0;
    o.call_timeout = 1000;
    o.cluster_id = cluster_id;
    return HostProgrammer::Start(io_.get_executor(), o);
  }

  ManualClock clock_;  // For the tests on a manual clock; outlives io_.
  asio::io_context io_;
  testing::TempDir dir_{"shortcut-hostprog"};
  std::string socket_;
  std::unique_ptr<fakes::FakeSwitch> sw_;
};

TEST_F(HostProgrammerTest, RulesAreConfirmedThenUpdatedInPlace) {
  StartSwitch();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer();
    CO_ASSERT_OK(co_await p->SetRules(Rules(2)));
    EXPECT_EQ(sw_->flow_count(), Expected(2));
    EXPECT_EQ(sw_->group_count(), 1u);
    EXPECT_TRUE(p->in_sync());
    CO_ASSERT_OK(co_await p->SetRules(Rules(3)));
    EXPECT_EQ(sw_->flow_count(), Expected(3));
    p->Stop();
  });
}

TEST_F(HostProgrammerTest, ABurstOfChangesIsMerged) {
  StartSwitch();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer();
    CO_ASSERT_OK(co_await p->SetRules(Rules(1)));
    int done = 0, failed = 0;
    for (int i = 2; i <= 21; ++i) {
      asio::co_spawn(
          io_,
          [&, i]() -> asio::awaitable<void> {
            absl::Status s = co_await p->SetRules(Rules(i));
            ++done;
            failed += !s.ok();
          },
          asio::detached);
    }
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return done == 20; }, 10000));
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(sw_->flow_count(), Expected(21));  // The last rules win.
    EXPECT_LT(p->counters().syncs, 21u);         // Not one sync per call.
    p->Stop();
  });
}

TEST_F(HostProgrammerTest, UnreachableHostGetsItsRulesWhenItComesBack) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer();
    absl::Status s = co_await p->SetRules(Rules(2));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_FALSE(p->in_sync());
    StartSwitch();
    // No new call: the wanted rules go in on the first connection.
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return p->in_sync(); }, 10000));
    EXPECT_EQ(sw_->flow_count(), Expected(2));
    p->Stop();
  });
}

// The same on a manual clock: SetRules gives up exactly at call_timeout,
// and the session retries only when the clock says its backoff is over.
TEST_F(HostProgrammerTest, DeadlineAndBackoffOnAManualClock) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer(3, &clock_);
    std::optional<absl::Status> first;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { first = co_await p->SetRules(Rules(2)); },
        asio::detached);
    co_await Settle();
    clock_.Advance(999);
    co_await Settle();
    EXPECT_FALSE(first.has_value());
    clock_.Advance(1);
    co_await Settle();
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(first->message()),
                ::testing::HasSubstr("did not confirm its rules within 1000 ms (not connected)"));

    // The switch is there now, but the backoff (at most 200 ms) is not over
    // until the clock moves.
    StartSwitch();
    co_await Settle();
    EXPECT_FALSE(p->in_sync());
    EXPECT_EQ(sw_->flow_count(), 0u);
    clock_.Advance(200);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return p->in_sync(); }, 10000));
    EXPECT_EQ(sw_->flow_count(), Expected(2));
    p->Stop();
  });
}

TEST_F(HostProgrammerTest, ARestartedSwitchIsConvergedAgain) {
  StartSwitch();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer();
    CO_ASSERT_OK(co_await p->SetRules(Rules(2)));
    sw_->Restart();
    EXPECT_EQ(sw_->flow_count(), 0u);
    CO_ASSERT_TRUE(co_await WaitUntil(
        [&] { return p->in_sync() && sw_->flow_count() == Expected(2); }, 10000));
    EXPECT_EQ(sw_->group_count(), 1u);
    p->Stop();
  });
}

// Released (another gateway is designated for the host now): the next
// SetRules starts from what the switch holds, not from what was installed
// before the release; a restarted switch is not given the rules back.
TEST_F(HostProgrammerTest, AReleasedHostIsLeftToItsNewProgrammer) {
  StartSwitch();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer();
    CO_ASSERT_OK(co_await p->SetRules(Rules(2)));
    p->Release();
    EXPECT_TRUE(p->released());
    // Meanwhile the host's new programmer changed it: the group is gone.
    of::GroupMod drop;
    drop.command = of::GroupModCommand::kDelete;
    drop.group_id = 3;
    CO_ASSERT_OK(sw_->Apply(drop));
    CO_ASSERT_TRUE(sw_->group_count() == 0u);
    // Designated again: the same rules, and the group is put back (an
    // installed state kept from before the release would say it is there).
    CO_ASSERT_OK(co_await p->SetRules(Rules(2)));
    EXPECT_FALSE(p->released());
    EXPECT_EQ(sw_->group_count(), 1u);
    EXPECT_EQ(sw_->flow_count(), Expected(2));

    p->Release();
    // The control: a programmer of another cluster on the same switch,
    // still keeping its rules.
    auto control = StartProgrammer(4);
    pipeline::HostRules other = Rules(1);
    other.cluster_id = 4;
    other.vms[0].ofport = 9;
    CO_ASSERT_OK(co_await control->SetRules(other));
    const size_t other_flows = pipeline::BuildHostState(other).flows().size();

    sw_->Restart();  // Empty, and both sessions reconnect.
    CO_ASSERT_TRUE(co_await WaitUntil(
        [&] { return p->connected() && control->in_sync() && sw_->flow_count() == other_flows; },
        10000));
    // The control put its rules back; the released one did not.
    EXPECT_EQ(sw_->group_count(), 1u);
    EXPECT_EQ(sw_->Groups()[0].group_id, 4u);
    EXPECT_EQ(sw_->flow_count(), other_flows);
    control->Stop();
    p->Stop();
  });
}

TEST_F(HostProgrammerTest, DirectPathsLiveBesideTheReconciledRules) {
  StartSwitch();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    auto p = StartProgrammer();
    CO_ASSERT_OK(co_await p->SetRules(Rules(1)));
    std::vector<of::FlowMod> adds = {pipeline::DirectPathAdd(0x64, 0x0a000063, 0xac1f0102, 30)};
    CO_ASSERT_OK(co_await p->SendDirectPaths(adds));
    EXPECT_EQ(sw_->flow_count(), Expected(1) + 1);
    // A later sync of the standing rules leaves the direct path alone.
    CO_ASSERT_OK(co_await p->SetRules(Rules(2)));
    EXPECT_EQ(sw_->flow_count(), Expected(2) + 1);
    std::vector<of::FlowMod> dels = {pipeline::DirectPathDelete(0x64, 0x0a000063)};
    CO_ASSERT_OK(co_await p->SendDirectPaths(dels));
    EXPECT_EQ(sw_->flow_count(), Expected(2));
    EXPECT_EQ(p->counters().direct_paths, 2u);
    p->Stop();
  });
}

}  // namespace
}  // namespace shortcut::gateway
