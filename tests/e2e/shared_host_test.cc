// A compute host served by two gateway clusters, on a real ovs-vswitchd:
// each cluster's reconciler (pipeline::HostOwnership) and tunnel-port plan
// (NodeOvsdb, tagged with the cluster) keep their own part of one bridge.
// ovs-ofctl dump-flows/dump-groups, ovs-vsctl and ofproto/trace are the
// oracles; running both again must change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/gateway/gateway.h"
#include "src/gateway/node_ovsdb.h"
#include "src/ofconn/connection.h"
#include "src/ovsdb/client.h"
#include "src/pipeline/pipeline.h"
#include "src/reconcile/reconciler.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using gateway::NodeOvsdb;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";
constexpr Millis kBound = 20000;

// Built outside the coroutines (g++ 12 and braced initialisers).
std::vector<gateway::ClusterMember> Members1() {
  return {{"gw1", "172.31.2.1", 60011}, {"gw2", "172.31.2.2", 60012}};
}
std::vector<gateway::ClusterMember> Members2() { return {{"gw3", "172.31.3.3", 60021}}; }

// Cluster 1 serves vpc1 (VNI 0x64) with vm1 on ofport 1; cluster 2 serves
// vpc2 (VNI 0xc8) with vm2 on ofport 2.
pipeline::HostRules Rules1() {
  pipeline::HostRules r;
  r.cluster_id = 1;
  r.gateway_ports = gateway::MemberOfports(Members1());
  r.vpcs = {{0x64, {0x02, 0x5c, 0, 0, 0, 1}}};
  r.vms = {{0x64, 0x0a00000a, {2, 0, 0, 0, 0, 1}, 1}};
  return r;
}
pipeline::HostRules Rules2() {
  pipeline::HostRules r;
  r.cluster_id = 2;
  r.gateway_ports = gateway::MemberOfports(Members2());
  r.vpcs = {{0xc8, {0x02, 0x5c, 0, 0, 0, 2}}};
  r.vms = {{0xc8, 0x0a00000a, {2, 0, 0, 0, 0, 2}, 2}};
  return r;
}

reconcile::SwitchReconciler::Options ReconcilerOptions(uint32_t cluster_id) {
  reconcile::SwitchReconciler::Options o;
  o.ownership = pipeline::HostOwnership(cluster_id);
  return o;
}

class SharedHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ovs_.Start({}).ok());
    RunResult r = RunProcess({kCtl, "host", "init", "--db", ovs_.db_target(), "--tunnel-ip",
                              "172.31.1.1", "--datapath-type", "netdev"});
    ASSERT_TRUE(r.ok()) << r.err;
    for (auto [name, ofport] : {std::pair{"vm1", 1}, {"vm2", 2}}) {
      RunResult p = ovs_.Vsctl({"add-port", "br-int", name, "--", "set", "Interface", name,
                                absl::StrCat("ofport_request=", ofport)});
      ASSERT_TRUE(p.ok()) << p.err;
    }
  }
  void TearDown() override {
    for (auto& node : nodes_) node->Stop();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(500));
  }

  std::shared_ptr<NodeOvsdb> StartNode(const std::string& name) {
    NodeOvsdb::Options o;
    o.name = name;
    o.target = *ovsdb::ParseOvsdbTarget(ovs_.db_target());
    o.min_backoff = 50;
    o.max_backoff = 500;
    o.client.call_timeout = 5000;
    nodes_.push_back(NodeOvsdb::Start(io_.get_executor(), std::move(o)));
    return nodes_.back();
  }
  std::string Vsctl(const std::vector<std::string>& args) {
    RunResult r = ovs_.Vsctl(args);
    EXPECT_TRUE(r.ok()) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }
  std::string Get(const std::string& table, const std::string& row, const std::string& column) {
    return Vsctl({"get", table, row, column});
  }
  // ovs-ofctl's view, without counters and durations.
  std::string DumpFlows() {
    RunResult r = ovs_.Ofctl({"dump-flows", "--no-stats", ovs_.OpenflowTarget("br-int")});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  std::string DumpGroups() {
    RunResult r = ovs_.Ofctl({"dump-groups", ovs_.OpenflowTarget("br-int")});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  static size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
  std::string Trace(const std::string& flow) {
    RunResult r = RunProcess(
        {"ovs-appctl", "-t", ovs_.dir() + "/ovs-vswitchd.ctl", "ofproto/trace", "br-int", flow},
        ovs_.ToolOptions());
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  OvsSandbox ovs_;
  asio::io_context io_;
  std::vector<std::shared_ptr<NodeOvsdb>> nodes_;
};

TEST_F(SharedHostTest, TwoClustersKeepTheirOwnRulesGroupsAndTunnelPorts) {
  const pipeline::HostRules rules1 = Rules1();
  const pipeline::HostRules rules2 = Rules2();
  const reconcile::SwitchState want1 = pipeline::BuildHostState(rules1);
  const reconcile::SwitchState want2 = pipeline::BuildHostState(rules2);
  auto ports1 = gateway::TunnelPortsOnHost(Members1());
  auto ports2 = gateway::TunnelPortsOnHost(Members2());
  ASSERT_TRUE(ports1.ok() && ports2.ok());
  const ofconn::Target target = *ofconn::ParseTarget(ovs_.OpenflowTarget("br-int"));
  reconcile::SwitchReconciler rec1(ReconcilerOptions(1));
  reconcile::SwitchReconciler rec2(ReconcilerOptions(2));
  std::string flows_after;
  std::string groups_after;

  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        // ---- Tunnel ports: each cluster's node keeps its own. ----
        auto node1 = StartNode("host1-cluster1");
        auto node2 = StartNode("host1-cluster2");
        CO_ASSERT_OK(node1->SetTunnelPorts(*ports1, gateway::ClusterTag(1)));
        CO_ASSERT_OK(co_await node1->WaitConverged(kBound));
        CO_ASSERT_OK(node2->SetTunnelPorts(*ports2, gateway::ClusterTag(2)));
        CO_ASSERT_OK(co_await node2->WaitConverged(kBound));
        // Cluster 2's transaction did not make cluster 1 undo anything.
        CO_ASSERT_OK(co_await node1->WaitConverged(kBound));
        std::vector<std::string> ports = absl::StrSplit(Vsctl({"list-ports", "br-int"}), '\n');
        EXPECT_THAT(ports, UnorderedElementsAre("sc-tun", "vm1", "vm2", "sc-ac1f0201",
                                                "sc-ac1f0202", "sc-ac1f0303"));
        EXPECT_EQ(Get("Interface", "sc-ac1f0201", "ofport"), "60011");
        EXPECT_EQ(Get("Interface", "sc-ac1f0202", "ofport"), "60012");
        EXPECT_EQ(Get("Interface", "sc-ac1f0303", "ofport"), "60021");
        EXPECT_EQ(Get("Port", "sc-ac1f0201", "external_ids:shortcut-cluster"), "\"1\"");
        EXPECT_EQ(Get("Interface", "sc-ac1f0202", "external_ids:shortcut-cluster"), "\"1\"");
        EXPECT_EQ(Get("Port", "sc-ac1f0303", "external_ids:shortcut-cluster"), "\"2\"");

        // ---- Rules: one reconciler per cluster, one connection each. ----
        ofconn::Connection::Options conn_options;
        auto conn1 = co_await ofconn::Connection::Connect(io_.get_executor(), target, conn_options);
        CO_ASSERT_OK(conn1.status());
        auto conn2 = co_await ofconn::Connection::Connect(io_.get_executor(), target, conn_options);
        CO_ASSERT_OK(conn2.status());
        CO_ASSERT_OK_AND_ASSIGN(auto s1, co_await rec1.Sync(**conn1, want1));
        EXPECT_EQ(s1.installed.flows.added, 2u + 3 + 4);  // The shared drops too.
        CO_ASSERT_OK_AND_ASSIGN(auto s2, co_await rec2.Sync(**conn2, want2));
        EXPECT_EQ(s2.installed.flows.added, 3u + 4);  // The drops were there.
        EXPECT_EQ(s2.installed.flows.deleted + s2.installed.flows.modified, 0u);

        // Both again, reading the switch first, in either order: nothing.
        for (int round = 0; round < 2; ++round) {
          rec1.ForgetInstalled();
          rec2.ForgetInstalled();
          CO_ASSERT_OK_AND_ASSIGN(auto again2, co_await rec2.Sync(**conn2, want2));
          CO_ASSERT_OK_AND_ASSIGN(auto again1, co_await rec1.Sync(**conn1, want1));
          EXPECT_TRUE(again1.read_switch && again2.read_switch);
          EXPECT_TRUE(again1.planned.empty()) << again1.planned.ToString();
          EXPECT_TRUE(again2.planned.empty()) << again2.planned.ToString();
          EXPECT_EQ(again1.messages + again2.messages, 0u);
        }
        // Neither node wrote anything more (one transaction each).
        std::string next_cfg = Get("Open_vSwitch", ".", "next_cfg");
        CO_ASSERT_OK(co_await node1->WaitConverged(kBound));
        CO_ASSERT_OK(co_await node2->WaitConverged(kBound));
        EXPECT_EQ(node1->counters().transactions, 1u);
        EXPECT_EQ(node2->counters().transactions, 1u);
        EXPECT_EQ(Get("Open_vSwitch", ".", "next_cfg"), next_cfg);
        (*conn1)->Close();
        (*conn2)->Close();
      },
      90000);

  // ---- The oracle: what ovs-ofctl reads from the bridge. ----
  std::string flows = DumpFlows();
  EXPECT_EQ(Count(flows, "cookie=0x5c00040000000000,"), 2u) << flows;  // Shared drops.
  EXPECT_EQ(Count(flows, "cookie=0x5c00010001000064,"), 7u) << flows;  // Cluster 1, vpc1.
  EXPECT_EQ(Count(flows, "cookie=0x5c000100020000c8,"), 7u) << flows;  // Cluster 2, vpc2.
  EXPECT_EQ(Count(flows, "cookie="), 16u) << flows;
  EXPECT_THAT(flows, HasSubstr("metadata=0x64 actions=set_field:0x64->tun_id,group:1"));
  EXPECT_THAT(flows, HasSubstr("metadata=0xc8 actions=set_field:0xc8->tun_id,group:2"));
  std::string groups = DumpGroups();
  EXPECT_EQ(Count(groups, "group_id="), 2u) << groups;
  EXPECT_THAT(groups, HasSubstr("group_id=1,type=select"));
  EXPECT_THAT(groups, HasSubstr("watch_port:60011"));
  EXPECT_THAT(groups, HasSubstr("watch_port:60012"));
  EXPECT_THAT(groups, HasSubstr("group_id=2,type=select"));
  EXPECT_THAT(groups, HasSubstr("watch_port:60021"));

  // vpc1's unknown traffic goes to cluster 1's group, vpc2's to cluster 2's.
  std::string t1 = Trace(
      "in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:5c:00:00:00:01,ip,nw_src=10.0.0.10,"
      "nw_dst=10.0.9.9");
  EXPECT_THAT(t1, HasSubstr("set_field:0x64->tun_id"));
  EXPECT_THAT(t1, HasSubstr("group:1"));
  EXPECT_THAT(t1, Not(HasSubstr("group:2")));
  std::string t2 = Trace(
      "in_port=2,dl_src=02:00:00:00:00:02,dl_dst=02:5c:00:00:00:02,ip,nw_src=10.0.0.10,"
      "nw_dst=10.0.9.9");
  EXPECT_THAT(t2, HasSubstr("set_field:0xc8->tun_id"));
  EXPECT_THAT(t2, HasSubstr("group:2"));
  EXPECT_THAT(t2, Not(HasSubstr("group:1")));

  // Running both reconcilers again (fresh ones, reading the switch) left
  // the bridge exactly as it was.
  reconcile::SwitchReconciler fresh1(ReconcilerOptions(1));
  reconcile::SwitchReconciler fresh2(ReconcilerOptions(2));
  io_.restart();
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        ofconn::Connection::Options conn_options;
        auto conn = co_await ofconn::Connection::Connect(io_.get_executor(), target, conn_options);
        CO_ASSERT_OK(conn.status());
        CO_ASSERT_OK_AND_ASSIGN(auto a, co_await fresh1.Sync(**conn, want1));
        CO_ASSERT_OK_AND_ASSIGN(auto b, co_await fresh2.Sync(**conn, want2));
        EXPECT_TRUE(a.planned.empty()) << a.planned.ToString();
        EXPECT_TRUE(b.planned.empty()) << b.planned.ToString();
        (*conn)->Close();
      },
      30000);
  EXPECT_EQ(DumpFlows(), flows);
  EXPECT_EQ(DumpGroups(), groups);
}

}  // namespace
}  // namespace shortcut::testing
