#include "tests/fakes/ofp_peer.h"

#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <deque>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/common/bytes.h"
#include "src/ofconn/framer.h"
#include "src/ofconn/signal.h"
#include "src/openflow/codec.h"
#include "tests/support/temp_dir.h"

namespace shortcut::testing {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
using Socket = asio::generic::stream_protocol::socket;

// Types the peer answers itself, so it decodes them even when not recording.
bool Answers(uint8_t type) {
  return type == static_cast<uint8_t>(of::MsgType::kEchoRequest) ||
         type == static_cast<uint8_t>(of::MsgType::kFeaturesRequest) ||
         type == static_cast<uint8_t>(of::MsgType::kBarrierRequest);
}

}  // namespace

struct OfpPeer::Impl {
  explicit Impl(const asio::any_io_executor& ex) : read_gate(ex) {}
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<asio::ip::tcp::acceptor> tcp_acceptor;
  ofconn::Signal read_gate;  // Reading resumed, or a client closed.
};

struct OfpPeer::Client {
  Client(Socket s, const asio::any_io_executor& ex) : socket(std::move(s)), wake(ex) {}
  Socket socket;
  std::deque<of::Bytes> out;
  ofconn::Signal wake;  // `out` has data, or closed.
  bool open = true;
};

OfpPeer::OfpPeer(asio::any_io_executor ex, Options options)
    : ex_(ex), options_(std::move(options)), impl_(std::make_unique<Impl>(ex)) {}

OfpPeer::~OfpPeer() = default;

absl::StatusOr<std::shared_ptr<OfpPeer>> OfpPeer::Start(asio::any_io_executor ex, Options options) {
  std::shared_ptr<OfpPeer> peer(new OfpPeer(ex, std::move(options)));
  absl::Status s = peer->Listen();
  if (!s.ok()) return s;
  asio::co_spawn(ex, peer->AcceptLoop(peer), asio::detached);
  return peer;
}

