// A VPC moving from gateway cluster 1 to cluster 2, make before break, on
// two real ovs-vswitchd hosts: hostA holds vpc1's VM, hostB holds a VM of
// another VPC of cluster 1 only. One Gateway per cluster (gw1 in cluster 1,
// gw2 in cluster 2), both programming both hosts:
//   1. cluster 1 serves vpc1 (and vpc2 on hostB); a direct path of vpc1 is
//      on hostA;
//   2. cluster 2 loads vpc1 standby: hostA is sent nothing and keeps
//      cluster 1's flows (cookie, default route to group 1), no group 2;
//   3. cluster 2 serves it (SetVpcStandby false): hostA's flows of vpc1
//      carry cluster 2's cookie, the default route goes to group 2, which
//      is there with cluster 2's bucket, all in one bundle;
//   4. cluster 1 deletes vpc1 (keep_direct_paths as the parameter says):
//      cluster 2's flows all stay (the whole table is the initial one but
//      for the cookies and the group), group 1 goes from hostA, and the
//      direct path stays only with keep_direct_paths.
// hostB receives no change from either gateway through steps 2 to 4.
// Oracles: ovs-ofctl dump-flows / dump-groups and each switch's vconn log.
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/gateway/gateway.h"
#include "src/pipeline/pipeline.h"
#include "tests/e2e/vconn_log.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/ovs_sandbox.h"
#include "tests/support/temp_dir.h"

namespace shortcut::testing {
namespace {

using gateway::ClusterConfig;
using gateway::ClusterMember;
using gateway::Gateway;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";
constexpr Millis kBound = 20000;

const std::string kCookie1 = "cookie=0x5c00010001000064,";  // Cluster 1, vpc1.
const std::string kCookie2 = "cookie=0x5c00010002000064,";  // Cluster 2, vpc1.
const std::string kDirect = "cookie=0x5c00020000000064,";   // A direct path of vpc1.

struct HostSpec {
  std::string name;
  std::string underlay;
};
const std::vector<HostSpec>& Hosts() {
  static const std::vector<HostSpec> hosts = {{"hostA", "172.31.1.1"}, {"hostB", "172.31.1.2"}};
  return hosts;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A flow dump as sorted lines (dump-flows' order within a table is the
// classifier's, which a replaced flow may change), the cookies of vpc1's
// standing rules and the group their default route names made neutral, so
// that the two clusters' versions of the table compare equal.
std::string Neutral(const std::string& dump, int cluster) {
  const std::string cookie = cluster == 1 ? kCookie1 : kCookie2;
  const std::string group = absl::StrCat("group:", cluster);
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(dump, '\n', absl::SkipWhitespace())) {
    std::string l(absl::StripAsciiWhitespace(line));
    if (absl::StartsWith(l, "OFPST_FLOW")) continue;  // The reply's header line.
    if (absl::StrContains(l, cookie)) {
      l = absl::StrReplaceAll(l, {{cookie, "cookie=VPC1,"}, {group, "group:G"}});
    }
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
}

std::string Without(const std::string& neutral, const std::string& what) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(neutral, '\n')) {
    if (!absl::StrContains(line, what)) lines.emplace_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

class VpcMoveTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    for (const HostSpec& h : Hosts()) {
      auto& ovs = ovs_[h.name];
      ovs = std::make_unique<OvsSandbox>();
      ASSERT_TRUE(ovs->Start({}).ok());
      RunResult r = RunProcess({kCtl, "host", "init", "--db", ovs->db_target(), "--tunnel-ip",
                                h.underlay, "--datapath-type", "netdev"});
      ASSERT_TRUE(r.ok()) << r.err;
    }
    AddVmPort("hostA", "vm-a1", 1);  // vpc1.
    AddVmPort("hostB", "vm-b1", 1);  // vpc2, cluster 1's only.
    for (const char* name : {"gw1", "gw2"}) {
      Gateway::Options o;
      o.session.min_backoff = 50;
      o.session.connection.probe_interval = 0;
      o.host_timeout = 5000;
      gateways_[name] = std::make_unique<Gateway>(io_.get_executor(), o);
    }
  }
  void TearDown() override {
    gateways_.clear();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(500));
  }

  void AddVmPort(const std::string& host, const std::string& name, int ofport) {
    RunResult r = ovs_[host]->Vsctl({"add-port", "br-int", name, "--", "set", "Interface", name,
                                     absl::StrCat("ofport_request=", ofport),
                                     absl::StrCat("external_ids:iface-id=", name)});
    ASSERT_TRUE(r.ok()) << r.err;
  }

