// `shortcutctl gateway ...` against a running gateway service: the command
// functions (output, exit status) through GatewayCli, and the built
// binaries (shortcutctl, shortcut-gatewayd) for usage errors, the daemon's
// configuration errors, and a daemon's whole life up to SIGTERM.
#include "src/ctl/gateway_cmd.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/gateway/service_fixture.h"
#include "tests/support/subprocess.h"

namespace shortcut::ctl {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";
const std::string kGatewayd = std::string(SHORTCUT_BIN_DIR) + "/shortcut-gatewayd";

struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
};

class GatewayCmdTest : public gateway::testing::ServiceFixture {
 protected:
  // `shortcutctl gateway --server <the fixture's> ARGS...`, in process.
  CtlResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"shortcutctl", "gateway", "--server", server_->address()});
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    CLI::App app;
    GatewayCli cli(app);
    CtlResult r;
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      r.code = 2;
      r.err = e.what();
      return r;
    }
    std::ostringstream out, err;
    r.code = cli.Run(out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  std::string File(const std::string& name, const std::string& contents) {
    std::string path = dir_.File(name);
    shortcut::testing::WriteFile(path, contents);
    return path;
  }
  std::string ClusterFile() {
    return File("cluster.json", absl::StrCat(R"({"cluster_id": 9, "self": "gw1",
        "members": [{"name": "gw1", "underlay_ip": "172.31.2.1"}],
        "hosts": [{"name": "host1", "underlay_ip": "172.31.1.1", "openflow": ")",
                                             targets_["host1"], R"("},
                  {"name": "host2", "underlay_ip": "172.31.1.2", "openflow": ")",
                                             targets_["host2"], R"("}]})"));
  }
  // vpc1 with 2500 endpoints (three batches), half on each host.
  std::string VpcFile() {
    nlohmann::json vpc = {{"id", "vpc1"},
                          {"vni", 100},
                          {"router_mac", "02:5c:00:00:00:01"},
                          {"networks", {{{"id", "net1"}, {"ipv4_cidr", "10.0.0.0/16"}}}}};
    nlohmann::json endpoints = nlohmann::json::array();
    for (int i = 0; i < 2500; ++i) {
      char key[16], mac[18];
      std::snprintf(key, sizeof(key), "ep%04d", i);
      std::snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
      endpoints.push_back({{"key", key},
                           {"network", "net1"},
                           {"ipv4", absl::StrCat("10.0.", i / 250, ".", i % 250 + 1)},
                           {"mac", mac},
                           {"host", i % 2 ? "host2" : "host1"},
                           {"iface_id", key}});
    }
    vpc["endpoints"] = endpoints;
    return File("vpc.json", vpc.dump());
  }
};

