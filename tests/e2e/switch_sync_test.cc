// `shortcutctl switch sync|dump` against a real ovs-vswitchd, with ovs-ofctl
// as the independent oracle of what the switch holds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "absl/strings/str_split.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCtl = std::string(SHORTCUT_BIN_DIR) + "/shortcutctl";

constexpr char kState[] = R"(# host bridge sample
meter meter=1,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10
meter meter=2,kbps,bands=type=drop,rate=5000
group group_id=1,type=select,bucket=weight:100,watch_port:2,actions=output:2,bucket=weight:50,watch_port:3,actions=output:3
group group_id=2,type=all,bucket=actions=output:4,bucket=actions=output:5
flow table=0,priority=100,in_port=10,dl_src=02:00:00:00:00:0a,ip,nw_src=10.0.0.10,actions=set_field:0x64->metadata,goto_table:20
flow table=0,priority=0,actions=drop
flow table=20,priority=100,metadata=0x64,ip,nw_dst=10.0.0.10,actions=output:10
flow table=20,priority=50,tun_id=0x64,ip,nw_dst=10.0.1.0/24,actions=set_field:192.168.0.2->tun_dst,set_field:0x64->tun_id,output:7
flow table=20,priority=10,metadata=0x64,actions=group:1
flow table=20,priority=5,ip,actions=controller(max_len=128,meter_id=1),resubmit(,30)
flow table=30,priority=1,arp,arp_op=1,actions=meter:2,group:2
)";

// Lines of `ovs-ofctl dump-*` output that describe entries, sorted, without
// the reply header and volatile counters.
std::vector<std::string> Entries(const RunResult& r) {
  std::vector<std::string> out;
  for (auto line : absl::StrSplit(r.out, '\n')) {
    if (line.empty() || line.find("reply (OF") != std::string_view::npos) continue;
    out.emplace_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SwitchSyncTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ovs_.Start().ok()); }

  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {kCtl};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.stdin_data = stdin_data;
    o.timeout_ms = 60000;
    return RunProcess(argv, o);
  }
  RunResult Sync(const std::string& state, std::vector<std::string> extra = {}) {
    std::string path = ovs_.dir() + "/state.sw";
    WriteFile(path, state);
    std::vector<std::string> args = {"switch", "sync", ovs_.OpenflowTarget(), path};
    args.insert(args.end(), extra.begin(), extra.end());
    return Ctl(args);
  }
  // Everything the switch holds, as ovs-ofctl sees it.
  std::string Snapshot() {
    std::string s;
    for (const char* cmd : {"dump-flows", "dump-groups", "dump-meters"}) {
      std::vector<std::string> args = {cmd};
      if (std::string(cmd) == "dump-flows") args.push_back("--no-stats");
      args.push_back(ovs_.OpenflowTarget());
      RunResult r = ovs_.Ofctl(args);
      EXPECT_TRUE(r.ok()) << r.err;
      for (const auto& e : Entries(r)) s += e + "\n";
    }
    return s;
  }

  OvsSandbox ovs_;
};

