// Daemon: shortcut-gatewayd's pieces and their lifetime. It owns the
// io_context (run on the thread calling Run()), the Gateway on it, the
// GatewayService and the GatewayServer, applies the configured cluster at
// start, and shuts down in order on SIGTERM/SIGINT or Stop(): the gRPC
// server first (on a thread of its own, while the io_context keeps running
// the calls it waits for), then the io_context, then the Gateway.
//
// With a `bridge` in the config it also runs the gateway's data plane: a
// GatewayBridge on that OpenFlow target (every endpoint's forwarding flow,
// the metered packet-in copy) whose packet-ins feed the Forwarder, and the
// gateway's own NodeOvsdb (tunnel ports with BFD toward every host). The
// hosts' NodeOvsdb (bindings, tunnel ports) are the Gateway's own.
//
// With `metrics` in the config it serves Prometheus' scrape endpoint there
// (metrics.h), on the io_context.
//
// Thread-safety: Run() once, from one thread; Stop() from any thread.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "src/gateway/config.h"
#include "src/gateway/forwarder.h"
#include "src/gateway/gateway.h"
#include "src/gateway/server.h"
#include "src/gateway/service.h"
#include "src/metrics/http_server.h"
#include "src/metrics/metrics.h"

namespace shortcut::gateway {

class Daemon {
 public:
  struct Options {
    Gateway::Options gateway;
    Forwarder::Options forwarder;
    GatewayService::Options service;
    bool handle_signals = true;       // SIGTERM and SIGINT stop it.
    Millis shutdown_grace_ms = 5000;  // For calls still running at shutdown.
  };

  Daemon(DaemonConfig config, Options options);
  explicit Daemon(DaemonConfig config) : Daemon(std::move(config), Options{}) {}
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Serves until stopped. OK after a clean shutdown; an error if it could
  // not listen, or if the configured cluster was refused.
  absl::Status Run();
  void Stop();

  asio::io_context& io() { return io_; }
  // The metrics endpoint's port once Run() listens on it (0 before, or
  // without one): a config may give port 0.
  uint16_t metrics_port() const { return metrics_port_.load(); }

 private:
  asio::awaitable<void> StartCluster();
  void StartDataPlane();
  void FillStats(v1::GetStatsResponse& stats) const;
  void FillPaths(v1::ListPathsResponse& paths) const;
  void BeginShutdown();  // On the io_context.

  DaemonConfig config_;
  absl::Status init_status_;  // The SSL settings' failure, reported by Run().
  Options options_;
  asio::io_context io_;
  std::unique_ptr<Gateway> gateway_;
  std::shared_ptr<GatewayBridge> bridge_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<GatewayServer> server_;
  metrics::Registry metrics_;
  std::shared_ptr<metrics::MetricsServer> metrics_server_;
  std::atomic<uint16_t> metrics_port_{0};
  std::thread shutdown_thread_;
  bool stopping_ = false;
  absl::Status start_error_;
};

}  // namespace shortcut::gateway
