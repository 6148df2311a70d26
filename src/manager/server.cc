#include "src/manager/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "src/apiserver/listen.h"
#include "src/manager/validate.h"

namespace shortcut::manager {
namespace {

constexpr std::string_view kUnix = "unix:";

}  // namespace

absl::Status CheckListenAddress(const std::string& listen) {
  if (absl::Status s = CheckGrpcAddress("listen", listen); !s.ok()) return s;
  if (listen.starts_with(kUnix) && listen.size() - kUnix.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("listen: '", listen, "': path too long"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ManagerServer>> ManagerServer::Start(
    const std::string& listen, ManagerService* service,
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors,
    std::shared_ptr<grpc::ServerCredentials> credentials, const apiserver::ApiLimits& limits) {
  if (absl::Status s = CheckListenAddress(listen); !s.ok()) return s;
  std::unique_ptr<ManagerServer> server(new ManagerServer());
  if (listen.starts_with(kUnix)) {
    server->unix_path_ = listen.substr(kUnix.size());
    if (absl::Status s = apiserver::RemoveStaleSocket(server->unix_path_); !s.ok()) return s;
  }
  // Both process-wide, read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  apiserver::ApplyApiLimits(limits, builder);
  int port = 0;
  if (credentials == nullptr) credentials = grpc::InsecureServerCredentials();
  builder.AddListeningPort(listen, credentials, &port);
  builder.RegisterService(service);
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || (server->unix_path_.empty() && port == 0)) {
    server->unix_path_.clear();  // Not ours to remove.
    return absl::UnavailableError(absl::StrCat("listen: cannot listen on ", listen));
  }
  server->address_ = listen;
  if (server->unix_path_.empty() && listen.ends_with(":0")) {
    server->address_ = absl::StrCat(listen.substr(0, listen.size() - 1), port);
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  if (health == nullptr) return absl::InternalError("gRPC built the server without health service");
  service->AttachHealth(health);
  return server;
}

ManagerServer::~ManagerServer() { Shutdown(0); }

void ManagerServer::Shutdown(Millis grace_ms) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  server_->Wait();
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

}  // namespace shortcut::manager