TEST_F(SwitchSyncTest, SyncInstallsExactlyTheFile) {
  RunResult r = Sync(kState);
  ASSERT_TRUE(r.ok()) << r.out << r.err;
  EXPECT_EQ(r.out, "flows: +7 ~0 -0  groups: +2 ~0 -0  meters: +2 ~0 -0\n");

  auto flows = Entries(ovs_.Ofctl({"dump-flows", "--no-stats", ovs_.OpenflowTarget()}));
  ASSERT_EQ(flows.size(), 7u);
  std::string all;
  for (const auto& f : flows) all += f + "\n";
  EXPECT_THAT(all, HasSubstr("priority=50,ip,tun_id=0x64,nw_dst=10.0.1.0/24 "
                             "actions=set_field:192.168.0.2->tun_dst,set_field:0x64->tun_id,"
                             "output:7"));
  EXPECT_THAT(all, HasSubstr("actions=controller(max_len=128,meter_id=1),resubmit(,30)"));
  EXPECT_THAT(all, HasSubstr("table=30, priority=1,arp,arp_op=1 actions=meter:2,group:2"));

  auto groups = Entries(ovs_.Ofctl({"dump-groups", ovs_.OpenflowTarget()}));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_THAT(groups[0], HasSubstr("group_id=1,type=select,"));
  EXPECT_THAT(groups[0], HasSubstr("watch_port:3"));
  auto meters = ovs_.Ofctl({"dump-meters", ovs_.OpenflowTarget()});
  EXPECT_THAT(meters.out, HasSubstr("meter=1 pktps burst stats bands="));
  EXPECT_THAT(meters.out, HasSubstr("type=drop rate=100 burst_size=10"));
  EXPECT_THAT(meters.out, HasSubstr("meter=2 kbps bands="));
}

TEST_F(SwitchSyncTest, SecondSyncAndDumpRoundTripChangeNothing) {
  ASSERT_TRUE(Sync(kState).ok());
  std::string before = Snapshot();

  RunResult again = Sync(kState);
  ASSERT_TRUE(again.ok()) << again.err;
  EXPECT_EQ(again.out, "flows: +0 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0\n");

  RunResult dump = Ctl({"switch", "dump", ovs_.OpenflowTarget()});
  ASSERT_TRUE(dump.ok()) << dump.err;
  EXPECT_THAT(dump.out, HasSubstr("group group_id=1,type=select"));
  EXPECT_THAT(dump.out, HasSubstr("meter meter=2,kbps"));
  RunResult resync = Sync(dump.out);
  ASSERT_TRUE(resync.ok()) << resync.err << "\n" << dump.out;
  EXPECT_EQ(resync.out, "flows: +0 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0\n");
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(SwitchSyncTest, ChangeSendsOnlyTheDifference) {
  ASSERT_TRUE(Sync(kState).ok());
  std::string changed = kState;
  // Modify one flow's actions, remove one, add one; change one group and one meter.
  changed.replace(changed.find("nw_dst=10.0.0.10,actions=output:10"),
                  std::string("nw_dst=10.0.0.10,actions=output:10").size(),
                  "nw_dst=10.0.0.10,actions=output:11");
  changed.erase(changed.find("flow table=0,priority=0,actions=drop\n"),
                std::string("flow table=0,priority=0,actions=drop\n").size());
  changed += "flow table=20,priority=100,metadata=0x64,ip,nw_dst=10.0.0.12,actions=output:12\n";
  changed.replace(changed.find("bucket=actions=output:5"), 23, "bucket=actions=output:6");
  changed.replace(changed.find("rate=5000"), 9, "rate=6000");
  RunResult r = Sync(changed);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, "flows: +1 ~1 -1  groups: +0 ~1 -0  meters: +0 ~1 -0\n");
  std::string snap = Snapshot();
  EXPECT_THAT(snap, HasSubstr("nw_dst=10.0.0.10 actions=output:11"));
  EXPECT_THAT(snap, HasSubstr("nw_dst=10.0.0.12 actions=output:12"));
  EXPECT_THAT(snap, Not(HasSubstr("priority=0 actions=drop")));
  EXPECT_THAT(snap, HasSubstr("bucket=actions=output:6"));
  EXPECT_THAT(snap, HasSubstr("rate=6000"));
}

