#include "src/ofconn/reconnect.h"

#include "gtest/gtest.h"

namespace shortcut::ofconn {
namespace {

Reconnect::Options Opts(Millis probe = 0) {
  return Reconnect::Options{.min_backoff = 1000, .max_backoff = 8000, .probe_interval = probe};
}

// Fails one connection attempt at `now` and returns the backoff that follows.
Millis FailAttempt(Reconnect& r, Millis now) {
  EXPECT_EQ(r.Run(now), ReconnectAction::kConnect);
  r.Connecting(now);
  r.ConnectFailed(now, absl::UnavailableError("refused"));
  EXPECT_EQ(r.state(), ReconnectState::kBackoff);
  return r.backoff();
}

TEST(Reconnect, DisabledDoesNothing) {
  Reconnect r(Opts());
  EXPECT_EQ(r.state(), ReconnectState::kVoid);
  EXPECT_EQ(r.Run(1'000'000), ReconnectAction::kNone);
  EXPECT_EQ(r.Timeout(0), -1);
}

TEST(Reconnect, FirstAttemptIsImmediate) {
  Reconnect r(Opts());
  r.Enable(100);
  EXPECT_EQ(r.state(), ReconnectState::kBackoff);
  EXPECT_EQ(r.Timeout(100), 0);
  EXPECT_EQ(r.Run(100), ReconnectAction::kConnect);
}

TEST(Reconnect, BackoffDoublesUpToTheCap) {
  Reconnect r(Opts());
  Millis now = 0;
  r.Enable(now);
  std::vector<Millis> backoffs;
  for (int i = 0; i < 6; ++i) {
    Millis b = FailAttempt(r, now);
    backoffs.push_back(b);
    // Nothing to do until the backoff has passed, then connect.
    EXPECT_EQ(r.Timeout(now), b);
    EXPECT_EQ(r.Run(now + b - 1), ReconnectAction::kNone);
    now += b;
  }
  EXPECT_EQ(backoffs, (std::vector<Millis>{1000, 2000, 4000, 8000, 8000, 8000}));
  EXPECT_EQ(r.attempts(), 6u);
  EXPECT_EQ(r.successful_connections(), 0u);
  EXPECT_EQ(r.last_error().code(), absl::StatusCode::kUnavailable);
}

TEST(Reconnect, OddMaxBackoffIsReachedExactly) {
  Reconnect r(Reconnect::Options{.min_backoff = 1000, .max_backoff = 5000, .probe_interval = 0});
  r.Enable(0);
  Millis now = 0;
  std::vector<Millis> backoffs;
  for (int i = 0; i < 5; ++i) {
    backoffs.push_back(FailAttempt(r, now));
    now += backoffs.back();
  }
  EXPECT_EQ(backoffs, (std::vector<Millis>{1000, 2000, 4000, 5000, 5000}));
}

TEST(Reconnect, StableConnectionResetsBackoff) {
  Reconnect r(Opts());
  r.Enable(0);
  Millis now = 0;
  for (int i = 0; i < 4; ++i) now += FailAttempt(r, now);
  ASSERT_EQ(r.backoff(), 8000);

  ASSERT_EQ(r.Run(now), ReconnectAction::kConnect);
  r.Connecting(now);
  r.Connected(now);
  EXPECT_EQ(r.state(), ReconnectState::kActive);
  EXPECT_TRUE(r.is_connected());
  r.Activity(now + 8000);  // Heard from a full backoff interval after connecting.
  r.Disconnected(now + 9000, absl::UnavailableError("peer closed"));
  EXPECT_EQ(r.state(), ReconnectState::kBackoff);
  EXPECT_EQ(r.backoff(), 1000);
  EXPECT_EQ(r.successful_connections(), 1u);
}

TEST(Reconnect, ShortLivedConnectionKeepsBackingOff) {
  Reconnect r(Opts());
  r.Enable(0);
  Millis now = 0;
  now += FailAttempt(r, now);
  now += FailAttempt(r, now);
  ASSERT_EQ(r.backoff(), 2000);

  r.Connecting(now);
  r.Connected(now);
  r.Activity(now + 500);  // Less than the backoff after connecting.
  r.Disconnected(now + 600, absl::UnavailableError("peer closed"));
  EXPECT_EQ(r.backoff(), 4000);

  // A connection that never received anything is not stable either.
  now += 600 + 4000;
  ASSERT_EQ(r.Run(now), ReconnectAction::kConnect);
  r.Connecting(now);
  r.Connected(now);
  r.Disconnected(now + 100'000, absl::UnavailableError("peer closed"));
  EXPECT_EQ(r.backoff(), 8000);
}

TEST(Reconnect, ProbesAfterSilenceThenDisconnects) {
  Reconnect r(Opts(/*probe=*/5000));
  r.Enable(0);
  ASSERT_EQ(r.Run(0), ReconnectAction::kConnect);
  r.Connecting(0);
  r.Connected(10);

  EXPECT_EQ(r.Timeout(10), 5000);
  EXPECT_EQ(r.Run(5009), ReconnectAction::kNone);
  EXPECT_EQ(r.Run(5010), ReconnectAction::kProbe);
  EXPECT_EQ(r.state(), ReconnectState::kIdle);
  // Only one probe per silence.
  EXPECT_EQ(r.Run(5011), ReconnectAction::kNone);
  EXPECT_EQ(r.Timeout(5010), 5000);
  EXPECT_EQ(r.Run(10009), ReconnectAction::kNone);
  EXPECT_EQ(r.Run(10010), ReconnectAction::kDisconnect);
  r.Disconnected(10010, absl::UnavailableError("inactivity probe"));
  EXPECT_EQ(r.state(), ReconnectState::kBackoff);
}

TEST(Reconnect, ActivityDefersTheProbeAndAnswersIt) {
  Reconnect r(Opts(/*probe=*/5000));
  r.Enable(0);
  r.Connecting(0);
  r.Connected(0);
  r.Activity(3000);
  EXPECT_EQ(r.Run(5000), ReconnectAction::kNone);
  EXPECT_EQ(r.Timeout(5000), 3000);
  EXPECT_EQ(r.Run(8000), ReconnectAction::kProbe);
  r.Activity(9000);  // The echo reply.
  EXPECT_EQ(r.state(), ReconnectState::kActive);
  EXPECT_EQ(r.Run(13'999), ReconnectAction::kNone);
  EXPECT_EQ(r.Run(14'000), ReconnectAction::kProbe);
}

TEST(Reconnect, ProbeIntervalZeroNeverProbes) {
  Reconnect r(Opts(/*probe=*/0));
  r.Enable(0);
  r.Connecting(0);
  r.Connected(0);
  EXPECT_EQ(r.Timeout(0), -1);
  EXPECT_EQ(r.Run(1'000'000'000), ReconnectAction::kNone);
}

TEST(Reconnect, ConnectAttemptTimesOut) {
  Reconnect r(Opts());
  r.Enable(0);
  ASSERT_EQ(r.Run(0), ReconnectAction::kConnect);
  r.Connecting(0);
  EXPECT_EQ(r.state(), ReconnectState::kConnecting);
  EXPECT_EQ(r.Run(999), ReconnectAction::kNone);
  EXPECT_EQ(r.Run(1000), ReconnectAction::kDisconnect);
}

TEST(Reconnect, ForceReconnectDisconnectsNow) {
  Reconnect r(Opts());
  r.Enable(0);
  r.Connecting(0);
  r.Connected(0);
  r.ForceReconnect(50);
  EXPECT_EQ(r.state(), ReconnectState::kReconnect);
  EXPECT_EQ(r.Timeout(50), 0);
  EXPECT_EQ(r.Run(50), ReconnectAction::kDisconnect);
  r.Disconnected(50, absl::CancelledError("reconnect requested"));
  EXPECT_EQ(r.state(), ReconnectState::kBackoff);
}

TEST(Reconnect, DisableStopsEverything) {
  Reconnect r(Opts(5000));
  r.Enable(0);
  r.Connecting(0);
  r.Connected(0);
  r.Disable(10);
  EXPECT_EQ(r.state(), ReconnectState::kVoid);
  EXPECT_EQ(r.Run(100'000), ReconnectAction::kNone);
  EXPECT_EQ(ReconnectStateName(r.state()), "VOID");
}

}  // namespace
}  // namespace shortcut::ofconn
