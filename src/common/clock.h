// Injectable monotonic time for state machines and timers.
//
// State machines in Shortcut take `now` as an argument (as Open vSwitch's
// lib/reconnect.h does) so tests drive time explicitly; code that needs to
// read the time holds a Clock&. Times are in milliseconds on the monotonic
// clock unless a name says otherwise.
//
// Thread-safety: SystemClock is thread-safe; ManualClock is not (one thread,
// the one its timers run on).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>

namespace shortcut {

using Millis = int64_t;  // Milliseconds on the monotonic clock.

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis NowMs() const = 0;
  // Timers of a clock that moves by itself (the system's) wait with the
  // operating system; those of a clock that moves only when told
  // (ManualClock) ask to be called after each move. Returns 0 when the
  // clock moves by itself, else an id for RemoveOnMove.
  virtual uint64_t OnMove(std::function<void()> /*moved*/) const { return 0; }
  virtual void RemoveOnMove(uint64_t /*id*/) const {}
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
// Timers on it (common/clock_timer.h) fire in Advance()/Set(): call those
// on the timers' executor (a test's coroutine), never from another thread.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 0) : now_(start) {}
  Millis NowMs() const override { return now_; }
  void Advance(Millis ms) { Set(now_ + ms); }
  void Set(Millis ms) {
    now_ = ms;
    // A copy: a listener may remove itself (or another) while called.
    std::map<uint64_t, std::function<void()>> listeners = listeners_;
    for (auto& [id, moved] : listeners) {
      if (listeners_.contains(id)) moved();
    }
  }
  uint64_t OnMove(std::function<void()> moved) const override {
    listeners_[++last_id_] = std::move(moved);
    return last_id_;
  }
  void RemoveOnMove(uint64_t id) const override { listeners_.erase(id); }
  size_t timers() const { return listeners_.size(); }

 private:
  Millis now_;
  mutable uint64_t last_id_ = 0;
  mutable std::map<uint64_t, std::function<void()>> listeners_;
};

}  // namespace shortcut
