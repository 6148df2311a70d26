// Direct paths on real ovs-vswitchd hosts (four of them, each its own
// sandbox set up by `shortcutctl host init`, with an OpenFlow listener), one
// Gateway programming them and a Forwarder fed packet-ins as the gateway
// bridge would send them:
//   - a VM reaching two VMs of another host within the merge window gets a
//     path toward each on its host, and the replies are merged;
//   - a move, a readdress and a delete of an endpoint, DeleteNetwork and
//     DeleteVpc take the stale paths off every host holding them (three at
//     once), and only those;
//   - a host whose listener is gone during an invalidation keeps the stale
//     path until it is back, then gets the delete without another call.
// Oracle: ovs-ofctl dump-flows of each host's br-int (its management
// socket, which stays up when the listener goes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/common/clock.h"
#include "src/gateway/forwarder.h"
#include "src/gateway/gateway.h"
#include "src/packet/packet.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using gateway::ClusterConfig;
using gateway::ClusterMember;
using gateway::Endpoint;
using gateway::Forwarder;
using gateway::Gateway;
using ::testing::HasSubstr;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";
constexpr Millis kBound = 20000;
constexpr uint32_t kVni = 100;
// A direct path's cookie: kind 2 (pipeline::kCookieDirect), the tag of
// the gateway that installed it (its tunnel ofport 60001 less 60000), the VNI.
const std::string kDirectCookie = "cookie=0x5c00020001000064,";

const std::vector<std::string>& HostNames() {
  static const std::vector<std::string> names = {"host1", "host2", "host3", "host4"};
  return names;
}
std::string Underlay(const std::string& host) { return "172.31.1." + host.substr(4); }

// Outside the coroutines (g++ 12 and braced initialisers of strings).
Endpoint Ep(const std::string& key, const std::string& ip, const std::string& host,
            const std::string& network = "net1") {
  Endpoint e;
  e.key = key;
  e.vpc = "vpc1";
  e.network = network;
  e.ipv4 = ip;
  e.mac = "02:00:00:00:00:" + key.substr(key.size() - 2);
  e.host = host;
  e.iface_id = key;
  return e;
}

of::PacketIn PacketIn(const std::string& from_host, const std::string& src,
                      const std::string& dst) {
  of::PacketIn pin;
  pin.reason = of::kPacketInAction;
  pin.match.Set(of::Field::kTunIpv4Src, *model::ParseIpv4(Underlay(from_host)));
  pin.match.Set(of::Field::kMetadata, kVni);
  packet::PacketBuilder b;
  b.Eth(packet::MacAddr{2, 0, 0, 0, 0, 1}, packet::MacAddr{2, 0x5c, 0, 0, 0, 1})
      .Ipv4(packet::Ipv4Addr{*model::ParseIpv4(src)}, packet::Ipv4Addr{*model::ParseIpv4(dst)})
      .Icmp(8, 0, 0x10001);
  pin.data = b.Build();
  return pin;
}

class DirectPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& h : HostNames()) {
      auto& ovs = ovs_[h];
      ovs = std::make_unique<OvsSandbox>();
      ASSERT_TRUE(ovs->Start({}).ok());
      RunResult r = RunProcess({kCtl, "host", "init", "--db", ovs->db_target(), "--tunnel-ip",
                                Underlay(h), "--datapath-type", "netdev"});
      ASSERT_TRUE(r.ok()) << r.err;
      // The listener the gateway connects to (a Unix socket: host init
      // makes TCP ones only).
      RunResult l = ovs->Vsctl({"set-controller", "br-int", Listener(h)});
      ASSERT_TRUE(l.ok()) << l.err;
    }
    Gateway::Options o;
    o.session.min_backoff = 50;
    o.session.max_backoff = 200;
    o.session.connection.probe_interval = 0;
    o.host_timeout = 5000;
    gw_ = std::make_unique<Gateway>(io_.get_executor(), o);
    Forwarder::Options fo;
    fo.clock = &clock_;
    fwd_ = std::make_unique<Forwarder>(io_.get_executor(), *gw_, fo);
  }
  void TearDown() override {
    fwd_.reset();
    gw_.reset();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(300));
  }

  // The host's OpenFlow listener, which the gateway connects to.
  // OVS accepts Unix listeners named <rundir>/<bridge>.* only.
  std::string Listener(const std::string& host) {
    return "punix:" + ovs_[host]->dir() + "/br-int.listener";
  }
  ClusterConfig Cluster() {
    ClusterConfig c;
    c.cluster_id = 1;
    c.self = "gw1";
    ClusterMember m;
    m.name = "gw1";
    m.underlay_ipv4 = "172.31.2.1";
    c.members.push_back(m);
    for (const std::string& h : HostNames()) {
      gateway::Host host;
      host.name = h;
      host.underlay_ipv4 = Underlay(h);
      host.openflow_target = Listener(h).substr(1);  // "unix:...".
      c.hosts.push_back(host);
    }
    return c;
  }
  absl::Status AddVpc() {
    gateway::Vpc vpc{"vpc1", kVni, "02:5c:00:00:00:01"};
    std::vector<gateway::Network> networks = {{"net1", "10.0.0.0/24", ""},
                                              {"net2", "10.0.1.0/24", ""}};
    return gw_->AddVpc(vpc, networks);
  }
  asio::awaitable<void> Prepare(std::vector<Endpoint> endpoints) {
    absl::Status s = co_await gw_->SetCluster(Cluster());
    EXPECT_TRUE(s.ok()) << s;
    s = AddVpc();
    EXPECT_TRUE(s.ok()) << s;
    s = co_await gw_->AddEndpoints(std::move(endpoints));
    EXPECT_TRUE(s.ok()) << s;
  }

  // Each packet-in, as the gateway bridge hands it over, in a fresh merge
  // window; each must set up (or merge into) a confirmed path.
  asio::awaitable<void> Reach(std::vector<of::PacketIn> pins) {
    clock_.Advance(2000);
    for (of::PacketIn& pin : pins) {
      absl::Status s = co_await fwd_->Handle(std::move(pin));
      EXPECT_TRUE(s.ok()) << s;
    }
  }

  std::string DumpFlows(const std::string& host) {
    RunResult r =
        ovs_[host]->Ofctl({"dump-flows", "--no-stats", ovs_[host]->OpenflowTarget("br-int")});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  // dump-flows' direct paths on `host` toward `dst` (any destination if
  // empty).
  size_t Paths(const std::string& host, const std::string& dst = "") {
    size_t n = 0;
    for (absl::string_view line : absl::StrSplit(DumpFlows(host), '\n')) {
      if (!absl::StrContains(line, kDirectCookie)) continue;
      std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(", "));
      n += dst.empty() || std::find(fields.begin(), fields.end(), "nw_dst=" + dst) != fields.end();
    }
    return n;
  }
  // Polls `pred` every 100 ms (each look runs OVS tools) up to kBound.
  asio::awaitable<bool> Poll(std::function<bool()> pred) {
    asio::steady_timer timer(io_);
    for (int i = 0; i * 100 < kBound; ++i) {
      if (pred()) co_return true;
      timer.expires_after(std::chrono::milliseconds(100));
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return pred();
  }

  asio::io_context io_;
  std::map<std::string, std::unique_ptr<OvsSandbox>> ovs_;
  ManualClock clock_{1000};
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<Forwarder> fwd_;
};

TEST_F(DirectPathsTest, AVmReachingTwoVmsOfAnotherHostWithinASecondGetsAPathTowardEach) {
  std::vector<Endpoint> eps = {Ep("a01", "10.0.0.10", "host1"), Ep("x02", "10.0.0.11", "host2"),
                               Ep("y03", "10.0.0.12", "host2")};
  std::vector<of::PacketIn> a_to_x = {PacketIn("host1", "10.0.0.10", "10.0.0.11")};
  std::vector<of::PacketIn> then_a_to_y = {PacketIn("host1", "10.0.0.10", "10.0.0.12")};
  std::vector<of::PacketIn> replies = {PacketIn("host2", "10.0.0.11", "10.0.0.10"),
                                       PacketIn("host2", "10.0.0.12", "10.0.0.10")};
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await Prepare(eps);
        co_await Reach(a_to_x);
        // A→Y right after (the clock stands still: well within the window).
        CO_ASSERT_OK(co_await fwd_->Handle(then_a_to_y[0]));
        EXPECT_EQ(fwd_->counters().setups, 2u);
        EXPECT_EQ(fwd_->counters().merged, 0u);
        EXPECT_EQ(Paths("host1", "10.0.0.11"), 1u) << DumpFlows("host1");
        EXPECT_EQ(Paths("host1", "10.0.0.12"), 1u) << DumpFlows("host1");
        EXPECT_EQ(Paths("host1"), 2u);
        EXPECT_EQ(Paths("host2", "10.0.0.10"), 1u) << DumpFlows("host2");
        EXPECT_EQ(Paths("host2"), 1u);
        // Both replies ride the reverse path already there: merged.
        for (const of::PacketIn& pin : replies) CO_ASSERT_OK(co_await fwd_->Handle(pin));
        EXPECT_EQ(fwd_->counters().merged, 2u);
        EXPECT_EQ(fwd_->counters().setups, 2u);
        EXPECT_EQ(fwd_->counters().failures, 0u);
      },
      120000);
}

