// NodeOvsdb (src/gateway/node_ovsdb.h) against a real ovsdb-server and
// ovs-vswitchd prepared by `host init`: gateway tunnel ports with BFD
// converge and stay converged across restarts, others' ports are left
// alone, and VM port bindings are reported once each. ovs-vsctl is the
// oracle. BFD liveness over real packets is for the lab (tests/lab).
#include "src/gateway/node_ovsdb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <fstream>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/ctl/host_cmd.h"
#include "src/gateway/gateway.h"
#include "src/ovsdb/client.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/co_assert.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using gateway::NodeOvsdb;
using host::TunnelPort;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using Binding = std::pair<std::string, std::optional<uint32_t>>;

// Every wait below is bounded by this; none is expected to come near it.
constexpr Millis kBound = 20000;

// Values are built here, outside the coroutines: g++ 12 miscompiles some
// braced initialisers of string members inside a coroutine body.
TunnelPort Port(const std::string& ip, std::optional<uint32_t> ofport) {
  return *host::MakeTunnelPort(ip, ofport);
}
std::vector<TunnelPort> TwoPorts() {
  return {Port("172.31.2.1", 60001), Port("172.31.2.2", 60002)};
}
std::vector<TunnelPort> Reversed(std::vector<TunnelPort> v) {
  std::reverse(v.begin(), v.end());
  return v;
}
std::vector<TunnelPort> FirstOnly(const std::vector<TunnelPort>& v) { return {v.front()}; }
// Listed out of name order on purpose.
std::vector<gateway::ClusterMember> Members() {
  return {{"gw-b", "172.31.2.2"}, {"gw-a", "172.31.2.1"}};
}
std::vector<gateway::Host> Hosts() {
  return {{"h1", "172.31.1.11", "", ""}, {"h2", "172.31.1.12", "", ""}};
}
Binding Bind(const std::string& iface_id, std::optional<uint32_t> ofport) {
  return {iface_id, ofport};
}

class NodeOvsdbTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ovs_.Start({}).ok()); }
  void TearDown() override {
    if (node_) node_->Stop();
    // Let the stopped coroutines end before the io_context goes.
    io_.restart();
    io_.run_for(std::chrono::milliseconds(500));
  }

  absl::Status HostInit() {
    ctl::HostOptions o;
    o.db = ovs_.db_target();
    host::HostInitParams p;
    p.tunnel_ip = "172.31.1.1";
    std::string out;
    return ctl::RunHostInit(o, p, &out);
  }

  void StartNode(bool track_bindings = true) {
    NodeOvsdb::Options o;
    o.name = "host1";
    o.target = *ovsdb::ParseOvsdbTarget(ovs_.db_target());
    o.min_backoff = 50;
    o.max_backoff = 500;
    o.client.call_timeout = 5000;
    if (track_bindings) {
      o.on_bind = [this](std::string iface_id,
                         std::optional<uint32_t> ofport) -> asio::awaitable<void> {
        bindings_.emplace_back(std::move(iface_id), ofport);
        co_return;
      };
    }
    node_ = NodeOvsdb::Start(io_.get_executor(), std::move(o));
  }

  // `ovs-vsctl ARGS...` output without the trailing newline; fails the test
  // on error. Variadic so that coroutines pass no braced list.
  template <typename... Args>
  std::string Vsctl(const Args&... args) {
    std::vector<std::string> argv = {std::string(args)...};
    RunResult r = ovs_.Vsctl(argv);
    EXPECT_TRUE(r.ok()) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }
  std::vector<std::string> Ports() { return absl::StrSplit(Vsctl("list-ports", "br-int"), '\n'); }
  // The tunnel port's ofport once ovs-vswitchd has assigned it, as the node sees it.
  std::optional<int64_t> SeenOfport(const std::string& name) {
    for (const auto& s : node_->tunnel_status()) {
      if (s.name == name) return s.ofport;
    }
    return std::nullopt;
  }
  size_t Seen(const Binding& b) { return std::count(bindings_.begin(), bindings_.end(), b); }

  OvsSandbox ovs_;
  asio::io_context io_;
  std::shared_ptr<NodeOvsdb> node_;
  std::vector<Binding> bindings_;
};

