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

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"
#include "src/pipeline/gateway_pipeline.h"
#include "tests/fakes/fake_switch.h"
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

// GetStats from the daemon at `address`, or nullopt if the call fails.
std::optional<v1::GetStatsResponse> Stats(v1::Gateway::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetStatsResponse response;
  if (!stub.GetStats(&context, v1::GetStatsRequest(), &response).ok()) return std::nullopt;
  return response;
}

// Polls GetStats (boundedly) until the gateway's bridge holds what it should.
std::optional<v1::GetStatsResponse> WaitForBridge(v1::Gateway::Stub& stub) {
  std::optional<v1::GetStatsResponse> last;
  for (int attempt = 0; attempt < 500; ++attempt) {
    last = Stats(stub);
    if (last && last->bridge_in_sync()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

TEST(DaemonTest, WithABridgeItsStatsReportTheBridgeAndItFollowsTheDb) {
  testing::TempDir dir("shortcut-daemon");
  // The gateway's own switch, simulated on an io_context of its own.
  asio::io_context switch_io;
  auto work = asio::make_work_guard(switch_io);
  auto sw = std::make_unique<fakes::FakeSwitch>(switch_io.get_executor());
  auto target = sw->ListenUnix(dir.File("br.mgmt"));
  ASSERT_TRUE(target.ok()) << target.status();
  std::thread switch_thread([&] { switch_io.run(); });

  std::string sock = dir.File("gw.sock");
  auto config = ParseDaemonConfig(R"({"listen": "unix:)" + sock + R"(",
      "cluster": {"cluster_id": 9, "self": "gw1",
                  "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}]},
      "bridge": {"openflow": ")" + *target +
                                  R"(", "packet_in_rate": 500},
      "direct_idle_timeout": 30})");
  ASSERT_TRUE(config.ok()) << config.status();
  Daemon::Options o = Quiet();
  o.gateway.session.min_backoff = 50;
  o.gateway.session.connection.probe_interval = 0;
  Daemon daemon(*config, o);
  absl::Status result = absl::UnknownError("not run");
  std::thread runner([&] { result = daemon.Run(); });
  EXPECT_EQ(WaitForHealth("unix:" + sock), health::HealthCheckResponse::SERVING);

  auto channel = grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials());
  auto stub = v1::Gateway::NewStub(channel);
  pipeline::GatewayBridgeConfig base;
  base.meter_id = 1;
  base.packet_in_rate_pps = 500;
  const size_t base_flows = pipeline::BuildGatewayBase(base).flow_count();
  // Nothing is written to the bridge before the first change (a restarted
  // gateway leaves what its predecessor installed).
  std::optional<v1::GetStatsResponse> stats = Stats(*stub);
  ASSERT_TRUE(stats.has_value());
  EXPECT_FALSE(stats->bridge_in_sync());
  EXPECT_EQ(stats->bridge_flows(), base_flows);
  EXPECT_EQ(stats->packet_ins(), 0u);
  EXPECT_EQ(stats->setup_p50_us(), 0);
  EXPECT_EQ(stats->invalidations(), 0u);

  // A VPC (no endpoints: the cluster has no hosts): its classify flow.
  {
    grpc::ClientContext context;
    v1::AddVpcResponse response;
    auto writer = stub->AddVpc(&context, &response);
    v1::AddVpcRequest request;
    request.mutable_vpc()->set_id("vpc1");
    request.mutable_vpc()->set_vni(100);
    request.mutable_vpc()->set_router_mac("02:5c:00:00:00:01");
    v1::Network* net = request.mutable_vpc()->add_networks();
    net->set_id("net1");
    net->set_ipv4_cidr("10.0.0.0/24");
    EXPECT_TRUE(writer->Write(request));
    v1::AddVpcRequest last;
    last.mutable_endpoints()->set_last(true);
    EXPECT_TRUE(writer->Write(last));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  stats = WaitForBridge(*stub);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->bridge_flows(), base_flows + 1);
  EXPECT_TRUE(stats->bridge_in_sync());
  {
    grpc::ClientContext context;
    v1::ListPathsResponse paths;
    EXPECT_TRUE(stub->ListPaths(&context, v1::ListPathsRequest(), &paths).ok());
    EXPECT_EQ(paths.paths_size(), 0);  // No packet-in yet.
  }

  daemon.Stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result;
  work.reset();
  switch_io.stop();
  switch_thread.join();
  // What the daemon reported in sync is what the switch holds.
  EXPECT_EQ(sw->flow_count(), base_flows + 1);
  EXPECT_EQ(sw->meter_count(), 1u);
  sw.reset();
}

}  // namespace
}  // namespace shortcut::gateway
