// shortcutctl's manager commands: the real binary against a managerd in the
// test process (tests/manager/manager_fixture.h: ManagerService over a real
// NbStore and ovsdb-server). Output, JSON, exit codes, and the database as
// the oracle.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/manager/manager_fixture.h"
#include "tests/support/subprocess.h"

namespace shortcut::ctl {
namespace {

using shortcut::testing::RunOptions;
using shortcut::testing::RunProcess;
using shortcut::testing::RunResult;
using ::testing::HasSubstr;

class ManagerCmdTest : public manager::testing::ManagerFixture {
 protected:
  RunResult Ctl(std::vector<std::string> args, RunOptions options = {}) {
    std::vector<std::string> argv = {SHORTCUT_BIN_DIR "/shortcutctl", "--server",
                                     server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, options);
  }
  void Ok(std::vector<std::string> args) {
    RunResult r = Ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // h1, g1 in cluster 1, VPC blue with network web.
  void Basic() {
    Ok({"host", "register", "h1", "--underlay-ip", "172.31.1.1", "--openflow",
        "tcp:172.31.1.1:6653"});
    Ok({"gw", "register", "g1", "--underlay-ip", "172.31.2.1", "--grpc", "unix:/run/g1.sock",
        "--capacity", "100"});
    Ok({"cluster", "create", "g1"});
    Ok({"vpc", "create", "blue", "--vni", "100", "--router-mac", "02:00:00:00:00:01", "--network",
        "web=10.0.0.0/16,fd00::/64"});
  }
};

TEST_F(ManagerCmdTest, HostsTablesAndJson) {
  RunResult r = Ctl({"host", "register", "h1", "--underlay-ip", "172.31.1.1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "host h1 registered\n");
  EXPECT_EQ(Select("Host", "name", "h1").size(), 1u);
  Ok({"host", "register", "h22", "--underlay-ip", "172.31.1.22", "--ovsdb", "tcp:172.31.1.22:6640",
      "--direct-path-budget", "500"});
  EXPECT_EQ(Select("Host", "name", "h22")[0]["direct_path_budget"], 500);
  EXPECT_EQ(Select("Host", "name", "h1")[0]["direct_path_budget"], 0);
  r = Ctl({"host", "register", "h3", "--underlay-ip", "172.31.1.3", "--direct-path-budget",
           "10000001"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "shortcutctl: INVALID_ARGUMENT: host.direct_path_budget: 10000001 is not in "
            "0..10000000 (0: the gateways' default)\n");

  r = Ctl({"host", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  UNDERLAY     OPENFLOW  OVSDB                 ENDPOINTS  CLUSTERS  PATH-BUDGET\n"
            "h1    172.31.1.1   -         -                     0          -         default\n"
            "h22   172.31.1.22  -         tcp:172.31.1.22:6640  0          -         500\n");

  r = Ctl({"host", "show", "h1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "h1");
  EXPECT_EQ(j["underlay_ip"], "172.31.1.1");

  r = Ctl({"--json", "host", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["hosts"].size(), 2u);

  r = Ctl({"host", "show", "h9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: name: no host 'h9'\n");

  std::string before = Dump();
  r = Ctl({"host", "register", "h3", "--underlay-ip", "172.31.1.1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "shortcutctl: ALREADY_EXISTS: host.underlay_ip: 172.31.1.1 is used by host h1\n");
  EXPECT_EQ(Dump(), before);

  r = Ctl({"host", "unregister", "h22"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count("Host"), 1u);
}

TEST_F(ManagerCmdTest, ServerFromTheEnvironmentOrUsageError) {
  Ok({"host", "register", "h1", "--underlay-ip", "172.31.1.1"});
  RunOptions env;
  env.env["SHORTCUT_MANAGER"] = server_->address();
  RunResult r = RunProcess({SHORTCUT_BIN_DIR "/shortcutctl", "host", "list"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("h1"));

  RunOptions none;
  none.env["SHORTCUT_MANAGER"] = "";
  r = RunProcess({SHORTCUT_BIN_DIR "/shortcutctl", "vpc", "list"}, none);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--server ADDR or SHORTCUT_MANAGER"));

  r = Ctl({"vpc", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ManagerCmdTest, GatewaysClustersVpcsNetworks) {
  Basic();
  RunResult r = Ctl({"gw", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  UNDERLAY    GRPC               CAPACITY  CLUSTER  OFPORT  STATE    ROLE\n"
            "g1    172.31.2.1  unix:/run/g1.sock  100       1        60001   UNKNOWN  SERVING\n");
  r = Ctl({"cluster", "show", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID        1\n"
            "MEMBERS   g1\n"
            "VPCS      blue\n"
            "CAPACITY  100\n"
            "LOAD      0\n");
  r = Ctl({"cluster", "delete", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: FAILED_PRECONDITION: cluster 1 serves VPC blue\n");

  r = Ctl({"vpc", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID    VNI  ROUTER-MAC         CLUSTER  MOVING  NETWORKS  ENDPOINTS  OFFLOAD\n"
            "blue  100  02:00:00:00:00:01  1        -       web       0          first-packet\n");
  r = Ctl({"vpc", "create", "red", "--vni", "100", "--router-mac", "02:00:00:00:00:02"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: ALREADY_EXISTS: vpc.vni: 100 is used by VPC blue\n");
  r = Ctl({"vpc", "create", "red", "--vni", "200", "--router-mac", "02:00:00:00:00:02", "--network",
           "web"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--network 'web': expected ID=IPV4-CIDR[,IPV6-CIDR]"));
  EXPECT_EQ(Count("Vpc"), 1u);

  // The offload policy: written to the row, shown, refused when incomplete.
  r = Ctl({"vpc", "update", "blue", "--offload", "threshold", "--offload-packets", "20",
           "--offload-window-ms", "500"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "vpc blue: offload threshold: 20 packets in 500 ms\n");
  nlohmann::json vpc = Select("Vpc", "vpc_id", "blue");
  EXPECT_EQ(vpc[0]["offload_mode"], "threshold");
  EXPECT_EQ(vpc[0]["offload_packets"], 20);
  EXPECT_EQ(vpc[0]["offload_bytes"], 0);
  EXPECT_EQ(vpc[0]["offload_window_ms"], 500);
  r = Ctl({"vpc", "update", "blue", "--offload", "threshold"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "shortcutctl: INVALID_ARGUMENT: vpc.offload: the threshold mode needs packets or "
            "bytes (or both) above 0\n");
  r = Ctl({"vpc", "update", "nosuch", "--offload", "first-packet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: vpc.id: no VPC 'nosuch'\n");
  r = Ctl({"vpc", "update", "blue"});  // Back to the default.
  ASSERT_EQ(r.exit_code, 0) << r.err;
  vpc = Select("Vpc", "vpc_id", "blue");
  EXPECT_EQ(vpc[0]["offload_mode"], nlohmann::json::parse(R"(["set",[]])"));
  EXPECT_EQ(vpc[0]["offload_packets"], 0);

  Ok({"network", "create", "blue", "db", "--ipv4", "10.1.0.0/24"});
  r = Ctl({"network", "list", "blue"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "VPC   ID   IPV4         IPV6\n"
            "blue  db   10.1.0.0/24  -\n"
            "blue  web  10.0.0.0/16  fd00::/64\n");
  Ok({"network", "delete", "blue", "db"});
  EXPECT_EQ(Count("Network"), 1u);
}

TEST_F(ManagerCmdTest, VpcMoveStartsWaitsAndCancels) {
  Basic();  // Cluster 1 = g1, serving VPC blue.
  Ok({"gw", "register", "g2", "--underlay-ip", "172.31.2.2", "--grpc", "unix:/run/g2.sock",
      "--capacity", "100"});
  Ok({"cluster", "create", "--id", "2", "g2"});
  RunResult r = Ctl({"vpc", "move", "blue", "--to", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: cluster_id: no cluster 7\n");
  r = Ctl({"vpc", "move", "blue"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--to is required"));
  r = Ctl({"vpc", "move", "blue", "--to", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "vpc blue moving from cluster 1 to 2 (loading)\n");
  nlohmann::json row = Select("Vpc", "vpc_id", "blue");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0]["move_phase"], "loading");
  r = Ctl({"vpc", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID    VNI  ROUTER-MAC         CLUSTER  MOVING          NETWORKS  ENDPOINTS  OFFLOAD\n"
            "blue  100  02:00:00:00:00:01  1        to 2 (loading)  web       0          "
            "first-packet\n");
  // No gateway carries the move out here: --wait gives up at its timeout.
  r = Ctl({"vpc", "move", "blue", "--to", "2", "--wait", "--timeout", "0.5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: vpc blue not moved within 0.5 s: cluster 1, to 2 (loading)\n");
  r = Ctl({"vpc", "move", "blue", "--to", "1"});  // Cancelled.
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "vpc blue is on cluster 1\n");
  row = Select("Vpc", "vpc_id", "blue");
  EXPECT_EQ(row[0]["move_phase"], nlohmann::json::parse(R"(["set",[]])"));
}

TEST_F(ManagerCmdTest, ClusterMembersAddedJoiningAndRemovedDraining) {
  Basic();  // Cluster 1 = g1, serving VPC blue.
  Ok({"gw", "register", "g2", "--underlay-ip", "172.31.2.2", "--grpc", "unix:/run/g2.sock",
      "--capacity", "100"});
  RunResult r = Ctl({"cluster", "add-member", "1", "g2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "gateway g2 added to cluster 1\n");
  // Read back from the database itself: a member that must load blue first.
  nlohmann::json g2 = Select("Gateway", "name", "g2");
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_EQ(g2[0]["role"], "joining");
  EXPECT_EQ(g2[0]["cluster"], Select("Cluster", "cluster_id", 1)[0]["_uuid"]);
  EXPECT_EQ(Ctl({"cluster", "add-member", "1", "g2"}).exit_code, 0);  // A retry.

  r = Ctl({"cluster", "add-member", "9", "g2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: cluster_id: no cluster 9\n");
  r = Ctl({"cluster", "add-member", "1", "bad name"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT: gateway:"));

  r = Ctl({"cluster", "remove-member", "1", "g2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "gateway g2 leaving cluster 1\n");
  EXPECT_EQ(Select("Gateway", "name", "g2")[0]["role"], "draining");
  r = Ctl({"cluster", "remove-member", "1", "nosuch"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: gateway: no gateway 'nosuch'\n");

  // This server runs no cluster management (no controller): said so.
  r = Ctl({"cluster", "rebalance", "--dry-run"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE: cluster management does not run"));
}

// Without --ipv4 and --mac, managerd allocates them: the lowest free
// address after the network's and the router's, and 0a:58 + its bytes;
// read back from the database itself.
TEST_F(ManagerCmdTest, EndpointAddressesAllocatedWhenNotGiven) {
  Basic();
  Ok({"endpoint", "create", "fixed", "--vpc", "blue", "--network", "web", "--ipv4", "10.0.0.2",
      "--mac", "02:00:00:00:00:02", "--host", "h1", "--timeout-ms", "1"});
  RunResult r = Ctl({"endpoint", "create", "c1", "--vpc", "blue", "--network", "web", "--host",
                     "h1", "--timeout-ms", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint c1 10.0.0.3 0a:58:0a:00:00:03 on h1: PENDING\n");
  nlohmann::json row = Select("Endpoint", "key", "c1")[0];
  EXPECT_EQ(row["ipv4"], "10.0.0.3");
  EXPECT_EQ(row["mac"], "0a:58:0a:00:00:03");
  // A retry gets the same addresses and writes nothing new.
  r = Ctl({"endpoint", "create", "c1", "--vpc", "blue", "--network", "web", "--host", "h1",
           "--timeout-ms", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint c1 10.0.0.3 0a:58:0a:00:00:03 on h1: PENDING\n");
  EXPECT_EQ(Count("Endpoint"), 2u);
  // Only the MAC left to managerd.
  r = Ctl({"endpoint", "create", "c2", "--vpc", "blue", "--network", "web", "--ipv4", "10.0.9.9",
           "--host", "h1", "--timeout-ms", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Select("Endpoint", "key", "c2")[0]["mac"], "0a:58:0a:00:09:09");
}

TEST_F(ManagerCmdTest, EndpointsCreateMoveUpdateDelete) {
  Basic();
  Ok({"host", "register", "h2", "--underlay-ip", "172.31.1.2"});
  RunResult r =
      Ctl({"endpoint", "create", "vm1", "--vpc", "blue", "--network", "web", "--ipv4", "10.0.0.5",
           "--mac", "02:00:00:00:00:05", "--host", "h1", "--timeout-ms", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint vm1 10.0.0.5 02:00:00:00:00:05 on h1: PENDING\n");

  // A move waits until the endpoint is online on the new host.
  auto move = std::async(std::launch::async, [&] {
    return Ctl({"endpoint", "move", "vm1", "--host", "h2", "--timeout-ms", "60000"});
  });
  nlohmann::json h2 = Select("Host", "name", "h2")[0]["_uuid"];
  ASSERT_TRUE(WaitFor([&] {
    nlohmann::json rows = Select("Endpoint", "key", "vm1");
    return rows.size() == 1 && rows[0]["host"] == h2;
  }));
  Transact(nlohmann::json::array({{{"op", "update"},
                                   {"table", "Endpoint"},
                                   {"where", nlohmann::json::array({{"key", "==", "vm1"}})},
                                   {"row", {{"status", "online"}}}}}));
  r = move.get();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "endpoint vm1 on h2: ONLINE\n");

  r = Ctl({"endpoint", "update", "vm1", "--ipv4", "10.0.0.6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Select("Endpoint", "key", "vm1")[0]["ipv4"], "10.0.0.6");
  r = Ctl({"endpoint", "update", "vm1"});
  EXPECT_EQ(r.exit_code, 2);
  r = Ctl({"endpoint", "update", "vm1", "--ipv4", "10.9.0.6"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "shortcutctl: INVALID_ARGUMENT: endpoint.ipv4: '10.9.0.6' is not inside network web "
            "(10.0.0.0/16)\n");

  r = Ctl({"endpoint", "show", "vm1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("HOST      h2\n"));
  EXPECT_THAT(r.out, HasSubstr("STATUS    ONLINE\n"));

  r = Ctl({"endpoint", "delete", "vm1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count("Endpoint"), 0u);
  r = Ctl({"endpoint", "delete", "vm1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "shortcutctl: NOT_FOUND: key: no endpoint 'vm1'\n");
}

TEST_F(ManagerCmdTest, LoadStreamsAndListFollowsPages) {
  Basic();
  // 1,201 endpoints: two batches of the stream, two pages of the list.
  nlohmann::json doc = {{"endpoints", nlohmann::json::array()}};
  for (int i = 0; i < 1201; ++i) {
    doc["endpoints"].push_back({{"key", absl::StrFormat("vm%04d", i)},
                                {"vpc", "blue"},
                                {"network", "web"},
                                {"ipv4", absl::StrFormat("10.0.%d.%d", i / 250, i % 250 + 1)},
                                {"mac", absl::StrFormat("02:00:00:00:%02x:%02x", i / 256, i % 256)},
                                {"host", "h1"}});
  }
  std::string file = dir_.File("eps.json");
  shortcut::testing::WriteFile(file, doc.dump());
  RunResult r = Ctl({"endpoint", "load", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1201 endpoints created, 0 unchanged\n");
  EXPECT_EQ(Count("Endpoint"), 1201u);
  r = Ctl({"endpoint", "load", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0 endpoints created, 1201 unchanged\n");

  r = Ctl({"--json", "endpoint", "list", "--vpc", "blue"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list["endpoints"].size(), 1201u);
  EXPECT_EQ(list["endpoints"][0]["key"], "vm0000");
  EXPECT_EQ(list["endpoints"][1200]["key"], "vm1200");
  r = Ctl({"endpoint", "list", "--host", "h1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1202);  // Header + rows.

  shortcut::testing::WriteFile(file, R"({"endpoints": [{"key": 5}]})");
  r = Ctl({"endpoint", "load", file});
  EXPECT_EQ(r.exit_code, 2);
  r = Ctl({"endpoint", "load", dir_.File("missing.json")});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ManagerCmdTest, WatchPrintsEvents) {
  Basic();
  Ok({"endpoint", "create", "vm1", "--vpc", "blue", "--network", "web", "--ipv4", "10.0.0.5",
      "--mac", "02:00:00:00:00:05", "--host", "h1", "--timeout-ms", "1"});
  auto watch = std::async(std::launch::async, [&] {
    return Ctl({"endpoint", "watch", "--vpc", "blue", "--initial", "--count", "2"});
  });
  // Once the watcher is registered (EXISTING vm1 sent), a delete is its
  // second event.
  ASSERT_TRUE(WaitFor([&] { return OnIo([&] { return nb_->watchers(); }) == 1; }));
  Ok({"endpoint", "delete", "vm1"});
  RunResult r = watch.get();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "EXISTING vm1 blue web 10.0.0.5 - 02:00:00:00:00:05 h1 vm1 PENDING\n"
            "DELETED vm1 blue web 10.0.0.5 - 02:00:00:00:00:05 h1 vm1 PENDING\n");
}

// --server with several managers: a dead one is skipped (its UNAVAILABLE
// moves the call on), `manager status` shows each, and when none answers
// the error names every one.
TEST_F(ManagerCmdTest, AServerListSkipsADeadManager) {
  const std::string dead = "unix:" + dir_.File("dead.sock");
  const std::string list = dead + "," + server_->address();
  auto ctl = [&](const std::string& servers, std::vector<std::string> args) {
    std::vector<std::string> argv = {SHORTCUT_BIN_DIR "/shortcutctl", "--timeout", "5", "--server",
                                     servers};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  };
  RunResult r = ctl(list, {"host", "register", "h1", "--underlay-ip", "172.31.1.1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Select("Host", "name", "h1").size(), 1u);
  r = ctl(list, {"--json", "host", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["hosts"].size(), 1u);

  r = ctl(list, {"manager", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("SERVER"));
  EXPECT_THAT(r.out, HasSubstr(dead + "     -     DOWN"));
  EXPECT_THAT(r.err, HasSubstr("shortcutctl: " + dead + ": UNAVAILABLE: "));
  EXPECT_THAT(r.out, HasSubstr(server_->address()));
  EXPECT_THAT(r.out, HasSubstr("ACTIVE"));
  r = ctl(list, {"--json", "manager", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["managers"].size(), 2u);
  EXPECT_EQ(j["managers"][0]["server"], dead);
  EXPECT_TRUE(j["managers"][0].contains("error"));
  EXPECT_EQ(j["managers"][1]["status"]["role"], "MANAGER_ROLE_ACTIVE");

  const std::string dead2 = "unix:" + dir_.File("dead2.sock");
  r = ctl(dead + "," + dead2, {"host", "register", "h2", "--underlay-ip", "172.31.1.2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("shortcutctl: UNAVAILABLE: " + dead + ": "));
  EXPECT_THAT(r.err, HasSubstr("; " + dead2 + ": "));
  EXPECT_TRUE(Select("Host", "name", "h2").empty());
  r = ctl(dead + "," + dead2, {"manager", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no manager answered"));
}

}  // namespace
}  // namespace shortcut::ctl
