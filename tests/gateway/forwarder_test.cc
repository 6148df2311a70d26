// The forwarding module against simulated hosts: a packet-in becomes the
// direct path on the sending host and the reverse one on the destination
// host; duplicates merge; unknown or spoofed sources and misses install
// nothing; the in-flight bound sheds. And the gateway bridge: full converge
// with its meter, increments, and converge again after a switch restart.
#include "src/gateway/forwarder.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/gateway/gateway_bridge.h"
#include "src/openflow/text.h"
#include "src/packet/packet.h"
#include "src/pipeline/gateway_pipeline.h"
#include "src/pipeline/pipeline.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;

constexpr Ipv4 kHost1 = 0xac1f0101;  // 172.31.1.1
constexpr Ipv4 kHost2 = 0xac1f0102;
constexpr uint32_t kVni = 100;

// Direct paths on a simulated switch (cookie kind kCookieDirect).
size_t DirectPaths(const fakes::FakeSwitch& sw) {
  size_t n = 0;
  for (const of::FlowStats& f : sw.Flows()) {
    if ((f.cookie & pipeline::kCookieKindMask) == pipeline::kCookieDirect) ++n;
  }
  return n;
}

of::PacketIn PacketIn(Ipv4 from_host, uint32_t vni, Ipv4 src, Ipv4 dst) {
  return TestPacketIn(from_host, vni, src, dst);
}

class ForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1", "host2"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    gw_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
    Forwarder::Options fo;
    fo.clock = &clock_;
    fwd_ = std::make_unique<Forwarder>(io_.get_executor(), *gw_, fo);
  }
  void TearDown() override { fwd_.reset(); }

  // Outside the coroutines (g++ 12 and braced initialisers of strings).
  ClusterConfig Cluster() {
    ClusterConfig c;
    c.cluster_id = 9;
    c.self = "gw1";
    c.members = {{"gw1", "172.31.2.1"}};
    c.hosts = {{"host1", "172.31.1.1", targets_["host1"], ""},
               {"host2", "172.31.1.2", targets_["host2"], ""}};
    return c;
  }
  absl::Status AddVpc() {
    Vpc vpc{"vpc1", kVni, "02:5c:00:00:00:01"};
    std::vector<Network> networks = {{"net1", "10.0.0.0/16", ""}};  // Room for many peers.
    return gw_->AddVpc(vpc, networks);
  }
  static Endpoint Ep(const std::string& key, const std::string& ip, const std::string& host) {
    return {key, "vpc1", "net1", ip, "", "02:00:00:00:00:" + key.substr(key.size() - 2), host, key};
  }
  asio::awaitable<void> Prepare() {
    ClusterConfig c = Cluster();
    EXPECT_TRUE((co_await gw_->SetCluster(std::move(c))).ok());
    EXPECT_TRUE(AddVpc().ok());
    Endpoint a = Ep("ep01", "10.0.0.10", "host1");
    Endpoint b = Ep("ep02", "10.0.0.11", "host2");
    EXPECT_TRUE((co_await gw_->UpdateEndpoint(a)).ok());
    EXPECT_TRUE((co_await gw_->UpdateEndpoint(b)).ok());
  }

  asio::io_context io_;
  testing::TempDir dir_{"shortcut-forwarder"};
  ManualClock clock_{1000};
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<Forwarder> fwd_;
};

TEST_F(ForwarderTest, APacketInInstallsBothWaysOnce) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    of::PacketIn pin = PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000b);
    CO_ASSERT_OK(co_await fwd_->Handle(pin));
    EXPECT_EQ(fwd_->counters().setups, 1u);
    EXPECT_EQ(DirectPaths(*switches_["host1"]), 1u);  // Toward 10.0.0.11 on host2.
    EXPECT_EQ(DirectPaths(*switches_["host2"]), 1u);  // The reverse.
    for (const of::FlowStats& f : switches_["host1"]->Flows()) {
      if ((f.cookie & pipeline::kCookieKindMask) != pipeline::kCookieDirect) continue;
      EXPECT_EQ(f.match, pipeline::DirectPathAdd(kVni, 0x0a00000b, kHost2, 60).match);
      EXPECT_EQ(f.table_id, pipeline::kTableEgress);
    }
    // The same flow again within the merge window: merged, nothing sent.
    uint64_t mods = switches_["host1"]->counters().flow_mods;
    uint64_t mods2 = switches_["host2"]->counters().flow_mods;
    CO_ASSERT_OK(co_await fwd_->Handle(pin));
    EXPECT_EQ(fwd_->counters().merged, 1u);
    EXPECT_EQ(switches_["host1"]->counters().flow_mods, mods);
    // The reply, if it reached a gateway before its reverse path reached
    // host2: covered by the same setup.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost2, kVni, 0x0a00000b, 0x0a00000a)));
    EXPECT_EQ(fwd_->counters().merged, 2u);
    EXPECT_EQ(switches_["host2"]->counters().flow_mods, mods2);
    // After the window (the path may have idled out): set up again.
    clock_.Advance(2000);
    CO_ASSERT_OK(co_await fwd_->Handle(pin));
    EXPECT_EQ(fwd_->counters().setups, 2u);
    CO_ASSERT_TRUE(fwd_->recent().size() == 2u);
    EXPECT_EQ(fwd_->recent().back().src_host, "host1");
    EXPECT_EQ(fwd_->recent().back().dst_host, "host2");
    EXPECT_TRUE(fwd_->recent().back().error.empty());
    // Percentiles come from the confirmed setups' own times (nearest rank).
    const int64_t slower = std::max(fwd_->recent()[0].setup_us, fwd_->recent()[1].setup_us);
    EXPECT_EQ(fwd_->SetupPercentileUs(50), slower);
    EXPECT_EQ(fwd_->SetupPercentileUs(99), slower);
  });
}

