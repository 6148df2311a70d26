#include "src/ofconn/stream.h"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace shortcut::ofconn {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

template <typename Protocol>
class SocketStream final : public Stream {
 public:
  SocketStream(const asio::any_io_executor& ex, typename Protocol::endpoint ep)
      : socket_(ex), endpoint_(std::move(ep)) {}

  asio::awaitable<std::error_code> Connect() override {
    auto [ec] = co_await socket_.async_connect(endpoint_, kTuple);
    if (!ec) {
      if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
        // OpenFlow is request/response; Nagle would delay small requests.
        std::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
    }
    co_return ec;
  }

  asio::awaitable<std::pair<std::error_code, size_t>> ReadSome(asio::mutable_buffer buf) override {
    auto [ec, n] = co_await socket_.async_read_some(buf, kTuple);
    co_return std::pair{ec, n};
  }

  asio::awaitable<std::pair<std::error_code, size_t>> Write(asio::const_buffer buf) override {
    auto [ec, n] = co_await asio::async_write(socket_, buf, kTuple);
    co_return std::pair{ec, n};
  }

  void Close() override {
    std::error_code ignored;
    socket_.close(ignored);
  }

 private:
  typename Protocol::socket socket_;
  typename Protocol::endpoint endpoint_;
};

// TLS over TCP: connect, then the client handshake (the peer's certificate
// verified against the context's CA). One read and one write may be in
// flight at once, as asio::ssl::stream allows.
class SslStream final : public Stream {
 public:
  SslStream(const asio::any_io_executor& ex, asio::ip::tcp::endpoint ep,
            std::shared_ptr<asio::ssl::context> ctx)
      : ctx_(std::move(ctx)), stream_(ex, *ctx_), endpoint_(std::move(ep)) {}

  asio::awaitable<std::error_code> Connect() override {
    auto [ec] = co_await stream_.lowest_layer().async_connect(endpoint_, kTuple);
    if (ec) co_return ec;
    std::error_code ignored;
    stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
    auto [hec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, kTuple);
    co_return hec;
  }

  asio::awaitable<std::pair<std::error_code, size_t>> ReadSome(asio::mutable_buffer buf) override {
    auto [ec, n] = co_await stream_.async_read_some(buf, kTuple);
    co_return std::pair{ec, n};
  }

  asio::awaitable<std::pair<std::error_code, size_t>> Write(asio::const_buffer buf) override {
    auto [ec, n] = co_await asio::async_write(stream_, buf, kTuple);
    co_return std::pair{ec, n};
  }

  void Close() override {
    std::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

 private:
  std::shared_ptr<asio::ssl::context> ctx_;  // Outlives stream_.
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  asio::ip::tcp::endpoint endpoint_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<Stream>> MakeStream(const asio::any_io_executor& ex,
                                                   const Target& target) {
  return MakeStream(ex, target, nullptr);
}

absl::StatusOr<std::shared_ptr<Stream>> MakeStream(const asio::any_io_executor& ex,
                                                   const Target& target,
                                                   std::shared_ptr<asio::ssl::context> ssl) {
  switch (target.kind) {
    case Target::Kind::kUnix:
      return std::make_shared<SocketStream<asio::local::stream_protocol>>(
          ex, asio::local::stream_protocol::endpoint(target.path));
    case Target::Kind::kTcp: {
      std::error_code ec;
      auto addr = asio::ip::make_address(target.host, ec);
      if (ec) return absl::InvalidArgumentError("bad IP address in " + target.ToString());
      return std::make_shared<SocketStream<asio::ip::tcp>>(
          ex, asio::ip::tcp::endpoint(addr, target.port));
    }
    case Target::Kind::kSsl: {
      if (ssl == nullptr) ssl = DefaultSslContext();
      if (ssl == nullptr) {
        return absl::FailedPreconditionError(
            target.ToString() +
            ": no SSL settings (private key, certificate, CA certificate) for ssl: targets");
      }
      std::error_code ec;
      auto addr = asio::ip::make_address(target.host, ec);
      if (ec) return absl::InvalidArgumentError("bad IP address in " + target.ToString());
      return std::make_shared<SslStream>(ex, asio::ip::tcp::endpoint(addr, target.port),
                                         std::move(ssl));
    }
  }
  return absl::InvalidArgumentError("unknown target kind");
}

}  // namespace shortcut::ofconn