TEST_F(NodeOvsdbTest, TunnelPortsConvergeWithBfdAndOnlyOursAreTouched) {
  ASSERT_TRUE(HostInit().ok());
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        StartNode();
        auto ports = gateway::TunnelPortsOnHost(Members());
        CO_ASSERT_TRUE(ports.ok());
        CO_ASSERT_OK(node_->SetTunnelPorts(*ports));
        CO_ASSERT_OK(co_await node_->WaitConverged(kBound));
        CO_ASSERT_TRUE(co_await WaitUntil(
            [&] { return SeenOfport("sc-ac1f0201") && SeenOfport("sc-ac1f0202"); }, kBound));
        // Members in name order: gw-a's port first.
        EXPECT_EQ(Vsctl("get", "Interface", "sc-ac1f0201", "ofport", "options", "bfd", "type"),
                  "60001\n{key=flow, remote_ip=\"172.31.2.1\"}\n"
                  "{enable=\"true\", min_rx=\"100\", min_tx=\"100\"}\nvxlan");
        EXPECT_EQ(Vsctl("get", "Interface", "sc-ac1f0202", "ofport", "options"),
                  "60002\n{key=flow, remote_ip=\"172.31.2.2\"}");
        EXPECT_EQ(Vsctl("get", "Port", "sc-ac1f0202", "external_ids:shortcut-role"),
                  "gateway-tunnel");
        // ovs-vswitchd runs BFD on them: it reports a state (down here: no peer).
        auto status = node_->tunnel_status();
        CO_ASSERT_TRUE(status.size() == 2);
        EXPECT_EQ(*status[0].ofport, 60001);
        CO_ASSERT_TRUE(co_await WaitUntil(
            [&] {
              return !node_->tunnel_status().empty() &&
                     !node_->tunnel_status()[0].bfd_state.empty();
            },
            kBound));
        EXPECT_FALSE(node_->tunnel_status()[0].forwarding);
        EXPECT_EQ(node_->counters().transactions, 1u);

        // A second pass, even in another order, writes nothing (next_cfg unchanged).
        std::string next_cfg = Vsctl("get", "Open_vSwitch", ".", "next_cfg");
        CO_ASSERT_OK(node_->SetTunnelPorts(Reversed(*ports)));
        CO_ASSERT_OK(co_await node_->WaitConverged(kBound));
        EXPECT_EQ(node_->counters().transactions, 1u);
        EXPECT_EQ(Vsctl("get", "Open_vSwitch", ".", "next_cfg"), next_cfg);

        // Someone else's port stays; a port no longer wanted goes.
        Vsctl("add-port", "br-int", "manual", "--", "set", "Interface", "manual", "type=internal");
        CO_ASSERT_OK(node_->SetTunnelPorts(FirstOnly(*ports)));
        CO_ASSERT_OK(co_await node_->WaitConverged(kBound));
        EXPECT_THAT(Ports(), UnorderedElementsAre("manual", "sc-ac1f0201", "sc-tun"));
        EXPECT_EQ(node_->counters().transactions, 2u);

        // Our port removed by someone else comes back, at its ofport.
        uint64_t before = node_->counters().transactions;
        Vsctl("del-port", "br-int", "sc-ac1f0201");
        CO_ASSERT_TRUE(co_await WaitUntil(
            [&] { return node_->counters().transactions > before && node_->converged(); }, kBound));
        CO_ASSERT_TRUE(
            co_await WaitUntil([&] { return SeenOfport("sc-ac1f0201").has_value(); }, kBound));
        EXPECT_EQ(Vsctl("get", "Interface", "sc-ac1f0201", "ofport"), "60001");
        EXPECT_THAT(Ports(), UnorderedElementsAre("manual", "sc-ac1f0201", "sc-tun"));
        EXPECT_EQ(node_->counters().transaction_failures, 0u);
        EXPECT_TRUE(bindings_.empty());  // No VM here.
      },
      60000);
}

TEST_F(NodeOvsdbTest, VmBindingsAreReportedOnceAcrossAnOvsdbRestart) {
  ASSERT_TRUE(HostInit().ok());
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        StartNode();
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return node_->synced(); }, kBound));
        Vsctl("add-port", "br-int", "vm1", "--", "set", "Interface", "vm1", "type=internal",
              "external_ids:iface-id=vm1");
        uint32_t ofport = std::stoul(Vsctl("get", "Interface", "vm1", "ofport"));
        Binding bound = Bind("vm1", ofport);
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return Seen(bound) > 0; }, kBound));
        EXPECT_THAT(node_->bindings(), ElementsAre(Pair("vm1", ofport)));

        // Tunnel ports wanted while the database is down go in once it is back.
        ovs_.StopOvsdb();
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return !node_->synced(); }, kBound));
        CO_ASSERT_OK(node_->SetTunnelPorts(TwoPorts()));
        CO_ASSERT_OK(ovs_.StartOvsdb());
        CO_ASSERT_OK(co_await node_->WaitConverged(kBound));
        EXPECT_THAT(Ports(), UnorderedElementsAre("sc-ac1f0201", "sc-ac1f0202", "sc-tun", "vm1"));
        EXPECT_GE(node_->session().connections(), 2u);

        Vsctl("del-port", "br-int", "vm1");
        Binding gone = Bind("vm1", std::nullopt);
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return Seen(gone) > 0; }, kBound));
        // Once each: the restart neither lost nor repeated a binding.
        EXPECT_THAT(bindings_, ElementsAre(bound, gone));
        EXPECT_TRUE(node_->bindings().empty());
      },
      60000);
}