absl::Status OfpPeer::Listen() {
  std::error_code ec;
  if (options_.tcp) {
    auto& a = impl_->tcp_acceptor.emplace(ex_);
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return absl::InternalError("listen on 127.0.0.1:0: " + ec.message());
    target_ = absl::StrCat("tcp:127.0.0.1:", a.local_endpoint().port());
    return absl::OkStatus();
  }
  if (options_.unix_path.empty()) {
    dir_ = std::make_unique<TempDir>("ofp-peer");
    options_.unix_path = dir_->File("peer.sock");
  }
  ::unlink(options_.unix_path.c_str());
  auto& a = impl_->unix_acceptor.emplace(ex_);
  asio::local::stream_protocol::endpoint ep(options_.unix_path);
  a.open(ep.protocol(), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::InternalError("listen on " + options_.unix_path + ": " + ec.message());
  target_ = "unix:" + options_.unix_path;
  return absl::OkStatus();
}

asio::awaitable<void> OfpPeer::AcceptLoop(std::shared_ptr<OfpPeer> self) {
  while (!stopped_) {
    std::error_code ec;
    std::optional<Socket> accepted;
    if (impl_->tcp_acceptor) {
      auto [e, s] = co_await impl_->tcp_acceptor->async_accept(kTuple);
      ec = e;
      if (!ec) accepted.emplace(std::move(s));
    } else {
      auto [e, s] = co_await impl_->unix_acceptor->async_accept(kTuple);
      ec = e;
      if (!ec) accepted.emplace(std::move(s));
    }
    if (stopped_) break;
    if (ec) continue;
    ++accepted_;
    auto c = std::make_shared<Client>(std::move(*accepted), ex_);
    clients_.push_back(c);
    Queue(*c, HelloBytes());
    asio::co_spawn(ex_, ReadLoop(self, c), asio::detached);
    asio::co_spawn(ex_, WriteLoop(self, c), asio::detached);
  }
}

of::Bytes OfpPeer::HelloBytes() const {
  // Built by hand: the peer may pretend to speak versions the codec does not.
  of::Bytes out;
  ByteWriter w(out);
  w.U8(options_.hello_version);
  w.U8(static_cast<uint8_t>(of::MsgType::kHello));
  w.U16(0);
  w.U32(1);
  if (!options_.hello_versions.empty()) {
    uint32_t bitmap = 0;
    for (uint8_t v : options_.hello_versions) bitmap |= 1u << v;
    w.U16(1);  // OFPHET_VERSIONBITMAP
    w.U16(8);
    w.U32(bitmap);
  }
  w.PatchU16(2, static_cast<uint16_t>(out.size()));
  return out;
}

asio::awaitable<void> OfpPeer::ReadLoop([[maybe_unused]] std::shared_ptr<OfpPeer> self,
                                        std::shared_ptr<Client> c) {
  ofconn::Framer framer;
  while (c->open) {
    if (!reading_) {
      co_await impl_->read_gate.Wait();
      continue;
    }
    std::span<uint8_t> space = framer.Prepare();
    auto [ec, n] =
        co_await c->socket.async_read_some(asio::buffer(space.data(), space.size()), kTuple);
    if (!c->open) break;
    if (ec) {
      CloseClient(*c);
      break;
    }
    framer.Commit(n);
    while (c->open) {
      auto next = framer.Next();
      if (!next.ok()) {
        CloseClient(*c);
        break;
      }
      if (!next->has_value()) break;
      Handle(*c, **next);
    }
  }
}

asio::awaitable<void> OfpPeer::WriteLoop([[maybe_unused]] std::shared_ptr<OfpPeer> self,
                                         std::shared_ptr<Client> c) {
  of::Bytes buf;
  while (c->open) {
    if (c->out.empty()) {
      co_await c->wake.Wait();
      continue;
    }
    buf.clear();
    for (const auto& b : c->out) buf.insert(buf.end(), b.begin(), b.end());
    c->out.clear();
    auto [ec, n] = co_await asio::async_write(c->socket, asio::buffer(buf), kTuple);
    if (ec) {
      CloseClient(*c);
      break;
    }
  }
}

void OfpPeer::Handle(Client& c, std::span<const uint8_t> frame) {
  ++messages_received_;
  uint8_t type = frame[1];
  if (options_.record) raw_received_.emplace_back(frame.begin(), frame.end());
  if (!options_.record && !handler_ && !Answers(type)) return;
  if (type == static_cast<uint8_t>(of::MsgType::kHello)) return;  // Any version is fine.
  absl::StatusOr<of::Message> msg = of::Decode(frame);
  if (!msg.ok()) {
    ++decode_errors_;
    return;
  }
  if (options_.record) received_.push_back(*msg);
  if (silent_) return;
  if (auto* echo = std::get_if<of::EchoRequest>(&msg->body)) {
    QueueMessage(c, of::Message{.xid = msg->xid, .body = of::EchoReply{echo->data}});
  } else if (std::holds_alternative<of::FeaturesRequest>(msg->body)) {
    QueueMessage(
        c, of::Message{.xid = msg->xid,
                       .body = of::FeaturesReply{
                           .datapath_id = options_.datapath_id, .n_buffers = 0, .n_tables = 254}});
  } else if (std::holds_alternative<of::BarrierRequest>(msg->body)) {
    QueueMessage(c, of::Message{.xid = msg->xid, .body = of::BarrierReply{}});
  } else if (handler_) {
    for (of::Message& reply : handler_(*msg)) {
      if (reply.xid == 0) reply.xid = msg->xid;
      QueueMessage(c, reply);
    }
  }
}

void OfpPeer::Queue(Client& c, of::Bytes bytes) {
  if (!c.open) return;
  c.out.push_back(std::move(bytes));
  c.wake.Notify();
}

void OfpPeer::QueueMessage(Client& c, const of::Message& msg) {
  absl::StatusOr<of::Bytes> bytes = of::Encode(msg);
  if (!bytes.ok()) {
    ADD_FAILURE() << "OfpPeer cannot encode a message: " << bytes.status();
    return;
  }
  Queue(c, *std::move(bytes));
}

void OfpPeer::SetReading(bool reading) {
  reading_ = reading;
  impl_->read_gate.Notify();
}

void OfpPeer::Send(of::Message msg) {
  for (auto& c : clients_) QueueMessage(*c, msg);
}

void OfpPeer::SendRaw(of::Bytes bytes) {
  for (auto& c : clients_) Queue(*c, bytes);
}

void OfpPeer::CloseClient(Client& c) {
  if (!c.open) return;
  c.open = false;
  std::error_code ignored;
  c.socket.close(ignored);
  c.wake.Notify();
  impl_->read_gate.Notify();
  std::erase_if(clients_, [&](const auto& p) { return p.get() == &c; });
}

void OfpPeer::CloseClients() {
  auto clients = clients_;
  for (auto& c : clients) CloseClient(*c);
}

void OfpPeer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  std::error_code ignored;
  if (impl_->tcp_acceptor) impl_->tcp_acceptor->close(ignored);
  if (impl_->unix_acceptor) {
    impl_->unix_acceptor->close(ignored);
    ::unlink(options_.unix_path.c_str());
  }
  CloseClients();
}

asio::awaitable<bool> WaitUntil(std::function<bool()> pred, Millis timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  Millis deadline = SystemClock::Get().NowMs() + timeout;
  while (!pred()) {
    if (SystemClock::Get().NowMs() >= deadline) co_return false;
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(kTuple);
  }
  co_return true;
}

asio::awaitable<void> Settle(int rounds) {
  for (int i = 0; i < rounds; ++i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
}

void RunCoroutine(asio::io_context& io, std::function<asio::awaitable<void>()> test,
                  Millis timeout) {
  bool done = false;
  asio::co_spawn(io, test(), [&](std::exception_ptr e) {
    done = true;
    if (e) ADD_FAILURE() << "the test coroutine threw";
    io.stop();
  });
  io.run_for(std::chrono::milliseconds(timeout));
  if (!done) ADD_FAILURE() << "the test coroutine did not finish within " << timeout << " ms";
}

}  // namespace shortcut::testing
