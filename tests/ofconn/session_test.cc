#include "src/ofconn/session.h"

#include <asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "src/ofconn/target.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::ofconn {
namespace {

using ::shortcut::testing::OfpPeer;
using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::Settle;
using ::shortcut::testing::TempDir;
using ::shortcut::testing::WaitUntil;

Session::Options FastOptions() {
  Session::Options o;
  o.min_backoff = 10;
  o.max_backoff = 40;
  o.connection.connect_timeout = 2000;
  o.connection.probe_interval = 0;
  return o;
}

std::shared_ptr<OfpPeer> StartPeer(asio::io_context& io, const std::string& path, uint64_t dpid) {
  OfpPeer::Options o;
  o.unix_path = path;
  o.datapath_id = dpid;
  auto peer = OfpPeer::Start(io.get_executor(), o);
  EXPECT_TRUE(peer.ok()) << peer.status();
  return peer.ok() ? *peer : nullptr;
}

TEST(Session, ReconnectsAfterThePeerRestarts) {
  asio::io_context io;
  TempDir dir("ofconn-session");
  std::string path = dir.File("switch.sock");
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    auto peer = StartPeer(io, path, 1);
    CO_ASSERT_TRUE(peer != nullptr);
    auto session = Session::Start(io.get_executor(), *ParseTarget("unix:" + path), FastOptions());

    auto first = co_await session->NextConnection();
    CO_ASSERT_TRUE(first.ok());
    EXPECT_EQ((*first)->datapath_id(), 1u);
    EXPECT_EQ(session->connection(), *first);
    EXPECT_EQ(session->connections_made(), 1u);

    // The switch goes away: the connection closes and the session backs off.
    peer->Stop();
    absl::Status why = co_await (*first)->WaitClosed();
    EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return session->connection() == nullptr; }));

    // It comes back (a new process on the same socket): so does the session.
    auto restarted = StartPeer(io, path, 2);
    CO_ASSERT_TRUE(restarted != nullptr);
    auto second = co_await session->NextConnection();
    CO_ASSERT_TRUE(second.ok());
    EXPECT_NE(*second, *first);
    EXPECT_EQ((*second)->datapath_id(), 2u);
    EXPECT_TRUE((*second)->is_open());
    EXPECT_EQ(session->connections_made(), 2u);
    EXPECT_EQ(session->state(), ReconnectState::kActive);

    session->Stop();
    EXPECT_FALSE((*second)->is_open());
    auto after = co_await session->NextConnection();
    EXPECT_EQ(after.status().code(), absl::StatusCode::kCancelled);
    restarted->Stop();
  });
}

TEST(Session, KeepsRetryingWithBackoffUntilTheSwitchAppears) {
  asio::io_context io;
  TempDir dir("ofconn-session");
  std::string path = dir.File("switch.sock");
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    auto session = Session::Start(io.get_executor(), *ParseTarget("unix:" + path), FastOptions());
    // Nobody listens: attempts fail and the backoff grows to its cap.
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return session->backoff() == 40; }));
    EXPECT_EQ(session->last_error().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(session->connection(), nullptr);

    auto peer = StartPeer(io, path, 7);
    CO_ASSERT_TRUE(peer != nullptr);
    auto conn = co_await session->NextConnection();
    CO_ASSERT_TRUE(conn.ok());
    EXPECT_EQ((*conn)->datapath_id(), 7u);
    session->Stop();
    peer->Stop();
  });
}

// Backoff on a ManualClock: each retry comes exactly when the clock passes
// the backoff, never before, doubling up to the cap (the failures are real:
// nobody listens on the socket).
TEST(Session, BackoffOnAManualClockRetriesExactlyOnTime) {
  ManualClock clock;  // Outlives io: the session's timers are on it.
  asio::io_context io;
  TempDir dir("ofconn-session");
  std::string path = dir.File("switch.sock");
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    Session::Options o = FastOptions();
    o.min_backoff = 1000;
    o.max_backoff = 4000;
    auto session = Session::Start(io.get_executor(), *ParseTarget("unix:" + path), o, clock);
    CO_ASSERT_TRUE(co_await WaitUntil([&] {
      return session->state() == ReconnectState::kBackoff && session->backoff() == 1000;
    }));
    EXPECT_EQ(session->connect_attempts(), 1u);
    uint64_t attempts = 1;
    for (Millis next : {2000, 4000, 4000}) {
      clock.Advance(session->backoff() - 1);
      co_await Settle();
      EXPECT_EQ(session->connect_attempts(), attempts) << "retried early";
      clock.Advance(1);
      ++attempts;
      CO_ASSERT_TRUE(co_await WaitUntil([&] {
        return session->connect_attempts() == attempts &&
               session->state() == ReconnectState::kBackoff;
      }));
      EXPECT_EQ(session->backoff(), next);
      EXPECT_EQ(session->last_error().code(), absl::StatusCode::kUnavailable);
    }
    EXPECT_EQ(session->connections_made(), 0u);

    auto peer = StartPeer(io, path, 9);
    CO_ASSERT_TRUE(peer != nullptr);
    clock.Advance(3999);
    co_await Settle();
    EXPECT_EQ(peer->connections_accepted(), 0u);
    clock.Advance(1);
    auto conn = co_await session->NextConnection();
    CO_ASSERT_TRUE(conn.ok());
    EXPECT_EQ((*conn)->datapath_id(), 9u);
    EXPECT_EQ(peer->connections_accepted(), 1u);
    session->Stop();
    peer->Stop();
  });
}

}  // namespace
}  // namespace shortcut::ofconn
