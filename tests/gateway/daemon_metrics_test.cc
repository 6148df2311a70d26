// gatewayd's metrics endpoint: scraped over TCP from a running daemon, its
// values checked against what the gRPC API (GetStats) answers, and the
// whole exposition against Prometheus' own checker.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"
#include "src/gateway/daemon.h"
#include "tests/support/dashboard_names.h"
#include "tests/support/http_get.h"
#include "tests/support/poll.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::testing::HasSubstr;

std::string Scrape(uint16_t port) { return testing::HttpGetBody(port); }

class GatewayMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sock_ = dir_.File("gw.sock");
    auto config = ParseDaemonConfig(R"({"listen": "unix:)" + sock_ + R"(",
        "metrics": "127.0.0.1:0",
        "cluster": {"cluster_id": 9, "self": "gw1",
                    "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}],
                    "hosts": [{"name": "h1", "underlay_ip": "172.31.1.1",
                               "openflow": "tcp:127.0.0.1:1"}]}})");
    ASSERT_TRUE(config.ok()) << config.status();
    Daemon::Options o;
    o.handle_signals = false;
    daemon_ = std::make_unique<Daemon>(*config, o);
    runner_ = std::thread([this] { result_ = daemon_->Run(); });
    ASSERT_TRUE(shortcut::testing::PollUntil([this] { return daemon_->metrics_port() != 0; }, 5000))
        << "the metrics endpoint never listened";
    stub_ = v1::Gateway::NewStub(
        grpc::CreateChannel("unix:" + sock_, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    daemon_->Stop();
    runner_.join();
    EXPECT_TRUE(result_.ok()) << result_;
  }
  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetStatsResponse response;
    grpc::Status s = stub_->GetStats(&context, v1::GetStatsRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  void AddVpc() {
    grpc::ClientContext context;
    v1::AddVpcResponse response;
    auto writer = stub_->AddVpc(&context, &response);
    v1::AddVpcRequest request;
    request.mutable_vpc()->set_id("vpc1");
    request.mutable_vpc()->set_vni(100);
    request.mutable_vpc()->set_router_mac("02:5c:00:00:00:01");
    request.mutable_vpc()->add_networks()->set_id("net1");
    request.mutable_vpc()->mutable_networks(0)->set_ipv4_cidr("10.0.0.0/24");
    ASSERT_TRUE(writer->Write(request));
    v1::AddVpcRequest last;
    last.mutable_endpoints()->set_last(true);
    ASSERT_TRUE(writer->Write(last));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  testing::TempDir dir_{"shortcut-gwmetrics"};
  std::string sock_;
  std::unique_ptr<Daemon> daemon_;
  std::thread runner_;
  absl::Status result_ = absl::UnknownError("not run");
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

TEST_F(GatewayMetricsTest, ScrapeAgreesWithGetStats) {
  v1::GetStatsResponse stats = Stats();
  std::string text = Scrape(daemon_->metrics_port());
  ASSERT_FALSE(text.empty());
  EXPECT_THAT(text, HasSubstr("shortcut_gateway_info{instance_id=\"" + stats.instance_id() +
                              "\",cluster_id=\"9\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_gateway_vpcs 0\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_gateway_hosts 1\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_gateway_packet_ins_total 0\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_gateway_host_connected{host=\"h1\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_gateway_direct_path_setup_seconds_count 0\n"));
  // Every gateway metric the Grafana dashboard queries is exported.
  std::set<std::string> used = testing::DashboardMetricNames(
      SHORTCUT_SOURCE_DIR "/docs/grafana/shortcut.json", "shortcut_gateway_");
  EXPECT_GT(used.size(), 5u);
  for (const std::string& name : used) {
    EXPECT_THAT(text, HasSubstr("# TYPE " + name + " ")) << name << " is not exported";
  }
  AddVpc();
  ASSERT_EQ(Stats().vpcs(), 1u);
  EXPECT_THAT(Scrape(daemon_->metrics_port()), HasSubstr("\nshortcut_gateway_vpcs 1\n"));
}

// Prometheus' own checker on a running daemon's exposition.
class GatewayMetricsPromtool : public GatewayMetricsTest {};
TEST_F(GatewayMetricsPromtool, ExpositionPassesPromtoolCheckMetrics) {
  AddVpc();
  testing::RunOptions o;
  o.stdin_data = Scrape(daemon_->metrics_port());
  ASSERT_FALSE(o.stdin_data.empty());
  testing::RunResult r = testing::RunProcess({"promtool", "check", "metrics"}, o);
  ASSERT_NE(r.exit_code, -1) << "promtool is missing (Debian package prometheus)";
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "");
}

}  // namespace
}  // namespace shortcut::gateway
