// ClockTimer on a ManualClock (fires exactly when the clock passes the
// deadline, never before, whatever the real time) and on the system clock.
#include "src/common/clock_timer.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <optional>

#include "gtest/gtest.h"

namespace shortcut {
namespace {

// Runs whatever is ready on `io` (completions of cancelled waits included)
// without letting real time decide anything.
void Drain(asio::io_context& io) {
  io.restart();
  io.poll();
}

struct Waiter {
  std::optional<bool> result;
  void Start(asio::io_context& io, ClockTimer& timer) {
    asio::co_spawn(
        io, [this, &timer]() -> asio::awaitable<void> { result = co_await timer.Wait(); },
        asio::detached);
  }
};

TEST(ClockTimer, ManualClockFiresWhenMovedPastTheDeadlineAndNotBefore) {
  asio::io_context io;
  ManualClock clock(1000);
  ClockTimer timer(io.get_executor(), clock);
  timer.ExpiresAfter(500);
  EXPECT_EQ(timer.deadline(), 1500);
  Waiter w;
  w.Start(io, timer);
  Drain(io);
  EXPECT_FALSE(w.result.has_value());
  clock.Advance(499);
  Drain(io);
  EXPECT_FALSE(w.result.has_value());
  clock.Advance(1);
  Drain(io);
  ASSERT_TRUE(w.result.has_value());
  EXPECT_TRUE(*w.result);
}

TEST(ClockTimer, ManualClockCancelWakesWithFalse) {
  asio::io_context io;
  ManualClock clock;
  ClockTimer timer(io.get_executor(), clock);
  timer.ExpiresAfter(100);
  Waiter w;
  w.Start(io, timer);
  Drain(io);
  timer.Cancel();
  clock.Advance(100);  // Too late: the first reason stands.
  Drain(io);
  ASSERT_TRUE(w.result.has_value());
  EXPECT_FALSE(*w.result);
}

TEST(ClockTimer, ManualClockDeadlinePassedOrMovedWhileWaiting) {
  asio::io_context io;
  ManualClock clock(50);
  ClockTimer timer(io.get_executor(), clock);
  timer.ExpiresAt(50);
  Waiter now;
  now.Start(io, timer);
  Drain(io);
  ASSERT_TRUE(now.result.has_value());
  EXPECT_TRUE(*now.result);

  timer.ExpiresAt(1000);
  Waiter moved;
  moved.Start(io, timer);
  Drain(io);
  timer.ExpiresAt(60);  // Earlier than before, still ahead of the clock.
  Drain(io);
  EXPECT_FALSE(moved.result.has_value());
  clock.Set(60);
  Drain(io);
  ASSERT_TRUE(moved.result.has_value());
  EXPECT_TRUE(*moved.result);
}

TEST(ClockTimer, ManualClockForgetsDestroyedTimers) {
  asio::io_context io;
  ManualClock clock;
  {
    ClockTimer a(io.get_executor(), clock);
    ClockTimer b(io.get_executor(), clock);
    EXPECT_EQ(clock.timers(), 2u);
  }
  EXPECT_EQ(clock.timers(), 0u);
  clock.Advance(10);  // Nothing left to call.
}

TEST(ClockTimer, SystemClockWaitsForRealAndCancels) {
  asio::io_context io;
  ClockTimer timer(io.get_executor(), SystemClock::Get());
  EXPECT_EQ(SystemClock::Get().OnMove([] {}), 0u);
  timer.ExpiresAfter(1);
  Waiter fired;
  fired.Start(io, timer);
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(fired.result.has_value());
  EXPECT_TRUE(*fired.result);

  timer.ExpiresAfter(3'600'000);
  Waiter cancelled;
  cancelled.Start(io, timer);
  Drain(io);
  timer.Cancel();
  io.restart();
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(cancelled.result.has_value());
  EXPECT_FALSE(*cancelled.result);
}

}  // namespace
}  // namespace shortcut
