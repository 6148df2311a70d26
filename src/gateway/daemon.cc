#include "src/gateway/daemon.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <csignal>

#include "spdlog/spdlog.h"
#include "src/gateway/api_views.h"
#include "src/gateway/metrics.h"
#include "src/gateway/offload_stats.h"
#include "src/ofconn/ssl.h"
#include "src/tls/tls.h"

namespace shortcut::gateway {

Daemon::Daemon(DaemonConfig config, Options options)
    : config_(std::move(config)), options_(std::move(options)) {
  if (config_.ssl) {
    // Process-wide, before any ssl: target is dialled (hosts, the bridge).
    // The loader checked the files; a failure here is reported by Run().
    auto ctx = ofconn::MakeSslContext(*config_.ssl);
    if (ctx.ok()) {
      ofconn::SetDefaultSslContext(*std::move(ctx));
    } else {
      init_status_ = ctx.status();
    }
  }
  options_.gateway.direct_idle_timeout_s = config_.direct_idle_timeout_s;
  // Without a cluster in its config, a manager loads it: until the manager
  // says the load is complete, hosts keep the rules it has not decided about.
  options_.gateway.wait_for_load = !config_.cluster.has_value();
  gateway_ = std::make_unique<Gateway>(io_.get_executor(), options_.gateway);
  GatewayService::Options service_options = options_.service;
  service_options.max_calls = config_.api_limits.max_calls;
  service_options.max_streams = config_.api_limits.max_streams;
  service_ = std::make_unique<GatewayService>(io_.get_executor(), gateway_.get(), service_options);
  options_.forwarder.direct_path_budget = config_.direct_path_budget;
  options_.forwarder.budget_action =
      config_.budget_refuse ? PathBudget::Action::kRefuse : PathBudget::Action::kEvict;
  options_.forwarder.budget_scan_ms = config_.budget_scan_ms;
  forwarder_ = std::make_unique<Forwarder>(io_.get_executor(), *gateway_, options_.forwarder);
  forwarder_->Start();
  service_->set_stats_hook([this](v1::GetStatsResponse& stats) { FillStats(stats); });
  service_->set_paths_hook([this](v1::ListPathsResponse& paths) { FillPaths(paths); });
  GatewayMetrics m;
  m.stats = [this] {
    v1::GetStatsResponse stats = StatsOf(*gateway_);
    FillStats(stats);
    return stats;
  };
  m.hosts = [this] { return ListHostsOf(*gateway_); };
  metrics::Histogram* setups = &m.Add(metrics_);
  forwarder_->set_setup_hook(
      [setups](int64_t us) { setups->Observe(static_cast<double>(us) / 1e6); });
}

void Daemon::FillStats(v1::GetStatsResponse& stats) const {
  const Forwarder::Counters& f = forwarder_->counters();
  stats.set_packet_ins(f.packet_ins);
  stats.set_packet_in_bursts(f.bursts);
  stats.set_direct_paths_installed(f.setups);
  stats.set_direct_paths_merged(f.merged);
  stats.set_packet_ins_shed(f.shed);
  stats.set_lookup_misses(f.lookup_misses);
  stats.set_setup_failures(f.failures);
  stats.set_unknown_source(f.unknown_source);
  stats.set_malformed_packet_ins(f.malformed);
  stats.set_setup_p50_us(forwarder_->SetupPercentileUs(50));
  stats.set_setup_p99_us(forwarder_->SetupPercentileUs(99));
  stats.set_invalidations(gateway_->counters().invalidations);
  stats.set_threshold_offloads(f.threshold_offloads);
  stats.set_paths_evicted(f.paths_evicted);
  stats.set_paths_refused(f.paths_refused);
  stats.set_budget_read_failures(f.budget_read_failures);
  stats.set_threshold_reads(f.count_reads);
  FillOffloadStats(*gateway_, *forwarder_, stats);
  if (bridge_) {
    stats.set_bridge_flows(bridge_->desired_flows());
    stats.set_bridge_in_sync(bridge_->in_sync());
  }
}

void Daemon::FillPaths(v1::ListPathsResponse& paths) const {
  for (const Forwarder::PathRecord& r : forwarder_->recent()) {
    auto* p = paths.add_paths();
    p->set_src_host(r.src_host);
    p->set_dst_host(r.dst_host);
    p->set_vni(r.vni);
    p->set_src_ip(FormatIpv4(r.src_ip));
    p->set_dst_ip(FormatIpv4(r.dst_ip));
    p->set_setup_us(r.setup_us);
    p->set_unix_time_ms(r.unix_time_ms);
    p->set_error(r.error);
  }
}

void Daemon::StartDataPlane() {
  if (!config_.bridge) return;
  GatewayBridge::Options o;
  o.name = "gateway bridge";
  o.target = *ofconn::ParseTarget(config_.bridge->openflow);
  o.session = options_.gateway.session;
  o.call_timeout = options_.gateway.host_timeout;
  o.packet_in_rate_pps = config_.bridge->packet_in_rate;
  Forwarder* forwarder = forwarder_.get();
  bridge_ = GatewayBridge::Start(
      io_.get_executor(), std::move(o),
      [forwarder](std::span<const of::PacketIn> pins) { forwarder->OnPacketIns(pins); });
  gateway_->AttachBridge(bridge_);
  if (!config_.bridge->ovsdb.empty()) {
    gateway_->AttachOwnNode(*ofconn::ParseTarget(config_.bridge->ovsdb));
  }
}

Daemon::~Daemon() {
  if (shutdown_thread_.joinable()) shutdown_thread_.join();
}

absl::Status Daemon::Run() {
  if (!init_status_.ok()) return init_status_;
  auto server = GatewayServer::Start(config_.listen, service_.get(),
                                     tls::ServerCredentials(config_.tls), config_.api_limits);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  spdlog::info("serving the gateway API on {}", server_->address());
  if (!config_.metrics.empty()) {
    auto m = metrics::MetricsServer::Start(io_.get_executor(), config_.metrics,
                                           [this] { return metrics_.Text(); });
    if (!m.ok()) {
      server_->Shutdown(0);
      return m.status();
    }
    metrics_server_ = *std::move(m);
    metrics_port_ = metrics_server_->port();
    spdlog::info("serving metrics on {} (GET /metrics)", config_.metrics);
  }

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
  StartDataPlane();
  if (config_.cluster) asio::co_spawn(io_, StartCluster(), asio::detached);
  // Serving is work the io_context cannot see (calls arrive on gRPC's
  // threads): it runs until BeginShutdown stops it, not until it is idle.
  auto work = asio::make_work_guard(io_);
  io_.run();

  if (shutdown_thread_.joinable()) shutdown_thread_.join();
  if (metrics_server_) metrics_server_->Stop();
  metrics_server_.reset();
  server_.reset();
  // The io_context no longer runs: the Gateway's programmers stop, and
  // their coroutines are destroyed with the io_context.
  if (bridge_) bridge_->Stop();
  service_.reset();
  forwarder_.reset();
  gateway_.reset();
  bridge_.reset();
  return start_error_;
}

void Daemon::Stop() {
  asio::post(io_, [this] { BeginShutdown(); });
}

asio::awaitable<void> Daemon::StartCluster() {
  absl::Status s = co_await service_->ApplyCluster(*config_.cluster);
  if (s.ok()) {
    spdlog::info("cluster {} set: {} members, {} hosts", config_.cluster->cluster_id(),
                 config_.cluster->members_size(), config_.cluster->hosts_size());
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
