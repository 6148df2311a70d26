// A wake-up signal for coroutines on one executor: Wait() suspends until the
// next Notify(), which wakes every coroutine waiting at that moment.
//
// A notification is not remembered, so waiters always re-check their
// condition in a loop (`while (!cond) co_await signal.Wait();`). On a single
// executor nothing runs between checking the condition and starting to wait,
// so no notification is missed.
//
// Thread-safety: none; use from the owning executor only.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstddef>

namespace shortcut::ofconn {

class Signal {
 public:
  explicit Signal(const asio::any_io_executor& ex)
      : timer_(ex, asio::steady_timer::time_point::max()) {}

  asio::awaitable<void> Wait() {
    ++waiters_;
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    --waiters_;
  }

  void Notify() {
    if (waiters_ > 0) timer_.cancel();
  }

  size_t waiters() const { return waiters_; }

 private:
  asio::steady_timer timer_;  // Never expires; cancel() is the wake-up.
  size_t waiters_ = 0;
};

}  // namespace shortcut::ofconn
