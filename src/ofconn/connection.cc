#include "src/ofconn/connection.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <variant>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/common/bytes.h"
#include "src/common/status_macros.h"
#include "src/ofconn/message_name.h"
#include "src/openflow/codec.h"
#include "src/openflow/constants.h"
#include "src/openflow/errors.h"

namespace shortcut::ofconn {
namespace {

// OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE.
constexpr uint16_t kHelloFailed = 0;
constexpr uint16_t kHelloIncompatible = 0;
// ofp_hello_elem_type OFPHET_VERSIONBITMAP.
constexpr uint16_t kHelloElemVersionBitmap = 1;

// This abseil build keeps its own string_view type.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string Str(absl::string_view s) { return std::string(s); }

uint32_t XidAt(std::span<const uint8_t> frame) {
  return (uint32_t{frame[4]} << 24) | (uint32_t{frame[5]} << 16) | (uint32_t{frame[6]} << 8) |
         frame[7];
}

std::string VersionList(const std::vector<uint8_t>& versions) {
  std::string out;
  for (uint8_t v : versions) absl::StrAppend(&out, out.empty() ? "" : ", ", "0x", absl::Hex(v));
  return out.empty() ? "none" : out;
}

// What a peer's HELLO offers: its header version and, if present, the
// versions of its bitmap element. Parsed by hand because the peer may speak
// a version the codec does not decode.
struct PeerHello {
  uint8_t version = 0;
  uint32_t xid = 0;
  std::vector<uint8_t> bitmap_versions;
  bool has_bitmap = false;
};

absl::StatusOr<PeerHello> ParsePeerHello(std::span<const uint8_t> frame) {
  ByteReader r(frame);
  PeerHello h;
  h.version = r.U8();
  uint8_t type = r.U8();
  r.U16();
  h.xid = r.U32();
  if (type == static_cast<uint8_t>(of::MsgType::kError) && r.remaining() >= 4) {
    uint16_t etype = r.U16();
    uint16_t code = r.U16();
    return absl::FailedPreconditionError(absl::StrCat(
        "the switch answered HELLO with an error (type ", etype, ", code ", code, ")"));
  }
  if (type != static_cast<uint8_t>(of::MsgType::kHello)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected HELLO as the first message, got message type ", type));
  }
  while (r.remaining() >= 4) {
    uint16_t etype = r.U16();
    uint16_t elen = r.U16();
    if (elen < 4 || elen - 4u > r.remaining()) {
      return absl::InvalidArgumentError(absl::StrCat("bad HELLO element length ", elen));
    }
    ByteReader body = r.Sub(elen - 4u);
    r.Skip(std::min<size_t>((8 - elen % 8) % 8, r.remaining()));  // Elements pad to 8.
    if (etype != kHelloElemVersionBitmap) continue;
    h.has_bitmap = true;
    for (uint32_t word = 0; body.remaining() >= 4; ++word) {
      uint32_t bits = body.U32();
      for (uint32_t bit = 0; bit < 32; ++bit) {
        if (bits & (1u << bit)) h.bitmap_versions.push_back(static_cast<uint8_t>(word * 32 + bit));
      }
    }
  }
  return h;
}

// The error sent to a peer that cannot speak OpenFlow 1.3, in a version it reads.
of::Bytes HelloFailed(const PeerHello& peer, std::string_view text) {
  of::Bytes out;
  ByteWriter w(out);
  w.U8(std::min(peer.version, of::kVersion13));
  w.U8(static_cast<uint8_t>(of::MsgType::kError));
  w.U16(0);
  w.U32(peer.xid);
  w.U16(kHelloFailed);
  w.U16(kHelloIncompatible);
  w.Bytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  w.PatchU16(2, static_cast<uint16_t>(out.size()));
  return out;
}

// Encodes `msg` at the end of `out`, growing `out` geometrically: appending
// many small messages to one large buffer must not copy it each time.
absl::Status EncodeAppend(const of::Message& msg, of::Bytes& out) {
  constexpr size_t kHeadroom = 4096;
  if (out.capacity() - out.size() < kHeadroom) {
    out.reserve(std::max(2 * out.capacity(), out.size() + kHeadroom));
  }
  return of::Encode(msg, out);
}

template <typename T>
bool Is(const of::Message& m) {
  return std::holds_alternative<T>(m.body);
}

}  // namespace

absl::Status ErrorStatus(const of::Error& error, std::string_view context) {
  absl::Status s = of::ErrorToStatus(error, context);
  if (s.ok()) s = absl::UnknownError(absl::StrCat(AV(context), ": OpenFlow error"));
  of::Bytes payload;
  ByteWriter w(payload);
  w.U16(error.type);
  w.U16(error.code);
  w.U32(error.experimenter);
  w.Bytes(error.data);
  s.SetPayload(
      AV(kOfErrorPayloadUrl),
      absl::Cord(absl::string_view(reinterpret_cast<const char*>(payload.data()), payload.size())));
  return s;
}

std::optional<of::Error> ErrorFromStatus(const absl::Status& status) {
  auto payload = status.GetPayload(AV(kOfErrorPayloadUrl));
  if (!payload) return std::nullopt;
  std::string flat(*payload);
  ByteReader r(std::span(reinterpret_cast<const uint8_t*>(flat.data()), flat.size()));
  of::Error e;
  e.type = r.U16();
  e.code = r.U16();
  e.experimenter = r.U32();
  if (!r.ok()) return std::nullopt;
  auto rest = r.Span(r.remaining());
  e.data.assign(rest.begin(), rest.end());
  return e;
}

struct Connection::PendingCall {
  PendingCall(const asio::any_io_executor& ex, const Clock& clock) : timer(ex, clock) {}
  std::string name;  // Of the request, for errors.
  bool multipart = false;
  bool done = false;
  absl::Status status;
  std::vector<of::Message> replies;
  ClockTimer timer;  // The deadline; cancelled when done.
};

Connection::Connection(asio::any_io_executor ex, Target target, Options options,
                       std::shared_ptr<Stream> stream, const Clock& clock)
    : ex_(ex),
      target_(std::move(target)),
      name_(target_.ToString()),
      options_(options),
      stream_(std::move(stream)),
      closed_signal_(ex),
      writer_signal_(ex),
      space_signal_(ex),
      recv_signal_(ex),
      clock_(clock),
      liveness_(Reconnect::Options{.probe_interval = options.probe_interval}),
      keepalive_timer_(ex, clock) {}

Connection::~Connection() { stream_->Close(); }

asio::awaitable<absl::StatusOr<std::shared_ptr<Connection>>> Connection::Connect(
    asio::any_io_executor ex, Target target, Options options, const Clock& clock) {
  CO_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, MakeStream(ex, target));
  std::shared_ptr<Connection> conn(new Connection(ex, target, options, stream, clock));
  Millis deadline = clock.NowMs() + options.connect_timeout;

