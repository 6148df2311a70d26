// The driver through the real gRPC client against a real shortcut-gatewayd
// process: the cluster and the VPCs of its cluster reach it, and changes
// follow. Checked with the gateway's own GetStats and ListEndpoints on a
// separate channel. Hosts have no OpenFlow target, so nothing is
// programmed: the gateway stores the endpoints, pending.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <map>
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"
#include "src/manager/driver.h"
#include "src/manager/grpc_gateway_client.h"
#include "tests/manager/driver_fixture.h"
#include "tests/manager/memory_store.h"
#include "tests/manager/test_state.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace shortcut::manager {
namespace {

const std::string kGatewayd = std::string(SHORTCUT_BIN_DIR) + "/shortcut-gatewayd";

// shortcut-gatewayd as a child process, stopped by its pid.
class GatewaydProcess {
 public:
  explicit GatewaydProcess(const std::string& config) {
    std::vector<std::string> args = {kGatewayd, "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, kGatewayd.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
  }
  ~GatewaydProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::optional<gwv1::GetStatsResponse> Stats(gwv1::Gateway::Stub& stub, bool wait) {
  grpc::ClientContext context;
  context.set_wait_for_ready(wait);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  gwv1::GetStatsResponse response;
  if (!stub.GetStats(&context, gwv1::GetStatsRequest(), &response).ok()) return std::nullopt;
  return response;
}

std::map<std::string, gwv1::Endpoint> Listed(gwv1::Gateway::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  gwv1::ListEndpointsResponse response;
  std::map<std::string, gwv1::Endpoint> out;
  if (!stub.ListEndpoints(&context, gwv1::ListEndpointsRequest(), &response).ok()) return out;
  for (const auto& e : response.endpoints()) out[e.endpoint().key()] = e.endpoint();
  return out;
}

TEST(DriverWithGatewaydTest, TheClusterAndItsVpcsReachARealGatewayAndChangesFollow) {
  ::shortcut::testing::TempDir dir("shortcut-manager-gw");
  std::string sock = dir.File("gw.sock");
  std::string config = dir.File("gw.json");
  // It starts as a cluster of its own; the driver's SetCluster replaces it.
  ::shortcut::testing::WriteFile(config, R"({"listen": "unix:)" + sock + R"(",
      "log_level": "warning",
      "cluster": {"clusterId": 9, "self": "gw-a",
                  "members": [{"name": "gw-a", "underlayIp": "172.31.2.1"}]}})");
  GatewaydProcess gatewayd(config);
  ASSERT_GT(gatewayd.pid(), 0);
  auto stub = gwv1::Gateway::NewStub(
      grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(Stats(*stub, true).has_value()) << "gatewayd never answered";

  asio::io_context io;
  GrpcCallPool pool(2);
  testing::MemoryStore store(io.get_executor());
  store.PutCluster(1);
  store.PutCluster(2);
  GatewayRow row = testing::Gateway("gw-a", "172.31.2.1", 1, 60001);
  row.grpc_address = "unix:" + sock;
  store.PutGateway(row);
  // Hosts without targets: the gateway stores, programs nothing.
  store.PutHost({"h1", "172.31.1.1", "", ""});
  store.PutHost({"h2", "172.31.1.2", "", ""});
  store.PutVpc(VpcRow{{"blue", 100, "02:00:00:00:01:00"}, 1});
  store.PutVpc(VpcRow{{"red", 200, "02:00:00:00:02:00"}, 2});
  store.PutNetwork(NetworkRow{"blue", {"web", "10.0.0.0/24", ""}});
  store.PutNetwork(NetworkRow{"blue", {"app", "10.0.1.0/24", "fd00:1::/64"}});
  store.PutNetwork(NetworkRow{"red", {"db", "10.1.0.0/24", ""}});
  store.PutEndpoint(testing::Ep("b1", "blue", "web", "10.0.0.1", "h1", 1));
  store.PutEndpoint(testing::Ep("b2", "blue", "web", "10.0.0.2", "h2", 2));
  store.PutEndpoint(testing::Ep("b3", "blue", "app", "10.0.1.3", "h2", 3));
  store.PutEndpoint(testing::Ep("r1", "red", "db", "10.1.0.1", "h1", 4));
  (void)store.TakeChanges();

  SteadyTimers timers;
  GatewayDriver::Options o;
  o.health_interval = 200;
  o.batch = 2;  // Several messages in the AddVpc stream.
  GatewayDriver driver(io.get_executor(), store, GrpcGatewayClientFactory(pool), timers, o);
  driver.Start();
  ASSERT_TRUE(testing::RunUntil(io, [&] { return driver.settled(); }))
      << driver.view("gw-a")->detail;
  EXPECT_EQ(store.state().gateways.at("gw-a").state, GatewayState::kReady);

  auto stats = Stats(*stub, false);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->vpcs(), 1u);  // blue only: red is cluster 2's.
  EXPECT_EQ(stats->endpoints(), 3u);
  EXPECT_EQ(stats->hosts(), 2u);
  auto listed = Listed(*stub);
  auto desired = DesiredVpc(store.state(), "blue");
  ASSERT_EQ(listed.size(), desired->endpoints.size());
  for (const gwv1::Endpoint& e : desired->endpoints) {
    ASSERT_TRUE(listed.contains(e.key())) << e.key();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(listed[e.key()], e))
        << listed[e.key()].ShortDebugString() << " vs " << e.ShortDebugString();
  }

