// ManagerDaemon: shortcut-managerd's pieces and their lifetime. It owns the
// io_context (run on the thread calling Run()) and, on it: the NbStore (the
// Shortcut_Northbound database's replica), the GatewayDriver (each
// cluster's state pushed to its gateways, their state and endpoints' status
// written back), the Northbound API logic, its gRPC service and server.
// It shuts down in order on SIGTERM/SIGINT or Stop(): the gRPC server first
// (on a thread of its own, while the io_context keeps running the calls it
// waits for), then the driver and the store, then the io_context.
//
// Active/standby: any number of managerd may serve one database. The store
// asks for the OVSDB lock kLockName on its connection to the Raft leader
// (store.h); while it holds it this manager is ACTIVE: StartActive() starts
// the active part (a fresh GatewayDriver that recomputes everything from the
// replica: a gateway already loaded by the previous active manager is
// verified, not reloaded; and a fresh ClusterController, cluster
// management, whose health table starts empty: members keep their roles
// until its probes say otherwise) and writes its name, address and the
// time into NB_Global. When the lock goes (connection lost, stolen) StopActive()
// stops the active part at once and the manager is STANDBY: it serves
// reads, refuses writes naming the active manager (role.h), and its store
// waits in the server's queue for the lock. Every write the active manager
// sends asserts the lock, so one that lost it cannot write.
//
// The store need not be reachable at start: calls answer UNAVAILABLE until
// it is (and the lock held).
//
// Thread-safety: Run() once, from one thread; Stop() from any thread.
#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "src/manager/cluster_controller.h"
#include "src/manager/config.h"
#include "src/manager/driver.h"
#include "src/manager/grpc_gateway_client.h"
#include "src/manager/metrics.h"
#include "src/manager/nb_store_controller_store.h"
#include "src/manager/nb_store_driver_store.h"
#include "src/manager/northbound.h"
#include "src/manager/role.h"
#include "src/manager/server.h"
#include "src/manager/service.h"
#include "src/manager/store.h"
#include "src/manager/timers.h"
#include "src/metrics/http_server.h"
#include "src/metrics/metrics.h"

namespace shortcut::manager {

class ManagerDaemon {
 public:
  static constexpr char kLockName[] = "shortcut_managerd";

  struct Options {
    bool handle_signals = true;       // SIGTERM and SIGINT stop it.
    Millis shutdown_grace_ms = 5000;  // For calls still running at shutdown.
  };

  ManagerDaemon(ManagerConfig config, Options options);
  explicit ManagerDaemon(ManagerConfig config) : ManagerDaemon(std::move(config), Options{}) {}
  ~ManagerDaemon();
  ManagerDaemon(const ManagerDaemon&) = delete;
  ManagerDaemon& operator=(const ManagerDaemon&) = delete;

  // Serves until stopped. OK after a clean shutdown; an error if it could
  // not listen.
  absl::Status Run();
  void Stop();
  // The metrics endpoint's port once Run() listens on it (0 before, or
  // without one): a config may give port 0.
  uint16_t metrics_port() const { return metrics_port_.load(); }

 private:
  void BeginShutdown();  // On the io_context.
  void OnLock(bool held);
  // The active part: what only the lock holder runs. On the io_context.
  void StartActive();
  void StopActive();
  // NB_Global says this manager is active (retried while it stays so).
  asio::awaitable<void> Announce(uint64_t term);
  // Destroys stopped drivers once their loops have ended.
  asio::awaitable<void> Reap();

  struct ActivePart {
    std::unique_ptr<NbStoreDriverStore> driver_store;
    std::unique_ptr<GatewayDriver> driver;
    // After the driver: destroyed first (it asks the driver).
    std::unique_ptr<NbStoreControllerStore> controller_store;
    std::unique_ptr<ClusterController> controller;
    bool finished() const {
      return (!driver || driver->finished()) && (!controller || controller->finished());
    }
  };

  ManagerConfig config_;
  Options options_;
  asio::io_context io_;
  SteadyTimers timers_;
  GrpcCallPool pool_;                                // Before the driver: its clients use it.
  GrpcGatewayClientOptions gateway_client_options_;  // TLS toward gateways.
  ManagerRole role_;
  std::unique_ptr<NbStore> store_;
  ActivePart active_;                // Empty while standby.
  std::vector<ActivePart> retired_;  // Stopped, their loops still ending.
  bool reaping_ = false;
  uint64_t term_ = 0;  // Times this manager became active.
  std::unique_ptr<Northbound> northbound_;
  std::unique_ptr<ManagerService> service_;
  std::unique_ptr<ManagerServer> server_;
  metrics::Registry metrics_;
  ManagerMetrics manager_metrics_;
  std::shared_ptr<metrics::MetricsServer> metrics_server_;
  std::atomic<uint16_t> metrics_port_{0};
  std::thread shutdown_thread_;
  bool stopping_ = false;
};

}  // namespace shortcut::manager
