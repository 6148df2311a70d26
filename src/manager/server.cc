#include "src/manager/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "src/manager/validate.h"

namespace shortcut::manager {
namespace {

constexpr std::string_view kUnix = "unix:";

bool SocketAnswers(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return answers;
}

// A socket file nobody answers on is what a killed server leaves.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("listen: ", path, " exists and is not a socket"));
  }
  if (SocketAnswers(path)) {
    return absl::FailedPreconditionError(
        absl::StrCat("listen: another server is listening on ", path));
  }
  if (::unlink(path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("listen: cannot remove stale socket ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

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
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  if (absl::Status s = CheckListenAddress(listen); !s.ok()) return s;
  std::unique_ptr<ManagerServer> server(new ManagerServer());
  if (listen.starts_with(kUnix)) {
    server->unix_path_ = listen.substr(kUnix.size());
    if (absl::Status s = RemoveStaleSocket(server->unix_path_); !s.ok()) return s;
  }
  // Both process-wide, read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(64 << 20);  // Bulk batches.
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