TEST_F(SwitchSyncTest, RejectedChangeLeavesSwitchUnchangedAndNamesTheLine) {
  ASSERT_TRUE(Sync(kState).ok());
  std::string before = Snapshot();
  std::string bad = kState;
  bad.replace(bad.find("rate=5000"), 9, "rate=7000");  // A meter change, undone on failure.
  bad += "flow table=20,priority=100,metadata=0x64,ip,nw_dst=10.0.0.13,actions=output:13\n";
  bad += "flow table=40,priority=1,actions=group:99\n";  // Line 14: no group 99.
  RunResult r = Sync(bad);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("line 14: OFPBAC_BAD_OUT_GROUP"));
  EXPECT_THAT(r.err, Not(HasSubstr("line 13")));
  EXPECT_THAT(r.err, HasSubstr("OFPBAC_BAD_OUT_GROUP"));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(SwitchSyncTest, MalformedFileSendsNothing) {
  ASSERT_TRUE(Sync(kState).ok());
  std::string before = Snapshot();
  RunResult r =
      Sync("flow table=0,priority=1,actions=drop\nflow table=0,nw_dst=1.2.3.4.5,actions=drop\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("line 2"));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(SwitchSyncTest, RestartedVswitchdIsBroughtBack) {
  ASSERT_TRUE(Sync(kState).ok());
  std::string before = Snapshot();
  ASSERT_TRUE(ovs_.RestartVswitchd().ok());
  ASSERT_NE(Snapshot(), before);
  RunResult r = Sync(kState);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, "flows: +7 ~0 -0  groups: +2 ~0 -0  meters: +2 ~0 -0\n");
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(SwitchSyncTest, FlowsOutsideTheCookieMaskSurvive) {
  ASSERT_TRUE(ovs_.Ofctl({"add-flow", ovs_.OpenflowTarget(),
                          "table=0,priority=200,cookie=0x1,in_port=99,actions=drop"})
                  .ok());
  std::string mine =
      "flow table=0,priority=100,cookie=0x5c00000000000001,in_port=1,actions=output:2\n"
      "flow table=0,priority=90,cookie=0x5c00000000000002,in_port=2,actions=output:1\n";
  RunResult r = Sync(mine, {"--cookie", "0x5c00000000000000/0xffff000000000000"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, "flows: +2 ~0 -0  groups: +0 ~0 -0  meters: +0 ~0 -0\n");
  // An empty desired state within the cookie space removes only our flows.
  r = Sync("", {"--cookie", "0x5c00000000000000/0xffff000000000000"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, "flows: +0 ~0 -2  groups: +0 ~0 -0  meters: +0 ~0 -0\n");
  auto flows = Entries(ovs_.Ofctl({"dump-flows", "--no-stats", ovs_.OpenflowTarget()}));
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_THAT(flows[0], HasSubstr("cookie=0x1,"));
  EXPECT_THAT(flows[0], HasSubstr("in_port=99"));
}

TEST_F(SwitchSyncTest, DryRunSendsNothing) {
  RunResult r = Sync(kState, {"--dry-run"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("flows: +7 ~0 -0  groups: +2 ~0 -0  meters: +2 ~0 -0"));
  EXPECT_TRUE(Entries(ovs_.Ofctl({"dump-flows", ovs_.OpenflowTarget()})).empty());
}

TEST(SwitchTargetTest, UnreachableTargetFailsClearly) {
  TempDir dir;
  RunResult r =
      RunProcess({kCtl, "switch", "dump", "unix:" + dir.File("nothing.mgmt"), "--timeout", "2000"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("nothing.mgmt"));
}

TEST(SwitchTargetTest, SilentSwitchTimesOut) {
  // A listener that accepts connections and never says anything.
  TempDir dir;
  std::string path = dir.File("silent.mgmt");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  RunOptions o;
  o.timeout_ms = 30000;
  RunResult r = RunProcess({kCtl, "switch", "dump", "unix:" + path, "--timeout", "500"}, o);
  close(fd);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, Not(HasSubstr("killed: timeout")));
  EXPECT_FALSE(r.err.empty());
}

TEST(SwitchTargetTest, RelativeUnixPathIsRejected) {
  RunResult r = RunProcess({kCtl, "switch", "dump", "unix:br0.mgmt"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("absolute"));
}

}  // namespace
}  // namespace shortcut::testing
