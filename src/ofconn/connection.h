// One OpenFlow 1.3 session with one switch, over a Unix or TCP stream.
//
// Connection::Connect() connects, exchanges HELLO (offering OpenFlow 1.3
// only; a peer without 1.3 gets OFPET_HELLO_FAILED, as Open vSwitch sends,
// and Connect fails with FailedPrecondition) and learns the datapath id with
// FEATURES_REQUEST. Three coroutines then run on the executor until the
// connection closes:
//   - the reader frames messages by header length (a length below 8 closes
//     the connection), decodes them, answers ECHO_REQUEST itself and routes
//     each message: the reply to a pending Call (every part of a multipart
//     reply up to the one without OFPMPF_REPLY_MORE; an OFPT_ERROR with the
//     call's xid fails the call), an OFPT_ERROR for a Track()ed xid into
//     TakeTrackedErrors(), anything else (PACKET_IN, PORT_STATUS,
//     FLOW_REMOVED, unmatched errors and replies) into a bounded queue read by
//     Receive(). When that queue is full the oldest message is dropped and
//     counted in Stats::async_dropped: a slow consumer never grows memory.
//   - the writer drains the send queue, coalescing everything queued into
//     one write. The queue is bounded by Options::max_queued_bytes: Send()
//     waits for room (backpressure) instead of growing it. Echo replies and
//     probes skip that wait (they are tiny and must not deadlock the reader)
//     but are dropped if the queue holds twice the bound.
//   - the keepalive sends an ECHO_REQUEST after probe_interval ms without
//     receiving anything and closes the connection if another probe_interval
//     passes in silence (liveness follows the Reconnect state machine).
// When the connection closes, every pending call completes with Unavailable
// naming the call and the reason, and Receive() returns queued messages and
// then Unavailable.
//
// Tracked xids: Track(xid) keeps errors for xid (say the flow_mods of a
// bundle) for TakeTrackedErrors(). A barrier reply forgets the xids tracked
// before that barrier was queued (the switch has answered everything before
// it); errors already stored stay until taken.
//
// Errors from the switch: Call() and friends turn an OFPT_ERROR reply into
// the status of of::ErrorToStatus(), with the decoded of::Error attached as a
// status payload; ErrorFromStatus() gets it back.
//
// Lifetime: the coroutines hold a shared_ptr to the Connection, so it lives
// until it is closed (by Close(), the peer, or an error) and they end. Drop
// your reference only after Close().
//
// Calling convention: pass messages to these coroutines as named locals
// (`of::Message m{...}; co_await conn.Send(std::move(m));`) or as values
// returned by a function: g++ 12 destroys a braced temporary written inside a
// co_await expression twice (a double free once it owns memory).
//
// Thread-safety: none. A Connection must be used only from the executor
// passed to Connect() (run it on one thread or a strand); all methods and
// coroutines assume they never run concurrently with each other.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/common/clock_timer.h"
#include "src/ofconn/framer.h"
#include "src/ofconn/reconnect.h"
#include "src/ofconn/signal.h"
#include "src/ofconn/stream.h"
#include "src/ofconn/target.h"
#include "src/openflow/message.h"

namespace shortcut::ofconn {

// Type URL of the payload holding the of::Error behind a status from Call().
inline constexpr std::string_view kOfErrorPayloadUrl = "type.shortcut/shortcut.of.Error";

// of::ErrorToStatus(error, context) with `error` attached as a payload.
absl::Status ErrorStatus(const of::Error& error, std::string_view context);
// The of::Error attached by ErrorStatus(), if any.
std::optional<of::Error> ErrorFromStatus(const absl::Status& status);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Options {
    // Connect, HELLO and FEATURES_REQUEST must complete within this.
    Millis connect_timeout = 10000;
    // Echo after this much silence; close after as much again. 0: never.
    Millis probe_interval = 5000;
    // Bound of the send queue (bytes encoded but not yet written).
    size_t max_queued_bytes = 4 << 20;
    // Bound of the Receive() queue, in messages.
    size_t max_async_queue = 4096;
  };

  struct Stats {
    uint64_t messages_sent = 0;      // Queued for sending (echo replies included).
    uint64_t bytes_sent = 0;         // Queued for sending.
    uint64_t bytes_written = 0;      // Written to the stream.
    uint64_t messages_received = 0;  // Whole messages framed (decodable or not).
    uint64_t bytes_received = 0;
    uint64_t echo_requests_answered = 0;
    uint64_t echo_probes_sent = 0;
    uint64_t echo_round_trips = 0;  // Replies to our probes.
    uint64_t errors_received = 0;   // OFPT_ERROR messages.
    uint64_t decode_errors = 0;     // Messages of::Decode() rejected.
    uint64_t async_dropped = 0;     // Dropped from a full Receive() queue.
    uint64_t control_dropped = 0;   // Echo replies/probes dropped at 2x the send bound.
    size_t queued_bytes = 0;        // Now.
    size_t max_queued_bytes_seen = 0;
  };

  // Connects to `target` and completes the handshake. Unimplemented for ssl:.
  // Every deadline (handshake, calls, keepalive) is on `clock`, which must
  // outlive the connection.
  static asio::awaitable<absl::StatusOr<std::shared_ptr<Connection>>> Connect(
      asio::any_io_executor ex, Target target, Options options,
      const Clock& clock = SystemClock::Get());

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues `msg` (a fresh xid if msg.xid == 0) and returns its xid; waits
  // while the send queue is full. Unavailable once closed.
  asio::awaitable<absl::StatusOr<uint32_t>> Send(of::Message msg);
  // Queues already-encoded message(s) (xids set by the caller). `bytes` must
  // be whole messages; a batch larger than the bound is accepted once the
  // queue is empty.
  asio::awaitable<absl::Status> SendEncoded(of::Bytes bytes);
  uint32_t NextXid();

