// A reconnection and liveness state machine, after Open vSwitch lib/reconnect.h.
//
// It performs no I/O and reads no clock: every method takes `now` (ms on the
// monotonic clock, see src/common/clock.h) and Run() says what the owner
// should do next. The owner reports what happened (Connecting, Connected,
// ConnectFailed, Disconnected, Activity) and sleeps Timeout(now) ms between
// calls to Run(). That keeps every rule testable without sockets or sleeps.
//
// Backoff: the first connection attempt after Enable() is immediate. Each
// failed attempt (or a connection that was not stable) doubles the wait
// before the next one, from min_backoff up to max_backoff. A connection is
// stable when something was received at least `backoff` ms after it came up;
// losing a stable connection resets the wait to min_backoff.
//
// Liveness: with probe_interval > 0, after probe_interval ms without Activity
// Run() returns kProbe once (send an echo request) and the state becomes
// kIdle; if nothing arrives within another probe_interval, Run() returns
// kDisconnect.
//
// Thread-safety: none; a Reconnect belongs to its owner.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "src/common/clock.h"

namespace shortcut::ofconn {

enum class ReconnectState {
  kVoid,        // Disabled: no connection wanted.
  kBackoff,     // Waiting `backoff` ms before the next attempt.
  kConnecting,  // An attempt is in progress.
  kActive,      // Connected and heard from within probe_interval.
  kIdle,        // Connected, probe sent, waiting for anything to arrive.
  kReconnect,   // Connected, but the owner asked to drop and reconnect.
};
std::string_view ReconnectStateName(ReconnectState state);

enum class ReconnectAction {
  kNone,        // Nothing to do before Timeout(now) ms from now.
  kConnect,     // Start a connection attempt (then call Connecting()).
  kDisconnect,  // Drop the connection or attempt (then call Disconnected()).
  kProbe,       // Send an echo request; the peer has been silent.
};

class Reconnect {
 public:
  struct Options {
    Millis min_backoff = 1000;
    Millis max_backoff = 8000;
    Millis probe_interval = 5000;  // 0 disables probing.
  };

  explicit Reconnect(Options options);

  void Enable(Millis now);
  void Disable(Millis now);
  // Drops a live connection (Run() returns kDisconnect) and reconnects after backoff.
  void ForceReconnect(Millis now);

  void Connecting(Millis now);
  void Connected(Millis now);
  void ConnectFailed(Millis now, absl::Status error);
  void Disconnected(Millis now, absl::Status error);
  // Something was received from the peer.
  void Activity(Millis now);

  ReconnectAction Run(Millis now);
  // Milliseconds until Run() may have something to do: 0 if it has now, -1
  // if nothing will happen until the owner reports an event.
  Millis Timeout(Millis now) const;

  ReconnectState state() const { return state_; }
  bool is_connected() const {
    return state_ == ReconnectState::kActive || state_ == ReconnectState::kIdle ||
           state_ == ReconnectState::kReconnect;
  }
  Millis backoff() const { return backoff_; }
  const absl::Status& last_error() const { return last_error_; }
  uint64_t attempts() const { return attempts_; }
  uint64_t successful_connections() const { return successes_; }

 private:
  void Transition(Millis now, ReconnectState state);
  // Absolute time of the next Run() action; -1 for none.
  Millis Deadline() const;

  Options options_;
  ReconnectState state_ = ReconnectState::kVoid;
  Millis state_entered_ = 0;
  Millis backoff_ = 0;
  Millis last_connected_ = 0;
  Millis last_activity_ = 0;
  bool has_activity_ = false;  // last_activity_ is meaningful.
  absl::Status last_error_;
  uint64_t attempts_ = 0;
  uint64_t successes_ = 0;
};

}  // namespace shortcut::ofconn