TEST_F(DirectPathsTest, AMoveAReaddressAndADeleteTakeThePathsTowardTheEndpointOffEveryHost) {
  // t00 on host1 and a peer on each host; the peers on the other hosts
  // reach it, so three hosts hold a path toward it.
  std::vector<Endpoint> eps = {Ep("t00", "10.0.0.10", "host1"), Ep("p21", "10.0.0.21", "host1"),
                               Ep("p22", "10.0.0.22", "host2"), Ep("p23", "10.0.0.23", "host3"),
                               Ep("p24", "10.0.0.24", "host4")};
  std::vector<of::PacketIn> toward_t_on_host1 = {PacketIn("host2", "10.0.0.22", "10.0.0.10"),
                                                 PacketIn("host3", "10.0.0.23", "10.0.0.10"),
                                                 PacketIn("host4", "10.0.0.24", "10.0.0.10")};
  std::vector<of::PacketIn> toward_t_on_host4 = {PacketIn("host1", "10.0.0.21", "10.0.0.10"),
                                                 PacketIn("host2", "10.0.0.22", "10.0.0.10"),
                                                 PacketIn("host3", "10.0.0.23", "10.0.0.10")};
  std::vector<of::PacketIn> toward_new_address = {PacketIn("host1", "10.0.0.21", "10.0.0.30"),
                                                  PacketIn("host2", "10.0.0.22", "10.0.0.30"),
                                                  PacketIn("host3", "10.0.0.23", "10.0.0.30")};
  Endpoint moved = Ep("t00", "10.0.0.10", "host4");
  Endpoint readdressed = Ep("t00", "10.0.0.30", "host4");
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await Prepare(eps);
        co_await Reach(toward_t_on_host1);
        for (const char* h : {"host2", "host3", "host4"}) {
          EXPECT_TRUE(Paths(h, "10.0.0.10") == 1u) << h << DumpFlows(h);
        }
        CO_ASSERT_TRUE(Paths("host1") == 3u);  // The reverse paths, toward the peers.

        // Moved to host4: every path toward it tunnels to host1, all go.
        CO_ASSERT_OK_AND_ASSIGN(auto m, co_await gw_->UpdateEndpoint(moved));
        EXPECT_TRUE(m.update.moved);
        for (const std::string& h : HostNames()) EXPECT_EQ(Paths(h, "10.0.0.10"), 0u) << h;
        EXPECT_EQ(Paths("host1"), 3u);  // Toward the peers, which did not move.

        // Readdressed: the paths toward the old address go.
        co_await Reach(toward_t_on_host4);
        for (const char* h : {"host1", "host2", "host3"}) {
          EXPECT_TRUE(Paths(h, "10.0.0.10") == 1u) << h << DumpFlows(h);
        }
        CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw_->UpdateEndpoint(readdressed));
        EXPECT_TRUE(r.update.readdressed);
        for (const std::string& h : HostNames()) EXPECT_EQ(Paths(h, "10.0.0.10"), 0u) << h;

        // Deleted: the paths toward it go.
        co_await Reach(toward_new_address);
        for (const char* h : {"host1", "host2", "host3"}) {
          EXPECT_TRUE(Paths(h, "10.0.0.30") == 1u) << h << DumpFlows(h);
        }
        CO_ASSERT_OK(co_await gw_->DeleteEndpoint("t00"));
        for (const std::string& h : HostNames()) EXPECT_EQ(Paths(h, "10.0.0.30"), 0u) << h;
        // What host4 holds toward the peers (the reverse paths) stays.
        EXPECT_EQ(Paths("host4"), 3u) << DumpFlows("host4");
        EXPECT_EQ(gw_->counters().invalidations_queued, 0u);
      },
      120000);
}

