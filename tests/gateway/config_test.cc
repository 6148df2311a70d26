// shortcut-gatewayd's configuration file: what it accepts, and errors that
// name the field for what it does not.
#include "src/gateway/config.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/gateway/api_convert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kCluster[] = R"({"cluster_id": 9, "self": "gw1",
    "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}],
    "hosts": [{"name": "host1", "underlay_ip": "172.31.1.1", "openflow": "tcp:172.31.1.1:6653"}]})";

std::string Config(const std::string& listen, const std::string& cluster,
                   const std::string& extra = "") {
  return R"({"listen": ")" + listen + R"(", "cluster": )" + cluster + extra + "}";
}

// The error's message, which must be InvalidArgument.
std::string Error(const std::string& text) {
  auto config = ParseDaemonConfig(text);
  EXPECT_FALSE(config.ok()) << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return std::string(config.status().message());
}

TEST(DaemonConfigTest, AcceptsAFullConfig) {
  auto config = ParseDaemonConfig(
      Config("unix:/run/shortcut/gw.sock", kCluster, R"(, "log_level": "debug")"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "unix:/run/shortcut/gw.sock");
  EXPECT_EQ(config->cluster->cluster_id(), 9u);
  EXPECT_EQ(config->cluster->self(), "gw1");
  ASSERT_EQ(config->cluster->hosts_size(), 1);
  EXPECT_EQ(config->cluster->hosts(0).openflow(), "tcp:172.31.1.1:6653");
  EXPECT_EQ(config->log_level, spdlog::level::debug);
}

TEST(DaemonConfigTest, TakesProtobufsJsonNamesAndDefaultsTheLogLevel) {
  auto config = ParseDaemonConfig(Config(
      "127.0.0.1:0",
      R"({"clusterId": 9, "self": "gw1", "members": [{"name": "gw1", "underlayIp": "172.31.2.1"}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cluster->members(0).underlay_ip(), "172.31.2.1");
  EXPECT_EQ(config->log_level, spdlog::level::info);
}

TEST(DaemonConfigTest, TheClusterIsOptional) {
  // A gateway driven by shortcut-managerd learns its cluster over the API.
  auto config = ParseDaemonConfig(R"({"listen": "unix:/gw.sock"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->cluster.has_value());
}

TEST(DaemonConfigTest, MembersMayCarryTheirTunnelOfport) {
  auto config = ParseDaemonConfig(Config("127.0.0.1:0", R"({"clusterId": 2, "self": "gw3",
          "members": [{"name": "gw3", "underlayIp": "172.31.3.3", "tunnelOfport": 60021},
                      {"name": "gw4", "underlay_ip": "172.31.3.4", "tunnel_ofport": 60022}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cluster->members(0).tunnel_ofport(), 60021u);
  EXPECT_EQ(config->cluster->members(1).tunnel_ofport(), 60022u);
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": 2, "self": "gw3",
          "members": [{"name": "gw3", "underlay_ip": "172.31.3.3", "tunnel_ofport": 60021},
                      {"name": "gw4", "underlay_ip": "172.31.3.4"}]})")),
              HasSubstr("members[1].tunnel_ofport"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": 70000, "self": "gw3",
          "members": [{"name": "gw3", "underlay_ip": "172.31.3.3"}]})")),
              HasSubstr("cluster_id: 70000"));
}

TEST(DaemonConfigTest, MembersMayStandBy) {
  // A gateway may start as a standby member of its cluster (loading, no
  // bucket, designated for no host).
  auto config = ParseDaemonConfig(Config("127.0.0.1:0", R"({"clusterId": 2, "self": "gw3",
          "members": [{"name": "gw3", "underlayIp": "172.31.3.3", "standby": true},
                      {"name": "gw4", "underlay_ip": "172.31.3.4"}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->cluster->members(0).standby());
  EXPECT_FALSE(config->cluster->members(1).standby());
  auto cluster = ClusterFromProto(*config->cluster);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_TRUE(cluster->members[0].standby);
  EXPECT_FALSE(cluster->members[1].standby);
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": 2, "self": "gw3",
          "members": [{"name": "gw3", "underlay_ip": "172.31.3.3", "standby": [true]}]})")),
              HasSubstr("standby"));
}

TEST(DaemonConfigTest, ErrorsNameTheField) {
  EXPECT_THAT(Error("{\"listen\": "), HasSubstr("not valid JSON"));
  // A number no double holds is an error too, not an exception.
  EXPECT_THAT(Error(R"({"listen": "127.0.0.1:1", "direct_idle_timeout": 1e999})"),
              HasSubstr("not valid JSON: number overflow"));
  EXPECT_THAT(Error("[1, 2]"), HasSubstr("JSON object"));
  EXPECT_THAT(Error(R"({"cluster": {}})"), HasSubstr("listen is missing"));
  EXPECT_THAT(Error(R"({"listen": 7, "cluster": {}})"), HasSubstr("listen: must be a string"));
  EXPECT_THAT(Error(Config("unix:gw.sock", kCluster)), HasSubstr("listen: 'unix:gw.sock'"));
  EXPECT_THAT(Error(Config("localhost", kCluster)), HasSubstr("listen: 'localhost'"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", "[]")), HasSubstr("cluster: must be an object"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": 9, "slef": "gw1"})")),
              ::testing::AllOf(StartsWith("cluster: "), HasSubstr("slef")));
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": "nine"})")), StartsWith("cluster: "));
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": 9, "members": []})")),
              HasSubstr("cluster.self is empty"));
  EXPECT_THAT(Error(Config("unix:/gw.sock",
                           R"({"cluster_id": 9, "self": "gw2",
                               "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}]})")),
              HasSubstr("cluster.self: 'gw2' is not one of the members"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", R"({"cluster_id": 9, "self": "gw1",
                               "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}],
                               "hosts": [{"name": "h1"}]})")),
              HasSubstr("cluster.hosts[0].underlay_ip is empty"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", kCluster, R"(, "log_level": "loud")")),
              HasSubstr("log_level: 'loud'"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", kCluster, R"(, "lsiten": "x")")),
              HasSubstr("unknown field 'lsiten'"));
}

TEST(DaemonConfigTest, WithoutABridgeTheGatewayForwardsNothingItself) {
  auto config = ParseDaemonConfig(Config("unix:/gw.sock", kCluster));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->bridge.has_value());
  EXPECT_EQ(config->direct_idle_timeout_s, 60);
}

TEST(DaemonConfigTest, AcceptsABridgeAndADirectIdleTimeout) {
  auto config = ParseDaemonConfig(Config("unix:/gw.sock", kCluster, R"(,
      "bridge": {"openflow": "unix:/run/ovs/br-int.mgmt", "ovsdb": "tcp:127.0.0.1:6640",
                 "packet_in_rate": 2500},
      "direct_idle_timeout": 30)"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->bridge.has_value());
  EXPECT_EQ(config->bridge->openflow, "unix:/run/ovs/br-int.mgmt");
  EXPECT_EQ(config->bridge->ovsdb, "tcp:127.0.0.1:6640");
  EXPECT_EQ(config->bridge->packet_in_rate, 2500u);
  EXPECT_EQ(config->direct_idle_timeout_s, 30);

  // Only openflow is required: no OVSDB (tunnel ports not managed), the
  // default rate.
  config = ParseDaemonConfig(
      Config("unix:/gw.sock", kCluster, R"(, "bridge": {"openflow": "tcp:127.0.0.1:6653"})"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->bridge.has_value());
  EXPECT_EQ(config->bridge->openflow, "tcp:127.0.0.1:6653");
  EXPECT_EQ(config->bridge->ovsdb, "");
  EXPECT_EQ(config->bridge->packet_in_rate, 10000u);
  EXPECT_EQ(config->direct_idle_timeout_s, 60);

  // The ends of the ranges.
  for (const char* extra : {R"(, "bridge": {"openflow": "unix:/br.mgmt", "packet_in_rate": 1},
                                "direct_idle_timeout": 1)",
                            R"(, "bridge": {"openflow": "unix:/br.mgmt",
                                            "packet_in_rate": 10000000},
                                "direct_idle_timeout": 65535)"}) {
    config = ParseDaemonConfig(Config("unix:/gw.sock", kCluster, extra));
    ASSERT_TRUE(config.ok()) << config.status() << extra;
  }
  EXPECT_EQ(config->bridge->packet_in_rate, 10000000u);
  EXPECT_EQ(config->direct_idle_timeout_s, 65535);
}

// The message for `bridge` (a JSON value) in an otherwise good config.
std::string BridgeError(const std::string& bridge) {
  return Error(Config("unix:/gw.sock", kCluster, ", \"bridge\": " + bridge));
}
std::string IdleError(const std::string& value) {
  return Error(Config("unix:/gw.sock", kCluster, ", \"direct_idle_timeout\": " + value));
}

TEST(DaemonConfigTest, BridgeErrorsNameTheField) {
  EXPECT_THAT(BridgeError(R"("unix:/br.mgmt")"), HasSubstr("bridge: must be an object"));
  EXPECT_THAT(BridgeError("[]"), HasSubstr("bridge: must be an object"));
  EXPECT_THAT(BridgeError("{}"), HasSubstr("bridge.openflow is missing"));
  EXPECT_THAT(BridgeError(R"({"ovsdb": "unix:/db.sock"})"),
              HasSubstr("bridge.openflow is missing"));
  EXPECT_THAT(BridgeError(R"({"openflow": "unix:/br.mgmt", "opneflow": "x"})"),
              HasSubstr("bridge: unknown field 'opneflow'"));
  // Targets.
  EXPECT_THAT(BridgeError(R"({"openflow": "br-int"})"), HasSubstr("bridge.openflow: 'br-int'"));
  EXPECT_THAT(BridgeError(R"({"openflow": "unix:br.mgmt"})"),
              HasSubstr("bridge.openflow: 'unix:br.mgmt'"));
  EXPECT_THAT(BridgeError(R"({"openflow": "tcp:gw.example:6653"})"),
              HasSubstr("bridge.openflow: 'tcp:gw.example:6653'"));
  EXPECT_THAT(BridgeError(R"({"openflow": "tcp:127.0.0.1:70000"})"),
              HasSubstr("bridge.openflow: 'tcp:127.0.0.1:70000'"));
  EXPECT_THAT(BridgeError(R"({"openflow": ""})"), HasSubstr("bridge.openflow: ''"));
  EXPECT_THAT(BridgeError(R"({"openflow": "unix:/br.mgmt", "ovsdb": "http://x"})"),
              HasSubstr("bridge.ovsdb: 'http://x'"));
  // Types.
  EXPECT_THAT(BridgeError(R"({"openflow": 6653})"), HasSubstr("bridge.openflow: must be a string"));
  EXPECT_THAT(BridgeError(R"({"openflow": null})"), HasSubstr("bridge.openflow: must be a string"));
  EXPECT_THAT(BridgeError(R"({"openflow": "unix:/br.mgmt", "ovsdb": ["unix:/db.sock"]})"),
              HasSubstr("bridge.ovsdb: must be a string"));
  // The packet-in rate: a whole number in 1..10000000.
  for (const char* rate :
       {"0", "10000001", "-5", "1.5", "\"100\"", "true", "null", "18446744073709551615", "1e30"}) {
    EXPECT_THAT(
        BridgeError(absl::StrCat(R"({"openflow": "unix:/br.mgmt", "packet_in_rate": )", rate, "}")),
        HasSubstr("bridge.packet_in_rate: must be a number of packets per second in "
                  "1..10000000"))
        << rate;
  }
}

TEST(DaemonConfigTest, DirectIdleTimeoutErrorsNameTheField) {
  for (const char* value : {"0", "65536", "-1", "2.5", "\"60\"", "false", "null", "[60]"}) {
    EXPECT_THAT(IdleError(value),
                HasSubstr("direct_idle_timeout: must be a number of seconds in 1..65535"))
        << value;
  }
  // An unknown top-level field lists the new ones among the known.
  EXPECT_THAT(
      Error(Config("unix:/gw.sock", kCluster, R"(, "bridges": {})")),
      AllOf(HasSubstr("unknown field 'bridges'"), HasSubstr("bridge, direct_idle_timeout")));
}

TEST(DaemonConfigTest, ADirectPathBudgetAndItsErrors) {
  auto config = ParseDaemonConfig(
      Config("unix:/gw.sock", kCluster,
             R"(, "direct_path_budget": {"paths": 500, "action": "refuse", "scan_ms": 250})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->direct_path_budget, 500u);
  EXPECT_TRUE(config->budget_refuse);
  EXPECT_EQ(config->budget_scan_ms, 250u);
  auto plain = ParseDaemonConfig(Config("unix:/gw.sock", kCluster));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->direct_path_budget, 0u);  // None.
  EXPECT_FALSE(plain->budget_refuse);
  auto budget = [](const std::string& v) {
    return Error(Config("unix:/gw.sock", kCluster, R"(, "direct_path_budget": )" + v));
  };
  EXPECT_THAT(budget("5"), HasSubstr("direct_path_budget: must be an object"));
  EXPECT_THAT(budget(R"({"paths": -1})"),
              HasSubstr("direct_path_budget.paths: must be a number in 0..10000000"));
  EXPECT_THAT(budget(R"({"paths": 2.5})"), HasSubstr("direct_path_budget.paths"));
  EXPECT_THAT(budget(R"({"action": "drop"})"),
              HasSubstr("direct_path_budget.action: must be \"evict\" or \"refuse\""));
  EXPECT_THAT(budget(R"({"scan_ms": 10})"),
              HasSubstr("direct_path_budget.scan_ms: must be a number of ms in 50..600000"));
  EXPECT_THAT(budget(R"({"pathz": 1})"), HasSubstr("direct_path_budget: unknown field 'pathz'"));
}

TEST(DaemonConfigTest, ApiLimitsAndTheirErrors) {
  auto config = ParseDaemonConfig(
      Config("unix:/gw.sock", kCluster, R"(, "api_limits": {"max_calls": 16, "max_streams": 2})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->api_limits.max_calls, 16u);
  EXPECT_EQ(config->api_limits.max_streams, 2u);
  EXPECT_EQ(config->api_limits.max_threads, 256u);  // The default.
  auto plain = ParseDaemonConfig(Config("unix:/gw.sock", kCluster));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->api_limits.max_calls, 128u);
  EXPECT_THAT(Error(Config("unix:/gw.sock", kCluster, R"(, "api_limits": {"max_calls": 0})")),
              HasSubstr("api_limits.max_calls: must be a whole number in 1..100000"));
  EXPECT_THAT(Error(Config("unix:/gw.sock", kCluster, R"(, "api_limits": {"threads": 9})")),
              HasSubstr("api_limits: unknown field 'threads'"));
}

TEST(DaemonConfigTest, LoadNamesTheFile) {
  testing::TempDir dir("shortcut-config");
  auto missing = LoadDaemonConfig(dir.File("none.json"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("none.json: cannot open"));
  testing::WriteFile(dir.File("gw.json"), R"({"listen": "unix:gw.sock"})");
  auto bad = LoadDaemonConfig(dir.File("gw.json"));
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::AllOf(StartsWith(dir.File("gw.json") + ": "), HasSubstr("listen")));
  testing::WriteFile(dir.File("gw.json"), Config("unix:/gw.sock", kCluster));
  EXPECT_TRUE(LoadDaemonConfig(dir.File("gw.json")).ok());
}

}  // namespace
}  // namespace shortcut::gateway
