#include "src/manager/daemon.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>

#include "spdlog/spdlog.h"
#include "src/ofconn/ssl.h"
#include "src/tls/tls.h"

namespace shortcut::manager {
namespace {

// Wall clock (shown to people as "since"), not the monotonic one.
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NameOr(const ManagerConfig& c) { return c.name.empty() ? "managerd" : c.name; }
std::string AdvertiseOr(const ManagerConfig& c) {
  return c.advertise.empty() ? c.listen : c.advertise;
}

}  // namespace

ManagerDaemon::ManagerDaemon(ManagerConfig config, Options options)
    : config_(std::move(config)),
      options_(options),
      role_(NameOr(config_), AdvertiseOr(config_), WallMs()) {
  gateway_client_options_.tls = config_.tls;
  NbStore::Options store;
  for (const std::string& target : config_.nb) {
    // Checked by the config's loader.
    store.servers.push_back(*ofconn::ParseTarget(target));
  }
  store.lock = kLockName;
  store.on_lock = [this](bool held) { OnLock(held); };
  store_ = std::make_unique<NbStore>(io_.get_executor(), std::move(store));
  northbound_ = std::make_unique<Northbound>(io_.get_executor(), store_.get());
  northbound_->SetRole(&role_);
  ManagerService::Options service_options;
  service_options.max_calls = config_.api_limits.max_calls;
  service_options.max_streams = config_.api_limits.max_streams;
  service_options.max_watchers = config_.api_limits.max_watchers;
  service_ =
      std::make_unique<ManagerService>(io_.get_executor(), northbound_.get(), service_options);
  manager_metrics_ = AddManagerMetrics(
      metrics_, [this]() -> const NbState& { return store_->state(); },
      [this] { return role_.active(); });
  ManagerService* service = service_.get();
  AddApiAdmissionMetrics(metrics_, [service] { return service->api_counters(); });
  metrics::Histogram* online = manager_metrics_.vm_online;
  northbound_->SetOnlineHook([online](double seconds) { online->Observe(seconds); });
}

ManagerDaemon::~ManagerDaemon() {
  if (shutdown_thread_.joinable()) shutdown_thread_.join();
}

absl::Status ManagerDaemon::Run() {
  if (config_.ssl) {
    // Process-wide, before the store connects (ssl: nb targets).
    auto ctx = ofconn::MakeSslContext(*config_.ssl);
    if (!ctx.ok()) return ctx.status();
    ofconn::SetDefaultSslContext(*std::move(ctx));
  }
  auto server =
      ManagerServer::Start(config_.listen, service_.get(), ApiInterceptors(manager_metrics_.api),
                           tls::ServerCredentials(config_.tls), config_.api_limits);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  if (!config_.metrics.empty()) {
    auto m = metrics::MetricsServer::Start(io_.get_executor(), config_.metrics,
                                           [this] { return metrics_.Text(); });
    if (!m.ok()) {
      server_->Shutdown(0);
      return m.status();
    }
    metrics_server_ = *std::move(m);
    metrics_port_ = metrics_server_->port();
    spdlog::info("{}: serving metrics on {} (GET /metrics)", role_.name(), config_.metrics);
  }
  spdlog::info("{}: serving the manager API on {} (standby until it holds lock {})", role_.name(),
               config_.listen, kLockName);

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
  });
  // Serving is work the io_context cannot see (calls arrive on gRPC's
  // threads): it runs until BeginShutdown stops it, not until it is idle.
  auto work = asio::make_work_guard(io_);
  io_.run();

  if (shutdown_thread_.joinable()) shutdown_thread_.join();
  if (metrics_server_) metrics_server_->Stop();
  metrics_server_.reset();
  server_.reset();
  service_.reset();
  northbound_.reset();
  active_ = ActivePart{};
  retired_.clear();
  store_.reset();
  return absl::OkStatus();
}

void ManagerDaemon::Stop() {
  asio::post(io_, [this] { BeginShutdown(); });
}

void ManagerDaemon::OnLock(bool held) {
  if (stopping_) return;
  if (held && !role_.active()) StartActive();
  if (!held && role_.active()) StopActive();
}

void ManagerDaemon::StartActive() {
  role_.Set(true, WallMs());
  ++term_;
  spdlog::info("{}: active (holding lock {} on {})", role_.name(), kLockName,
               store_->server().target);
  // Everything from the replica as it is now: the driver's first contact
  // with each gateway verifies what it holds rather than reloading it.
  active_.driver_store = std::make_unique<NbStoreDriverStore>(*store_);
  GatewayDriver::Options driver;
  driver.health_interval = config_.health_interval_ms;
  active_.driver = std::make_unique<GatewayDriver>(
      io_.get_executor(), *active_.driver_store,
      GrpcGatewayClientFactory(pool_, gateway_client_options_), timers_, driver);
  active_.driver->Start();
  active_.controller_store = std::make_unique<NbStoreControllerStore>(*store_);
  GatewayDriver* d = active_.driver.get();
  active_.controller = std::make_unique<ClusterController>(
      io_.get_executor(), *active_.controller_store,
      GrpcGatewayClientFactory(pool_, gateway_client_options_), timers_,
      ClusterController::DriverProgress{
          [d](uint32_t cluster) { return d->ClusterSettled(cluster); },
          [d](uint32_t cluster, const std::string& vpc) { return d->VpcSettled(cluster, vpc); }},
      ClusterController::Options{});
  active_.controller->Start();
  northbound_->SetController(active_.controller.get());
  asio::co_spawn(io_, Announce(term_), asio::detached);
}

void ManagerDaemon::StopActive() {
  if (role_.active() && !stopping_) {
    spdlog::warn("{}: standby (lock {} lost)", role_.name(), kLockName);
  }
  role_.Set(false, WallMs());
  if (active_.driver == nullptr) return;
  // At once: no gateway call is started from here on (calls in flight
  // end, and their writes are refused by the lock's assert).
  northbound_->SetController(nullptr);
  active_.controller->Stop();
  active_.driver->Stop();
  retired_.push_back(std::move(active_));
  active_ = ActivePart{};
  if (!reaping_) {
    reaping_ = true;
    asio::co_spawn(io_, Reap(), asio::detached);
  }
}

asio::awaitable<void> ManagerDaemon::Announce(uint64_t term) {
  asio::steady_timer timer(io_);
  while (!stopping_ && role_.active() && term == term_) {
    NbTxn txn;
    txn.SetActiveManager(ActiveManager{role_.name(), role_.address(), role_.since_ms()});
    absl::Status s = co_await store_->Commit(std::move(txn));
    if (s.ok()) co_return;
    spdlog::warn("{}: writing the active manager into NB_Global: {}", role_.name(),
                 std::string(s.message()));
    timer.expires_after(std::chrono::milliseconds(200));
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> ManagerDaemon::Reap() {
  asio::steady_timer timer(io_);
  while (!retired_.empty()) {
    std::erase_if(retired_, [](const ActivePart& p) { return p.finished(); });
    if (retired_.empty()) break;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  reaping_ = false;
}

void ManagerDaemon::BeginShutdown() {
  if (stopping_ || server_ == nullptr) return;
  stopping_ = true;
  StopActive();
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