  // Changes: one endpoint added, one deleted, one network removed.
  store.PutEndpoint(testing::Ep("b4", "blue", "web", "10.0.0.4", "h1", 5));
  store.DeleteEndpoint("b1");
  store.DeleteNetwork("blue", "app");
  ASSERT_TRUE(testing::RunUntil(io, [&] {
    if (!driver.settled()) return false;
    auto now = Listed(*stub);
    return now.size() == 2 && now.contains("b4") && now.contains("b2");
  }));
  EXPECT_EQ(driver.view("gw-a")->full_loads, 1u);

  // A new host: SetCluster again. The gateway answers that its (armed)
  // hosts cannot be programmed, which is not a refusal of the cluster.
  store.PutHost({"h3", "172.31.1.3", "", ""});
  ASSERT_TRUE(testing::RunUntil(io, [&] {
    auto s = Stats(*stub, false);
    return driver.settled() && s && s->hosts() == 3;
  })) << driver.view("gw-a")->detail;
  EXPECT_EQ(driver.view("gw-a")->detail, "");

  driver.Stop();
  EXPECT_TRUE(testing::RunUntil(io, [&] { return driver.finished(); }));
}

TEST(DriverWithGatewaydTest, AGatewayNobodyAnswersForIsDownWithTheReason) {
  ::shortcut::testing::TempDir dir("shortcut-manager-gw");
  asio::io_context io;
  GrpcCallPool pool(1);
  testing::MemoryStore store(io.get_executor());
  store.PutCluster(1);
  GatewayRow row = testing::Gateway("gw-a", "172.31.2.1", 1, 60001);
  row.grpc_address = "unix:" + dir.File("nobody.sock");
  store.PutGateway(row);
  (void)store.TakeChanges();
  SteadyTimers timers;
  GrpcGatewayClientOptions client;
  client.call_deadline = 2000;
  GatewayDriver driver(io.get_executor(), store, GrpcGatewayClientFactory(pool, client), timers,
                       GatewayDriver::Options{});
  driver.Start();
  ASSERT_TRUE(testing::RunUntil(
      io, [&] { return store.state().gateways.at("gw-a").state == GatewayState::kDown; }));
  EXPECT_FALSE(store.state().gateways.at("gw-a").detail.empty());
  EXPECT_FALSE(driver.view("gw-a")->loaded);
  driver.Stop();
  EXPECT_TRUE(testing::RunUntil(io, [&] { return driver.finished(); }));
}

}  // namespace
}  // namespace shortcut::manager
