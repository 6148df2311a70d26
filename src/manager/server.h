// ManagerServer: a grpc::Server serving one ManagerService, gRPC's
// standard health service (grpc.health.v1.Health) and server reflection
// (so grpcurl works without the .proto files).
//
// Listen addresses: "unix:/abs/path.sock" (a stale socket file left by a
// dead server is replaced; one a live server answers on is not), or
// "HOST:PORT" ("127.0.0.1:0" picks a free port; address() tells which).
//
// Ownership: the server borrows the service, which must outlive it.
// Thread-safety: Start and Shutdown from one owner thread. Shutdown blocks
// until running calls return, and calls wait on the executor: call it from
// another thread than the executor's.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/apiserver/limits.h"
#include "src/common/clock.h"
#include "src/manager/service.h"

namespace shortcut::manager {

// InvalidArgument unless `listen` is "unix:/abs/path" or "HOST:PORT".
absl::Status CheckListenAddress(const std::string& listen);

class ManagerServer {
 public:
  // `interceptors`: see metrics.h (every call timed); may be empty.
  // `credentials`: null for insecure (tls::ServerCredentials makes mutual TLS).
  // `limits`: gRPC's share of them (threads, memory, streams, message size;
  // apiserver/limits.h); the service applies its admission bounds itself.
  static absl::StatusOr<std::unique_ptr<ManagerServer>> Start(
      const std::string& listen, ManagerService* service,
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
          interceptors = {},
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr,
      const apiserver::ApiLimits& limits = {});
  ~ManagerServer();  // Shutdown(0) if not done.
  ManagerServer(const ManagerServer&) = delete;
  ManagerServer& operator=(const ManagerServer&) = delete;

  const std::string& address() const { return address_; }

  // Stops accepting calls, lets running ones finish for up to `grace_ms`,
  // cancels the rest (watchers among them), and returns once every handler
  // has returned. Idempotent.
  void Shutdown(Millis grace_ms = 5000);

 private:
  ManagerServer() = default;

  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string unix_path_;  // Removed at shutdown.
  bool shut_down_ = false;
};

}  // namespace shortcut::manager
