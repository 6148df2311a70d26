// `shortcutctl host init|show|watch|reset` against a real ovsdb-server and
// ovs-vswitchd, with ovs-vsctl and ovs-ofctl as the independent oracles.
#include "src/ctl/host_cmd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";

class HostCmdTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ovs_.Start({}).ok()); }

  RunResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {kCtl, "host"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.timeout_ms = 60000;
    return RunProcess(argv, o);
  }
  RunResult Init(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"init", "--db", ovs_.db_target(), "--tunnel-ip", "192.0.2.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Ctl(args);
  }
  // `ovs-vsctl ARGS` output without the trailing newline; fails the test on error.
  std::string Vsctl(const std::vector<std::string>& args) {
    RunResult r = ovs_.Vsctl(args);
    EXPECT_TRUE(r.ok()) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }

  OvsSandbox ovs_;
};

TEST_F(HostCmdTest, InitCreatesTheBridgeOnceAndResetRemovesIt) {
  RunResult r = Init();
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("create bridge br-int"));
  EXPECT_EQ(Vsctl({"get", "Bridge", "br-int", "fail_mode"}), "secure");
  EXPECT_EQ(Vsctl({"get", "Bridge", "br-int", "protocols"}), "[OpenFlow13, OpenFlow15]");
  EXPECT_EQ(Vsctl({"get", "Bridge", "br-int", "other_config:disable-in-band"}), "\"true\"");
  // ovs-vswitchd has applied it: the datapath id is the one init derived.
  EXPECT_EQ(Vsctl({"get", "Bridge", "br-int", "datapath_id"}), "\"5c000000c0000201\"");
  EXPECT_EQ(Vsctl({"get", "Interface", "sc-tun", "ofport"}), "60000");
  EXPECT_EQ(Vsctl({"get", "Interface", "sc-tun", "type"}), "vxlan");
  EXPECT_EQ(Vsctl({"get", "Interface", "sc-tun", "options"}),
            R"({key=flow, local_ip="192.0.2.1", remote_ip=flow})");
  EXPECT_EQ(Vsctl({"get-controller", "br-int"}), "ptcp:6653");
  RunResult of = ovs_.Ofctl({"show", ovs_.OpenflowTarget("br-int")});
  EXPECT_TRUE(of.ok()) << of.err;
  EXPECT_THAT(of.out, HasSubstr("60000(sc-tun)"));

  r = Init();
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nothing to change"));

  // A VM port, bound by iface-id as Nova and OVN do.
  Vsctl({"add-port", "br-int", "vm1", "--", "set", "Interface", "vm1", "type=internal",
         "external_ids:iface-id=ep-1", "external_ids:attached-mac=02:00:00:00:00:01"});
  r = Ctl({"show", "--db", ovs_.db_target(), "--json"});
  ASSERT_TRUE(r.ok()) << r.err;
  auto view = nlohmann::json::parse(r.out);
  ASSERT_EQ(view["vms"].size(), 1u);
  EXPECT_EQ(view["vms"][0]["iface_id"], "ep-1");
  EXPECT_EQ(view["vms"][0]["mac"], "02:00:00:00:00:01");
  EXPECT_EQ(std::to_string(view["vms"][0]["ofport"].get<int>()),
            Vsctl({"get", "Interface", "vm1", "ofport"}));
  EXPECT_EQ(view["tunnel"]["ofport"], 60000);
  EXPECT_EQ(view["datapath_id"], "5c000000c0000201");

  // Reset keeps a bridge that holds someone else's port, removes the rest.
  r = Ctl({"reset", "--db", ovs_.db_target()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("kept bridge br-int"));
  EXPECT_EQ(Vsctl({"list-ports", "br-int"}), "vm1");
  EXPECT_EQ(Vsctl({"get-controller", "br-int"}), "");
  Vsctl({"del-port", "br-int", "vm1"});
  r = Ctl({"reset", "--db", ovs_.db_target()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("delete bridge br-int"));
  EXPECT_EQ(ovs_.Vsctl({"br-exists", "br-int"}).exit_code, 2);
  r = Ctl({"reset", "--db", ovs_.db_target()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nothing to remove"));
}

TEST_F(HostCmdTest, InitRepairsAnExistingBridgeAndLeavesOtherSettingsAlone) {
  Vsctl({"add-br", "br-int", "--", "set", "Bridge", "br-int", "fail_mode=standalone",
         "datapath_type=dummy", "other_config:mine=kept", "--", "set-controller", "br-int",
         "tcp:127.0.0.1:1"});
  RunResult r = Init({"--listen", "ptcp:6654:127.0.0.1", "--tunnel-type", "geneve"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("fail_mode=secure (was standalone)"));
  EXPECT_EQ(Vsctl({"get", "Bridge", "br-int", "fail_mode"}), "secure");
  EXPECT_EQ(Vsctl({"get", "Bridge", "br-int", "other_config:mine"}), "kept");
  EXPECT_EQ(Vsctl({"get", "Interface", "sc-tun", "type"}), "geneve");
  std::vector<std::string> controllers = absl::StrSplit(Vsctl({"get-controller", "br-int"}), '\n');
  EXPECT_THAT(controllers,
              ::testing::UnorderedElementsAre("ptcp:6654:127.0.0.1", "tcp:127.0.0.1:1"));
  // Reset: init did not create this bridge, so it stays, with the foreign controller.
  r = Ctl({"reset", "--db", ovs_.db_target()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(Vsctl({"get-controller", "br-int"}), "tcp:127.0.0.1:1");
  EXPECT_EQ(Vsctl({"list-ports", "br-int"}), "");
}

TEST_F(HostCmdTest, RejectedTransactionWritesNothing) {
  // A port named sc-tun elsewhere: Port names are unique, so the whole
  // transaction is refused, bridge included.
  Vsctl({"add-br", "br-x", "--", "set", "Bridge", "br-x", "datapath_type=dummy", "--", "add-port",
         "br-x", "sc-tun", "--", "set", "Interface", "sc-tun", "type=internal"});
  RunResult r = Init();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.err, HasSubstr("constraint violation"));
  EXPECT_EQ(ovs_.Vsctl({"br-exists", "br-int"}).exit_code, 2);
  EXPECT_EQ(Vsctl({"list-br"}), "br-x");
}

TEST_F(HostCmdTest, BadInputAndUnreachableDatabaseFailClearly) {
  RunResult r = Ctl({"init", "--db", ovs_.db_target(), "--tunnel-ip", "300.1.1.1"});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.err, HasSubstr("--tunnel-ip"));
  EXPECT_EQ(ovs_.Vsctl({"br-exists", "br-int"}).exit_code, 2);

  std::string missing = "unix:" + ovs_.dir() + "/nobody-here.sock";
  r = Ctl({"show", "--db", missing, "--timeout", "2000"});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.err, HasSubstr("cannot reach the database"));
  r = Ctl({"watch", "--db", missing, "--timeout", "1000"});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.err, HasSubstr("cannot reach the database"));
  // Bounded by --timeout: a command still waiting would be killed by
  // RunProcess at 60 s and fail the message checks above.

  // A database that is not Open_vSwitch.
  OvsdbServer other;
  ASSERT_TRUE(other
                  .Start(R"({"name": "Other", "version": "1.0.0", "tables": {
                     "T": {"columns": {"a": {"type": "string"}}}}})")
                  .ok());
  r = Ctl({"show", "--db", other.target()});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.err, HasSubstr("Open_vSwitch"));
}

