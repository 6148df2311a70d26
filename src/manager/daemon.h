// ManagerDaemon: shortcut-managerd's pieces and their lifetime. It owns the
// io_context (run on the thread calling Run()) and, on it: the NbStore (the
// Shortcut_Northbound database's replica), the GatewayDriver (each
// cluster's state pushed to its gateways, their state and endpoints' status
// written back), the ClusterController (gateways' health, membership and
// roles: cluster management), the Northbound API logic, its gRPC service
// and server.
// It shuts down in order on SIGTERM/SIGINT or Stop(): the gRPC server first
// (on a thread of its own, while the io_context keeps running the calls it
// waits for), then the driver and the store, then the io_context.
//
// The store need not be reachable at start: calls answer UNAVAILABLE until
// it is, and the driver waits for it.
//
// Thread-safety: Run() once, from one thread; Stop() from any thread.
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "src/manager/cluster_controller.h"
#include "src/manager/config.h"
#include "src/manager/driver.h"
#include "src/manager/grpc_gateway_client.h"
#include "src/manager/nb_store_controller_store.h"
#include "src/manager/nb_store_driver_store.h"
#include "src/manager/northbound.h"
#include "src/manager/server.h"
#include "src/manager/service.h"
#include "src/manager/store.h"
#include "src/manager/timers.h"

namespace shortcut::manager {

class ManagerDaemon {
 public:
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

 private:
  void BeginShutdown();  // On the io_context.

  ManagerConfig config_;
  Options options_;
  asio::io_context io_;
  SteadyTimers timers_;
  GrpcCallPool pool_;  // Before the driver: its clients use it.
  std::unique_ptr<NbStore> store_;
  std::unique_ptr<NbStoreDriverStore> driver_store_;
  std::unique_ptr<GatewayDriver> driver_;
  std::unique_ptr<NbStoreControllerStore> controller_store_;
  std::unique_ptr<ClusterController> controller_;
  std::unique_ptr<Northbound> northbound_;
  std::unique_ptr<ManagerService> service_;
  std::unique_ptr<ManagerServer> server_;
  std::thread shutdown_thread_;
  bool stopping_ = false;
};

}  // namespace shortcut::manager
