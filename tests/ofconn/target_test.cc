#include "src/ofconn/target.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::ofconn {
namespace {

using ::testing::HasSubstr;

TEST(Target, ParsesUnix) {
  auto t = ParseTarget("unix:/var/run/openvswitch/br-int.mgmt");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind, Target::Kind::kUnix);
  EXPECT_EQ(t->path, "/var/run/openvswitch/br-int.mgmt");
  EXPECT_EQ(t->ToString(), "unix:/var/run/openvswitch/br-int.mgmt");
}

TEST(Target, ParsesTcpWithAndWithoutPort) {
  auto t = ParseTarget("tcp:127.0.0.1:6633");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind, Target::Kind::kTcp);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 6633);

  auto d = ParseTarget("tcp:10.1.2.3");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->port, kDefaultOpenFlowPort);
  EXPECT_EQ(d->ToString(), "tcp:10.1.2.3:6653");
}

TEST(Target, ParsesBracketedIpv6) {
  auto t = ParseTarget("tcp:[::1]:6634");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 6634);
  EXPECT_EQ(t->ToString(), "tcp:[::1]:6634");

  auto d = ParseTarget("tcp:[fe80::1]");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->port, 6653);
}

TEST(Target, ParsesSsl) {
  auto t = ParseTarget("ssl:192.168.0.1:6653");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind, Target::Kind::kSsl);
  EXPECT_EQ(t->ToString(), "ssl:192.168.0.1:6653");
}

TEST(Target, ToStringRoundTrips) {
  for (const char* text :
       {"unix:/tmp/x.sock", "tcp:1.2.3.4:1", "tcp:[2001:db8::5]:65535", "ssl:127.0.0.1:6653"}) {
    auto t = ParseTarget(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status();
    EXPECT_EQ(t->ToString(), text);
    EXPECT_EQ(*ParseTarget(t->ToString()), *t);
  }
}

TEST(Target, RelativeUnixPathIsRejectedSayingWhy) {
  auto t = ParseTarget("unix:br-int.mgmt");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("absolute"));
}

TEST(Target, TooLongUnixPathIsRejected) {
  auto t = ParseTarget("unix:/" + std::string(200, 'x'));
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("longer than"));
}

TEST(Target, RejectsMalformedTargets) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {
           Case{"", "expected unix:PATH"},
           Case{"127.0.0.1:6653", "unknown scheme"},
           Case{"punix:/tmp/x", "unknown scheme"},
           Case{"unix:", "missing socket path"},
           Case{"tcp:", "missing IP address"},
           Case{"tcp::6653", "missing IP address"},
           Case{"tcp:1.2.3.4:0", "outside 1..65535"},
           Case{"tcp:1.2.3.4:65536", "outside 1..65535"},
           Case{"tcp:1.2.3.4:", "not a number"},
           Case{"tcp:1.2.3.4:66x", "not a number"},
           Case{"tcp:switch.example.com:6653", "not an IP address"},
           Case{"tcp:1.2.3:6653", "not an IP address"},
           Case{"tcp:::1", "brackets"},
           Case{"tcp:::1:6653", "brackets"},
           Case{"tcp:[1.2.3.4]:6653", "only for IPv6"},
           Case{"tcp:[::1", "missing ']'"},
           Case{"tcp:[::1]6653", "expected ':PORT'"},
       }) {
    auto t = ParseTarget(c.text);
    EXPECT_FALSE(t.ok()) << c.text;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
      EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.why)) << c.text;
      EXPECT_THAT(std::string(t.status().message()), HasSubstr(std::string("\"") + c.text + "\""));
    }
  }
}

}  // namespace
}  // namespace shortcut::ofconn
