// MetricsServer: the Prometheus scrape endpoint, `GET /metrics` over
// HTTP/1.1 on a TCP address (HOST:PORT; port 0 picks a free one). One
// request per connection (Connection: close), as Prometheus scrapes; the
// request head is bounded (8 KiB) and must arrive within 5 s; at most 64
// connections at once (more are closed at once). Anything but GET gets 405,
// another path 404, a malformed request 400; the body comes from the
// function given, called on the server's executor for each scrape.
//
// Lifetime: Start() spawns the accept loop; Stop() closes the acceptor and
// every connection (their coroutines end when the executor runs next).
// Thread-safety: none; use from the executor given to Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/metrics/http_respond.h"

namespace shortcut::metrics {

class MetricsServer {
 public:
  using Body = std::function<std::string()>;

  static absl::StatusOr<std::shared_ptr<MetricsServer>> Start(asio::any_io_executor ex,
                                                              const std::string& address,
                                                              Body body);
  ~MetricsServer();
  void Stop();
  uint16_t port() const { return port_; }
  uint64_t requests() const;  // Answered, whatever the status.

  struct Impl;

 private:
  MetricsServer() = default;
  std::shared_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace shortcut::metrics