TEST_F(ForwarderTest, ConcurrentPacketInsOfOneFlowMerge) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    of::PacketIn pin = PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000b);
    for (int i = 0; i < 10; ++i) fwd_->OnPacketIn(pin);
    EXPECT_EQ(fwd_->in_flight(), 1u);
    CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return fwd_->in_flight() == 0; }, 5000));
    EXPECT_EQ(fwd_->counters().setups, 1u);
    EXPECT_EQ(fwd_->counters().merged, 9u);
    EXPECT_EQ(DirectPaths(*switches_["host1"]), 1u);
  });
}

// The matches of the direct paths on a simulated switch, as text.
std::vector<std::string> DirectPathMatches(const fakes::FakeSwitch& sw) {
  std::vector<std::string> out;
  for (const of::FlowStats& f : sw.Flows()) {
    if ((f.cookie & pipeline::kCookieKindMask) == pipeline::kCookieDirect) {
      out.push_back(of::FormatMatch(f.match));
    }
  }
  return out;
}
std::string PathMatch(Ipv4 dst) {
  return of::FormatMatch(pipeline::DirectPathAdd(kVni, dst, kHost1, 60).match);
}

TEST_F(ForwarderTest, AFlowSharingOnlyTheReverseOfASetupGetsItsOwnPath) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    // A (ep01) on host1; X (ep02) and Y (ep03) both on host2.
    Endpoint y = Ep("ep03", "10.0.0.12", "host2");
    CO_ASSERT_TRUE((co_await gw_->UpdateEndpoint(y)).ok());
    const Ipv4 a = 0x0a00000a, x = 0x0a00000b, yip = 0x0a00000c;
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kVni, a, x)));
    // A→Y within the merge window: its reverse (host2 toward A) is A→X's,
    // but host1 has no path toward Y: a setup of its own.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kVni, a, yip)));
    EXPECT_EQ(fwd_->counters().setups, 2u);
    EXPECT_EQ(fwd_->counters().merged, 0u);
    EXPECT_THAT(DirectPathMatches(*switches_["host1"]),
                ::testing::UnorderedElementsAre(PathMatch(x), PathMatch(yip)));
    EXPECT_THAT(DirectPathMatches(*switches_["host2"]), ::testing::ElementsAre(PathMatch(a)));
    // The replies are covered by the reverse paths of the setups they answer.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost2, kVni, x, a)));
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost2, kVni, yip, a)));
    EXPECT_EQ(fwd_->counters().merged, 2u);
    EXPECT_EQ(fwd_->counters().setups, 2u);

    // The same while the setups are in flight: A→X, A→Y, then X's reply.
    clock_.Advance(2000);
    fwd_->OnPacketIn(PacketIn(kHost1, kVni, a, x));
    fwd_->OnPacketIn(PacketIn(kHost1, kVni, a, yip));
    fwd_->OnPacketIn(PacketIn(kHost2, kVni, x, a));
    EXPECT_EQ(fwd_->in_flight(), 2u);
    EXPECT_EQ(fwd_->counters().merged, 3u);
    CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return fwd_->in_flight() == 0; }, 5000));
    EXPECT_EQ(fwd_->counters().setups, 4u);
    // Y's reply, just after: covered by A→Y's confirmed reverse.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost2, kVni, yip, a)));
    EXPECT_EQ(fwd_->counters().merged, 4u);
    EXPECT_EQ(fwd_->counters().failures, 0u);
  });
}

