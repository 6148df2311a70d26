// The daemon's life: it serves once started, reports SERVING once its
// configured cluster is set, stops cleanly on Stop(), and refuses to take
// over a socket another live server answers on.
#include "src/gateway/daemon.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

namespace health = ::grpc::health::v1;

DaemonConfig Config(const std::string& listen) {
  auto config = ParseDaemonConfig(R"({"listen": ")" + listen + R"(", "cluster":
      {"cluster_id": 9, "self": "gw1", "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}]}})");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

Daemon::Options Quiet() {
  Daemon::Options o;
  o.handle_signals = false;  // The test process's signals are its own.
  return o;
}

// Waits (the channel's connection, then the check) for the daemon's answer.
health::HealthCheckResponse::ServingStatus WaitForHealth(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = health::Health::NewStub(channel);
  health::HealthCheckResponse::ServingStatus last = health::HealthCheckResponse::UNKNOWN;
  for (int attempt = 0; attempt < 200; ++attempt) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    health::HealthCheckResponse response;
    if (stub->Check(&context, health::HealthCheckRequest(), &response).ok()) {
      last = response.status();
      if (last == health::HealthCheckResponse::SERVING) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

TEST(DaemonTest, ServesTheConfiguredClusterUntilStopped) {
  testing::TempDir dir("shortcut-daemon");
  std::string sock = dir.File("gw.sock");
  Daemon daemon(Config("unix:" + sock), Quiet());
  absl::Status result = absl::UnknownError("not run");
  std::thread runner([&] { result = daemon.Run(); });
  EXPECT_EQ(WaitForHealth("unix:" + sock), health::HealthCheckResponse::SERVING);

  // A second daemon on the same socket does not take it over.
  Daemon second(Config("unix:" + sock), Quiet());
  absl::Status refused = second.Run();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("another server"));

  daemon.Stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result;
  struct stat st;
  EXPECT_NE(::stat(sock.c_str(), &st), 0);  // The socket is gone with it.
}

TEST(DaemonTest, AStaleSocketIsReplaced) {
  testing::TempDir dir("shortcut-daemon");
  std::string sock = dir.File("gw.sock");
  // What a killed daemon leaves: a socket file nobody listens on.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);  // Bound, never listened on, closed: the file stays.

  Daemon daemon(Config("unix:" + sock), Quiet());
  absl::Status result = absl::UnknownError("not run");
  std::thread runner([&] { result = daemon.Run(); });
  EXPECT_EQ(WaitForHealth("unix:" + sock), health::HealthCheckResponse::SERVING);
  daemon.Stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result;
}

}  // namespace
}  // namespace shortcut::gateway
