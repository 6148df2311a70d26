// The sandbox itself: a private OVS starts, answers, restarts and stops cleanly.
#include "tests/support/ovs_sandbox.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace shortcut::testing {
namespace {

TEST(OvsSandboxTest, StartsAnswersAndStopsByPid) {
  std::string dir;
  int vswitchd = 0, ovsdb = 0;
  {
    OvsSandbox ovs;
    ASSERT_TRUE(ovs.Start().ok());
    dir = ovs.dir();
    vswitchd = ReadPidFile(ovs.dir() + "/ovs-vswitchd.pid");
    ovsdb = ReadPidFile(ovs.dir() + "/ovsdb-server.pid");
    ASSERT_GT(vswitchd, 0);
    ASSERT_GT(ovsdb, 0);
    RunResult r = ovs.Ofctl({"dump-flows", ovs.OpenflowTarget()});
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_NE(r.out.find("OFPST_FLOW reply (OF1.3)"), std::string::npos);
    r = ovs.Vsctl({"get", "bridge", "br0", "fail_mode"});
    EXPECT_EQ(r.out, "secure\n");
  }
  EXPECT_FALSE(ProcessAlive(vswitchd));
  EXPECT_FALSE(ProcessAlive(ovsdb));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(OvsSandboxTest, RestartedVswitchdComesBackEmpty) {
  OvsSandbox ovs;
  ASSERT_TRUE(ovs.Start().ok());
  ASSERT_TRUE(ovs.Ofctl({"add-flow", ovs.OpenflowTarget(), "priority=5,actions=drop"}).ok());
  ASSERT_TRUE(ovs.RestartVswitchd().ok());
  RunResult r = ovs.Ofctl({"dump-flows", ovs.OpenflowTarget()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out.find("priority=5"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace shortcut::testing