TEST_F(ForwarderTest, ABurstFromOneVmTowardManyPeersOfOneHostSetsUpEveryPath) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    constexpr int kPeers = 1000;
    std::vector<Endpoint> peers;
    for (int i = 0; i < kPeers; ++i) {
      Endpoint e = Ep("ep02", "10.0.0.11", "host2");
      e.key = "peer" + std::to_string(i);
      e.ipv4 = FormatIpv4(0x0a000100 + static_cast<Ipv4>(i));
      e.mac = FormatMac(Mac{2, 1, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)});
      e.iface_id = e.key;
      peers.push_back(std::move(e));
    }
    CO_ASSERT_OK(co_await gw_->AddEndpoints(peers));
    // In rounds of 100, as the packet-in meter paces a burst: the setups
    // of a round are confirmed while the next ones come, all within the
    // merge window (the clock stands still).
    const Ipv4 a = 0x0a00000a;
    for (int i = 0; i < kPeers; ++i) {
      fwd_->OnPacketIn(PacketIn(kHost1, kVni, a, 0x0a000100 + static_cast<Ipv4>(i)));
      if (i % 100 == 99) {
        CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return fwd_->in_flight() == 0; }, 20000));
      }
    }
    EXPECT_EQ(fwd_->counters().setups, static_cast<uint64_t>(kPeers));
    EXPECT_EQ(fwd_->counters().merged, 0u);
    EXPECT_EQ(DirectPaths(*switches_["host1"]), static_cast<size_t>(kPeers));
    EXPECT_EQ(DirectPaths(*switches_["host2"]), 1u);  // Toward A, from every setup.
    // Every reply within the window is covered.
    for (int i = 0; i < kPeers; ++i) {
      fwd_->OnPacketIn(PacketIn(kHost2, kVni, 0x0a000100 + static_cast<Ipv4>(i), a));
    }
    EXPECT_EQ(fwd_->counters().merged, static_cast<uint64_t>(kPeers));
    EXPECT_EQ(fwd_->in_flight(), 0u);
  });
}

TEST_F(ForwarderTest, NothingIsInstalledForMissesSpoofsAndGarbage) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    // Unknown destination.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kVni, 0x0a00000a, 0x0a000063)));
    EXPECT_EQ(fwd_->counters().lookup_misses, 1u);
    // A source that does not live on the host the packet came from.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost2, kVni, 0x0a00000a, 0x0a00000b)));
    // An unknown source.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kVni, 0x0a000063, 0x0a00000b)));
    EXPECT_EQ(fwd_->counters().unknown_source, 2u);
    // Another VPC's VNI: the same addresses mean nothing there.
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kVni + 1, 0x0a00000a, 0x0a00000b)));
    EXPECT_EQ(fwd_->counters().lookup_misses, 2u);
    // No tunnel metadata; a frame that does not parse.
    of::PacketIn bare;
    bare.data = {1, 2, 3};
    CO_ASSERT_OK(co_await fwd_->Handle(bare));
    of::PacketIn junk = PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000b);
    junk.data.resize(20);
    CO_ASSERT_OK(co_await fwd_->Handle(junk));
    EXPECT_EQ(fwd_->counters().malformed, 2u);
    EXPECT_EQ(fwd_->counters().setups, 0u);
    EXPECT_EQ(DirectPaths(*switches_["host1"]), 0u);
    EXPECT_EQ(DirectPaths(*switches_["host2"]), 0u);
  });
}

