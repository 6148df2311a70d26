// An OVSDB client (RFC 7047 with the Open vSwitch extensions monitor_cond,
// monitor_cond_since, monitor_cond_change and update2/update3) over a Unix or
// TCP stream (ofconn::Stream).
//
// Connect() returns a client whose coroutines run on the given executor until
// the connection closes:
//   - the reader frames JSON values (JsonFramer), answers the server's "echo"
//     requests, completes pending calls by id, and queues notifications
//     ("update", "update2", "update3", "locked", "stolen", anything else the
//     server sends without an id) for NextNotification(). The queue is
//     bounded: when it overflows the connection is closed with
//     ResourceExhausted rather than dropping an update, because a monitor
//     that misses one update is silently wrong; the caller reconnects.
//   - the writer drains the send queue, so messages are never interleaved.
//   - the keepalive sends "echo" after probe_interval ms of silence and
//     closes the connection if another probe_interval passes in silence.
// When the connection closes, pending calls complete with Unavailable and
// NextNotification() returns what is queued, then the close reason.
//
// Errors: a JSON-RPC error reply becomes a status naming the method and the
// server's error ("not owner", "unknown database", ...). Transact() also
// turns the first per-operation error into a status naming the operation's
// index and what it was: "transact op 2 (insert into Bridge): constraint
// violation: ...".
//
// Lifetime: the coroutines hold a shared_ptr to the client, so it lives until
// it is closed (Close(), the server, or an error) and they end.
//
// Calling convention: pass JSON to these coroutines as named locals; g++ 12
// destroys a braced temporary written inside a co_await expression twice.
//
// Thread-safety: none. Use a client only from the executor given to Connect().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/ofconn/signal.h"
#include "src/ofconn/stream.h"
#include "src/ofconn/target.h"
#include "src/ovsdb/jsonrpc.h"

namespace shortcut::ovsdb {

inline constexpr uint16_t kDefaultOvsdbPort = 6640;

// ofconn::ParseTarget() with OVSDB's default TCP port (6640) when none is given.
absl::StatusOr<ofconn::Target> ParseOvsdbTarget(std::string_view text);

// A message from the server without an id (monitor updates, lock events).
struct Notification {
  std::string method;  // "update", "update2", "update3", "locked", "stolen", ...
  Json params;         // As sent, an array.
};

// The reply to monitor_cond_since.
struct MonitorSinceResult {
  bool found = false;       // The server still had `last_txn_id`: updates is the delta.
  std::string last_txn_id;  // The newest transaction the server has.
  Json updates;             // <table-updates2>.
};

class OvsdbClient : public std::enable_shared_from_this<OvsdbClient> {
 public:
  struct Options {
    Millis connect_timeout = 10000;
    // Echo after this much silence; close after as much again. 0: never.
    Millis probe_interval = 5000;
    // Default timeout of the convenience calls (ListDbs, Transact, ...).
    Millis call_timeout = 30000;
    size_t max_message_bytes = kDefaultMaxMessageBytes;
    // Bound of the notification queue, in messages.
    size_t max_notifications = 4096;
  };

  static asio::awaitable<absl::StatusOr<std::shared_ptr<OvsdbClient>>> Connect(
      asio::any_io_executor ex, ofconn::Target target, Options options);

  ~OvsdbClient();
  OvsdbClient(const OvsdbClient&) = delete;
  OvsdbClient& operator=(const OvsdbClient&) = delete;

  // Sends a request and returns its result. A JSON-RPC error reply becomes a
  // status naming `method`; no reply within `timeout` ms is DeadlineExceeded
  // (a late reply is then ignored).
  asio::awaitable<absl::StatusOr<Json>> Call(std::string method, Json params, Millis timeout);
  // The same with an id from ReserveId(), so that the call can be Cancel()ed.
  asio::awaitable<absl::StatusOr<Json>> CallWithId(int64_t id, std::string method, Json params,
                                                   Millis timeout);
  int64_t ReserveId() { return next_id_++; }
  // Call() with the params array given as JSON text, for requests too large
  // to build as a Json tree first (a bulk transaction). The text is sent as
  // is: it must be a valid JSON array.
  asio::awaitable<absl::StatusOr<Json>> CallText(std::string method, std::string params_json,
                                                 Millis timeout);
  // Completes call `id` (if pending) with Cancelled and sends "cancel" so
  // the server abandons it (ovsdb-server acts on it only for transactions
  // blocked in "wait"). NotFound is not reported: the call may just have ended.
  absl::Status Cancel(int64_t id);

