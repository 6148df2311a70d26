// shortcut-managerd's configuration: what it accepts, and every error
// naming its field.
#include "src/manager/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shortcut::manager {
namespace {

using ::testing::HasSubstr;

std::string Error(const std::string& text) {
  auto config = ParseManagerConfig(text);
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return std::string(config.status().message());
}

TEST(ManagerConfigTest, AcceptsAFullConfig) {
  auto config = ParseManagerConfig(R"({"listen": "unix:/run/managerd.sock",
      "nb": "unix:/run/nb.sock,tcp:10.0.0.2:6641,tcp:10.0.0.3:6641",
      "health_interval_ms": 250, "log_level": "debug"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "unix:/run/managerd.sock");
  EXPECT_THAT(config->nb, ::testing::ElementsAre("unix:/run/nb.sock", "tcp:10.0.0.2:6641",
                                                 "tcp:10.0.0.3:6641"));
  EXPECT_EQ(config->health_interval_ms, 250u);
  EXPECT_EQ(config->log_level, spdlog::level::debug);
}

TEST(ManagerConfigTest, Defaults) {
  auto config = ParseManagerConfig(R"({"listen": "127.0.0.1:7000", "nb": "unix:/nb.sock"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->health_interval_ms, 500u);
  EXPECT_EQ(config->log_level, spdlog::level::info);
}

TEST(ManagerConfigTest, ApiLimits) {
  auto config = ParseManagerConfig(R"({"listen": "127.0.0.1:7000", "nb": "unix:/nb.sock",
      "api_limits": {"max_watchers": 8, "max_message_bytes": 1048576}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->api_limits.max_watchers, 8u);
  EXPECT_EQ(config->api_limits.max_message_bytes, 1u << 20);
  EXPECT_EQ(config->api_limits.max_calls, 128u);  // The default.
  EXPECT_THAT(Error(R"({"listen": "127.0.0.1:7000", "nb": "unix:/nb.sock",
      "api_limits": {"max_calls": 300}})"),
              HasSubstr("api_limits.max_threads: 256 must exceed max_calls + max_streams + "
                        "max_watchers (368)"));
}

TEST(ManagerConfigTest, NameAndAdvertise) {
  auto config = ParseManagerConfig(
      R"({"listen": "0.0.0.0:7000", "nb": "unix:/nb.sock", "name": "m1",
          "advertise": "10.0.0.5:7000"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "m1");
  EXPECT_EQ(config->advertise, "10.0.0.5:7000");
  // Defaults: the host's name, and the listen address.
  auto defaults =
      ParseManagerConfig(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock"})", "box-1.lan");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->name, "box-1.lan");
  EXPECT_EQ(defaults->advertise, "unix:/m.sock");
  // A hostname that is no manager name: the file must give one.
  auto bad_host = ParseManagerConfig(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock"})", "a b");
  ASSERT_FALSE(bad_host.ok());
  EXPECT_THAT(bad_host.status().message(), HasSubstr("set \"name\""));
}

TEST(ManagerConfigTest, ErrorsNameTheField) {
  // A number no double holds is an error, not an exception.
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock",
                        "health_interval_ms": 1e999})"),
              HasSubstr("not valid JSON: number overflow"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "name": ""})"),
              HasSubstr("name: '' must be 1 to 64 characters"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "name": "m 1"})"),
              HasSubstr("name: 'm 1' may hold only"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "name": 7})"),
              HasSubstr("name: must be a string"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "advertise": "x"})"),
              HasSubstr("advertise: 'x' is neither"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "advertise": 1})"),
              HasSubstr("advertise: must be a string"));
  EXPECT_THAT(Error("{\"listen\": "), HasSubstr("not valid JSON"));
  EXPECT_THAT(Error("[]"), HasSubstr("JSON object"));
  EXPECT_THAT(Error(R"({"nb": "unix:/nb.sock"})"), HasSubstr("listen is missing"));
  EXPECT_THAT(Error(R"({"listen": "unix:rel.sock", "nb": "unix:/nb.sock"})"),
              HasSubstr("listen: 'unix:rel.sock': a unix socket path must be absolute"));
  EXPECT_THAT(Error(R"({"listen": "localhost", "nb": "unix:/nb.sock"})"),
              HasSubstr("listen: 'localhost' is neither"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock"})"), HasSubstr("nb is missing"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": ["unix:/nb.sock"]})"),
              HasSubstr("nb: must be a string"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock,,tcp:1.2.3.4:6641"})"),
              HasSubstr("nb: empty entry"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock,udp:1.2.3.4:1"})"),
              HasSubstr("nb: 'udp:1.2.3.4:1'"));
  EXPECT_THAT(
      Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "health_interval_ms": 1})"),
      HasSubstr("health_interval_ms: must be an integer from 50 to 60000"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "log_level": "loud"})"),
              HasSubstr("log_level: 'loud'"));
  EXPECT_THAT(Error(R"({"listen": "unix:/m.sock", "nb": "unix:/nb.sock", "nbb": 1})"),
              HasSubstr("unknown field 'nbb'"));
}

TEST(ManagerConfigTest, LoadNamesTheFile) {
  auto config = LoadManagerConfig("/nonexistent/managerd.json");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("/nonexistent/managerd.json"));
}

}  // namespace
}  // namespace shortcut::manager