TEST_F(NodeOvsdbTest, NothingIsWrittenBeforePortsAreSetOrWithoutTheBridge) {
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        // The gateway's own node: ports toward hosts, ofports left to OVS.
        StartNode(false);
        auto ports = gateway::TunnelPortsOnGateway(Hosts());
        CO_ASSERT_TRUE(ports.ok());
        CO_ASSERT_OK(node_->SetTunnelPorts(*ports));
        // No br-int yet: the plan cannot be made, and says why.
        absl::Status s = co_await node_->WaitConverged(1000);
        EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
        EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("no bridge br-int"));
        EXPECT_GT(node_->counters().plan_errors, 0u);
        // host init creates it (the node is woken by the change, no new call).
        CO_ASSERT_OK(HostInit());
        CO_ASSERT_OK(co_await node_->WaitConverged(kBound));
        EXPECT_THAT(Ports(), UnorderedElementsAre("sc-ac1f010b", "sc-ac1f010c", "sc-tun"));
        EXPECT_EQ(Vsctl("get", "Interface", "sc-ac1f010b", "ofport_request"), "[]");
        EXPECT_EQ(Vsctl("get", "Interface", "sc-ac1f010c", "bfd:enable"), "\"true\"");
        node_->Stop();

        // A new node (a restarted gateway) that has not been given its ports
        // yet leaves the existing ones alone, then finds them right.
        StartNode(false);
        CO_ASSERT_TRUE(
            co_await WaitUntil([&] { return node_->tunnel_status().size() == 2; }, kBound));
        CO_ASSERT_OK(node_->SetTunnelPorts(*ports));
        CO_ASSERT_OK(co_await node_->WaitConverged(kBound));
        EXPECT_EQ(node_->counters().transactions, 0u);
        EXPECT_EQ(node_->tunnel_status().size(), 2u);
      },
      60000);
}

// The Open_vSwitch schema, except that Interface:bfd may hold only the key
// "enable": a server that refuses every tunnel port NodeOvsdb writes.
std::string SchemaRefusingBfdIntervals() {
  std::ifstream in("/usr/share/openvswitch/vswitch.ovsschema");
  nlohmann::json schema = nlohmann::json::parse(in);
  nlohmann::json& key = schema["tables"]["Interface"]["columns"]["bfd"]["type"]["key"];
  key = {{"type", "string"}, {"enum", {"set", {"enable"}}}};
  return schema.dump();
}

TEST(NodeOvsdbRetryTest, ARejectedTransactionIsRetriedWithoutAnyChange) {
  OvsdbServer server;
  ASSERT_TRUE(server.Start(SchemaRefusingBfdIntervals()).ok());
  RunResult r = RunProcess({"ovs-vsctl", "--db=" + server.target(), "--no-wait", "init"});
  ASSERT_TRUE(r.ok()) << r.err;
  ctl::HostOptions ho;
  ho.db = server.target();
  ho.wait = false;  // No ovs-vswitchd here.
  host::HostInitParams hp;
  hp.tunnel_ip = "172.31.1.1";
  std::string out;
  ASSERT_TRUE(ctl::RunHostInit(ho, hp, &out).ok()) << out;

  asio::io_context io;
  std::shared_ptr<NodeOvsdb> node;
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    NodeOvsdb::Options o;
    o.name = "host1";
    o.target = *ovsdb::ParseOvsdbTarget(server.target());
    o.min_backoff = 50;
    o.max_backoff = 200;
    node = NodeOvsdb::Start(io.get_executor(), std::move(o));
    CO_ASSERT_OK(node->SetTunnelPorts(TwoPorts()));
    // Nothing changes in the database, yet the transaction is tried again.
    CO_ASSERT_TRUE(
        co_await WaitUntil([&] { return node->counters().transaction_failures >= 2; }, kBound));
    absl::Status s = co_await node->WaitConverged(200);
    EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("insert into Interface"));
    EXPECT_EQ(node->counters().transactions, 0u);
    EXPECT_FALSE(node->converged());
    node->Stop();
  });
  io.restart();
  io.run_for(std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace shortcut::testing
