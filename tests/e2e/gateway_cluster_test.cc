// A gateway cluster whose members change role, on three real ovs-vswitchd
// hosts: A and B hold VMs of the cluster's VPC, C held one and lost it.
// One Gateway object per member (gw1, gw2, gw3), each with its own `self`,
// all driving the hosts' OpenFlow and OVSDB. The cluster starts with gw1
// and gw2 serving and gw3 standing by; gw3 turns serving; then the member
// designated for A stands by. Oracles: ovs-ofctl dump-groups / dump-flows
// and ovs-vsctl on each host, and each host's own record of the OpenFlow
// messages it received (ovs-vswitchd's vconn debug log): C receives no
// flow_mod, group_mod or bundle at any step, while A and B do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/gateway/gateway.h"
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";
constexpr Millis kBound = 20000;

struct HostSpec {
  std::string name;
  std::string underlay;
};
const std::vector<HostSpec>& Hosts() {
  static const std::vector<HostSpec> hosts = {
      {"hostA", "172.31.1.1"}, {"hostB", "172.31.1.2"}, {"hostC", "172.31.1.3"}};
  return hosts;
}

class GatewayClusterTest : public ::testing::Test {
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
    // VM ports, each with its iface-id (the endpoint's key).
    AddVmPort("hostA", "vm-a1", 1);
    AddVmPort("hostB", "vm-b1", 1);
    AddVmPort("hostC", "vm-c1", 1);
    for (const char* name : {"gw1", "gw2", "gw3"}) {
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

  // Members gw1..gw3 (no ofport given: 60001..60003), those in `standby`
  // standing by; the three hosts with their OpenFlow and OVSDB targets.
  ClusterConfig Cluster(const std::string& self, const std::vector<std::string>& standby) {
    ClusterConfig c;
    c.cluster_id = 1;
    c.self = self;
    for (int i = 1; i <= 3; ++i) {
      ClusterMember m;
      m.name = absl::StrCat("gw", i);
      m.underlay_ipv4 = absl::StrCat("172.31.2.", i);
      m.standby = std::find(standby.begin(), standby.end(), m.name) != standby.end();
      c.members.push_back(m);
    }
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
  // The same cluster to each member, one after the other, as the
  // management plane sends it.
  asio::awaitable<absl::Status> SetClusterAll(std::vector<std::string> standby) {
    for (auto& [name, gw] : gateways_) {
      ClusterConfig c = Cluster(name, standby);
      absl::Status s = co_await gw->SetCluster(std::move(c));
      if (!s.ok()) co_return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
    }
    co_return absl::OkStatus();
  }
  static gateway::Endpoint Ep(const std::string& key, const std::string& ip,
                              const std::string& host, const std::string& mac) {
    return {key, "vpc1", "net1", ip, "", mac, host, key};
  }
  static std::vector<gateway::Endpoint> FirstEndpoints() {
    return {Ep("vm-a1", "10.0.0.11", "hostA", "02:00:00:00:00:11"),
            Ep("vm-b1", "10.0.0.21", "hostB", "02:00:00:00:00:21"),
            Ep("vm-c1", "10.0.0.31", "hostC", "02:00:00:00:00:31")};
  }
  static gateway::Vpc Vpc1() { return {"vpc1", 100, "02:5c:00:00:00:01"}; }
  static std::vector<gateway::Network> Networks() { return {{"net1", "10.0.0.0/24", ""}}; }
  asio::awaitable<absl::Status> LoadVpcAll() {
    for (auto& [name, gw] : gateways_) {
      absl::Status s = co_await gw->LoadVpc(Vpc1(), Networks(), FirstEndpoints());
      if (!s.ok()) co_return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
    }
    co_return absl::OkStatus();
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
  // The watch ports of group 1's buckets on `host`, as dump-groups prints
  // them (empty: no group 1); -1 if there are several groups 1.
  std::vector<uint32_t> Buckets(const std::string& host) {
    std::vector<uint32_t> ports;
    int groups = 0;
    for (absl::string_view line : absl::StrSplit(DumpGroups(host), '\n')) {
      if (!absl::StrContains(line, "group_id=1,")) continue;
      ++groups;
      for (absl::string_view part : absl::StrSplit(line, ',')) {
        uint32_t port = 0;
        if (absl::ConsumePrefix(&part, "watch_port:") && absl::SimpleAtoi(part, &port)) {
          ports.push_back(port);
        }
      }
    }
    if (groups > 1) return {static_cast<uint32_t>(-1)};
    return ports;
  }
  // A VM's rules are on its host: the ingress flow delivering its address
  // to its port.
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
  // What `host` logged as received since `offset`, once its log shows the
  // group dump made here last (ovs-vswitchd logs in the order it reads, so
  // everything received before that dump is in the log by then).
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
  std::map<std::string, std::unique_ptr<Gateway>> gateways_;  // By member name.
};

TEST_F(GatewayClusterTest, StandbyJoinsServingLeavesAndOnlyHostsOfTheClusterSeeIt) {
  // Built outside the coroutine (g++ 12 and braced initialisers).
  const std::vector<std::string> gw3_standby = {"gw3"};
  const std::vector<std::string> all_serving;
  // The member designated for hostA once all serve: it stands by last.
  const std::string leaving = gateway::DesignatedMember("hostA", Cluster("gw1", {}).members);
  const std::vector<std::string> leaving_standby = {leaving};
  std::vector<uint32_t> remaining;  // The other two members' ports.
  for (uint32_t i = 1; i <= 3; ++i) {
    if (absl::StrCat("gw", i) != leaving) remaining.push_back(60000 + i);
  }
  const gateway::Endpoint vm_a2 = Ep("vm-a2", "10.0.0.12", "hostA", "02:00:00:00:00:12");

  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        // ---- gw1 and gw2 serve, gw3 stands by; every member loads vpc1. ----
        CO_ASSERT_OK(co_await SetClusterAll(gw3_standby));
        CO_ASSERT_OK(co_await LoadVpcAll());
        CO_ASSERT_TRUE(co_await Poll([&] {
          return VmRules("hostA", "10.0.0.11", 1) && VmRules("hostB", "10.0.0.21", 1) &&
                 VmRules("hostC", "10.0.0.31", 1);
        }));
        for (const char* host : {"hostA", "hostB", "hostC"}) {
          EXPECT_THAT(Buckets(host), ElementsAre(60001u, 60002u)) << host;
        }
        // Tunnel ports toward every member, the standby one included, at
        // 60001 + i in name order.
        CO_ASSERT_TRUE(co_await Poll([&] {
          return Vsctl("hostA", {"get", "Interface", "sc-ac1f0203", "ofport"}) == "60003" &&
                 Vsctl("hostB", {"get", "Interface", "sc-ac1f0203", "ofport"}) == "60003";
        }));
        EXPECT_EQ(Vsctl("hostA", {"get", "Interface", "sc-ac1f0201", "ofport"}), "60001");
        EXPECT_EQ(Vsctl("hostA", {"get", "Interface", "sc-ac1f0202", "ofport"}), "60002");

        // hostC's only VM of the cluster goes: its VM and VPC rules and the
        // group go with it.
        for (auto& [name, gw] : gateways_) CO_ASSERT_OK(co_await gw->DeleteEndpoint("vm-c1"));
        CO_ASSERT_TRUE(co_await Poll([&] { return Buckets("hostC").empty(); }));
        EXPECT_THAT(DumpGroups("hostC"), Not(HasSubstr("group_id=")));
        EXPECT_THAT(DumpFlows("hostC"), Not(HasSubstr("cookie=0x5c00010001")));

        // From here on each switch logs every OpenFlow message it receives.
        std::map<std::string, size_t> mark;
        for (const HostSpec& h : Hosts()) {
          DebugVconn(h.name);
          mark[h.name] = LogSize(h.name);
        }

        // ---- gw3 turns serving. ----
        CO_ASSERT_OK(co_await SetClusterAll(all_serving));
        for (const char* host : {"hostA", "hostB"}) {
          EXPECT_THAT(Buckets(host), ElementsAre(60001u, 60002u, 60003u)) << host;
          Received got = co_await ReceivedSince(host, mark[host]);
          EXPECT_FALSE(got.dropped) << host;
          // The group rewritten whole in one bundle, and nothing else.
          EXPECT_EQ(got.Count("BUNDLE_ADD"), 1u) << host << "\n" << got.text;
          EXPECT_EQ(got.Count("COMMIT_REQUEST"), 1u) << host << "\n" << got.text;
          EXPECT_EQ(got.Count("FLOW_MOD"), 0u) << host << "\n" << got.text;
          EXPECT_THAT(got.text, HasSubstr("GROUP_MOD")) << host;
          EXPECT_THAT(absl::AsciiStrToLower(got.text), Not(HasSubstr("insert_bucket"))) << host;
        }
        Received c1 = co_await ReceivedSince("hostC", mark["hostC"]);
        EXPECT_FALSE(c1.dropped);
        EXPECT_EQ(c1.Changes(), 0u) << c1.text;
        EXPECT_TRUE(Buckets("hostC").empty());

        // ---- The same cluster again: nothing changes anywhere. ----
        for (const HostSpec& h : Hosts()) mark[h.name] = LogSize(h.name);
        CO_ASSERT_OK(co_await SetClusterAll(all_serving));
        for (const HostSpec& h : Hosts()) {
          Received got = co_await ReceivedSince(h.name, mark[h.name]);
          EXPECT_FALSE(got.dropped) << h.name;
          EXPECT_EQ(got.Changes(), 0u) << h.name << "\n" << got.text;
          EXPECT_EQ(got.Count("BARRIER_REQUEST"), 0u) << h.name << "\n" << got.text;
        }

        // ---- hostA's designated member stands by. ----
        for (const HostSpec& h : Hosts()) mark[h.name] = LogSize(h.name);
        CO_ASSERT_OK(co_await SetClusterAll(leaving_standby));
        EXPECT_EQ(Buckets("hostA"), remaining);
        EXPECT_EQ(Buckets("hostB"), remaining);
        for (const char* host : {"hostA", "hostB"}) {
          Received got = co_await ReceivedSince(host, mark[host]);
          EXPECT_FALSE(got.dropped) << host;
          EXPECT_EQ(got.Count("COMMIT_REQUEST"), 1u) << host << "\n" << got.text;
          EXPECT_EQ(got.Count("FLOW_MOD"), 0u) << host << "\n" << got.text;
        }
        Received c3 = co_await ReceivedSince("hostC", mark["hostC"]);
        EXPECT_FALSE(c3.dropped);
        EXPECT_EQ(c3.Changes(), 0u) << c3.text;

        // Another member programs hostA now: a new VM there comes online
        // through it, with all its rules, and the group keeps its buckets.
        for (const HostSpec& h : Hosts()) mark[h.name] = LogSize(h.name);
        AddVmPort("hostA", "vm-a2", 2);
        int online = 0;
        std::string online_through;
        for (auto& [name, gw] : gateways_) {
          // Its port shows in hostA's OVSDB first (as Nova plugs it).
          CO_ASSERT_TRUE(co_await Poll([&] { return gw->BoundPort("hostA", "vm-a2") == 2u; }));
          CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw->UpdateEndpoint(vm_a2));
          if (r.online) {
            ++online;
            online_through = name;
          }
        }
        EXPECT_EQ(online, 1);
        EXPECT_NE(online_through, leaving);
        EXPECT_FALSE(online_through.empty());
        EXPECT_TRUE(VmRules("hostA", "10.0.0.12", 2));
        EXPECT_TRUE(VmRules("hostA", "10.0.0.11", 1));
        EXPECT_EQ(Buckets("hostA"), remaining);
        Received c4 = co_await ReceivedSince("hostC", mark["hostC"]);
        EXPECT_EQ(c4.Changes(), 0u) << c4.text;
        Received a4 = co_await ReceivedSince("hostA", mark["hostA"]);
        EXPECT_EQ(a4.Count("COMMIT_REQUEST"), 1u) << a4.text;  // The new VM's flows.
      },
      180000);
}

}  // namespace
}  // namespace shortcut::testing