TEST_F(DirectPathsTest, DeleteNetworkAndDeleteVpcTakeTheirPathsOffEveryHost) {
  // n10 in net2 on host1, reached from three hosts; p22 and p23 reach each
  // other in net1.
  std::vector<Endpoint> eps = {Ep("n10", "10.0.1.10", "host1", "net2"),
                               Ep("p21", "10.0.0.21", "host1"), Ep("p22", "10.0.0.22", "host2"),
                               Ep("p23", "10.0.0.23", "host3"), Ep("p24", "10.0.0.24", "host4")};
  std::vector<of::PacketIn> pins = {
      PacketIn("host2", "10.0.0.22", "10.0.1.10"), PacketIn("host3", "10.0.0.23", "10.0.1.10"),
      PacketIn("host4", "10.0.0.24", "10.0.1.10"), PacketIn("host2", "10.0.0.22", "10.0.0.23")};
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await Prepare(eps);
        co_await Reach(pins);
        for (const char* h : {"host2", "host3", "host4"}) {
          EXPECT_TRUE(Paths(h, "10.0.1.10") == 1u) << h << DumpFlows(h);
        }
        CO_ASSERT_TRUE(Paths("host2", "10.0.0.23") == 1u && Paths("host3", "10.0.0.22") == 1u);

        CO_ASSERT_OK_AND_ASSIGN(size_t removed, co_await gw_->DeleteNetwork("vpc1", "net2"));
        EXPECT_EQ(removed, 1u);
        for (const std::string& h : HostNames()) EXPECT_EQ(Paths(h, "10.0.1.10"), 0u) << h;
        EXPECT_EQ(Paths("host2", "10.0.0.23"), 1u);  // net1's stay.
        EXPECT_EQ(Paths("host3", "10.0.0.22"), 1u);
        EXPECT_EQ(Paths("host1"), 3u);  // Toward p22, p23, p24 (n10's reverse paths).

        CO_ASSERT_OK_AND_ASSIGN(size_t gone, co_await gw_->DeleteVpc("vpc1"));
        EXPECT_EQ(gone, 4u);
        for (const std::string& h : HostNames()) EXPECT_EQ(Paths(h), 0u) << h << DumpFlows(h);
      },
      120000);
}

TEST_F(DirectPathsTest, AHostUnreachableDuringAnInvalidationGetsTheDeletesOnceBack) {
  std::vector<Endpoint> eps = {Ep("t00", "10.0.0.10", "host1"), Ep("p22", "10.0.0.22", "host2"),
                               Ep("p23", "10.0.0.23", "host3")};
  std::vector<of::PacketIn> toward_t = {PacketIn("host2", "10.0.0.22", "10.0.0.10"),
                                        PacketIn("host3", "10.0.0.23", "10.0.0.10")};
  Endpoint moved = Ep("t00", "10.0.0.10", "host2");
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await Prepare(eps);
        co_await Reach(toward_t);
        CO_ASSERT_TRUE(Paths("host2", "10.0.0.10") == 1u && Paths("host3", "10.0.0.10") == 1u);

        // host3's listener goes (its datapath and flows stay).
        RunResult del = ovs_["host3"]->Vsctl({"del-controller", "br-int"});
        EXPECT_TRUE(del.ok()) << del.err;
        CO_ASSERT_TRUE(co_await Poll([&] { return !gw_->programmer("host3")->connected(); }));

        auto r = co_await gw_->UpdateEndpoint(moved);
        EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
        EXPECT_THAT(std::string(r.status().message()),
                    HasSubstr("stored but pending: invalidation on host host3 not confirmed"));
        EXPECT_EQ(gw_->db().FindEndpoint("t00")->host, "host2");
        EXPECT_EQ(Paths("host2", "10.0.0.10"), 0u);
        EXPECT_EQ(Paths("host3", "10.0.0.10"), 1u);  // Stale, until host3 is back.
        EXPECT_EQ(gw_->PendingInvalidations("host3"), 1u);

        // The listener is back: the queued delete goes without another call.
        RunResult set = ovs_["host3"]->Vsctl({"set-controller", "br-int", Listener("host3")});
        EXPECT_TRUE(set.ok()) << set.err;
        EXPECT_TRUE(co_await Poll([&] {
          return Paths("host3", "10.0.0.10") == 0u && gw_->PendingInvalidations("host3") == 0u;
        })) << DumpFlows("host3");
        EXPECT_EQ(Paths("host3"), 0u);
        EXPECT_EQ(gw_->counters().invalidations_resent, 1u);
      },
      120000);
}

}  // namespace
}  // namespace shortcut::testing
