#include "src/metrics/http_server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shortcut::metrics {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr size_t kMaxHead = 8192;
constexpr size_t kMaxConnections = 64;
constexpr auto kHeadTimeout = std::chrono::seconds(5);

}  // namespace

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  Impl(asio::any_io_executor ex, Body b) : acceptor(ex), body(std::move(b)) {}
  asio::ip::tcp::acceptor acceptor;
  Body body;
  std::set<std::shared_ptr<asio::ip::tcp::socket>> open;
  uint64_t requests = 0;
  bool stopped = false;

  asio::awaitable<void> Accept(std::shared_ptr<Impl> self) {
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (stopped || ec == asio::error::operation_aborted) break;
      if (ec) continue;
      if (open.size() >= kMaxConnections) continue;  // Closed as `socket` goes.
      auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
      open.insert(s);
      asio::co_spawn(acceptor.get_executor(), Serve(self, s), asio::detached);
    }
  }

  // `self` keeps the server's state alive while the connection lasts.
  asio::awaitable<void> Serve([[maybe_unused]] std::shared_ptr<Impl> self,
                              std::shared_ptr<asio::ip::tcp::socket> s) {
    asio::steady_timer deadline(s->get_executor(), kHeadTimeout);
    deadline.async_wait([s](const asio::error_code& ec) {
      if (!ec) s->close();
    });
    asio::streambuf buf(kMaxHead);
    auto [ec, n] = co_await asio::async_read_until(*s, buf, "\r\n\r\n", kTuple);
    deadline.cancel();
    std::string out;
    if (!ec) {
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      out = Respond(head, body);
    } else if (ec == asio::error::not_found) {  // The head exceeds kMaxHead.
      out = HttpAnswer(431, "Request Header Fields Too Large", "text/plain",
                       "request head too large\n");
    }
    if (!out.empty() && s->is_open()) {
      ++requests;
      co_await asio::async_write(*s, asio::buffer(out), kTuple);
    }
    asio::error_code ignored;
    s->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    s->close(ignored);
    open.erase(s);
  }
};

absl::StatusOr<std::shared_ptr<MetricsServer>> MetricsServer::Start(asio::any_io_executor ex,
                                                                    const std::string& address,
                                                                    Body body) {
  size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError("metrics: '" + address + "' is not HOST:PORT");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  asio::error_code ec;
  asio::ip::address ip = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError("metrics: '" + host + "' is not an IP address");
  std::shared_ptr<MetricsServer> server(new MetricsServer());
  server->impl_ = std::make_shared<Impl>(ex, std::move(body));
  asio::ip::tcp::acceptor& a = server->impl_->acceptor;
  asio::ip::tcp::endpoint ep(ip, static_cast<uint16_t>(port));
  if (a.open(ep.protocol(), ec); !ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", ec.message()));
  }
  server->port_ = a.local_endpoint().port();
  asio::co_spawn(ex, server->impl_->Accept(server->impl_), asio::detached);
  return server;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
  for (const auto& s : impl_->open) s->close(ignored);
}

uint64_t MetricsServer::requests() const { return impl_ ? impl_->requests : 0; }

}  // namespace shortcut::metrics
