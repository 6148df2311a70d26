// GatewayServer: a grpc::Server serving one GatewayService and gRPC's
// standard health service (grpc.health.v1.Health, NOT_SERVING until the
// service has a cluster), for the daemon and for tests.
//
// Listen addresses: "unix:/abs/path.sock" (a stale socket file left by a
// dead server is replaced; one a live server answers on is not), or
// "IP:PORT" ("127.0.0.1:0" picks a free port; address() tells which).
//
// Ownership: the server borrows the service, which must outlive it.
// Thread-safety: Start and Shutdown from one owner thread. Shutdown blocks
// until running calls return, and calls wait on the Gateway's executor: call
// it from another thread than the executor's, or that thread stalls until the
// grace period cancels them.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/apiserver/limits.h"
#include "src/common/clock.h"
#include "src/gateway/service.h"

namespace shortcut::gateway {

// InvalidArgument unless `listen` is "unix:/abs/path" or "HOST:PORT".
absl::Status CheckListenAddress(const std::string& listen);

class GatewayServer {
 public:
  // FailedPrecondition/Unavailable naming the address when it cannot listen.
  // `credentials`: null for insecure (tls::ServerCredentials makes mutual TLS).
  // `limits`: gRPC's share of them (threads, memory, streams, message size;
  // apiserver/limits.h); the service applies its admission bounds itself.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(
      const std::string& listen, GatewayService* service,
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr,
      const apiserver::ApiLimits& limits = {});
  ~GatewayServer();  // Shutdown(0) if not done.
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // What clients dial: the listen address, with the port chosen for ":0".
  const std::string& address() const { return address_; }

  // Stops accepting calls, lets running ones finish for up to `grace_ms`,
  // cancels the rest, and returns once every handler has returned.
  // Idempotent.
  void Shutdown(Millis grace_ms = 5000);

 private:
  GatewayServer() = default;

  GatewayService* service_ = nullptr;  // Set once serving.
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string unix_path_;  // Removed at shutdown.
  bool shut_down_ = false;
};

}  // namespace shortcut::gateway
