// Designation of hosts to the members of a cluster (rendezvous hashing):
// the same answer in every gateway process and every version (golden
// values), spread over the members, moving only what must move; and two
// gateways of one cluster, each programming exactly the hosts designated to
// it while the other's hosts get nothing from it.
#include <algorithm>
#include <asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/gateway/gateway.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::testing::ElementsAre;

std::vector<ClusterMember> Members(const std::vector<std::string>& names,
                                   const std::vector<std::string>& standby = {}) {
  std::vector<ClusterMember> members;
  for (size_t i = 0; i < names.size(); ++i) {
    ClusterMember m;
    m.name = names[i];
    m.underlay_ipv4 = "172.31.2." + std::to_string(i + 1);
    m.standby = std::find(standby.begin(), standby.end(), names[i]) != standby.end();
    members.push_back(m);
  }
  return members;
}

// Every gateway of a cluster computes the designation on its own, and the
// management plane's view of who programs what relies on it: the answer is
// a fixed function of the names, the same in every process (no seeded
// hash) and in every version (a change here moves hosts between members
// during an upgrade, with two writers on a host). These values were
// computed once and are written here literally.
TEST(DesignationGoldenTest, TheSameAnswerInEveryProcessAndEveryVersion) {
  struct Case {
    std::vector<std::string> members;
    std::vector<std::string> standby;
    const char* host;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {{"gw1", "gw2"}, {}, "host1", "gw2"},
      {{"gw1", "gw2"}, {}, "host2", "gw1"},
      {{"gw1", "gw2"}, {}, "host3", "gw1"},
      {{"gw1", "gw2"}, {}, "host4", "gw2"},
      {{"gw1", "gw2"}, {}, "host5", "gw2"},
      {{"gw1", "gw2"}, {}, "host6", "gw1"},
      {{"gw1", "gw2"}, {}, "host7", "gw1"},
      {{"gw1", "gw2"}, {}, "host8", "gw2"},
      {{"gw1", "gw2", "gw3"}, {}, "host1", "gw2"},
      {{"gw1", "gw2", "gw3"}, {}, "host2", "gw1"},
      {{"gw1", "gw2", "gw3"}, {}, "host3", "gw1"},
      {{"gw1", "gw2", "gw3"}, {}, "host4", "gw3"},
      {{"gw1", "gw2", "gw3"}, {}, "host5", "gw2"},
      {{"gw1", "gw2", "gw3"}, {}, "host6", "gw1"},
      // A standby member takes no host: gw2's go elsewhere.
      {{"gw1", "gw2", "gw3"}, {"gw2"}, "host1", "gw3"},
      {{"gw1", "gw2", "gw3"}, {"gw2"}, "host4", "gw3"},
      {{"gw1", "gw2", "gw3"}, {"gw2"}, "host5", "gw3"},
      {{"gw-a", "gw-b", "gw-c", "gw-d"}, {}, "compute-0", "gw-d"},
      {{"gw-a", "gw-b", "gw-c", "gw-d"}, {}, "compute-1", "gw-a"},
      {{"gw-a", "gw-b", "gw-c", "gw-d"}, {}, "compute-17", "gw-a"},
      {{"gw-a", "gw-b", "gw-c", "gw-d"}, {}, "rack3-node12", "gw-d"},
      {{"gw-a", "gw-b", "gw-c", "gw-d"}, {}, "h", "gw-d"},
      {{"gw-b", "gw-c"}, {}, "host1", "gw-c"},
      {{"gw-b", "gw-c"}, {}, "compute-0", "gw-b"},
      {{"gw1", "gw2"}, {"gw1", "gw2"}, "host1", ""},  // Nobody serves.
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DesignatedMember(c.host, Members(c.members, c.standby)), c.expected)
        << c.host << " among " << ::testing::PrintToString(c.members) << " (standby "
        << ::testing::PrintToString(c.standby) << ")";
  }
}

