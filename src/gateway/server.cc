#include "src/gateway/server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/apiserver/listen.h"

namespace shortcut::gateway {
namespace {

constexpr std::string_view kUnix = "unix:";

}  // namespace

absl::Status CheckListenAddress(const std::string& listen) {
  if (listen.starts_with(kUnix)) {
    std::string path = listen.substr(kUnix.size());
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("listen: '", listen, "': a unix socket path must be absolute"));
    }
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat("listen: '", listen, "': path too long"));
    }
    return absl::OkStatus();
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size() ||
      listen.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: '", listen, "' is neither unix:/abs/path nor HOST:PORT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const std::string& listen, GatewayService* service,
    std::shared_ptr<grpc::ServerCredentials> credentials, const apiserver::ApiLimits& limits) {
  if (absl::Status s = CheckListenAddress(listen); !s.ok()) return s;
  std::unique_ptr<GatewayServer> server(new GatewayServer());
  if (listen.starts_with(kUnix)) {
    server->unix_path_ = listen.substr(kUnix.size());
    if (absl::Status s = apiserver::RemoveStaleSocket(server->unix_path_); !s.ok()) return s;
  }
  // Process-wide, read when a server is built: every server of the process
  // gets the standard health service.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  apiserver::ApplyApiLimits(limits, builder);
  int port = 0;
  if (credentials == nullptr) credentials = grpc::InsecureServerCredentials();
  builder.AddListeningPort(listen, credentials, &port);
  builder.RegisterService(service);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || (server->unix_path_.empty() && port == 0)) {
    server->unix_path_.clear();  // Not ours to remove.
    return absl::UnavailableError(absl::StrCat("listen: cannot listen on ", listen));
  }
  server->service_ = service;
  server->address_ = listen;
  if (server->unix_path_.empty() && listen.ends_with(":0")) {
    server->address_ = absl::StrCat(listen.substr(0, listen.size() - 1), port);
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  if (health == nullptr) return absl::InternalError("gRPC built the server without health service");
  service->AttachHealth(health);
  return server;
}

GatewayServer::~GatewayServer() { Shutdown(0); }

void GatewayServer::Shutdown(Millis grace_ms) {
  if (shut_down_ || service_ == nullptr) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  server_->Wait();
  service_->AttachHealth(nullptr);  // It goes with the server.
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

}  // namespace shortcut::gateway