// A burst (one read of the gateway bridge) mixing every outcome, looked up
// as one batch: each packet-in is decided as it would be alone, in order.
TEST_F(ForwarderTest, ABurstIsDecidedPacketInByPacketInInOrder) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    Endpoint y = Ep("ep03", "10.0.0.12", "host2");
    Endpoint z = Ep("ep04", "10.0.0.13", "host1");
    CO_ASSERT_TRUE((co_await gw_->UpdateEndpoint(y)).ok());
    CO_ASSERT_TRUE((co_await gw_->UpdateEndpoint(z)).ok());
    const Ipv4 a = 0x0a00000a, x = 0x0a00000b, yip = 0x0a00000c, zip = 0x0a00000d;
    of::PacketIn junk = PacketIn(kHost1, kVni, a, x);
    junk.data.resize(20);
    std::vector<of::PacketIn> burst = {
        PacketIn(kHost1, kVni, a, x),           // A→X: a setup.
        PacketIn(kHost1, kVni, a, x),           // Its duplicate: merged.
        PacketIn(kHost1, kVni, a, 0x0a000063),  // No such destination: a miss.
        PacketIn(kHost2, kVni, a, yip),         // A does not live on host2: unknown source.
        junk,                                   // Does not parse: malformed.
        PacketIn(kHost1, kVni, a, zip),         // A and Z share host1: nothing.
        PacketIn(kHost2, kVni, x, a),           // X's reply: covered by A→X's reverse.
        PacketIn(kHost1, kVni + 1, a, yip),     // Another VNI: a miss.
        PacketIn(kHost1, kVni, zip, yip),       // Z→Y: a setup.
    };
    fwd_->OnPacketIns(burst);
    EXPECT_EQ(fwd_->counters().packet_ins, 9u);
    EXPECT_EQ(fwd_->counters().bursts, 1u);
    EXPECT_EQ(fwd_->counters().merged, 2u);
    EXPECT_EQ(fwd_->counters().lookup_misses, 2u);
    EXPECT_EQ(fwd_->counters().unknown_source, 1u);
    EXPECT_EQ(fwd_->counters().malformed, 1u);
    EXPECT_EQ(fwd_->counters().same_host, 1u);
    EXPECT_EQ(fwd_->in_flight(), 2u);
    CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return fwd_->in_flight() == 0; }, 5000));
    EXPECT_EQ(fwd_->counters().setups, 2u);
    // What landed in the switches' tables: host1 toward X and Y, host2
    // toward A and Z (the reverses).
    EXPECT_THAT(DirectPathMatches(*switches_["host1"]),
                ::testing::UnorderedElementsAre(PathMatch(x), PathMatch(yip)));
    EXPECT_THAT(DirectPathMatches(*switches_["host2"]),
                ::testing::UnorderedElementsAre(PathMatch(a), PathMatch(zip)));
  });
}

TEST_F(ForwarderTest, BeyondTheInFlightBoundPacketInsAreShed) {
  Forwarder::Options fo;
  fo.max_in_flight = 1;
  fwd_ = std::make_unique<Forwarder>(io_.get_executor(), *gw_, fo);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    Endpoint third = Ep("ep03", "10.0.0.12", "host2");
    CO_ASSERT_TRUE((co_await gw_->UpdateEndpoint(third)).ok());
    fwd_->OnPacketIn(PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000b));
    fwd_->OnPacketIn(PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000c));  // Another flow.
    EXPECT_EQ(fwd_->counters().shed, 1u);
    CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return fwd_->in_flight() == 0; }, 5000));
    EXPECT_EQ(fwd_->counters().setups, 1u);
  });
}

TEST_F(ForwarderTest, AnUnreachableHostFailsTheSetupAndFreesItsSlot) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    switches_["host2"].reset();
    CO_ASSERT_TRUE(
        co_await testing::WaitUntil([&] { return !gw_->programmer("host2")->connected(); }, 5000));
    absl::Status s = co_await fwd_->Handle(PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000b));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_EQ(fwd_->counters().failures, 1u);
    EXPECT_EQ(fwd_->in_flight(), 0u);
    EXPECT_FALSE(fwd_->recent().back().error.empty());
  });
}

TEST_F(ForwarderTest, DirectPathsIdleOutAfterTheConfiguredTimeout) {
  // Gateway::Options::direct_idle_timeout_s (the daemon's
  // "direct_idle_timeout") is the idle timeout of both paths.
  Gateway::Options o = gw_->options();
  o.direct_idle_timeout_s = 17;
  fwd_.reset();
  gw_ = std::make_unique<Gateway>(io_.get_executor(), o);
  Forwarder::Options fo;
  fo.clock = &clock_;
  fwd_ = std::make_unique<Forwarder>(io_.get_executor(), *gw_, fo);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    co_await Prepare();
    CO_ASSERT_OK(co_await fwd_->Handle(PacketIn(kHost1, kVni, 0x0a00000a, 0x0a00000b)));
    for (const char* host : {"host1", "host2"}) {
      size_t paths = 0;
      for (const of::FlowStats& f : switches_[host]->Flows()) {
        if ((f.cookie & pipeline::kCookieKindMask) != pipeline::kCookieDirect) continue;
        ++paths;
        EXPECT_EQ(f.idle_timeout, 17) << host;
        EXPECT_EQ(f.hard_timeout, 0) << host;
      }
      EXPECT_EQ(paths, 1u) << host;
    }
  });
}