  asio::awaitable<absl::StatusOr<std::vector<std::string>>> ListDbs();
  asio::awaitable<absl::StatusOr<Json>> GetSchema(std::string db);
  // The per-operation results; the first error result becomes a status (see
  // the header comment), including the extra result for a failed commit.
  asio::awaitable<absl::StatusOr<Json>> Transact(std::string db, Json ops);
  // Echo round trip: params are returned unchanged.
  asio::awaitable<absl::StatusOr<Json>> Echo(Json params);

  // Each returns the initial contents: <table-updates> for Monitor, and
  // <table-updates2> for MonitorCond. `monitor_id` names the monitor in the
  // later "update"/"update2"/"update3" notifications.
  asio::awaitable<absl::StatusOr<Json>> Monitor(std::string db, Json monitor_id, Json requests);
  asio::awaitable<absl::StatusOr<Json>> MonitorCond(std::string db, Json monitor_id, Json requests);
  // Updates arrive as "update3"; an empty `last_txn_id` asks for everything.
  asio::awaitable<absl::StatusOr<MonitorSinceResult>> MonitorCondSince(std::string db,
                                                                       Json monitor_id,
                                                                       Json requests,
                                                                       std::string last_txn_id);
  // Replaces the conditions of `monitor_id` (and renames it to `new_id`).
  asio::awaitable<absl::Status> MonitorCondChange(Json monitor_id, Json new_id,
                                                  Json change_requests);
  asio::awaitable<absl::Status> MonitorCancel(Json monitor_id);

  // Lock returns whether the lock was acquired now; if not, a "locked"
  // notification follows when it is. Steal always acquires it (the previous
  // owner gets "stolen").
  asio::awaitable<absl::StatusOr<bool>> Lock(std::string lock_id);
  asio::awaitable<absl::Status> Steal(std::string lock_id);
  asio::awaitable<absl::Status> Unlock(std::string lock_id);

  // The next notification; after the connection closed, what is queued and
  // then the close reason.
  asio::awaitable<absl::StatusOr<Notification>> NextNotification();
  size_t queued_notifications() const { return notifications_.size(); }

  void Close();
  bool is_open() const { return open_; }
  const ofconn::Target& target() const { return target_; }
  uint64_t echo_requests_answered() const { return echo_requests_answered_; }

 private:
  struct PendingCall;

  OvsdbClient(asio::any_io_executor ex, ofconn::Target target, Options options,
              std::shared_ptr<ofconn::Stream> stream);

  void StartLoops();
  asio::awaitable<void> ReadLoop(std::shared_ptr<OvsdbClient> self);
  asio::awaitable<void> WriteLoop(std::shared_ptr<OvsdbClient> self);
  asio::awaitable<void> KeepaliveLoop(std::shared_ptr<OvsdbClient> self);
  void Dispatch(Json json);
  void Send(const Message& message);
  asio::awaitable<absl::StatusOr<Json>> AwaitReply(int64_t id, std::shared_ptr<PendingCall> call,
                                                   Millis timeout);
  void CloseWith(absl::Status why);
  absl::Status ClosedError() const;

  asio::any_io_executor ex_;
  ofconn::Target target_;
  std::string name_;
  Options options_;
  std::shared_ptr<ofconn::Stream> stream_;
  JsonFramer framer_;

  bool open_ = true;
  absl::Status close_reason_;
  int64_t next_id_ = 1;
  absl::flat_hash_map<int64_t, std::shared_ptr<PendingCall>> pending_;

  std::string out_;      // Queued for the writer.
  std::string writing_;  // Being written.
  ofconn::Signal writer_signal_;

  std::deque<Notification> notifications_;
  ofconn::Signal notify_signal_;

  Millis last_received_ms_ = 0;
  Millis probe_sent_ms_ = -1;  // -1: no probe outstanding.
  asio::steady_timer keepalive_timer_;
  uint64_t echo_requests_answered_ = 0;
};

}  // namespace shortcut::ovsdb
