#include "src/manager/daemon.h"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <csignal>

#include "spdlog/spdlog.h"

namespace shortcut::manager {

ManagerDaemon::ManagerDaemon(ManagerConfig config, Options options)
    : config_(std::move(config)), options_(options) {
  NbStore::Options store;
  for (const std::string& target : config_.nb) {
    // Checked by the config's loader.
    store.servers.push_back(*ofconn::ParseTarget(target));
  }
  store_ = std::make_unique<NbStore>(io_.get_executor(), std::move(store));
  driver_store_ = std::make_unique<NbStoreDriverStore>(*store_);
  GatewayDriver::Options driver;
  driver.health_interval = config_.health_interval_ms;
  driver_ = std::make_unique<GatewayDriver>(io_.get_executor(), *driver_store_,
                                            GrpcGatewayClientFactory(pool_), timers_, driver);
  controller_store_ = std::make_unique<NbStoreControllerStore>(*store_);
  GatewayDriver* driver_ptr = driver_.get();
  controller_ = std::make_unique<ClusterController>(
      io_.get_executor(), *controller_store_, GrpcGatewayClientFactory(pool_), timers_,
      [driver_ptr](uint32_t cluster) { return driver_ptr->ClusterSettled(cluster); },
      ClusterController::Options{});
  northbound_ = std::make_unique<Northbound>(io_.get_executor(), store_.get());
  northbound_->SetController(controller_.get());
  service_ = std::make_unique<ManagerService>(io_.get_executor(), northbound_.get());
}

ManagerDaemon::~ManagerDaemon() {
  if (shutdown_thread_.joinable()) shutdown_thread_.join();
}

absl::Status ManagerDaemon::Run() {
  auto server = ManagerServer::Start(config_.listen, service_.get());
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  spdlog::info("serving the manager API on {}", config_.listen);

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
  asio::post(io_, [this] {
    store_->Start();
    northbound_->Start();
    driver_->Start();
    controller_->Start();
  });
  // Serving is work the io_context cannot see (calls arrive on gRPC's
  // threads): it runs until BeginShutdown stops it, not until it is idle.
  auto work = asio::make_work_guard(io_);
  io_.run();

  if (shutdown_thread_.joinable()) shutdown_thread_.join();
  server_.reset();
  service_.reset();
  northbound_.reset();
  controller_.reset();
  controller_store_.reset();
  driver_.reset();
  driver_store_.reset();
  store_.reset();
  return absl::OkStatus();
}

void ManagerDaemon::Stop() {
  asio::post(io_, [this] { BeginShutdown(); });
}

void ManagerDaemon::BeginShutdown() {
  if (stopping_ || server_ == nullptr) return;
  stopping_ = true;
  controller_->Stop();
  driver_->Stop();
  // gRPC's Shutdown returns once running calls have, and they wait on this
  // io_context: so it runs on a thread of its own while this one serves them.
  shutdown_thread_ = std::thread([this] {
    server_->Shutdown(options_.shutdown_grace_ms);
    asio::post(io_, [this] {
      store_->Stop();
      io_.stop();
    });
  });
}

}  // namespace shortcut::manager
