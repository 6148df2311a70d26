#include "src/gateway/gateway_db.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Ipv4 Ip(std::string_view text) { return ParseIpv4(text).value(); }
Mac M(std::string_view text) { return ParseMac(text).value(); }

Endpoint Ep(std::string key, std::string vpc, std::string net, std::string ipv4, std::string mac,
            std::string host, std::string ipv6 = "", std::string iface = "") {
  return Endpoint{std::move(key),  std::move(vpc), std::move(net),  std::move(ipv4),
                  std::move(ipv6), std::move(mac), std::move(host), std::move(iface)};
}

std::string Line(const EndpointView& v) {
  return absl::StrCat(
      std::string(v.key), " ", std::string(v.vpc), "/", v.vni, " ", std::string(v.network), " ",
      FormatIpv4(v.ipv4), " ", v.ipv6 ? FormatIpv6(*v.ipv6) : "-", " ", FormatMac(v.mac), " ",
      std::string(v.host), " ", FormatIpv4(v.host_underlay), " ", std::string(v.iface_id));
}

class GatewayDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(
          db_.UpsertHost(Host{absl::StrCat("h", i), absl::StrCat("172.31.1.", i),
                              absl::StrCat("tcp:172.31.1.", i, ":6653"), "unix:/run/ovs/db.sock"})
              .ok());
    }
    ASSERT_TRUE(db_.AddVpc(Vpc{"vpc-a", 100, "02:00:00:00:00:fe"},
                           {Network{"net-1", "10.0.0.0/24", "fd00:a::/64"},
                            Network{"net-2", "10.0.1.0/24", ""}})
                    .ok());
    ASSERT_TRUE(
        db_.AddVpc(Vpc{"vpc-b", 200, "02:00:00:00:00:fe"}, {Network{"net-1", "10.0.0.0/24", ""}})
            .ok());
  }

  // Everything observable, as text: stats, every endpoint of every VPC,
  // hosts of each VPC, VPCs of each host. Equal dumps: equal DBs.
  std::string Dump() {
    EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
    Stats s = db_.GetStats();
    std::string out = absl::StrCat("hosts=", s.hosts, " vpcs=", s.vpcs, " networks=", s.networks,
                                   " endpoints=", s.endpoints, " ipv6=", s.endpoints_ipv6, "\n");
    for (std::string vpc : {"vpc-a", "vpc-b", "vpc-c"}) {
      std::vector<std::string> lines;
      if (!db_.ForEachEndpointOfVpc(vpc, [&](const EndpointView& v) { lines.push_back(Line(v)); })
               .ok()) {
        continue;
      }
      std::sort(lines.begin(), lines.end());
      for (const auto& l : lines) absl::StrAppend(&out, l, "\n");
      std::vector<Holding> hosts = db_.HostsOfVpc(vpc).value();
      for (const Holding& h : hosts) {
        absl::StrAppend(&out, vpc, " on ", std::string(h.name), " x", h.endpoints, "\n");
      }
    }
    for (std::string host : {"h1", "h2", "h3", "h4"}) {
      auto vpcs = db_.VpcsOfHost(host);
      if (!vpcs.ok()) continue;
      for (const Holding& h : *vpcs) {
        absl::StrAppend(&out, host, " holds ", std::string(h.name), "/", h.vni, " x", h.endpoints,
                        "\n");
      }
    }
    return out;
  }

  void Add(const Endpoint& e) {
    auto r = db_.UpdateEndpoint(e);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->created);
  }

  std::vector<std::string> Hosts(std::string_view vpc) {
    std::vector<std::string> out;
    std::vector<Holding> hosts = db_.HostsOfVpc(vpc).value();
    for (const Holding& h : hosts) {
      out.push_back(absl::StrCat(std::string(h.name), ":", h.endpoints));
    }
    return out;
  }

  GatewayDb db_;
};

TEST(AddressTest, ParseAndFormat) {
  EXPECT_EQ(ParseIpv4("10.0.9.3"), 0x0a000903u);
  EXPECT_FALSE(ParseIpv4("10.0.9").has_value());
  EXPECT_FALSE(ParseIpv4("10.0.9.300").has_value());
  EXPECT_FALSE(ParseIpv4("").has_value());
  EXPECT_FALSE(ParseIpv4(std::string(100, '1')).has_value());
  EXPECT_EQ(FormatIpv4(0x0a000903u), "10.0.9.3");
  EXPECT_EQ(FormatIpv6(ParseIpv6("FD00:A:0::5").value()), "fd00:a::5");
  EXPECT_FALSE(ParseIpv6("fd00::g").has_value());
  EXPECT_EQ(FormatMac(ParseMac("02:AB:cd:00:00:01").value()), "02:ab:cd:00:00:01");
  EXPECT_FALSE(ParseMac("02:ab:cd:00:00").has_value());
  EXPECT_FALSE(ParseMac("02-ab-cd-00-00-01").has_value());
  EXPECT_FALSE(ParseMac("02:ab:cd:00:00:0g").has_value());
  auto c = ParseIpv4Cidr("10.0.0.0/24");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->Contains(Ip("10.0.0.255")));
  EXPECT_FALSE(c->Contains(Ip("10.0.1.0")));
  EXPECT_EQ(FormatCidr(*c), "10.0.0.0/24");
  EXPECT_FALSE(ParseIpv4Cidr("10.0.0.1/24").has_value());  // Host bits set.
  EXPECT_FALSE(ParseIpv4Cidr("10.0.0.0/33").has_value());
  EXPECT_FALSE(ParseIpv4Cidr("10.0.0.0").has_value());
  EXPECT_TRUE(ParseIpv4Cidr("0.0.0.0/0").has_value());
  auto c6 = ParseIpv6Cidr("fd00:a::/64");
  ASSERT_TRUE(c6.has_value());
  EXPECT_TRUE(c6->Contains(ParseIpv6("fd00:a::1234").value()));
  EXPECT_FALSE(c6->Contains(ParseIpv6("fd00:b::1").value()));
  EXPECT_FALSE(ParseIpv6Cidr("fd00:a::1/64").has_value());
  EXPECT_TRUE(ParseIpv6Cidr("fd00:a::1/128").has_value());
}

