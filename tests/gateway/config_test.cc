// shortcut-gatewayd's configuration file: what it accepts, and errors that
// name the field for what it does not.
#include "src/gateway/config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

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
  EXPECT_EQ(config->cluster.cluster_id(), 9u);
  EXPECT_EQ(config->cluster.self(), "gw1");
  ASSERT_EQ(config->cluster.hosts_size(), 1);
  EXPECT_EQ(config->cluster.hosts(0).openflow(), "tcp:172.31.1.1:6653");
  EXPECT_EQ(config->log_level, spdlog::level::debug);
}

TEST(DaemonConfigTest, TakesProtobufsJsonNamesAndDefaultsTheLogLevel) {
  auto config = ParseDaemonConfig(Config(
      "127.0.0.1:0",
      R"({"clusterId": 9, "self": "gw1", "members": [{"name": "gw1", "underlayIp": "172.31.2.1"}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cluster.members(0).underlay_ip(), "172.31.2.1");
  EXPECT_EQ(config->log_level, spdlog::level::info);
}

TEST(DaemonConfigTest, ErrorsNameTheField) {
  EXPECT_THAT(Error("{\"listen\": "), HasSubstr("not valid JSON"));
  EXPECT_THAT(Error("[1, 2]"), HasSubstr("JSON object"));
  EXPECT_THAT(Error(R"({"cluster": {}})"), HasSubstr("listen is missing"));
  EXPECT_THAT(Error(R"({"listen": 7, "cluster": {}})"), HasSubstr("listen: must be a string"));
  EXPECT_THAT(Error(Config("unix:gw.sock", kCluster)), HasSubstr("listen: 'unix:gw.sock'"));
  EXPECT_THAT(Error(Config("localhost", kCluster)), HasSubstr("listen: 'localhost'"));
  EXPECT_THAT(Error(R"({"listen": "unix:/gw.sock"})"), HasSubstr("cluster is missing"));
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

TEST(DaemonConfigTest, LoadNamesTheFile) {
  testing::TempDir dir("shortcut-config");
  auto missing = LoadDaemonConfig(dir.File("none.json"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("none.json: cannot open"));
  testing::WriteFile(dir.File("gw.json"), R"({"listen": "unix:/gw.sock"})");
  auto bad = LoadDaemonConfig(dir.File("gw.json"));
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::AllOf(StartsWith(dir.File("gw.json") + ": "), HasSubstr("cluster")));
  testing::WriteFile(dir.File("gw.json"), Config("unix:/gw.sock", kCluster));
  EXPECT_TRUE(LoadDaemonConfig(dir.File("gw.json")).ok());
}

}  // namespace
}  // namespace shortcut::gateway