TEST_F(HostCmdTest, InitWithoutOvsVswitchdSaysTheChangeIsNotInEffect) {
  ovs_.StopVswitchd();
  RunResult r = Init({"--timeout", "1000"});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.err, HasSubstr("committed, but ovs-vswitchd did not apply it within 1000 ms"));
  EXPECT_EQ(ovs_.Vsctl({"br-exists", "br-int"}).exit_code, 0);  // Committed, as it says.
  // --no-wait returns at the commit, whether ovs-vswitchd runs or not.
  r = Ctl({"reset", "--db", ovs_.db_target(), "--no-wait"});
  EXPECT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(ovs_.Vsctl({"br-exists", "br-int"}).exit_code, 2);
  ASSERT_TRUE(ovs_.StartVswitchd().ok());
  r = Init();
  EXPECT_TRUE(r.ok()) << r.err;
}

TEST_F(HostCmdTest, WatchSeesEachChangeOnceAcrossAnOvsdbRestart) {
  ASSERT_TRUE(Init().ok());
  Vsctl({"add-port", "br-int", "vm1", "--", "set", "Interface", "vm1", "type=internal",
         "external_ids:iface-id=ep-1"});

  std::mutex mu;
  std::vector<std::string> lines;
  auto seen = [&](const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  };
  absl::Status watch_status;
  std::thread watcher([&] {
    ctl::HostOptions o;
    o.db = ovs_.db_target();
    ctl::WatchLimits limits;
    limits.duration_ms = 60000;  // A bound in case the expected events never come.
    watch_status = ctl::RunHostWatch(o, limits, [&](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
      // Done once vm1 is gone and vm2 has its ofport.
      bool vm1_gone = line.rfind("del iface-id=ep-1", 0) == 0;
      bool vm2_bound = line.find("iface-id=ep-2") != std::string::npos &&
                       line.find("ofport=-") == std::string::npos;
      static int done = 0;
      done += vm1_gone + vm2_bound;
      return done < 2;
    });
  });
  auto wait_for = [&](const std::string& needle) {
    for (int i = 0; i < 1000 && seen(needle) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return seen(needle) > 0;
  };
  EXPECT_TRUE(wait_for("add iface-id=ep-1"));

  ovs_.StopOvsdb();
  ASSERT_TRUE(ovs_.StartOvsdb().ok());
  Vsctl({"add-port", "br-int", "vm2", "--", "set", "Interface", "vm2", "type=internal",
         "external_ids:iface-id=ep-2"});
  Vsctl({"del-port", "br-int", "vm1"});
  watcher.join();
  EXPECT_TRUE(watch_status.ok()) << watch_status;

  std::string all;  // The watcher has ended: no lock needed.
  for (const auto& l : lines) all += l + "\n";
  // Once each: the restart neither loses nor repeats an event.
  EXPECT_EQ(seen("add iface-id=ep-1"), 1) << all;
  EXPECT_EQ(seen("del iface-id=ep-1"), 1) << all;
  EXPECT_EQ(seen("add iface-id=ep-2"), 1) << all;
  std::string ofport = Vsctl({"get", "Interface", "vm2", "ofport"});
  EXPECT_THAT(lines.back() + lines[lines.size() - 2], HasSubstr("ofport=" + ofport)) << all;
}

}  // namespace
}  // namespace shortcut::testing