TEST_F(GatewayDbTest, Hosts) {
  auto r = db_.UpsertHost(Host{"h1", "172.31.1.1", "tcp:172.31.1.1:6653", "unix:/run/ovs/db.sock"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->created);
  EXPECT_FALSE(r->underlay_changed);
  EXPECT_FALSE(r->targets_changed);
  r = db_.UpsertHost(Host{"h1", "172.31.9.1", "tcp:172.31.9.1:6653", ""});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->underlay_changed);
  EXPECT_TRUE(r->targets_changed);
  EXPECT_EQ(db_.FindHost("h1")->underlay, Ip("172.31.9.1"));

  std::string before = Dump();
  EXPECT_EQ(db_.UpsertHost(Host{"", "1.2.3.4", "", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad = db_.UpsertHost(Host{"h9", "1.2.3", "", ""});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("host h9: underlay_ipv4 '1.2.3' is malformed"));
  bad = db_.UpsertHost(Host{"h1", "1.2.3.4", "http:x", ""});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("openflow_target"));
  EXPECT_EQ(Dump(), before);
  EXPECT_EQ(db_.FindHost("h1")->underlay, Ip("172.31.9.1"));  // Unchanged by the failure.

  EXPECT_EQ(db_.DeleteHost("h9").code(), absl::StatusCode::kNotFound);
  Add(Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h3"));
  absl::Status busy = db_.DeleteHost("h3");
  EXPECT_EQ(busy.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(busy.message(), HasSubstr("host h3: 1 endpoints"));
  ASSERT_TRUE(db_.DeleteEndpoint("ep-1").ok());
  EXPECT_TRUE(db_.DeleteHost("h3").ok());
  EXPECT_FALSE(db_.FindHost("h3").has_value());
  EXPECT_EQ(db_.GetStats().hosts, 2u);
  auto missing =
      db_.UpdateEndpoint(Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h3"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GatewayDbTest, AddVpcErrorsChangeNothing) {
  Add(Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1"));
  std::string before = Dump();
  struct Case {
    Vpc vpc;
    std::vector<Network> networks;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"", 5, "02:00:00:00:00:fe"}, {}, absl::StatusCode::kInvalidArgument, "vpc: id is empty"},
      {{"vpc-c", 0, "02:00:00:00:00:fe"},
       {},
       absl::StatusCode::kInvalidArgument,
       "vpc vpc-c: vni 0 is not in 1..16777215"},
      {{"vpc-c", 1 << 24, "02:00:00:00:00:fe"},
       {},
       absl::StatusCode::kInvalidArgument,
       "vni 16777216"},
      {{"vpc-c", 5, "02:00:00:00:fe"}, {}, absl::StatusCode::kInvalidArgument, "router_mac"},
      {{"vpc-c", 5, "01:00:00:00:00:fe"},
       {},
       absl::StatusCode::kInvalidArgument,
       "is not a unicast MAC"},
      {{"vpc-a", 5, "02:00:00:00:00:fe"},
       {},
       absl::StatusCode::kAlreadyExists,
       "vpc vpc-a already exists"},
      {{"vpc-c", 200, "02:00:00:00:00:fe"},
       {},
       absl::StatusCode::kAlreadyExists,
       "vpc vpc-c: vni 200 is already used by vpc vpc-b"},
      {{"vpc-c", 5, "02:00:00:00:00:fe"},
       {{"n1", "10.0.0.0/24", ""}, {"n1", "10.0.1.0/24", ""}},
       absl::StatusCode::kAlreadyExists,
       "network n1 is given twice"},
      {{"vpc-c", 5, "02:00:00:00:00:fe"},
       {{"n1", "10.0.0.0/16", ""}, {"n2", "10.0.1.0/24", ""}},
       absl::StatusCode::kInvalidArgument,
       "network n2 overlaps network n1"},
      {{"vpc-c", 5, "02:00:00:00:00:fe"},
       {{"n1", "10.0.0.0/24", "fd00::/48"}, {"n2", "10.0.1.0/24", "fd00:0:0:1::/64"}},
       absl::StatusCode::kInvalidArgument,
       "network n2 overlaps network n1"},
      {{"vpc-c", 5, "02:00:00:00:00:fe"},
       {{"n1", "10.0.0.1/24", ""}},
       absl::StatusCode::kInvalidArgument,
       "network n1: ipv4_cidr '10.0.0.1/24' is malformed or has host bits set"},
      {{"vpc-c", 5, "02:00:00:00:00:fe"},
       {{"n1", "10.0.0.0/24", "fd00::/129"}},
       absl::StatusCode::kInvalidArgument,
       "ipv6_cidr"},
      {{"vpc-c", 5, "02:00:00:00:00:fe"},
       {{"", "10.0.0.0/24", ""}},
       absl::StatusCode::kInvalidArgument,
       "network: id is empty"},
  };
  for (const Case& c : cases) {
    absl::Status s = db_.AddVpc(c.vpc, c.networks);
    EXPECT_EQ(s.code(), c.code) << c.message << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
    EXPECT_EQ(Dump(), before) << c.message;
  }
  EXPECT_FALSE(db_.FindVpc("vpc-c").has_value());
  EXPECT_FALSE(db_.FindVpcByVni(5).has_value());
}

TEST_F(GatewayDbTest, AddNetwork) {
  std::string before = Dump();
  EXPECT_EQ(db_.AddNetwork("vpc-x", Network{"n", "10.9.0.0/24", ""}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.AddNetwork("vpc-a", Network{"net-1", "10.9.0.0/24", ""}).code(),
            absl::StatusCode::kAlreadyExists);
  absl::Status overlap = db_.AddNetwork("vpc-a", Network{"net-3", "10.0.0.128/25", ""});
  EXPECT_EQ(overlap.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(overlap.message(), HasSubstr("vpc vpc-a: network net-3 overlaps network net-1"));
  EXPECT_EQ(db_.AddNetwork("vpc-a", Network{"net-3", "10.9.0.0/24", "bad"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Dump(), before);

  ASSERT_TRUE(db_.AddNetwork("vpc-a", Network{"net-3", "10.9.0.0/24", ""}).ok());
  EXPECT_EQ(db_.FindVpc("vpc-a")->networks, 3u);
  EXPECT_EQ(db_.GetStats().networks, 4u);
  Add(Ep("ep-9", "vpc-a", "net-3", "10.9.0.9", "02:00:00:00:00:09", "h1"));
}

TEST_F(GatewayDbTest, EndpointErrorsChangeNothing) {
  Add(Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1", "fd00:a::1"));
  Add(Ep("ep-2", "vpc-a", "net-2", "10.0.1.2", "02:00:00:00:00:02", "h2"));
  std::string before = Dump();
  struct Case {
    Endpoint e;
    absl::StatusCode code;
    std::string message;
  };
  const std::string mac = "02:00:00:00:00:07";
  std::vector<Case> cases = {
      {Ep("", "vpc-a", "net-1", "10.0.0.7", mac, "h1"), absl::StatusCode::kInvalidArgument,
       "endpoint: key is empty"},
      {Ep(std::string(256, 'k'), "vpc-a", "net-1", "10.0.0.7", mac, "h1"),
       absl::StatusCode::kInvalidArgument, "key is longer than 255 bytes"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", mac, "h1", "", std::string(256, 'i')),
       absl::StatusCode::kInvalidArgument, "endpoint ep-7: iface_id is longer than 255 bytes"},
      {Ep("ep-7", "vpc-x", "net-1", "10.0.0.7", mac, "h1"), absl::StatusCode::kNotFound,
       "endpoint ep-7: vpc vpc-x is unknown"},
      {Ep("ep-7", "vpc-a", "net-9", "10.0.0.7", mac, "h1"), absl::StatusCode::kNotFound,
       "endpoint ep-7: network net-9 is unknown in vpc vpc-a"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", mac, "h9"), absl::StatusCode::kNotFound,
       "endpoint ep-7: host h9 is unknown"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0", mac, "h1"), absl::StatusCode::kInvalidArgument,
       "endpoint ep-7: ipv4 '10.0.0' is malformed"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.9.3", mac, "h1"), absl::StatusCode::kInvalidArgument,
       "endpoint ep-7: ipv4 10.0.9.3 is outside network net-1 (10.0.0.0/24)"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", mac, "h1", "fd00:a::zz"),
       absl::StatusCode::kInvalidArgument, "endpoint ep-7: ipv6 'fd00:a::zz' is malformed"},
      {Ep("ep-7", "vpc-a", "net-2", "10.0.1.7", mac, "h1", "fd00:a::7"),
       absl::StatusCode::kInvalidArgument,
       "endpoint ep-7: ipv6 fd00:a::7 given but network net-2 has no ipv6 cidr"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", mac, "h1", "fd00:b::7"),
       absl::StatusCode::kInvalidArgument,
       "endpoint ep-7: ipv6 fd00:b::7 is outside network net-1 (fd00:a::/64)"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", "02:00:00:00:07", "h1"),
       absl::StatusCode::kInvalidArgument, "endpoint ep-7: mac '02:00:00:00:07' is not a unicast"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", "01:00:5e:00:00:01", "h1"),
       absl::StatusCode::kInvalidArgument, "is not a unicast MAC"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", "00:00:00:00:00:00", "h1"),
       absl::StatusCode::kInvalidArgument, "is not a unicast MAC"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.1", mac, "h1"), absl::StatusCode::kAlreadyExists,
       "endpoint ep-7: ipv4 10.0.0.1 is already used by endpoint ep-1 in vpc vpc-a"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", "02:00:00:00:00:02", "h1"),
       absl::StatusCode::kAlreadyExists,
       "endpoint ep-7: mac 02:00:00:00:00:02 is already used by endpoint ep-2 in vpc vpc-a"},
      {Ep("ep-7", "vpc-a", "net-1", "10.0.0.7", mac, "h1", "fd00:a::1"),
       absl::StatusCode::kAlreadyExists,
       "endpoint ep-7: ipv6 fd00:a::1 is already used by endpoint ep-1 in vpc vpc-a"},
      // An existing endpoint cannot take another's address either.
      {Ep("ep-2", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:02", "h2"),
       absl::StatusCode::kAlreadyExists, "endpoint ep-2: ipv4 10.0.0.1 is already used by"},
      {Ep("ep-1", "vpc-b", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1"),
       absl::StatusCode::kFailedPrecondition,
       "endpoint ep-1 is in vpc vpc-a, not vpc-b: an endpoint never changes vpc"},
  };
  for (const Case& c : cases) {
    auto r = db_.UpdateEndpoint(c.e);
    EXPECT_EQ(r.status().code(), c.code) << c.message << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
    EXPECT_EQ(Dump(), before) << c.message;
    EXPECT_FALSE(db_.FindEndpoint("ep-7").has_value());
    EXPECT_FALSE(db_.LookupByVniIp(100, Ip("10.0.0.7")).has_value());
    // Each case again as a one-element batch: the same code, nothing changes.
    absl::Status bulk = db_.AddEndpoints({c.e});
    if (c.code != absl::StatusCode::kFailedPrecondition) {
      EXPECT_EQ(bulk.code(), c.code) << c.message << ": " << bulk;
    } else {
      EXPECT_EQ(bulk.code(), absl::StatusCode::kAlreadyExists);  // Bulk only inserts.
    }
    EXPECT_THAT(bulk.message(), HasSubstr("endpoints[0]: "));
    EXPECT_EQ(Dump(), before) << c.message;
  }
  EXPECT_EQ(db_.DeleteEndpoint("ep-7").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.DeleteVpc("vpc-x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.DeleteNetwork("vpc-a", "net-9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.DeleteNetwork("vpc-x", "net-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.ForEachEndpointOfHost("h9", [](const EndpointView&) {}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.HostsOfVpc("vpc-x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Dump(), before);
}

TEST_F(GatewayDbTest, NewUnchangedMovedReaddressed) {
  auto r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1", "", "iface-1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->created);
  EXPECT_TRUE(r->host_gained_vpc);

  auto t = db_.LookupByVniIp(100, Ip("10.0.0.1"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->host_underlay, Ip("172.31.1.1"));
  EXPECT_EQ(db_.View(t->id).mac, M("02:00:00:00:00:01"));
  EXPECT_EQ(db_.View(t->id).iface_id, "iface-1");
  EXPECT_EQ(Line(db_.View(t->id)),
            "ep-1 vpc-a/100 net-1 10.0.0.1 - 02:00:00:00:00:01 h1 172.31.1.1 iface-1");

  // The same again: unchanged.
  r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1", "", "iface-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->created);
  EXPECT_FALSE(r->changed);
  EXPECT_FALSE(r->moved);
  EXPECT_FALSE(r->readdressed);

  // Moved h1 → h2: h1 released vpc-a, h2 gained it.
  r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h2", "", "iface-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(r->moved);
  EXPECT_FALSE(r->readdressed);
  EXPECT_EQ(r->old_host, "h1");
  EXPECT_TRUE(r->host_gained_vpc);
  EXPECT_TRUE(r->old_host_released_vpc);
  EXPECT_EQ(db_.LookupByVniIp(100, Ip("10.0.0.1"))->host_underlay, Ip("172.31.1.2"));
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h2:1"));

  // Readdressed: new IPv4 and MAC; the old ones are gone from the indexes.
  r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-1", "10.0.0.11", "02:00:00:00:00:11", "h2", "", "iface-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->readdressed);
  EXPECT_FALSE(r->moved);
  EXPECT_FALSE(r->host_gained_vpc);
  EXPECT_FALSE(r->old_host_released_vpc);
  EXPECT_EQ(r->old_ipv4, Ip("10.0.0.1"));
  EXPECT_EQ(r->old_mac, M("02:00:00:00:00:01"));
  EXPECT_FALSE(db_.LookupByVniIp(100, Ip("10.0.0.1")).has_value());
  EXPECT_FALSE(db_.FindByMac("vpc-a", M("02:00:00:00:00:01")).has_value());
  EXPECT_EQ(db_.FindByMac("vpc-a", M("02:00:00:00:00:11"))->key, "ep-1");
  EXPECT_EQ(db_.View(db_.LookupByVniIp(100, Ip("10.0.0.11"))->id).mac, M("02:00:00:00:00:11"));
  // The freed address is free for another endpoint.
  Add(Ep("ep-2", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h3"));

  // IPv6 added, then changed, then removed: readdressed each time.
  r = db_.UpdateEndpoint(Ep("ep-1", "vpc-a", "net-1", "10.0.0.11", "02:00:00:00:00:11", "h2",
                            "fd00:a::11", "iface-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->readdressed);
  EXPECT_FALSE(r->old_ipv6.has_value());
  EXPECT_EQ(db_.FindByIpv6("vpc-a", ParseIpv6("fd00:a::11").value())->key, "ep-1");
  EXPECT_EQ(db_.GetStats().endpoints_ipv6, 1u);
  r = db_.UpdateEndpoint(Ep("ep-1", "vpc-a", "net-1", "10.0.0.11", "02:00:00:00:00:11", "h2",
                            "fd00:a::12", "iface-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->old_ipv6, ParseIpv6("fd00:a::11"));
  EXPECT_FALSE(db_.FindByIpv6("vpc-a", ParseIpv6("fd00:a::11").value()).has_value());
  r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-1", "10.0.0.11", "02:00:00:00:00:11", "h2", "", "iface-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->readdressed);
  EXPECT_FALSE(db_.FindByIpv6("vpc-a", ParseIpv6("fd00:a::12").value()).has_value());
  EXPECT_EQ(db_.GetStats().endpoints_ipv6, 0u);

  // Only iface id, then only network: changed, neither moved nor readdressed.
  r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-1", "10.0.0.11", "02:00:00:00:00:11", "h2", "", "iface-1b"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_FALSE(r->moved || r->readdressed);
  EXPECT_EQ(db_.View(db_.LookupByVniIp(100, Ip("10.0.0.11"))->id).iface_id, "iface-1b");
  r = db_.UpdateEndpoint(
      Ep("ep-1", "vpc-a", "net-2", "10.0.1.11", "02:00:00:00:00:11", "h2", "", "iface-1b"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(r->readdressed);
  EXPECT_FALSE(r->moved || r->host_gained_vpc || r->old_host_released_vpc);
  EXPECT_EQ(db_.FindEndpoint("ep-1")->network, "net-2");
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h2:1", "h3:1"));

  // Moved and readdressed at once.
  r = db_.UpdateEndpoint(Ep("ep-1", "vpc-a", "net-2", "10.0.1.12", "02:00:00:00:00:11", "h3"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->moved && r->readdressed);
  EXPECT_EQ(r->old_host, "h2");
  EXPECT_EQ(r->old_ipv4, Ip("10.0.1.11"));
  EXPECT_FALSE(r->host_gained_vpc);  // h3 already held vpc-a (ep-2).
  EXPECT_TRUE(r->old_host_released_vpc);
  EXPECT_EQ(db_.FindEndpoint("ep-1")->iface_id, "");
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h3:2"));
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

TEST_F(GatewayDbTest, SameIpInTwoVpcs) {
  Add(Ep("a-1", "vpc-a", "net-1", "10.0.0.5", "02:00:00:00:00:05", "h1"));
  // Same IPv4 and MAC in another VPC: allowed.
  Add(Ep("b-1", "vpc-b", "net-1", "10.0.0.5", "02:00:00:00:00:05", "h2"));
  auto a = db_.LookupByVniIp(100, Ip("10.0.0.5"));
  auto b = db_.LookupByVniIp(200, Ip("10.0.0.5"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(db_.View(a->id).key, "a-1");
  EXPECT_EQ(db_.View(b->id).key, "b-1");
  EXPECT_EQ(a->host_underlay, Ip("172.31.1.1"));
  EXPECT_EQ(b->host_underlay, Ip("172.31.1.2"));
  EXPECT_FALSE(db_.LookupByVniIp(300, Ip("10.0.0.5")).has_value());
  EXPECT_EQ(db_.FindByIpv4("vpc-b", Ip("10.0.0.5"))->key, "b-1");
  EXPECT_EQ(db_.FindByMac("vpc-a", M("02:00:00:00:00:05"))->key, "a-1");
  // Keys are unique across VPCs.
  EXPECT_EQ(
      db_.AddEndpoints({Ep("a-1", "vpc-b", "net-1", "10.0.0.6", "02:00:00:00:00:06", "h2")}).code(),
      absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(db_.DeleteEndpoint("a-1").ok());
  EXPECT_FALSE(db_.LookupByVniIp(100, Ip("10.0.0.5")).has_value());
  EXPECT_TRUE(db_.LookupByVniIp(200, Ip("10.0.0.5")).has_value());
}

TEST_F(GatewayDbTest, DeleteEndpoint) {
  Add(Ep("ep-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1", "fd00:a::1", "ep-1"));
  Add(Ep("ep-2", "vpc-a", "net-1", "10.0.0.2", "02:00:00:00:00:02", "h1"));
  auto r = db_.DeleteEndpoint("ep-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->vpc, "vpc-a");
  EXPECT_EQ(r->vni, 100u);
  ASSERT_EQ(r->endpoints.size(), 1u);
  EXPECT_EQ(r->endpoints[0].key, "ep-1");
  EXPECT_EQ(r->endpoints[0].network, "net-1");
  EXPECT_EQ(r->endpoints[0].ipv4, Ip("10.0.0.1"));
  EXPECT_EQ(r->endpoints[0].ipv6, ParseIpv6("fd00:a::1"));
  EXPECT_EQ(r->endpoints[0].mac, M("02:00:00:00:00:01"));
  EXPECT_EQ(r->endpoints[0].host, "h1");
  EXPECT_TRUE(r->released_hosts.empty());  // ep-2 keeps h1 in vpc-a.
  EXPECT_FALSE(db_.FindEndpoint("ep-1").has_value());
  EXPECT_FALSE(db_.LookupByVniIp(100, Ip("10.0.0.1")).has_value());
  EXPECT_FALSE(db_.FindByMac("vpc-a", M("02:00:00:00:00:01")).has_value());
  EXPECT_FALSE(db_.FindByIpv6("vpc-a", ParseIpv6("fd00:a::1").value()).has_value());
  r = db_.DeleteEndpoint("ep-2");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->released_hosts, ElementsAre("h1"));
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre());
  EXPECT_EQ(db_.GetStats(), (Stats{3, 2, 3, 0, 0}));
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

TEST_F(GatewayDbTest, DeleteVpcRemovesEverything) {
  Add(Ep("a-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1", "fd00:a::1"));
  Add(Ep("a-2", "vpc-a", "net-2", "10.0.1.2", "02:00:00:00:00:02", "h2"));
  Add(Ep("a-3", "vpc-a", "net-2", "10.0.1.3", "02:00:00:00:00:03", "h2"));
  Add(Ep("b-1", "vpc-b", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h2"));
  auto r = db_.DeleteVpc("vpc-a");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->vpc, "vpc-a");
  EXPECT_EQ(r->vni, 100u);
  std::vector<std::string> removed;
  for (const RemovedEndpoint& e : r->endpoints) {
    removed.push_back(absl::StrCat(e.key, " ", e.network, " ", FormatIpv4(e.ipv4), " ", e.host));
  }
  std::sort(removed.begin(), removed.end());
  EXPECT_THAT(removed, ElementsAre("a-1 net-1 10.0.0.1 h1", "a-2 net-2 10.0.1.2 h2",
                                   "a-3 net-2 10.0.1.3 h2"));
  EXPECT_THAT(r->released_hosts, ElementsAre("h1", "h2"));

  // No stale entry anywhere.
  EXPECT_FALSE(db_.FindVpc("vpc-a").has_value());
  EXPECT_FALSE(db_.FindVpcByVni(100).has_value());
  for (const char* ip : {"10.0.0.1", "10.0.1.2", "10.0.1.3"}) {
    EXPECT_FALSE(db_.LookupByVniIp(100, Ip(ip)).has_value()) << ip;
  }
  for (const char* key : {"a-1", "a-2", "a-3"}) EXPECT_FALSE(db_.FindEndpoint(key)) << key;
  std::vector<std::string> on_h2;
  ASSERT_TRUE(db_.ForEachEndpointOfHost(
                     "h2", [&](const EndpointView& v) { on_h2.push_back(std::string(v.key)); })
                  .ok());
  EXPECT_THAT(on_h2, ElementsAre("b-1"));
  ASSERT_TRUE(
      db_.ForEachEndpointOfHost("h1", [&](const EndpointView& v) { ADD_FAILURE() << v.key; }).ok());
  EXPECT_EQ(db_.FindHost("h1")->vpcs, 0u);
  EXPECT_EQ(db_.FindHost("h2")->endpoints, 1u);
  EXPECT_EQ(db_.GetStats(), (Stats{3, 1, 1, 1, 0}));
  EXPECT_EQ(db_.LookupByVniIp(200, Ip("10.0.0.1"))->host_underlay, Ip("172.31.1.2"));
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();

  // The id, VNI and addresses can be used again.
  ASSERT_TRUE(db_.AddVpc(Vpc{"vpc-a", 100, "02:00:00:00:00:fe"},
                         {Network{"net-1", "10.0.0.0/24", "fd00:a::/64"}})
                  .ok());
  Add(Ep("a-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h3", "fd00:a::1"));
  EXPECT_EQ(db_.LookupByVniIp(100, Ip("10.0.0.1"))->host_underlay, Ip("172.31.1.3"));
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h3:1"));
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

TEST_F(GatewayDbTest, DeleteNetworkRemovesItsEndpoints) {
  Add(Ep("a-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1"));
  Add(Ep("a-2", "vpc-a", "net-2", "10.0.1.2", "02:00:00:00:00:02", "h1"));
  Add(Ep("a-3", "vpc-a", "net-2", "10.0.1.3", "02:00:00:00:00:03", "h2"));
  auto r = db_.DeleteNetwork("vpc-a", "net-2");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> keys;
  for (const RemovedEndpoint& e : r->endpoints) keys.push_back(e.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_THAT(keys, ElementsAre("a-2", "a-3"));
  // h1 keeps vpc-a through a-1; h2 has nothing of it left.
  EXPECT_THAT(r->released_hosts, ElementsAre("h2"));
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h1:1"));
  EXPECT_FALSE(db_.LookupByVniIp(100, Ip("10.0.1.2")).has_value());
  EXPECT_FALSE(db_.FindByMac("vpc-a", M("02:00:00:00:00:03")).has_value());
  EXPECT_TRUE(db_.LookupByVniIp(100, Ip("10.0.0.1")).has_value());
  EXPECT_EQ(db_.FindVpc("vpc-a")->networks, 1u);
  EXPECT_EQ(db_.FindVpc("vpc-a")->endpoints, 1u);
  EXPECT_EQ(db_.UpdateEndpoint(Ep("a-9", "vpc-a", "net-2", "10.0.1.9", "02:00:00:00:00:09", "h1"))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(db_.ForEachEndpointOfNetwork("vpc-a", "net-2", [](const EndpointView&) {}).code(),
            absl::StatusCode::kNotFound);
  std::vector<std::string> net1;
  ASSERT_TRUE(
      db_.ForEachEndpointOfNetwork(
             "vpc-a", "net-1", [&](const EndpointView& v) { net1.push_back(std::string(v.key)); })
          .ok());
  EXPECT_THAT(net1, ElementsAre("a-1"));
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

std::vector<Endpoint> Batch(int from, int to, const std::string& vpc = "vpc-a") {
  std::vector<Endpoint> out;
  for (int i = from; i < to; ++i) {
    out.push_back(Ep(absl::StrCat(vpc, "-", i), vpc, "net-1", absl::StrCat("10.0.0.", i),
                     absl::StrCat("02:00:00:00:00:", i % 10, i / 10),
                     absl::StrCat("h", 1 + i % 3)));
  }
  return out;
}

TEST_F(GatewayDbTest, BulkLoadAllOrNothing) {
  ASSERT_TRUE(db_.AddEndpoints(Batch(1, 11)).ok());
  ASSERT_TRUE(db_.DeleteEndpoint("vpc-a-3").ok());  // A free slot for the next batch.
  std::string before = Dump();

  // A key repeated in the middle of the batch.
  std::vector<Endpoint> batch = Batch(20, 40);
  batch[10] = batch[4];
  batch[10].ipv4 = "10.0.0.99";
  batch[10].mac = "02:00:00:00:00:99";
  absl::Status s = db_.AddEndpoints(batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("endpoints[10]: endpoint vpc-a-24 already exists"));
  EXPECT_EQ(Dump(), before);
  EXPECT_FALSE(db_.LookupByVniIp(100, Ip("10.0.0.20")).has_value());

  // An IPv4 repeated in the middle, naming the earlier endpoint of the batch.
  batch = Batch(20, 40);
  batch[12].ipv4 = "10.0.0.25";
  s = db_.AddEndpoints(batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("endpoints[12]: endpoint vpc-a-32: ipv4 10.0.0.25 is "
                                     "already used by endpoint vpc-a-25 in vpc vpc-a"));
  EXPECT_EQ(Dump(), before);

  // A MAC already in the DB, last in the batch.
  batch = Batch(20, 40);
  batch.back().mac = "02:00:00:00:00:10";  // vpc-a-1's.
  EXPECT_EQ(db_.AddEndpoints(batch).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Dump(), before);

  // A malformed item: rejected before anything is inserted.
  batch = Batch(20, 40);
  batch[15].ipv4 = "10.0.5.1";
  s = db_.AddEndpoints(batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("endpoints[15]: endpoint vpc-a-35: ipv4 10.0.5.1 is outside"));
  EXPECT_EQ(Dump(), before);

  // An existing key.
  batch = Batch(20, 40);
  batch[7].key = "vpc-a-1";
  EXPECT_EQ(db_.AddEndpoints(batch).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Dump(), before);

  // Then the clean batch goes in whole.
  ASSERT_TRUE(db_.AddEndpoints(Batch(20, 40)).ok());
  EXPECT_EQ(db_.GetStats().endpoints, 9u + 20u);
  for (int i = 20; i < 40; ++i) {
    auto t = db_.LookupByVniIp(100, Ip(absl::StrCat("10.0.0.", i)));
    ASSERT_TRUE(t.has_value()) << i;
    EXPECT_EQ(db_.View(t->id).key, absl::StrCat("vpc-a-", i));
  }
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
  EXPECT_TRUE(db_.AddEndpoints({}).ok());
}

TEST_F(GatewayDbTest, HostsOfVpcCounts) {
  Add(Ep("a-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1"));
  Add(Ep("a-2", "vpc-a", "net-1", "10.0.0.2", "02:00:00:00:00:02", "h1"));
  Add(Ep("a-3", "vpc-a", "net-2", "10.0.1.3", "02:00:00:00:00:03", "h2"));
  Add(Ep("b-1", "vpc-b", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1"));
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h1:2", "h2:1"));
  EXPECT_THAT(Hosts("vpc-b"), ElementsAre("h1:1"));
  auto vpcs = db_.VpcsOfHost("h1").value();
  ASSERT_EQ(vpcs.size(), 2u);
  EXPECT_EQ(vpcs[0].name, "vpc-a");
  EXPECT_EQ(vpcs[0].vni, 100u);
  EXPECT_EQ(vpcs[0].endpoints, 2u);
  EXPECT_EQ(vpcs[1].name, "vpc-b");
  EXPECT_EQ(db_.FindVpc("vpc-a")->hosts, 2u);

  // Move a-1 to h3: h1 keeps vpc-a (a-2), h3 gains it.
  auto r = db_.UpdateEndpoint(Ep("a-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h3"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->host_gained_vpc);
  EXPECT_FALSE(r->old_host_released_vpc);
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h1:1", "h2:1", "h3:1"));
  // Move a-2 to h2: h1 releases vpc-a, h2 already held it.
  r = db_.UpdateEndpoint(Ep("a-2", "vpc-a", "net-1", "10.0.0.2", "02:00:00:00:00:02", "h2"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->host_gained_vpc);
  EXPECT_TRUE(r->old_host_released_vpc);
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h2:2", "h3:1"));
  EXPECT_EQ(db_.VpcsOfHost("h1")->size(), 1u);
  ASSERT_TRUE(db_.DeleteEndpoint("a-1").ok());
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h2:2"));
  EXPECT_EQ(db_.FindHost("h3")->vpcs, 0u);
  ASSERT_TRUE(db_.AddEndpoints(Batch(10, 16)).ok());  // h1..h3 round robin.
  EXPECT_THAT(Hosts("vpc-a"), ElementsAre("h1:2", "h2:4", "h3:2"));
  ASSERT_TRUE(db_.DeleteVpc("vpc-b").ok());
  EXPECT_EQ(db_.VpcsOfHost("h1")->size(), 1u);
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

TEST_F(GatewayDbTest, VpcStandbyFlag) {
  // Added served by default, standby when the Vpc says so.
  EXPECT_FALSE(db_.FindVpc("vpc-a")->standby);
  Vpc c{"vpc-c", 300, "02:00:00:00:00:fe"};
  c.standby = true;
  ASSERT_TRUE(db_.AddVpc(c, {Network{"n", "10.0.0.0/24", ""}}).ok());
  EXPECT_TRUE(db_.FindVpc("vpc-c")->standby);
  EXPECT_TRUE(db_.FindVpcByVni(300)->standby);
  Add(Ep("a-1", "vpc-a", "net-1", "10.0.0.1", "02:00:00:00:00:01", "h1"));
  Add(Ep("c-1", "vpc-c", "n", "10.0.0.1", "02:00:00:00:00:01", "h1"));
  // VpcsOfHost says which of a host's VPCs are standby.
  auto vpcs = db_.VpcsOfHost("h1").value();
  ASSERT_EQ(vpcs.size(), 2u);
  EXPECT_EQ(vpcs[0].name, "vpc-a");
  EXPECT_FALSE(vpcs[0].standby);
  EXPECT_EQ(vpcs[1].name, "vpc-c");
  EXPECT_TRUE(vpcs[1].standby);
  const std::string before = Dump();

  // Changed, then unchanged.
  auto changed = db_.SetVpcStandby("vpc-c", false);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_FALSE(db_.FindVpc("vpc-c")->standby);
  EXPECT_FALSE(db_.VpcsOfHost("h1").value()[1].standby);
  changed = db_.SetVpcStandby("vpc-c", false);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);
  changed = db_.SetVpcStandby("vpc-a", true);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(db_.FindVpc("vpc-a")->standby);
  EXPECT_TRUE(db_.VpcsOfHost("h1").value()[0].standby);
  EXPECT_FALSE(db_.FindVpc("vpc-b")->standby);  // Only the VPC named.

  // Unknown VPC: NotFound, nothing changed.
  auto unknown = db_.SetVpcStandby("vpc-z", true);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("vpc-z"));
  // The flag is all that changed: endpoints, holdings, counts as before.
  EXPECT_EQ(Dump(), before);

  // A VPC deleted and added again under the same id takes the new flag.
  ASSERT_TRUE(db_.DeleteVpc("vpc-a").ok());
  ASSERT_TRUE(db_.AddVpc(Vpc{"vpc-a", 100, "02:00:00:00:00:fe"}, {}).ok());
  EXPECT_FALSE(db_.FindVpc("vpc-a")->standby);
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

TEST_F(GatewayDbTest, IterationAndBatchLookup) {
  ASSERT_TRUE(db_.AddEndpoints(Batch(1, 60)).ok());
  size_t n = 0;
  ASSERT_TRUE(db_.ForEachEndpointOfVpc("vpc-a", [&](const EndpointView&) { ++n; }).ok());
  EXPECT_EQ(n, 59u);
  n = 0;
  ASSERT_TRUE(db_.ForEachEndpointOfHost("h1",
                                        [&](const EndpointView& v) {
                                          EXPECT_EQ(v.host, "h1");
                                          ++n;
                                        })
                  .ok());
  EXPECT_EQ(n, db_.FindHost("h1")->endpoints);

  // A burst mixing VNIs (100, 200, an unknown 999), hits and misses, longer
  // than one prefetch chunk: each answer is the view's own key and host.
  std::vector<VniIp> keys;
  for (int i = 0; i < 70; ++i) {
    keys.push_back({i % 3 == 0 ? 200u : i % 3 == 1 ? 100u : 999u, Ip(absl::StrCat("10.0.0.", i))});
  }
  std::vector<std::optional<PathTarget>> out(keys.size());
  db_.LookupBatch(keys.data(), keys.size(), out.data());
  size_t hits = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    std::optional<EndpointView> want =
        db_.FindByIpv4(keys[i].vni == 100 ? "vpc-a" : "vpc-b", keys[i].ip);
    if (keys[i].vni == 999) want.reset();
    ASSERT_EQ(out[i].has_value(), want.has_value()) << i;
    if (!want) continue;
    ++hits;
    EXPECT_EQ(out[i]->id, want->id) << i;
    EXPECT_EQ(out[i]->host_underlay, want->host_underlay) << i;
  }
  EXPECT_GT(hits, 10u);
}

// Enough churn of long iface ids to make the arena compact itself; lookups
// and views stay right across it.
TEST_F(GatewayDbTest, StringArenaCompacts) {
  ASSERT_TRUE(
      db_.AddVpc(Vpc{"vpc-c", 300, "02:00:00:00:00:fe"}, {Network{"n", "10.0.0.0/16", ""}}).ok());
  auto ep = [](int i, int round) {
    return Ep(absl::StrCat("c-", i), "vpc-c", "n", FormatIpv4(Ip("10.0.0.0") + i),
              FormatMac(Mac{2, 0, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}),
              "h1", "", absl::StrCat(round, "-", std::string(200, 'x'), "-", i));
  };
  for (int round = 0; round < 4; ++round) {
    for (int i = 1; i <= 3000; ++i) ASSERT_TRUE(db_.UpdateEndpoint(ep(i, round)).ok());
  }
  // Without compaction 3 rounds x 3000 x ~210 bytes (1.9 MB) would be
  // garbage; compaction keeps it under max(1 MB, live) plus one string.
  EXPECT_LT(db_.GetMemoryUsage().strings_garbage, (1u << 20) + 256);
  for (int i = 1; i <= 3000; i += 97) {
    auto t = db_.LookupByVniIp(300, Ip("10.0.0.0") + i);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(db_.View(t->id).iface_id, ep(i, 3).iface_id);
    EXPECT_EQ(db_.View(t->id).key, absl::StrCat("c-", i));
  }
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
  ASSERT_TRUE(db_.DeleteVpc("vpc-c").ok());
  EXPECT_TRUE(db_.CheckConsistency().ok()) << db_.CheckConsistency();
}

// The (VNI, IPv4) index under churn, against a model: inserts that grow the
// table, readdresses, moves, iface changes, deletes (backward shifts across
// long probe runs), a network delete, rolled-back batches and a host's
// underlay change. After each phase the DB checks itself (CheckConsistency
// walks the index) and every live and removed address is looked up, singly
// and in a batch.
TEST_F(GatewayDbTest, IpIndexConsistentUnderChurn) {
  ASSERT_TRUE(db_.AddVpc(Vpc{"vpc-c", 300, "02:00:00:00:00:fe"},
                         {Network{"n", "10.0.0.0/16", ""}, Network{"m", "10.1.0.0/16", ""}})
                  .ok());
  struct Want {
    std::string key;
    std::string host;
    std::string iface;
  };
  std::map<std::pair<uint32_t, Ipv4>, Want> model;         // (VNI, IPv4) → endpoint.
  std::map<std::string, std::pair<uint32_t, Ipv4>> where;  // Key → (VNI, IPv4).
  std::vector<std::pair<uint32_t, Ipv4>> gone;             // Addresses removed since.
  std::mt19937 rng(7);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  auto vpc_of = [](uint32_t vni) { return vni == 300 ? std::string("vpc-c") : "vpc-b"; };
  // Endpoint `i` of a VPC; its IPv4 may be readdressed to 10.0.x.y or
  // 10.1.x.y (network "n" or "m" in vpc-c; vpc-b has only 10.0.0.0/24).
  auto make = [&](uint32_t vni, int i, Ipv4 ip, const std::string& host, const std::string& iface) {
    std::string key = absl::StrCat(vni, "-", i);
    std::string net = vni == 200 ? "net-1" : ((ip >> 16) & 0xff) == 0 ? "n" : "m";
    return Ep(key, vpc_of(vni), net, FormatIpv4(ip),
              FormatMac(Mac{2, 0, static_cast<uint8_t>(vni >> 8), static_cast<uint8_t>(i >> 16),
                            static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}),
              host, "", iface);
  };
  auto iface_for = [&](const std::string& key) -> std::string {
    switch (pick(3)) {
      case 0:
        return "";
      case 1:
        return key;
      default:
        return absl::StrCat("vif-", key, "-", pick(1000));
    }
  };
  auto forget = [&](const std::string& key) {
    auto w = where.find(key);
    gone.push_back(w->second);
    model.erase(w->second);
    where.erase(w);
  };
  auto verify = [&](const char* phase) {
    ASSERT_TRUE(db_.CheckConsistency().ok()) << phase << ": " << db_.CheckConsistency();
    for (const auto& [addr, want] : model) {
      auto t = db_.LookupByVniIp(addr.first, addr.second);
      ASSERT_TRUE(t.has_value()) << phase << " " << want.key;
      EXPECT_EQ(db_.View(t->id).key, want.key) << phase;
      EXPECT_EQ(db_.View(t->id).iface_id, want.iface) << phase << " " << want.key;
      EXPECT_EQ(t->host_underlay, db_.FindHost(want.host)->underlay) << phase << " " << want.key;
    }
    for (const auto& addr : gone) {
      if (!model.contains(addr)) {
        EXPECT_FALSE(db_.LookupByVniIp(addr.first, addr.second).has_value())
            << phase << " " << FormatIpv4(addr.second);
      }
    }
    std::vector<VniIp> ips;
    std::vector<std::string> keys;
    auto add = [&](uint32_t vni, Ipv4 ip) {
      ips.push_back({vni, ip});
      keys.push_back(model.contains({vni, ip}) ? model.at({vni, ip}).key : "");
    };
    for (const auto& [addr, want] : model) {
      add(addr.first, addr.second);
      add(addr.first, addr.second ^ 0x8000);            // Mostly misses.
      add(addr.first == 300 ? 200 : 300, addr.second);  // The other VPC: hit or miss.
    }
    std::vector<std::optional<PathTarget>> out(ips.size());
    db_.LookupBatch(ips.data(), ips.size(), out.data());
    for (size_t i = 0; i < ips.size(); ++i) {
      ASSERT_EQ(out[i].has_value(), !keys[i].empty())
          << phase << " " << ips[i].vni << " " << FormatIpv4(ips[i].ip);
      if (out[i]) {
        EXPECT_EQ(db_.View(out[i]->id).key, keys[i]) << phase;
        EXPECT_EQ(out[i]->host_underlay,
                  db_.FindHost(model.at({ips[i].vni, ips[i].ip}).host)->underlay)
            << phase;
      }
    }
  };

  // 1. Inserts one by one (the table grows several times), then a batch.
  constexpr int kN = 3000;
  for (int i = 0; i < kN; ++i) {
    Ipv4 ip = Ip("10.0.0.0") + static_cast<Ipv4>(i) * 7;  // Spread over 10.0.0.0/16.
    std::string host = absl::StrCat("h", 1 + pick(3));
    Endpoint e = make(300, i, ip, host, iface_for(absl::StrCat("300-", i)));
    ASSERT_TRUE(db_.UpdateEndpoint(e).ok()) << e.key;
    model[{300, ip}] = Want{e.key, host, e.iface_id};
    where[e.key] = {300, ip};
  }
  std::vector<Endpoint> batch;
  for (int i = 0; i < 200; ++i) {
    Ipv4 ip = Ip("10.0.0.0") + static_cast<Ipv4>(i);  // Same IPs in another VNI.
    batch.push_back(make(200, i, ip, "h2", ""));
  }
  ASSERT_TRUE(db_.AddEndpoints(batch).ok());
  for (const Endpoint& e : batch) {
    model[{200, Ip(e.ipv4)}] = Want{e.key, e.host, ""};
    where[e.key] = {200, Ip(e.ipv4)};
  }
  verify("inserted");

  // 2. Readdress, move, change iface, at random.
  for (int round = 0; round < 4000; ++round) {
    int i = static_cast<int>(pick(kN));
    std::string key = absl::StrCat("300-", i);
    if (!where.contains(key)) continue;
    const Want old = model.at(where.at(key));
    Ipv4 ip = where.at(key).second;
    if (pick(2) == 0) ip = Ip("10.0.0.0") + (pick(2) << 16) + pick(0x10000);
    if (ip != where.at(key).second && model.contains({300, ip})) {
      auto r = db_.UpdateEndpoint(make(300, i, ip, old.host, old.iface));
      EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
      continue;
    }
    std::string host = pick(2) == 0 ? absl::StrCat("h", 1 + pick(3)) : old.host;
    std::string iface = pick(4) == 0 ? iface_for(key) : old.iface;
    ASSERT_TRUE(db_.UpdateEndpoint(make(300, i, ip, host, iface)).ok()) << key;
    model.erase(where.at(key));
    gone.push_back(where.at(key));
    model[{300, ip}] = Want{key, host, iface};
    where[key] = {300, ip};
  }
  verify("updated");

  // 3. Delete a random third of vpc-c's endpoints.
  for (int i = 0; i < kN; ++i) {
    std::string key = absl::StrCat("300-", i);
    if (pick(3) != 0 || !where.contains(key)) continue;
    ASSERT_TRUE(db_.DeleteEndpoint(key).ok()) << key;
    forget(key);
  }
  verify("deleted");

  // 4. Batches that fail part-way leave the index as it was: the conflict is
  // on the IPv4 of an earlier batch member, on an IPv4 already in the DB, and
  // on a MAC after the IPv4 went in.
  std::string before = Dump();
  for (int variant = 0; variant < 3; ++variant) {
    batch.clear();
    Ipv4 ip = Ip("10.1.200.0");
    for (int i = 0; i < 500; ++i, ++ip) {
      while (model.contains({300, ip})) ++ip;  // Fresh addresses only.
      batch.push_back(make(300, 100000 + i, ip, "h3", "x"));
    }
    if (variant == 0) batch[400].ipv4 = batch[17].ipv4;
    if (variant == 1) {
      auto taken = model.lower_bound({300, 0});
      batch[450] = make(300, 100450, taken->first.second, "h3", "x");
    }
    if (variant == 2) batch[499].mac = batch[3].mac;
    EXPECT_EQ(db_.AddEndpoints(batch).code(), absl::StatusCode::kAlreadyExists) << variant;
    EXPECT_EQ(Dump(), before) << variant;
    for (const Endpoint& e : batch) {
      EXPECT_FALSE(db_.FindEndpoint(e.key).has_value());
    }
  }
  verify("rolled back");

  // 5. A host's underlay changes: lookups answer the new one.
  ASSERT_TRUE(db_.UpsertHost(Host{"h2", "172.31.9.2", "", ""}).ok());
  verify("underlay changed");

  // 6. Delete a network of vpc-c, then the whole of vpc-b.
  auto removal = db_.DeleteNetwork("vpc-c", "m");
  ASSERT_TRUE(removal.ok());
  for (const RemovedEndpoint& r : removal->endpoints) forget(r.key);
  verify("network deleted");
  removal = db_.DeleteVpc("vpc-b");
  ASSERT_TRUE(removal.ok());
  for (const RemovedEndpoint& r : removal->endpoints) forget(r.key);
  verify("vpc deleted");
  EXPECT_EQ(db_.GetStats().endpoints, model.size());
}

}  // namespace
}  // namespace shortcut::gateway
