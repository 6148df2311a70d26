// Time for managerd's loops, injectable: the driver reads `Now()` and
// sleeps with `WaitUntil(wake, when)`, which returns when `when` is reached
// or `wake` is notified, whichever comes first (callers re-check their
// conditions in a loop). SteadyTimers uses the monotonic clock and asio
// timers; ManualTimers moves only when a test calls Advance(), so tests
// drive health checks, backoffs and polls without sleeping.
//
// Thread-safety: none; one executor.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <list>
#include <utility>

#include "src/common/clock.h"
#include "src/ofconn/signal.h"

namespace shortcut::manager {

class Timers {
 public:
  virtual ~Timers() = default;
  virtual Millis Now() const = 0;
  virtual asio::awaitable<void> WaitUntil(ofconn::Signal& wake, Millis when) = 0;
};

class SteadyTimers final : public Timers {
 public:
  Millis Now() const override { return SystemClock::Get().NowMs(); }
  asio::awaitable<void> WaitUntil(ofconn::Signal& wake, Millis when) override {
    Millis delay = when - Now();
    if (delay <= 0) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(delay));
    bool fired = false;
    timer.async_wait([&wake, &fired](const std::error_code& ec) {
      if (ec) return;
      fired = true;
      wake.Notify();
    });
    co_await wake.Wait();
    // The handler may still be queued: wait for it to run (it sees the
    // cancellation) before `fired` and the timer go out of scope.
    if (!fired && timer.cancel() == 0) {
      while (!fired) co_await wake.Wait();
    }
  }
};

class ManualTimers final : public Timers {
 public:
  explicit ManualTimers(Millis start = 0) : now_(start) {}
  Millis Now() const override { return now_; }
  asio::awaitable<void> WaitUntil(ofconn::Signal& wake, Millis when) override {
    if (when <= now_) co_return;
    auto it = sleepers_.insert(sleepers_.end(), {when, &wake});
    co_await wake.Wait();
    sleepers_.erase(it);
  }
  // Moves time forward and wakes every sleeper whose time came.
  void Advance(Millis ms) {
    now_ += ms;
    for (auto& [when, wake] : sleepers_) {
      if (when <= now_) wake->Notify();
    }
  }
  size_t sleepers() const { return sleepers_.size(); }

 private:
  Millis now_;
  std::list<std::pair<Millis, ofconn::Signal*>> sleepers_;
};

}  // namespace shortcut::manager