TEST(DesignationTest, SpreadOverTheMembersWhateverTheirOrderAndOnlyALeaversHostsMove) {
  std::vector<ClusterMember> members = Members({"gw1", "gw2"});
  std::vector<ClusterMember> reversed = {members[1], members[0]};
  std::map<std::string, int> count;
  for (int i = 0; i < 100; ++i) {
    std::string host = "host" + std::to_string(i);
    EXPECT_EQ(DesignatedMember(host, members), DesignatedMember(host, reversed)) << host;
    ++count[DesignatedMember(host, members)];
  }
  EXPECT_GT(count["gw1"], 25);
  EXPECT_GT(count["gw2"], 25);
  // A member leaves: only its hosts move.
  std::vector<ClusterMember> three = Members({"gw1", "gw2", "gw3"});
  int moved = 0;
  for (int i = 0; i < 100; ++i) {
    std::string host = "host" + std::to_string(i);
    std::string before = DesignatedMember(host, three);
    if (before != "gw3") {
      EXPECT_EQ(DesignatedMember(host, members), before) << host;
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 15);
  EXPECT_EQ(DesignatedMember("host1", {}), "");
}

// Two gateways of one cluster (gw1, gw2) and four simulated hosts; by the
// golden values above gw1 is designated for host2 and host3, gw2 for host1
// and host4. Each gateway is told the same thing (as the management plane
// does), one after the other, and a VM on every host comes online.
class TwoMembersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimHosts hosts;
    absl::Status started =
        hosts.Start(io_.get_executor(), dir_, {"host1", "host2", "host3", "host4"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    for (const char* name : {"gw1", "gw2"}) {
      gateways_[name] = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
    }
  }
  ClusterConfig Cluster(const std::string& self) {
    ClusterConfig c;
    c.cluster_id = 9;
    c.self = self;
    c.members = Members({"gw1", "gw2"});
    for (int i = 1; i <= 4; ++i) {
      std::string name = "host" + std::to_string(i);
      c.hosts.push_back({name, "172.31.1." + std::to_string(i), targets_[name], ""});
    }
    return c;
  }
  absl::Status AddVpc(Gateway& gw) {
    Vpc vpc{"vpc1", 100, "02:5c:00:00:00:01"};
    std::vector<Network> networks = {{"net1", "10.0.0.0/24", ""}};
    return gw.AddVpc(vpc, networks);
  }
  static Endpoint Ep(int host) {
    std::string n = std::to_string(host);
    return {"ep0" + n,  "vpc1",   "net1", "10.0.0.1" + n, "", "02:00:00:00:00:0" + n,
            "host" + n, "ep0" + n};
  }
  // The cluster, the VPC and a VM on each host (its port bound first) to
  // `gw`; the hosts for which it said the VM is online.
  asio::awaitable<std::vector<std::string>> Tell(Gateway& gw, ClusterConfig c) {
    std::vector<std::string> online;
    absl::Status set = co_await gw.SetCluster(std::move(c));
    EXPECT_TRUE(set.ok()) << set;
    absl::Status added = AddVpc(gw);
    EXPECT_TRUE(added.ok()) << added;
    for (int i = 1; i <= 4; ++i) {
      Endpoint e = Ep(i);
      absl::Status bound = co_await gw.BindPort(e.host, e.iface_id, 5);
      EXPECT_TRUE(bound.ok()) << bound;
      auto r = co_await gw.UpdateEndpoint(e);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok() && r->online) online.push_back(e.host);
    }
    co_return online;
  }
  // Messages that change a switch.
  uint64_t Changes(const std::string& host) {
    const fakes::FakeSwitch::Counters& c = switches_[host]->counters();
    return c.flow_mods + c.group_mods + c.meter_mods + c.bundle_adds + c.bundle_commits;
  }
  std::vector<uint32_t> Buckets(const std::string& host) {
    std::vector<uint32_t> ports;
    for (const of::GroupDesc& g : switches_[host]->Groups()) {
      if (g.group_id != 9) continue;
      for (const of::Bucket& b : g.buckets) ports.push_back(b.watch_port);
    }
    return ports;
  }

  asio::io_context io_;
  testing::TempDir dir_{"shortcut-designation"};
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::map<std::string, std::unique_ptr<Gateway>> gateways_;
};

