// Injectable monotonic time for state machines and timers.
//
// State machines in Shortcut take `now` as an argument (as Open vSwitch's
// lib/reconnect.h does) so tests drive time explicitly; code that needs to
// read the time holds a Clock&. Times are in milliseconds on the monotonic
// clock unless a name says otherwise.
//
// Thread-safety: SystemClock is thread-safe; ManualClock is not.
#pragma once

#include <chrono>
#include <cstdint>

namespace shortcut {

using Millis = int64_t;  // Milliseconds on the monotonic clock.

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& Get() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when a test says so.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 0) : now_(start) {}
  Millis NowMs() const override { return now_; }
  void Advance(Millis ms) { now_ += ms; }
  void Set(Millis ms) { now_ = ms; }

 private:
  Millis now_;
};

}  // namespace shortcut
