#include "src/gateway/daemon.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <csignal>

#include "spdlog/spdlog.h"

namespace shortcut::gateway {

Daemon::Daemon(DaemonConfig config, Options options)
    : config_(std::move(config)), options_(std::move(options)) {
  gateway_ = std::make_unique<Gateway>(io_.get_executor(), options_.gateway);
  service_ = std::make_unique<GatewayService>(io_.get_executor(), gateway_.get(), options_.service);
}

Daemon::~Daemon() {
  if (shutdown_thread_.joinable()) shutdown_thread_.join();
}

absl::Status Daemon::Run() {
  auto server = GatewayServer::Start(config_.listen, service_.get());
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  spdlog::info("serving the gateway API on {}", server_->address());

  asio::signal_set signals(io_);
  if (options_.handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([this](const std::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", signal);
      BeginShutdown();
    });
  }
  asio::co_spawn(io_, StartCluster(), asio::detached);
  // Serving is work the io_context cannot see (calls arrive on gRPC's
  // threads): it runs until BeginShutdown stops it, not until it is idle.
  auto work = asio::make_work_guard(io_);
  io_.run();

  if (shutdown_thread_.joinable()) shutdown_thread_.join();
  server_.reset();
  // The io_context no longer runs: the Gateway's programmers stop, and
  // their coroutines are destroyed with the io_context.
  service_.reset();
  gateway_.reset();
  return start_error_;
}

void Daemon::Stop() {
  asio::post(io_, [this] { BeginShutdown(); });
}

asio::awaitable<void> Daemon::StartCluster() {
  absl::Status s = co_await service_->ApplyCluster(config_.cluster);
  if (s.ok()) {
    spdlog::info("cluster {} set: {} members, {} hosts", config_.cluster.cluster_id(),
                 config_.cluster.members_size(), config_.cluster.hosts_size());
  } else if (gateway_->cluster().cluster_id != 0) {
    // Set, but some host could not be programmed: it is retried.
    spdlog::warn("cluster set; {}", std::string(s.message()));
  } else {
    spdlog::error("the configured cluster was refused: {}", std::string(s.message()));
    start_error_ = s;
    BeginShutdown();
  }
}

void Daemon::BeginShutdown() {
  if (stopping_ || server_ == nullptr) return;
  stopping_ = true;
  // gRPC's Shutdown returns once running calls have, and they wait on this
  // io_context: so it runs on a thread of its own while this one serves them.
  shutdown_thread_ = std::thread([this] {
    server_->Shutdown(options_.shutdown_grace_ms);
    asio::post(io_, [this] { io_.stop(); });
  });
}

}  // namespace shortcut::gateway
