// A reconnecting OpenFlow session for daemons: keeps one Connection to a
// target alive, reconnecting with exponential backoff (the Reconnect state
// machine; liveness probing is done by each Connection itself).
//
// The owner awaits NextConnection() to learn of each new connection (the
// reconciler re-reads the switch and converges on every reconnect) and uses
// connection() for the current one, which is null while disconnected.
//
// Lifetime: Start() begins a coroutine holding a shared_ptr to the Session;
// Stop() closes the current connection, stops reconnecting and lets it end.
//
// Thread-safety: none. Use a Session only from the executor passed to Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/common/clock_timer.h"
#include "src/ofconn/connection.h"
#include "src/ofconn/reconnect.h"
#include "src/ofconn/signal.h"
#include "src/ofconn/target.h"

namespace shortcut::ofconn {

class Session : public std::enable_shared_from_this<Session> {
 public:
  struct Options {
    Connection::Options connection;
    Millis min_backoff = 1000;
    Millis max_backoff = 8000;
  };

  // Backoff and the connections' deadlines are on `clock`, which must
  // outlive the session.
  static std::shared_ptr<Session> Start(asio::any_io_executor ex, Target target, Options options,
                                        const Clock& clock = SystemClock::Get());

  // Closes the current connection and stops reconnecting. Idempotent.
  void Stop();

  // The current connection, or null.
  std::shared_ptr<Connection> connection() const { return connection_; }
  // Waits for a connection not yet returned by an earlier call (the current
  // one if it has not been returned yet). Cancelled once stopped.
  asio::awaitable<absl::StatusOr<std::shared_ptr<Connection>>> NextConnection();

  ReconnectState state() const { return fsm_.state(); }
  // Why the last connection or attempt ended.
  const absl::Status& last_error() const { return fsm_.last_error(); }
  uint64_t connections_made() const { return generation_; }
  uint64_t connect_attempts() const { return attempts_; }
  Millis backoff() const { return fsm_.backoff(); }

 private:
  Session(asio::any_io_executor ex, Target target, Options options, const Clock& clock);
  asio::awaitable<void> Run(std::shared_ptr<Session> self);

  asio::any_io_executor ex_;
  Target target_;
  Options options_;
  const Clock& clock_;
  Reconnect fsm_;
  ClockTimer timer_;         // Backoff wait; cancelled by Stop().
  Signal connected_signal_;  // A new connection, or stopped.
  std::shared_ptr<Connection> connection_;
  uint64_t generation_ = 0;  // Connections made so far.
  uint64_t attempts_ = 0;    // Connections tried so far (made or not).
  uint64_t delivered_ = 0;   // Generation last returned by NextConnection().
  bool stopped_ = false;
};

}  // namespace shortcut::ofconn