  // One deadline for the whole handshake: on expiry the stream is closed,
  // which fails whatever step is in progress.
  auto expired = std::make_shared<bool>(false);
  auto watchdog = std::make_shared<ClockTimer>(ex, clock);
  watchdog->ExpiresAt(deadline);
  asio::co_spawn(
      ex,
      [](std::shared_ptr<ClockTimer> timer, std::shared_ptr<bool> expired,
         std::shared_ptr<Stream> stream) -> asio::awaitable<void> {
        if (!co_await timer->Wait()) co_return;
        *expired = true;
        stream->Close();
      }(watchdog, expired, stream),
      asio::detached);
  absl::Status s = co_await conn->Establish(deadline);
  watchdog->Cancel();
  if (!s.ok()) {
    conn->CloseWith(s);
    if (*expired) {
      co_return absl::DeadlineExceededError(
          absl::StrCat(conn->name_, ": OpenFlow handshake not complete within ",
                       options.connect_timeout, " ms (", s.message(), ")"));
    }
    co_return s;
  }
  conn->established_ = true;
  spdlog::info("{}: connected, OpenFlow 1.3, datapath id {:016x}", conn->name_,
               conn->datapath_id());
  co_return conn;
}

asio::awaitable<absl::Status> Connection::Establish(Millis deadline) {
  if (std::error_code ec = co_await stream_->Connect()) {
    co_return absl::UnavailableError(absl::StrCat("connect to ", name_, ": ", ec.message()));
  }
  of::Message hello{
      .version = of::kVersion13, .xid = NextXid(), .body = of::Hello{.versions = {of::kVersion13}}};
  CO_ASSIGN_OR_RETURN(of::Bytes hello_bytes, of::Encode(hello));
  auto [ec, n] = co_await stream_->Write(asio::buffer(hello_bytes));
  if (ec) {
    co_return absl::UnavailableError(absl::StrCat(name_, ": sending HELLO: ", ec.message()));
  }
  ++stats_.messages_sent;
  stats_.bytes_sent += n;
  stats_.bytes_written += n;

  CO_ASSIGN_OR_RETURN(of::Bytes peer_hello, co_await ReadFirstMessage());
  CO_RETURN_IF_ERROR(co_await NegotiateVersion(peer_hello));

  StartLoops();
  // Named, not a temporary: g++ 12 destroys braced temporaries in a
  // co_await expression twice.
  of::Message request{.body = of::FeaturesRequest{}};
  auto reply = co_await Call(std::move(request), std::max<Millis>(deadline - clock_.NowMs(), 1));
  if (!reply.ok()) co_return reply.status();
  const auto* features = std::get_if<of::FeaturesReply>(&reply->body);
  if (features == nullptr) {
    co_return absl::InvalidArgumentError(
        absl::StrCat(name_, ": FEATURES_REQUEST answered with ", MessageName(reply->body)));
  }
  features_ = *features;
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<of::Bytes>> Connection::ReadFirstMessage() {
  while (true) {
    auto next = framer_.Next();
    if (!next.ok()) co_return next.status();
    if (next->has_value()) {
      std::span<const uint8_t> frame = **next;
      ++stats_.messages_received;
      co_return of::Bytes(frame.begin(), frame.end());
    }
    std::span<uint8_t> space = framer_.Prepare();
    auto [ec, n] = co_await stream_->ReadSome(asio::buffer(space.data(), space.size()));
    if (ec) {
      co_return absl::UnavailableError(
          absl::StrCat(name_, ": waiting for HELLO: ",
                       ec == asio::error::eof ? "the switch closed the connection" : ec.message()));
    }
    framer_.Commit(n);
    stats_.bytes_received += n;
    last_received_ms_ = clock_.NowMs();
  }
}

asio::awaitable<absl::Status> Connection::NegotiateVersion(std::span<const uint8_t> frame) {
  auto peer = ParsePeerHello(frame);
  if (!peer.ok()) {
    co_return absl::Status(peer.status().code(),
                           absl::StrCat(name_, ": ", peer.status().message()));
  }
  // OpenFlow 1.3.5 section 6.3.1: with bitmaps on both sides, the highest
  // common version; otherwise the smaller of the two header versions.
  bool ok = peer->has_bitmap ? std::count(peer->bitmap_versions.begin(),
                                          peer->bitmap_versions.end(), of::kVersion13) > 0
                             : peer->version >= of::kVersion13;
  if (ok) co_return absl::OkStatus();

  std::vector<uint8_t> offered =
      peer->has_bitmap ? peer->bitmap_versions : std::vector<uint8_t>{peer->version};
  std::string text =
      absl::StrCat("We support version 0x04, you support version(s) ", VersionList(offered), ".");
  of::Bytes error = HelloFailed(*peer, text);
  auto [ec, n] = co_await stream_->Write(asio::buffer(error));
  if (!ec) {
    ++stats_.messages_sent;
    stats_.bytes_sent += n;
    stats_.bytes_written += n;
  }
  co_return absl::FailedPreconditionError(
      absl::StrCat(name_, ": the switch does not support OpenFlow 1.3 (it offers version(s) ",
                   VersionList(offered), "); sent OFPET_HELLO_FAILED"));
}

void Connection::StartLoops() {
  auto self = shared_from_this();
  asio::co_spawn(ex_, ReadLoop(self), asio::detached);
  asio::co_spawn(ex_, WriteLoop(self), asio::detached);
  if (options_.probe_interval > 0) {
    Millis now = clock_.NowMs();
    liveness_.Enable(now);
    liveness_.Connected(now);
    liveness_.Activity(now);
    asio::co_spawn(ex_, KeepaliveLoop(self), asio::detached);
  }
}

asio::awaitable<void> Connection::ReadLoop([[maybe_unused]] std::shared_ptr<Connection> self) {
  while (open_) {
    while (open_) {
      auto next = framer_.Next();
      if (!next.ok()) {
        CloseWith(absl::InvalidArgumentError(next.status().message()));
        co_return;
      }
      if (!next->has_value()) break;
      Dispatch(**next);
    }
    if (!open_) break;
    std::span<uint8_t> space = framer_.Prepare();
    auto [ec, n] = co_await stream_->ReadSome(asio::buffer(space.data(), space.size()));
    if (!open_) break;
    if (ec) {
      std::string partial = framer_.DescribePartial();
      if (ec == asio::error::eof) {
        CloseWith(absl::UnavailableError(
            partial.empty() ? "the switch closed the connection"
                            : absl::StrCat("the switch closed the connection after ", partial)));
      } else {
        CloseWith(absl::UnavailableError(absl::StrCat("read failed: ", ec.message())));
      }
      break;
    }
    framer_.Commit(n);
    stats_.bytes_received += n;
    last_received_ms_ = clock_.NowMs();
    liveness_.Activity(last_received_ms_);
  }
}

asio::awaitable<void> Connection::WriteLoop([[maybe_unused]] std::shared_ptr<Connection> self) {
  while (open_) {
    if (pending_.empty()) {
      co_await writer_signal_.Wait();
      continue;
    }
    std::swap(pending_, writing_);
    auto [ec, n] = co_await stream_->Write(asio::buffer(writing_));
    if (!open_) break;
    if (ec) {
      CloseWith(absl::UnavailableError(absl::StrCat("write failed: ", ec.message())));
      break;
    }
    stats_.bytes_written += n;
    writing_.clear();
    space_signal_.Notify();
  }
}

asio::awaitable<void> Connection::KeepaliveLoop([[maybe_unused]] std::shared_ptr<Connection> self) {
  while (open_) {
    Millis now = clock_.NowMs();
    switch (liveness_.Run(now)) {
      case ReconnectAction::kProbe: {
        of::Message probe{.xid = NextXid(), .body = of::EchoRequest{}};
        probe_xid_ = probe.xid;
        ++stats_.echo_probes_sent;
        EnqueueControl(probe);
        break;
      }
      case ReconnectAction::kDisconnect:
        CloseWith(absl::UnavailableError(absl::StrCat("nothing received from the switch for ",
                                                      now - last_received_ms_,
                                                      " ms, inactivity probe unanswered")));
        co_return;
      default:
        break;
    }
    Millis wait = liveness_.Timeout(clock_.NowMs());
    if (wait < 0) co_return;
    keepalive_timer_.ExpiresAfter(wait);
    co_await keepalive_timer_.Wait();
  }
}

void Connection::Dispatch(std::span<const uint8_t> frame) {
  ++stats_.messages_received;
  absl::StatusOr<of::Message> msg = of::Decode(frame);
  if (msg.ok()) {
    Route(*std::move(msg));
    return;
  }
  ++stats_.decode_errors;
  uint32_t xid = XidAt(frame);
  if (calls_.contains(xid)) {
    Finish(xid, absl::InvalidArgumentError(absl::StrCat(name_, ": undecodable reply (xid ", xid,
                                                        "): ", msg.status().message())));
    return;
  }
  spdlog::warn("{}: dropping undecodable message type {} (xid {}): {}", name_, frame[1], xid,
               Str(msg.status().message()));
}

void Connection::Route(of::Message msg) {
  // Switch-initiated messages go to the consumer whatever their xid.
  if (Is<of::PacketIn>(msg) || Is<of::PortStatus>(msg) || Is<of::FlowRemoved>(msg)) {
    PushAsync(std::move(msg));
    return;
  }
  if (auto* echo = std::get_if<of::EchoRequest>(&msg.body)) {
    ++stats_.echo_requests_answered;
    EnqueueControl(of::Message{.xid = msg.xid, .body = of::EchoReply{std::move(echo->data)}});
    return;
  }
  if (Is<of::Hello>(msg)) return;  // Late duplicate; nothing to do.
  if (Is<of::Error>(msg)) ++stats_.errors_received;
  if (Is<of::BarrierReply>(msg)) {
    // Everything tracked before this barrier has been answered.
    if (auto mark = barrier_marks_.find(msg.xid); mark != barrier_marks_.end()) {
      while (tracked_popped_ < mark->second && !tracked_order_.empty()) {
        tracked_.erase(tracked_order_.front());
        tracked_order_.pop_front();
        ++tracked_popped_;
      }
      barrier_marks_.erase(mark);
    }
  }

  if (auto it = calls_.find(msg.xid); it != calls_.end()) {
    PendingCall& call = *it->second;
    if (auto* error = std::get_if<of::Error>(&msg.body)) {
      Finish(msg.xid, ErrorStatus(*error, absl::StrCat(name_, ": ", call.name, " (xid ", msg.xid,
                                                       ") failed")));
      return;
    }
    const auto* part = std::get_if<of::MultipartReply>(&msg.body);
    bool more = call.multipart && part != nullptr && (part->flags & of::kMultipartReplyMore);
    call.replies.push_back(std::move(msg));
    if (!more) Finish(it->first, absl::OkStatus());
    return;
  }
  if (auto* error = std::get_if<of::Error>(&msg.body)) {
    if (tracked_.contains(msg.xid)) {
      tracked_errors_.emplace_back(msg.xid, std::move(*error));
      return;
    }
  }
  if (Is<of::EchoReply>(msg) && msg.xid == probe_xid_) {
    ++stats_.echo_round_trips;
    return;
  }
  PushAsync(std::move(msg));
}

void Connection::PushAsync(of::Message msg) {
  if (options_.max_async_queue == 0) {
    ++stats_.async_dropped;
    return;
  }
  while (async_.size() >= options_.max_async_queue) {
    async_.pop_front();
    ++stats_.async_dropped;
  }
  async_.push_back(std::move(msg));
  recv_signal_.Notify();
}

void Connection::Finish(uint32_t xid, absl::Status status) {
  auto it = calls_.find(xid);
  if (it == calls_.end()) return;
  std::shared_ptr<PendingCall> call = std::move(it->second);
  calls_.erase(it);
  call->status = std::move(status);
  call->done = true;
  call->timer.Cancel();
}

uint32_t Connection::NextXid() {
  uint32_t xid = next_xid_++;
  if (next_xid_ == 0) next_xid_ = 1;  // xid 0 means "assign one".
  return xid;
}

void Connection::Track(uint32_t xid) {
  tracked_.insert(xid);
  tracked_order_.push_back(xid);
  ++tracked_pushed_;
}

std::vector<std::pair<uint32_t, of::Error>> Connection::TakeTrackedErrors() {
  return std::exchange(tracked_errors_, {});
}

std::vector<std::pair<uint32_t, of::Error>> Connection::TakeTrackedErrors(
    absl::FunctionRef<bool(uint32_t)> mine) {
  std::vector<std::pair<uint32_t, of::Error>> taken;
  std::erase_if(tracked_errors_, [&](std::pair<uint32_t, of::Error>& e) {
    if (!mine(e.first)) return false;
    taken.push_back(std::move(e));
    return true;
  });
  return taken;
}

asio::awaitable<absl::StatusOr<uint32_t>> Connection::Send(of::Message msg) {
  auto self = shared_from_this();
  if (msg.xid == 0) msg.xid = NextXid();
  CO_RETURN_IF_ERROR(co_await Enqueue(msg));
  co_return msg.xid;
}

asio::awaitable<absl::Status> Connection::SendEncoded(of::Bytes bytes) {
  auto self = shared_from_this();
  for (size_t pos = 0; pos < bytes.size();) {
    size_t left = bytes.size() - pos;
    size_t len = left >= of::kHeaderLen ? (size_t{bytes[pos + 2]} << 8 | bytes[pos + 3]) : 0;
    if (left < of::kHeaderLen || len < of::kHeaderLen || len > left) {
      co_return absl::InvalidArgumentError(
          absl::StrCat("SendEncoded: bytes are not whole OpenFlow messages (at offset ", pos, ")"));
    }
    pos += len;
  }
  co_return co_await EnqueueBytes(std::move(bytes));
}

asio::awaitable<absl::Status> Connection::Enqueue(const of::Message& msg) {
  if (!open_) co_return ClosedError();
  if (send_waiters_ == 0 && queued_bytes() + of::kMaxMessageLen <= options_.max_queued_bytes) {
    // Room for any message: encode straight into the queue.
    size_t before = pending_.size();
    CO_RETURN_IF_ERROR(EncodeAppend(msg, pending_));
    NoteQueued(std::span<const uint8_t>(pending_).subspan(before));
    co_return absl::OkStatus();
  }
  CO_ASSIGN_OR_RETURN(of::Bytes bytes, of::Encode(msg));
  co_return co_await EnqueueBytes(std::move(bytes));
}

asio::awaitable<absl::Status> Connection::EnqueueBytes(of::Bytes bytes) {
  ++send_waiters_;
  while (open_ && queued_bytes() > 0 && queued_bytes() + bytes.size() > options_.max_queued_bytes) {
    co_await space_signal_.Wait();
  }
  --send_waiters_;
  if (!open_) co_return ClosedError();
  size_t before = pending_.size();
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  NoteQueued(std::span<const uint8_t>(pending_).subspan(before));
  co_return absl::OkStatus();
}

void Connection::EnqueueControl(const of::Message& msg) {
  if (!open_) return;
  if (queued_bytes() >= 2 * options_.max_queued_bytes) {
    ++stats_.control_dropped;
    return;
  }
  size_t before = pending_.size();
  absl::Status s = EncodeAppend(msg, pending_);
  if (!s.ok()) {
    spdlog::error("{}: cannot encode {}: {}", name_, MessageName(msg.body), Str(s.message()));
    return;
  }
  NoteQueued(std::span<const uint8_t>(pending_).subspan(before));
}

void Connection::NoteQueued(std::span<const uint8_t> bytes) {
  for (size_t pos = 0; pos + of::kHeaderLen <= bytes.size();) {
    size_t len = size_t{bytes[pos + 2]} << 8 | bytes[pos + 3];
    if (len < of::kHeaderLen) break;
    ++stats_.messages_sent;
    if (bytes[pos + 1] == static_cast<uint8_t>(of::MsgType::kBarrierRequest) &&
        tracked_pushed_ > tracked_popped_) {
      barrier_marks_[XidAt(bytes.subspan(pos))] = tracked_pushed_;
    }
    pos += len;
  }
  stats_.bytes_sent += bytes.size();
  stats_.max_queued_bytes_seen = std::max(stats_.max_queued_bytes_seen, queued_bytes());
  writer_signal_.Notify();
}

asio::awaitable<absl::StatusOr<std::vector<of::Message>>> Connection::Exchange(of::Message request,
                                                                               Millis timeout,
                                                                               bool multipart) {
  auto self = shared_from_this();
  if (!open_) co_return ClosedError();
  if (request.xid == 0) request.xid = NextXid();
  uint32_t xid = request.xid;
  if (calls_.contains(xid)) {
    co_return absl::InvalidArgumentError(
        absl::StrCat(name_, ": xid ", xid, " is already used by a pending call"));
  }
  auto call = std::make_shared<PendingCall>(ex_, clock_);
  call->name = MessageName(request.body);
  call->multipart = multipart;
  calls_[xid] = call;
  absl::Status sent = co_await Enqueue(request);
  if (!sent.ok()) {
    if (!call->done) calls_.erase(xid);
    co_return call->done ? call->status : sent;
  }
  call->timer.ExpiresAfter(timeout);
  while (!call->done) {
    bool expired = co_await call->timer.Wait();
    if (!call->done && expired) {
      calls_.erase(xid);
      co_return absl::DeadlineExceededError(absl::StrCat(
          name_, ": no reply to ", call->name, " (xid ", xid, ") within ", timeout, " ms"));
    }
  }
  if (!call->status.ok()) co_return call->status;
  co_return std::move(call->replies);
}

asio::awaitable<absl::StatusOr<of::Message>> Connection::Call(of::Message request, Millis timeout) {
  if (Is<of::MultipartRequest>(request)) {
    co_return absl::InvalidArgumentError("use CallMultipart() for multipart requests");
  }
  CO_ASSIGN_OR_RETURN(std::vector<of::Message> replies,
                      co_await Exchange(std::move(request), timeout, false));
  co_return std::move(replies.front());
}

asio::awaitable<absl::StatusOr<std::vector<of::Message>>> Connection::CallMultipart(
    of::Message request, Millis timeout) {
  co_return co_await Exchange(std::move(request), timeout, true);
}

asio::awaitable<absl::Status> Connection::Barrier(Millis timeout) {
  of::Message request{.body = of::BarrierRequest{}};  // Named: see Establish().
  CO_ASSIGN_OR_RETURN(of::Message reply, co_await Call(std::move(request), timeout));
  if (!Is<of::BarrierReply>(reply)) {
    co_return absl::InvalidArgumentError(
        absl::StrCat(name_, ": OFPT_BARRIER_REQUEST answered with ", MessageName(reply.body)));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<of::Message>> Connection::Receive() {
  auto self = shared_from_this();
  while (open_ && async_.empty()) co_await recv_signal_.Wait();
  if (async_.empty()) co_return ClosedError();
  of::Message msg = std::move(async_.front());
  async_.pop_front();
  co_return msg;
}

asio::awaitable<absl::StatusOr<std::vector<of::Message>>> Connection::ReceiveAll(size_t max) {
  auto self = shared_from_this();
  while (open_ && async_.empty()) co_await recv_signal_.Wait();
  if (async_.empty()) co_return ClosedError();
  std::vector<of::Message> out;
  const size_t n = std::min(std::max<size_t>(max, 1), async_.size());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(async_.front()));
    async_.pop_front();
  }
  co_return out;
}

void Connection::Close() { CloseWith(absl::CancelledError("closed by the local side")); }

asio::awaitable<absl::Status> Connection::WaitClosed() {
  auto self = shared_from_this();
  while (open_) co_await closed_signal_.Wait();
  co_return close_status_;
}

void Connection::CloseWith(absl::Status why) {
  if (!open_) return;
  open_ = false;
  close_status_ = std::move(why);
  if (close_status_.ok()) close_status_ = absl::UnknownError("closed");
  if (established_) {
    spdlog::info("{}: connection closed: {}", name_, Str(close_status_.message()));
  }
  stream_->Close();
  keepalive_timer_.Cancel();
  auto calls = std::exchange(calls_, {});
  for (auto& [xid, call] : calls) {
    call->status = absl::UnavailableError(
        absl::StrCat(name_, ": ", call->name, " (xid ", xid,
                     ") got no reply: connection closed: ", close_status_.message()));
    call->done = true;
    call->timer.Cancel();
  }
  writer_signal_.Notify();
  space_signal_.Notify();
  recv_signal_.Notify();
  closed_signal_.Notify();
}

absl::Status Connection::ClosedError() const {
  return absl::UnavailableError(
      absl::StrCat(name_, ": connection closed: ", close_status_.message()));
}

Connection::Stats Connection::stats() const {
  Stats s = stats_;
  s.queued_bytes = queued_bytes();
  return s;
}

}  // namespace shortcut::ofconn