TEST_F(GatewayCmdTest, CommandsPrintTheirResultsAndExitZero) {
  CtlResult r = Ctl({"health"});
  EXPECT_EQ(r.code, 1);  // No cluster yet.
  EXPECT_EQ(r.out, "NOT_SERVING\n");

  r = Ctl({"set-cluster", ClusterFile()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "cluster 9 set: 1 members, 2 hosts\n");
  r = Ctl({"health"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "SERVING\n");

  r = Ctl({"add-vpc", VpcFile()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "vpc vpc1 added: 2500 endpoints\n");

  BindPort("host1", "ep0000", 5);
  r = Ctl({"endpoints", "--host", "host1"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u + 1250u);
  EXPECT_THAT(lines[0], StartsWith("KEY     VPC   NETWORK  IPV4"));
  EXPECT_EQ(lines[1],
            "ep0000  vpc1  net1     10.0.0.1    -     02:00:00:00:00:00  host1  ep0000    5       "
            "yes");
  EXPECT_EQ(lines[2],
            "ep0002  vpc1  net1     10.0.0.3    -     02:00:00:00:00:02  host1  ep0002    -       "
            "no");

  r = Ctl({"update-endpoint", "--key", "ep9999", "--vpc", "vpc1", "--network", "net1", "--ipv4",
           "10.0.200.1", "--mac", "02:00:00:00:99:99", "--host", "host2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint ep9999: CREATED, pending\n");

  r = Ctl({"stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("vpcs                    1\n"));
  EXPECT_THAT(r.out, HasSubstr("endpoints               2501\n"));
  EXPECT_THAT(r.out, HasSubstr("packet_ins              42\n"));
  EXPECT_THAT(r.out, HasSubstr("endpoints_pending       2500\n"));

  r = Ctl({"hosts"});
  ASSERT_EQ(r.code, 0) << r.err;
  lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith("NAME   UNDERLAY    OPENFLOW"));
  EXPECT_THAT(lines[1], StartsWith("host1  172.31.1.1  unix:"));
  EXPECT_THAT(lines[1], HasSubstr("  -      yes        yes         "));

  // --json: the response in protobuf's JSON mapping, on one line.
  r = Ctl({"--json", "stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json stats = nlohmann::json::parse(r.out);
  EXPECT_EQ(stats["endpoints"], "2501");  // uint64 is a string in proto JSON.
  r = Ctl({"endpoints", "--vpc", "vpc1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json list = nlohmann::json::parse(r.out);
  EXPECT_EQ(list["endpoints"].size(), 2501u);
  EXPECT_EQ(list["endpoints"][0]["endpoint"]["key"], "ep0000");
  EXPECT_EQ(list["endpoints"][0]["online"], true);

  r = Ctl({"delete-endpoint", "ep9999"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint ep9999 deleted\n");
  r = Ctl({"delete-network", "vpc1", "net1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "network net1 of vpc vpc1 deleted: 2500 endpoints\n");
  r = Ctl({"delete-vpc", "vpc1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "vpc vpc1 deleted: 0 endpoints\n");
}

TEST_F(GatewayCmdTest, ACallErrorPrintsItsCodeAndExitsOne) {
  CtlResult r = Ctl({"delete-endpoint", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: endpoint nope is unknown\n");

  r = Ctl({"delete-vpc", "vpc9"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: vpc vpc9 is unknown\n");

  // A bad endpoint in the file's third batch: refused whole by the gateway.
  ASSERT_EQ(Ctl({"set-cluster", ClusterFile()}).code, 0);
  std::string text = testing::ReadFile(VpcFile());
  text.replace(text.find("10.0.9.1"), 8, "10.9.9.1");  // ep2250.
  r = Ctl({"add-vpc", File("bad-vpc.json", text)});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("shortcutctl: INVALID_ARGUMENT: endpoints[2250]: endpoint ep2250"));
  r = Ctl({"stats"});
  EXPECT_THAT(r.out, HasSubstr("vpcs                    0\n"));
}

TEST_F(GatewayCmdTest, SetClusterTakesStandbyMembers) {
  // This gateway stands by: the cluster is set, and it programs no host.
  std::string file = File("standby.json", absl::StrCat(R"({"cluster_id": 9, "self": "gw1",
      "members": [{"name": "gw1", "underlay_ip": "172.31.2.1", "standby": true},
                  {"name": "gw2", "underlay_ip": "172.31.2.2"}],
      "hosts": [{"name": "host1", "underlay_ip": "172.31.1.1", "openflow": ")",
                                                       targets_["host1"], R"("}]})"));
  CtlResult r = Ctl({"set-cluster", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "cluster 9 set: 2 members (1 standby), 1 hosts\n");
  r = Ctl({"hosts"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r.out;
  std::vector<std::string> cells = absl::StrSplit(lines[1], ' ', absl::SkipEmpty());
  ASSERT_GE(cells.size(), 6u) << lines[1];
  EXPECT_EQ(cells[0], "host1");
  EXPECT_EQ(cells[5], "no") << r.out;  // DESIGNATED.
}

TEST_F(GatewayCmdTest, BadInputFilesExitTwo) {
  CtlResult r = Ctl({"set-cluster", dir_.File("missing.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing.json: cannot open"));
  r = Ctl({"set-cluster", File("bad.json", R"({"cluster_id": 9, "slef": "gw1"})")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("slef"));
  r = Ctl({"add-vpc", File("bad-vpc.json", R"({"id": "vpc1", "endpoints": [{"kee": "x"}]})")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("endpoints[0]"));
}

class GatewayCmdMoreTest : public GatewayCmdTest {
 protected:
  // The cluster and vpc1 (10.0.0.0/16) without endpoints.
  void Prepare() {
    ASSERT_EQ(Ctl({"set-cluster", ClusterFile()}).code, 0);
    std::string vpc = File("vpc1.json", R"({"id": "vpc1", "vni": 100,
        "router_mac": "02:5c:00:00:00:01",
        "networks": [{"id": "net1", "ipv4_cidr": "10.0.0.0/16"}]})");
    CtlResult r = Ctl({"add-vpc", vpc});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // An add-endpoints file of `n` endpoints of vpc1 from key number `first`.
  std::string EndpointsFile(const std::string& name, int first, int n) {
    nlohmann::json endpoints = nlohmann::json::array();
    for (int i = first; i < first + n; ++i) {
      char key[16], mac[18];
      std::snprintf(key, sizeof(key), "ep%04d", i);
      std::snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
      endpoints.push_back({{"key", key},
                           {"vpc", "vpc1"},
                           {"network", "net1"},
                           {"ipv4", absl::StrCat("10.0.", i / 250, ".", i % 250 + 1)},
                           {"mac", mac},
                           {"host", i % 2 ? "host2" : "host1"},
                           {"iface_id", key}});
    }
    nlohmann::json document = {{"endpoints", endpoints}};
    return File(name, document.dump());
  }
  // `stats` output as field → value.
  std::map<std::string, std::string> StatsTable(const std::string& out) {
    std::map<std::string, std::string> fields;
    for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
      std::vector<std::string> cells = absl::StrSplit(line, ' ', absl::SkipEmpty());
      EXPECT_EQ(cells.size(), 2u) << line;
      if (cells.size() == 2) fields[cells[0]] = cells[1];
    }
    return fields;
  }
};

TEST_F(GatewayCmdMoreTest, AddEndpointsSendsTheFileInBatchesAndPrintsTheCount) {
  Prepare();
  CtlResult r = Ctl({"add-endpoints", EndpointsFile("a.json", 0, 2)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2 endpoints added\n");
  EXPECT_EQ(r.err, "");
  // More than one batch (kAddVpcBatch endpoints each): one stream all the same.
  r = Ctl({"add-endpoints", EndpointsFile("b.json", 2, 2 * kAddVpcBatch + 1)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(2 * kAddVpcBatch + 1, " endpoints added\n"));
  r = Ctl({"--json", "add-endpoints", EndpointsFile("c.json", 3000, 1)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(R"({"endpoints": "1"})"));
  r = Ctl({"endpoints", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["endpoints"].size(), 2u + 2 * kAddVpcBatch + 1 + 1);
}

TEST_F(GatewayCmdMoreTest, AddEndpointsBadFilesExitTwoAndRefusalsExitOne) {
  Prepare();
  CtlResult r = Ctl({"add-endpoints", dir_.File("missing.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing.json: cannot open"));
  r = Ctl({"add-endpoints", File("bad1.json", R"({"endpoints": [)")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(StartsWith("shortcutctl: "), HasSubstr("not valid JSON")));
  for (const char* text :
       {R"([{"key": "ep1"}])", R"({"endpoint": []})", R"({"endpoints": {}})", R"("endpoints")"}) {
    r = Ctl({"add-endpoints", File("bad2.json", text)});
    EXPECT_EQ(r.code, 2) << text;
    EXPECT_THAT(r.err, HasSubstr(R"(must be a JSON object with an "endpoints" array)")) << text;
    EXPECT_EQ(r.out, "") << text;
  }
  r = Ctl(
      {"add-endpoints", File("bad3.json", R"({"endpoints": [{"key": "ep1"}, {"kee": "ep2"}]})")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("bad3.json: endpoints[1]"), HasSubstr("kee")));
  r = Ctl({"add-endpoints", File("bad4.json", R"({"endpoints": [{"key": 7, "vni": "x"}]})")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad4.json: endpoints[0]"));

  // Refused by the gateway: exit 1, nothing added.
  std::string text = testing::ReadFile(EndpointsFile("good.json", 0, 3));
  text.replace(text.find("10.0.0.2"), 8, "10.9.0.2");  // ep0001.
  r = Ctl({"add-endpoints", File("outside.json", text)});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("shortcutctl: INVALID_ARGUMENT: endpoints[1]: endpoint ep0001"));
  r = Ctl({"add-endpoints", File("empty.json", R"({"endpoints": []})")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "shortcutctl: INVALID_ARGUMENT: endpoints: the stream carried none\n");
  r = Ctl({"add-endpoints", File("missing-field.json", R"({"endpoints": [{"key": "ep1"}]})")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "shortcutctl: INVALID_ARGUMENT: endpoints[0].vpc is empty\n");
  r = Ctl({"stats"});
  EXPECT_EQ(StatsTable(r.out)["endpoints"], "0");
}

TEST_F(GatewayCmdMoreTest, PathsPrintsATableOrJson) {
  CtlResult r = Ctl({"paths"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "FROM-HOST  TO-HOST  VNI  SRC  DST  SETUP-US  RESULT\n");  // None yet.
  OnIo([&] {
    service_->set_paths_hook([](gateway::v1::ListPathsResponse& paths) {
      auto* p = paths.add_paths();
      p->set_src_host("host1");
      p->set_dst_host("host2");
      p->set_vni(100);
      p->set_src_ip("10.0.0.10");
      p->set_dst_ip("10.0.0.11");
      p->set_setup_us(1234);
      p->set_unix_time_ms(1700000000000);
      p = paths.add_paths();
      p->set_src_host("host2");
      p->set_dst_host("host1");
      p->set_vni(100);
      p->set_src_ip("10.0.0.11");
      p->set_dst_ip("10.0.0.10");
      p->set_setup_us(56);
      p->set_error("UNAVAILABLE: host1 is not connected");
    });
    return 0;
  });
  r = Ctl({"paths"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "FROM-HOST  TO-HOST  VNI  SRC        DST        SETUP-US  RESULT\n"
            "host1      host2    100  10.0.0.10  10.0.0.11  1234      installed\n"
            "host2      host1    100  10.0.0.11  10.0.0.10  56        "
            "UNAVAILABLE: host1 is not connected\n");
  r = Ctl({"paths", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);  // One line.
  nlohmann::json json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json["paths"].size(), 2u);
  EXPECT_EQ(json["paths"][0]["src_host"], "host1");
  EXPECT_EQ(json["paths"][0]["vni"], 100);
  EXPECT_EQ(json["paths"][0]["setup_us"], "1234");  // int64 is a string in proto JSON.
  EXPECT_EQ(json["paths"][0]["unix_time_ms"], "1700000000000");
  EXPECT_EQ(json["paths"][0]["error"], "");
  EXPECT_EQ(json["paths"][1]["error"], "UNAVAILABLE: host1 is not connected");
}

TEST_F(GatewayCmdMoreTest, StatsPrintsEveryFieldByItsType) {
  auto hook = [this](bool in_sync) {
    OnIo([&] {
      service_->set_stats_hook([in_sync](gateway::v1::GetStatsResponse& stats) {
        stats.set_packet_ins(42);
        stats.set_setup_p50_us(1500);
        stats.set_setup_p99_us(98000);
        stats.set_bridge_flows(7);
        stats.set_bridge_in_sync(in_sync);
        stats.set_invalidations(3);
      });
      return 0;
    });
  };
  hook(true);
  CtlResult r = Ctl({"stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::string> fields = StatsTable(r.out);
  // Every field of the message, none printed as unknown.
  const auto* descriptor = gateway::v1::GetStatsResponse::descriptor();
  EXPECT_EQ(fields.size(), static_cast<size_t>(descriptor->field_count()));
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const std::string& name = descriptor->field(i)->name();
    ASSERT_TRUE(fields.contains(name)) << name;
    EXPECT_NE(fields[name], "?") << name;
  }
  EXPECT_EQ(fields["packet_ins"], "42");      // uint64.
  EXPECT_EQ(fields["setup_p50_us"], "1500");  // int64.
  EXPECT_EQ(fields["setup_p99_us"], "98000");
  EXPECT_EQ(fields["bridge_flows"], "7");
  EXPECT_EQ(fields["bridge_in_sync"], "yes");  // bool.
  EXPECT_EQ(fields["invalidations"], "3");
  // Columns: the value starts two spaces after the longest name.
  EXPECT_THAT(r.out, HasSubstr("\nsetup_p50_us            1500\n"));
  EXPECT_THAT(r.out, HasSubstr("\nbridge_in_sync          yes\n"));
  hook(false);
  r = Ctl({"stats"});
  EXPECT_EQ(StatsTable(r.out)["bridge_in_sync"], "no");
  r = Ctl({"--json", "stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["setup_p50_us"], "1500");
  EXPECT_EQ(json["bridge_in_sync"], false);
  EXPECT_EQ(json["bridge_flows"], "7");
}

TEST_F(GatewayCmdMoreTest, StatsShowTheInstanceAndTheCluster) {
  CtlResult r = Ctl({"stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::string> fields = StatsTable(r.out);
  EXPECT_EQ(fields["cluster_id"], "0");  // No cluster yet.
  EXPECT_EQ(fields["cluster_version"], "0");
  const std::string instance = fields["instance_id"];
  EXPECT_EQ(instance.size(), 16u);
  EXPECT_EQ(instance.find_first_not_of("0123456789abcdef"), std::string::npos) << instance;
  EXPECT_EQ(instance, OnIo([&] { return gw_->instance_id(); }));

  Prepare();  // set-cluster: cluster 9.
  ASSERT_EQ(Ctl({"set-cluster", ClusterFile()}).code, 0);
  r = Ctl({"stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  fields = StatsTable(r.out);
  EXPECT_EQ(fields["cluster_id"], "9");
  EXPECT_EQ(fields["cluster_version"], "2");
  EXPECT_EQ(fields["instance_id"], instance);  // The same gateway.
  r = Ctl({"--json", "stats"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["instance_id"], instance);
  EXPECT_EQ(json["cluster_id"], 9);         // uint32 is a number in proto JSON.
  EXPECT_EQ(json["cluster_version"], "2");  // uint64 a string.
}

TEST(GatewayBinariesTest, UsageErrorsExitTwo) {
  testing::RunResult r = testing::RunProcess({kCtl, "gateway", "stats"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--server"));
  r = testing::RunProcess({kCtl, "gateway", "--server", "unix:/nonexistent.sock", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = testing::RunProcess({kCtl, "gateway", "--server", "unix:/nonexistent.sock", "delete-vpc"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A server nobody listens on is a failed call, not a usage error.
  r = testing::RunProcess({kCtl, "gateway", "--server", "unix:/nonexistent.sock", "stats"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("shortcutctl: UNAVAILABLE: "));
}

TEST(GatewayBinariesTest, TheDaemonRefusesABadConfigWithExitTwo) {
  testing::TempDir dir("shortcut-gatewayd");
  std::string config = dir.File("gw.json");
  testing::WriteFile(config, R"({"listen": "unix:)" + dir.File("gw.sock") +
                                 R"(", "cluster": {"cluster_id": 9, "self": "gw1",
                                 "members": [{"name": "gw1", "underlay_ip": "nope"}]}})");
  testing::RunResult r = testing::RunProcess({kGatewayd, "--config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cluster.members: gw1: underlay_ip 'nope'"));
  r = testing::RunProcess({kGatewayd});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(GatewayBinariesTest, TheDaemonServesUntilSigterm) {
  testing::TempDir dir("shortcut-gatewayd");
  std::string sock = dir.File("gw.sock");
  std::string config = dir.File("gw.json");
  testing::WriteFile(config, R"({"listen": "unix:)" + sock + R"(", "log_level": "warning",
      "cluster": {"clusterId": 9, "self": "gw1",
                  "members": [{"name": "gw1", "underlayIp": "172.31.2.1"}]}})");
  // Waits (boundedly) for SERVING, makes one good and one failing call,
  // then stops the daemon as an init system would.
  std::string script =
      absl::StrCat(R"(
    ctl() { ")",
                   kCtl, R"(" gateway --server "unix:)", sock, R"(" --timeout 5 "$@"; }
    ")",
                   kGatewayd, R"(" --config ")", config, R"(" & pid=$!
    n=0
    until ctl health >/dev/null 2>&1; do
      n=$((n+1)); if [ $n -gt 600 ]; then kill -9 $pid; echo never serving; exit 3; fi
      sleep 0.05
    done
    ctl hosts; echo "hosts=$?"
    ctl delete-vpc vpc9; echo "delete=$?"
    kill -TERM $pid; wait $pid; echo "gatewayd=$?"
    test -e ")",
                   sock, R"(" && echo "socket left"
    exit 0
  )");
  testing::RunResult r = testing::Shell(script);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("hosts=0\n"));
  EXPECT_THAT(r.err, HasSubstr("shortcutctl: NOT_FOUND: vpc vpc9 is unknown"));
  EXPECT_THAT(r.out, HasSubstr("delete=1\n"));
  EXPECT_THAT(r.out, HasSubstr("gatewayd=0\n"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("socket left")));
}

}  // namespace
}  // namespace shortcut::ctl