TEST(GatewayBridgeTest, ConvergesWithItsMeterThenSendsIncrementsAndConvergesAfterARestart) {
  asio::io_context io;
  testing::TempDir dir("shortcut-gwbridge");
  fakes::FakeSwitch sw(io.get_executor());
  auto target = sw.ListenUnix(dir.File("gw.mgmt"));
  ASSERT_TRUE(target.ok());
  GatewayBridge::Options o;
  o.target = *ofconn::ParseTarget(*target);
  o.session.min_backoff = 50;
  o.session.connection.probe_interval = 0;
  o.packet_in_rate_pps = 500;
  auto bridge = GatewayBridge::Start(io.get_executor(), o, nullptr);
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    bridge->PutVpc(kVni);
    bridge->PutEndpoint(kVni, 0x0a00000a, kHost1);
    CO_ASSERT_OK(co_await bridge->WaitInstalled(5000));
    const size_t base = pipeline::BuildGatewayBase({1, 500}).flow_count();
    EXPECT_EQ(sw.flow_count(), base + 2);
    CO_ASSERT_TRUE(sw.meter_count() == 1u);
    EXPECT_EQ(sw.Meters()[0].meter_id, bridge->meter_id());
    EXPECT_EQ(bridge->counters().full_syncs, 1u);
    // Increments: one flow_mod each, no dump.
    uint64_t dumps = sw.counters().multipart_requests;
    bridge->PutEndpoint(kVni, 0x0a00000b, kHost2);
    bridge->PutEndpoint(kVni, 0x0a00000a, kHost2);  // Moved: replaced.
    bridge->RemoveEndpoint(kVni, 0x0a00000b);
    bridge->RemoveEndpoint(kVni, 0x0a00000c);  // Unknown: nothing.
    CO_ASSERT_OK(co_await bridge->WaitInstalled(5000));
    EXPECT_EQ(sw.counters().multipart_requests, dumps);
    EXPECT_EQ(bridge->counters().incremental_flow_mods, 3u);
    EXPECT_EQ(sw.flow_count(), base + 2);
    bool moved = false;
    for (const of::FlowStats& f : sw.Flows()) {
      if (f.match == pipeline::GatewayEndpointKey(kVni, 0x0a00000a).match) {
        moved =
            f.instructions == pipeline::GatewayEndpointFlow(kVni, 0x0a00000a, kHost2).instructions;
      }
    }
    EXPECT_TRUE(moved);
    // A restarted switch holds nothing: the bridge converges again.
    sw.Restart();
    CO_ASSERT_TRUE(co_await testing::WaitUntil(
        [&] { return sw.flow_count() == base + 2 && bridge->in_sync(); }, 10000));
    EXPECT_EQ(sw.meter_count(), 1u);
    EXPECT_EQ(bridge->counters().full_syncs, 2u);
    bridge->Stop();
  });
}

// On a manual clock: WaitInstalled gives up exactly at its timeout while
// the switch is away, and the bridge's session retries only when the clock
// says its backoff is over; then it converges.
TEST(GatewayBridgeTest, DeadlineAndBackoffOnAManualClock) {
  ManualClock clock;  // Outlives io: the bridge's timers are on it.
  asio::io_context io;
  testing::TempDir dir("shortcut-gwbridge");
  const std::string socket = dir.File("gw.mgmt");
  GatewayBridge::Options o;
  o.target = *ofconn::ParseTarget("unix:" + socket);
  o.session.min_backoff = 50;
  o.session.max_backoff = 200;
  o.session.connection.probe_interval = 0;
  o.clock = &clock;
  auto bridge = GatewayBridge::Start(io.get_executor(), o, nullptr);
  std::unique_ptr<fakes::FakeSwitch> sw;
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    bridge->PutVpc(kVni);
    std::optional<absl::Status> waited;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { waited = co_await bridge->WaitInstalled(3000); },
        asio::detached);
    co_await testing::Settle();
    clock.Advance(2999);
    co_await testing::Settle();
    EXPECT_FALSE(waited.has_value());
    clock.Advance(1);
    co_await testing::Settle();
    CO_ASSERT_TRUE(waited.has_value());
    EXPECT_EQ(waited->code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(std::string(waited->message()),
                ::testing::HasSubstr("did not confirm its rules within 3000 ms (not connected)"));

    sw = std::make_unique<fakes::FakeSwitch>(io.get_executor());
    CO_ASSERT_TRUE(sw->ListenUnix(socket).ok());
    co_await testing::Settle();
    EXPECT_EQ(sw->flow_count(), 0u);
    clock.Advance(200);
    CO_ASSERT_TRUE(co_await testing::WaitUntil([&] { return bridge->in_sync(); }, 10000));
    EXPECT_EQ(sw->flow_count(), pipeline::BuildGatewayBase({1, 10000}).flow_count() + 1);
    bridge->Stop();
  });
}

}  // namespace
}  // namespace shortcut::gateway