  // Cluster `id` of one member, gw<id>, its tunnel port at 600<id>1 on the
  // hosts (unique across the clusters); both hosts.
  ClusterConfig Cluster(uint32_t id) {
    ClusterConfig c;
    c.cluster_id = id;
    c.self = absl::StrCat("gw", id);
    ClusterMember m;
    m.name = c.self;
    m.underlay_ipv4 = absl::StrCat("172.31.", id + 1, ".1");
    m.tunnel_ofport = 60001 + 10 * id;
    c.members.push_back(m);
    for (const HostSpec& h : Hosts()) {
      gateway::Host host;
      host.name = h.name;
      host.underlay_ipv4 = h.underlay;
      host.openflow_target = ovs_[h.name]->OpenflowTarget("br-int");
      host.ovsdb_target = ovs_[h.name]->db_target();
      c.hosts.push_back(host);
    }
    return c;
  }
  static gateway::Vpc Vpc1(bool standby) {
    gateway::Vpc v{"vpc1", 100, "02:5c:00:00:00:01"};
    v.standby = standby;
    return v;
  }
  static gateway::Vpc Vpc2() { return {"vpc2", 200, "02:5c:00:00:00:02"}; }
  static std::vector<gateway::Network> Networks() { return {{"net1", "10.0.0.0/24", ""}}; }
  static std::vector<gateway::Endpoint> Vpc1Endpoints() {
    return {{"vm-a1", "vpc1", "net1", "10.0.0.11", "", "02:00:00:00:00:11", "hostA", "vm-a1"}};
  }
  static std::vector<gateway::Endpoint> Vpc2Endpoints() {
    return {{"vm-b1", "vpc2", "net1", "10.0.0.21", "", "02:00:00:00:00:21", "hostB", "vm-b1"}};
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

  std::string DumpFlows(const std::string& host) {
    RunResult r =
        ovs_[host]->Ofctl({"dump-flows", "--no-stats", ovs_[host]->OpenflowTarget("br-int")});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  std::string DumpGroups(const std::string& host) {
    RunResult r = ovs_[host]->Ofctl({"dump-groups", ovs_[host]->OpenflowTarget("br-int")});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  // The dump-groups line of group `id` on `host`; empty: no such group.
  std::string Group(const std::string& host, uint32_t id) {
    for (absl::string_view line : absl::StrSplit(DumpGroups(host), '\n')) {
      if (absl::StrContains(line, absl::StrCat("group_id=", id, ","))) return std::string(line);
    }
    return "";
  }
  bool VmRules(const std::string& host, const std::string& ip, int ofport) {
    for (absl::string_view line : absl::StrSplit(DumpFlows(host), '\n')) {
      if (absl::StrContains(line, "table=30") &&
          absl::StrContains(line, absl::StrCat("nw_dst=", ip, " ")) &&
          absl::EndsWith(absl::StripTrailingAsciiWhitespace(line),
                         absl::StrCat("output:", ofport))) {
        return true;
      }
    }
    return false;
  }
  std::string Vsctl(const std::string& host, const std::vector<std::string>& args) {
    RunResult r = ovs_[host]->Vsctl(args);
    return r.ok() ? std::string(absl::StripSuffix(r.out, "\n")) : "error: " + r.err;
  }

  // ---- The switches' own record of what they received. ----
  std::string LogPath(const std::string& host) { return ovs_[host]->dir() + "/ovs-vswitchd.log"; }
  void DebugVconn(const std::string& host) {
    RunResult r = RunProcess(
        {"ovs-appctl", "-t", ovs_[host]->dir() + "/ovs-vswitchd.ctl", "vlog/set", "vconn:file:dbg"},
        ovs_[host]->ToolOptions());
    ASSERT_TRUE(r.ok()) << r.err;
    // Every message logged: the rate limit (600 a minute) would hide some.
    r = RunProcess({"ovs-appctl", "-t", ovs_[host]->dir() + "/ovs-vswitchd.ctl",
                    "vlog/disable-rate-limit", "vconn"},
                   ovs_[host]->ToolOptions());
    ASSERT_TRUE(r.ok()) << r.err;
  }
  size_t LogSize(const std::string& host) { return ReadFile(LogPath(host)).size(); }
  // What `host` received since `offset`, once its log shows a group dump
  // made here (ovs-vswitchd logs in the order it reads).
  asio::awaitable<Received> ReceivedSince(std::string host, size_t offset) {
    (void)DumpGroups(host);
    std::string segment;
    bool marked = co_await Poll([&] {
      std::string log = ReadFile(LogPath(host));
      segment = log.size() > offset ? log.substr(offset) : "";
      return absl::StrContains(segment, "GROUP_DESC request");
    });
    EXPECT_TRUE(marked) << host << ": the dump never showed in the log";
    co_return ParseReceived(segment);
  }

  asio::io_context io_;
  std::map<std::string, std::unique_ptr<OvsSandbox>> ovs_;    // By host name.
  std::map<std::string, std::unique_ptr<Gateway>> gateways_;  // gw1 (cluster 1), gw2 (cluster 2).
};

TEST_P(VpcMoveTest, MakeBeforeBreakKeepsTheHostsFlowsAndItsDirectPaths) {
  const bool keep_direct_paths = GetParam();
  Gateway& gw1 = *gateways_["gw1"];
  Gateway& gw2 = *gateways_["gw2"];
  const ClusterConfig cluster1 = Cluster(1);
  const ClusterConfig cluster2 = Cluster(2);
  // A direct path in vpc1 on hostA, toward 10.0.0.99 on hostB's underlay.
  std::vector<of::FlowMod> direct = {
      pipeline::DirectPathAdd(100, 0x0a000063, 0xac1f0102, /*idle_timeout_s=*/600)};

  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        // ---- 1. Cluster 1 serves vpc1 (hostA) and vpc2 (hostB). ----
        ClusterConfig c1 = cluster1;
        ClusterConfig c2 = cluster2;
        CO_ASSERT_OK(co_await gw1.SetCluster(std::move(c1)));
        CO_ASSERT_OK(co_await gw2.SetCluster(std::move(c2)));
        CO_ASSERT_OK(co_await gw1.LoadVpc(Vpc1(false), Networks(), Vpc1Endpoints()));
        CO_ASSERT_OK(co_await gw1.LoadVpc(Vpc2(), Networks(), Vpc2Endpoints()));
        CO_ASSERT_TRUE(co_await Poll(
            [&] { return VmRules("hostA", "10.0.0.11", 1) && VmRules("hostB", "10.0.0.21", 1); }));
        // Both clusters' tunnel ports are on both hosts (OVSDB, before the
        // OpenFlow log is watched).
        CO_ASSERT_TRUE(co_await Poll([&] {
          for (const HostSpec& h : Hosts()) {
            if (Vsctl(h.name, {"get", "Interface", "sc-ac1f0201", "ofport"}) != "60011" ||
                Vsctl(h.name, {"get", "Interface", "sc-ac1f0301", "ofport"}) != "60021") {
              return false;
            }
          }
          return true;
        }));
        gateway::HostProgrammer* programmer = gw1.programmer("hostA");
        CO_ASSERT_TRUE(programmer != nullptr);
        std::vector<of::FlowMod> mods = direct;
        CO_ASSERT_OK(co_await programmer->SendDirectPaths(std::move(mods)));

        const std::string flows_a0 = DumpFlows("hostA");
        const std::string flows_b0 = DumpFlows("hostB");
        const std::string groups_b0 = DumpGroups("hostB");
        EXPECT_EQ(Count(flows_a0, kCookie1), 7u) << flows_a0;  // vpc1: 3, vm-a1: 4.
        EXPECT_EQ(Count(flows_a0, kDirect), 1u) << flows_a0;
        EXPECT_THAT(flows_a0, HasSubstr("metadata=0x64 actions=set_field:0x64->tun_id,group:1"));
        EXPECT_THAT(Group("hostA", 1), HasSubstr("watch_port:60011"));
        EXPECT_EQ(Group("hostA", 2), "");
        EXPECT_THAT(Group("hostB", 1), HasSubstr("watch_port:60011"));

        std::map<std::string, size_t> mark;
        for (const HostSpec& h : Hosts()) {
          DebugVconn(h.name);
          mark[h.name] = LogSize(h.name);
        }
        const size_t mark_b = mark["hostB"];

        // ---- 2. Cluster 2 loads vpc1 standby: no host is sent anything. ----
        CO_ASSERT_OK(co_await gw2.LoadVpc(Vpc1(true), Networks(), Vpc1Endpoints()));
        // Its port binding comes through hostA's OVSDB: programs nothing either.
        CO_ASSERT_TRUE(co_await Poll([&] { return gw2.BoundPort("hostA", "vm-a1") == 1u; }));
        EXPECT_TRUE(gw2.RulesFor("hostA").vpcs.empty());
        EXPECT_TRUE(gw2.RulesFor("hostA").vms.empty());
        Received a2 = co_await ReceivedSince("hostA", mark["hostA"]);
        EXPECT_FALSE(a2.dropped);
        EXPECT_EQ(a2.Changes(), 0u) << a2.text;
        EXPECT_EQ(a2.Count("BARRIER_REQUEST"), 0u) << a2.text;
        EXPECT_EQ(DumpFlows("hostA"), flows_a0);
        EXPECT_EQ(Group("hostA", 2), "");

        // ---- 3. Cluster 2 serves vpc1. ----
        mark["hostA"] = LogSize("hostA");
        CO_ASSERT_OK(co_await gw2.SetVpcStandby("vpc1", false));
        const std::string flows_a3 = DumpFlows("hostA");
        EXPECT_EQ(Count(flows_a3, kCookie2), 7u) << flows_a3;
        EXPECT_EQ(Count(flows_a3, kCookie1), 0u) << flows_a3;
        EXPECT_THAT(flows_a3, HasSubstr("metadata=0x64 actions=set_field:0x64->tun_id,group:2"));
        EXPECT_THAT(flows_a3, Not(HasSubstr("group:1")));
        // Only the cookies and the group differ from cluster 1's table.
        EXPECT_EQ(Neutral(flows_a3, 2), Neutral(flows_a0, 1));
        const std::string group2 = Group("hostA", 2);
        EXPECT_THAT(group2, HasSubstr("type=select"));
        EXPECT_THAT(group2, HasSubstr("watch_port:60021"));
        EXPECT_THAT(group2, Not(HasSubstr("watch_port:60011")));
        EXPECT_NE(Group("hostA", 1), "");  // Cluster 1 has not let go yet.
        Received a3 = co_await ReceivedSince("hostA", mark["hostA"]);
        EXPECT_FALSE(a3.dropped);
        // Group and flows in one bundle.
        EXPECT_EQ(a3.Count("COMMIT_REQUEST"), 1u) << a3.text;
        EXPECT_EQ(a3.Count("GROUP_MOD"), 1u) << a3.text;
        EXPECT_EQ(a3.Count("FLOW_MOD"), 7u) << a3.text;
        EXPECT_EQ(a3.Changes(), a3.Count("BUNDLE")) << a3.text;  // Nothing outside the bundle.

        // ---- 4. Cluster 1 lets go of vpc1. ----
        mark["hostA"] = LogSize("hostA");
        CO_ASSERT_OK_AND_ASSIGN(size_t removed, co_await gw1.DeleteVpc("vpc1", keep_direct_paths));
        EXPECT_EQ(removed, 1u);
        const std::string flows_a4 = DumpFlows("hostA");
        std::string want = Neutral(flows_a0, 1);
        if (!keep_direct_paths) want = Without(want, kDirect);
        EXPECT_EQ(Neutral(flows_a4, 2), want);
        EXPECT_EQ(Count(flows_a4, kCookie2), 7u) << flows_a4;
        EXPECT_EQ(Count(flows_a4, kDirect), keep_direct_paths ? 1u : 0u) << flows_a4;
        EXPECT_EQ(Group("hostA", 1), "");  // hostA held no other VPC of cluster 1.
        EXPECT_EQ(Group("hostA", 2), group2);
        Received a4 = co_await ReceivedSince("hostA", mark["hostA"]);
        EXPECT_FALSE(a4.dropped);
        // Cluster 1's deletes did reach hostA (and missed cluster 2's flows).
        EXPECT_EQ(a4.Count("COMMIT_REQUEST"), 1u) << a4.text;
        EXPECT_EQ(a4.Count("DEL_STRICT"), 7u) << a4.text;

        // hostB, which holds no VM of vpc1, was sent nothing by either
        // gateway through steps 2 to 4, and is as it was.
        Received b = co_await ReceivedSince("hostB", mark_b);
        EXPECT_FALSE(b.dropped);
        EXPECT_EQ(b.Changes(), 0u) << b.text;
        EXPECT_EQ(b.Count("BARRIER_REQUEST"), 0u) << b.text;
        EXPECT_EQ(DumpFlows("hostB"), flows_b0);
        EXPECT_EQ(DumpGroups("hostB"), groups_b0);
        EXPECT_EQ(Group("hostB", 2), "");
      },
      180000);
}

INSTANTIATE_TEST_SUITE_P(KeepDirectPaths, VpcMoveTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Kept") : std::string("Deleted");
                         });

}  // namespace
}  // namespace shortcut::testing