TEST_F(TwoMembersTest, EachGatewayProgramsExactlyTheHostsDesignatedToIt) {
  const ClusterConfig for_gw1 = Cluster("gw1");
  const ClusterConfig for_gw2 = Cluster("gw2");
  const size_t programmed = 2 + 3 + 4;  // Shared drops, the VPC's rules, the VM's.
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    Gateway& gw1 = *gateways_["gw1"];
    Gateway& gw2 = *gateways_["gw2"];

    // gw1 first: it programs host2 and host3, and sends host1 and host4
    // nothing at all.
    std::vector<std::string> online1 = co_await Tell(gw1, for_gw1);
    EXPECT_THAT(online1, ElementsAre("host2", "host3"));
    for (const char* host : {"host2", "host3"}) {
      EXPECT_TRUE(gw1.Designated(host)) << host;
      EXPECT_EQ(switches_[host]->flow_count(), programmed) << host;
      EXPECT_THAT(Buckets(host), ElementsAre(60001u, 60002u)) << host;
    }
    for (const char* host : {"host1", "host4"}) {
      EXPECT_FALSE(gw1.Designated(host)) << host;
      EXPECT_EQ(Changes(host), 0u) << host;
      EXPECT_EQ(switches_[host]->flow_count(), 0u) << host;
    }

    // Then gw2: it programs host1 and host4, and sends gw1's hosts nothing.
    for (auto& [name, sw] : switches_) sw->ResetCounters();
    std::vector<std::string> online2 = co_await Tell(gw2, for_gw2);
    EXPECT_THAT(online2, ElementsAre("host1", "host4"));
    for (const char* host : {"host1", "host4"}) {
      EXPECT_TRUE(gw2.Designated(host)) << host;
      EXPECT_GT(Changes(host), 0u) << host;
      EXPECT_EQ(switches_[host]->flow_count(), programmed) << host;
      EXPECT_THAT(Buckets(host), ElementsAre(60001u, 60002u)) << host;
    }
    for (const char* host : {"host2", "host3"}) {
      EXPECT_FALSE(gw2.Designated(host)) << host;
      EXPECT_EQ(Changes(host), 0u) << host;
      EXPECT_EQ(switches_[host]->flow_count(), programmed) << host;
    }

    // A VM more on every host, told to both: each host hears from its own
    // gateway alone (one bundle each), and only that one confirms it.
    for (auto& [name, sw] : switches_) sw->ResetCounters();
    std::map<std::string, std::string> confirmed_by;
    for (int i = 1; i <= 4; ++i) {
      Endpoint e = Ep(i);
      e.key = e.iface_id = "ep1" + std::to_string(i);
      e.ipv4 = "10.0.0.2" + std::to_string(i);
      e.mac = "02:00:00:00:01:0" + std::to_string(i);
      for (auto& [name, gw] : gateways_) {
        CO_ASSERT_OK(co_await gw->BindPort(e.host, e.iface_id, 6));
        CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw->UpdateEndpoint(e));
        if (r.online) confirmed_by[e.host] += name;
      }
    }
    EXPECT_EQ(confirmed_by,
              (std::map<std::string, std::string>{
                  {"host1", "gw2"}, {"host2", "gw1"}, {"host3", "gw1"}, {"host4", "gw2"}}));
    for (const char* host : {"host1", "host2", "host3", "host4"}) {
      EXPECT_EQ(switches_[host]->counters().bundle_commits, 1u) << host;
      EXPECT_EQ(switches_[host]->flow_count(), programmed + 4) << host;
    }
  });
}

}  // namespace
}  // namespace shortcut::gateway
