// ClockTimer: a deadline on a Clock that a coroutine can wait for. On the
// system clock it is an asio::steady_timer; on a ManualClock it fires when
// the test moves the clock past the deadline, so state machines that wait
// (keepalives, call deadlines, backoff) are tested without real time.
//
//   ClockTimer t(ex, clock);
//   t.ExpiresAfter(500);
//   bool fired = co_await t.Wait();  // false after Cancel()
//
// One waiter at a time. ExpiresAt/ExpiresAfter set the deadline for the
// next Wait() (a wait in progress on a ManualClock sees the new deadline;
// on the system clock it is aborted and returns false, as asio does).
//
// Thread-safety: none; use from the owning executor only.
#pragma once

#include <algorithm>
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "src/common/clock.h"

namespace shortcut {

class ClockTimer {
 public:
  ClockTimer(const asio::any_io_executor& ex, const Clock& clock)
      : clock_(clock), timer_(ex, asio::steady_timer::time_point::max()) {
    listener_ = clock_.OnMove([this] {
      if (waiting_ && clock_.NowMs() >= deadline_) Wake(kFired);
    });
  }
  ~ClockTimer() {
    if (listener_ != 0) clock_.RemoveOnMove(listener_);
  }
  ClockTimer(const ClockTimer&) = delete;
  ClockTimer& operator=(const ClockTimer&) = delete;

  void ExpiresAt(Millis deadline) {
    deadline_ = deadline;
    if (listener_ == 0) {
      timer_.expires_after(
          std::chrono::milliseconds(std::max<Millis>(deadline - clock_.NowMs(), 0)));
    } else if (waiting_ && clock_.NowMs() >= deadline_) {
      Wake(kFired);
    }
  }
  void ExpiresAfter(Millis ms) { ExpiresAt(clock_.NowMs() + ms); }
  Millis deadline() const { return deadline_; }

  // True once the deadline has passed; false when Cancel() came first.
  asio::awaitable<bool> Wait() {
    if (listener_ == 0) {
      auto [ec] = co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      co_return !ec;
    }
    if (clock_.NowMs() >= deadline_) co_return true;
    wake_ = kNone;
    waiting_ = true;
    timer_.expires_at(asio::steady_timer::time_point::max());
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    waiting_ = false;
    co_return wake_ == kFired;
  }

  void Cancel() {
    if (listener_ == 0) {
      timer_.cancel();
    } else if (waiting_) {
      Wake(kCancelled);
    }
  }

 private:
  enum Wakeup { kNone, kFired, kCancelled };
  void Wake(Wakeup why) {
    if (wake_ != kNone) return;  // Already woken; the first reason stands.
    wake_ = why;
    timer_.cancel();
  }

  const Clock& clock_;
  asio::steady_timer timer_;
  Millis deadline_ = 0;
  uint64_t listener_ = 0;  // 0: the clock moves by itself.
  bool waiting_ = false;
  Wakeup wake_ = kNone;
};

// A deadline for a loop that waits on something else (a signal) and must
// also wake when time is up: `on_expiry` runs on the executor once the
// deadline passes, unless Cancel() (or the destructor) comes first.
//
//   Deadline deadline(ex, clock, timeout, [this] { done_.Notify(); });
//   while (!done) { if (deadline.expired()) ...; co_await done_.Wait(); }
class Deadline {
 public:
  Deadline(const asio::any_io_executor& ex, const Clock& clock, Millis timeout,
           std::function<void()> on_expiry)
      : state_(std::make_shared<State>(ex, clock, std::move(on_expiry))) {
    state_->timer.ExpiresAfter(timeout);
    asio::co_spawn(
        ex,
        [](std::shared_ptr<State> state) -> asio::awaitable<void> {
          bool fired = co_await state->timer.Wait();
          if (!fired || state->cancelled) co_return;
          state->expired = true;
          state->on_expiry();
        }(state_),
        asio::detached);
  }
  ~Deadline() { Cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  bool expired() const { return state_->expired; }
  void Cancel() {
    if (state_->cancelled) return;
    state_->cancelled = true;
    state_->timer.Cancel();
  }

 private:
  struct State {
    State(const asio::any_io_executor& ex, const Clock& clock, std::function<void()> f)
        : timer(ex, clock), on_expiry(std::move(f)) {}
    ClockTimer timer;
    std::function<void()> on_expiry;
    bool expired = false;
    bool cancelled = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace shortcut