  void Track(uint32_t xid);
  std::vector<std::pair<uint32_t, of::Error>> TakeTrackedErrors();
  // Only the errors whose xid `mine` accepts: two users of one connection
  // (the reconciler's bundles, batched direct paths) each take their own.
  std::vector<std::pair<uint32_t, of::Error>> TakeTrackedErrors(
      absl::FunctionRef<bool(uint32_t)> mine);

  // Sends `request` (a fresh xid if request.xid == 0) and returns its reply.
  // An OFPT_ERROR reply becomes ErrorStatus(); no reply within `timeout` ms
  // (counted from queueing) is DeadlineExceeded naming the request. For
  // multipart requests use CallMultipart().
  asio::awaitable<absl::StatusOr<of::Message>> Call(of::Message request, Millis timeout);
  // Every part of the reply, in order, up to the part without REPLY_MORE.
  asio::awaitable<absl::StatusOr<std::vector<of::Message>>> CallMultipart(of::Message request,
                                                                          Millis timeout);
  asio::awaitable<absl::Status> Barrier(Millis timeout);

  // The next message no call or tracker consumed; Unavailable once closed
  // and drained.
  asio::awaitable<absl::StatusOr<of::Message>> Receive();
  // The same, but every such message queued (at least one, at most `max`),
  // in order: a consumer that handles bursts better than single messages.
  asio::awaitable<absl::StatusOr<std::vector<of::Message>>> ReceiveAll(size_t max);

  // Closes the stream; pending calls fail with Unavailable. Idempotent.
  void Close();
  // Waits until the connection is closed and returns why (Cancelled after Close()).
  asio::awaitable<absl::Status> WaitClosed();

  bool is_open() const { return open_; }
  uint64_t datapath_id() const { return features_.datapath_id; }
  const of::FeaturesReply& features() const { return features_; }
  const Target& target() const { return target_; }
  // When something was last received (ms, monotonic clock).
  Millis last_received_ms() const { return last_received_ms_; }
  size_t queued_bytes() const { return pending_.size() + writing_.size(); }
  // Coroutines in Send()/SendEncoded() waiting for room in the send queue.
  size_t send_waiters() const { return send_waiters_; }
  Stats stats() const;

 private:
  struct PendingCall;

  Connection(asio::any_io_executor ex, Target target, Options options,
             std::shared_ptr<Stream> stream, const Clock& clock);

  asio::awaitable<absl::Status> Establish(Millis deadline);
  asio::awaitable<absl::StatusOr<of::Bytes>> ReadFirstMessage();
  asio::awaitable<absl::Status> NegotiateVersion(std::span<const uint8_t> peer_hello);
  void StartLoops();
  asio::awaitable<void> ReadLoop(std::shared_ptr<Connection> self);
  asio::awaitable<void> WriteLoop(std::shared_ptr<Connection> self);
  asio::awaitable<void> KeepaliveLoop(std::shared_ptr<Connection> self);

  void Dispatch(std::span<const uint8_t> frame);
  void Route(of::Message msg);
  void PushAsync(of::Message msg);
  void Finish(uint32_t xid, absl::Status status);

  asio::awaitable<absl::StatusOr<std::vector<of::Message>>> Exchange(of::Message request,
                                                                     Millis timeout,
                                                                     bool multipart);
  asio::awaitable<absl::Status> Enqueue(const of::Message& msg);
  asio::awaitable<absl::Status> EnqueueBytes(of::Bytes bytes);
  // Echo replies and probes: never wait, dropped at twice the bound.
  void EnqueueControl(const of::Message& msg);
  // Bookkeeping for `n_bytes` just appended to pending_ holding message(s).
  void NoteQueued(std::span<const uint8_t> bytes);

  void CloseWith(absl::Status why);
  absl::Status ClosedError() const;

  asio::any_io_executor ex_;
  Target target_;
  std::string name_;  // target_.ToString(), prefixes logs and errors.
  Options options_;
  std::shared_ptr<Stream> stream_;
  Framer framer_;
  bool open_ = true;
  bool established_ = false;  // Connect() succeeded; closing is then logged.
  absl::Status close_status_;
  Signal closed_signal_;
  uint32_t next_xid_ = 1;
  of::FeaturesReply features_;

  // Send side: Send() appends to pending_; the writer swaps it with the
  // (empty) writing_ buffer and writes that in one go.
  of::Bytes pending_;
  of::Bytes writing_;
  Signal writer_signal_;  // pending_ became non-empty, or closed.
  Signal space_signal_;   // A write completed, or closed.
  size_t send_waiters_ = 0;

  absl::flat_hash_map<uint32_t, std::shared_ptr<PendingCall>> calls_;

  absl::flat_hash_set<uint32_t> tracked_;
  std::deque<uint32_t> tracked_order_;                     // Track() order, for barrier pruning.
  uint64_t tracked_pushed_ = 0;                            // Track() calls so far.
  uint64_t tracked_popped_ = 0;                            // Entries pruned from tracked_order_.
  absl::flat_hash_map<uint32_t, uint64_t> barrier_marks_;  // barrier xid -> tracked_pushed_.
  std::vector<std::pair<uint32_t, of::Error>> tracked_errors_;

  std::deque<of::Message> async_;
  Signal recv_signal_;

  const Clock& clock_;
  Reconnect liveness_;
  ClockTimer keepalive_timer_;
  uint32_t probe_xid_ = 0;  // xid of the last echo probe.
  Millis last_received_ms_ = 0;

  Stats stats_;
};

}  // namespace shortcut::ofconn
