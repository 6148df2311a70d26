// A host's integration bridge on a private Open vSwitch (userspace datapath)
// as `shortcutctl host init` makes it, rules synced onto it with
// `shortcutctl switch sync`, and Open vSwitch's own ofproto/trace saying
// what a packet would become. Shared by the host and gateway pipeline
// tests.
//
// Thread-safety: none; one fixture per test.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/ovs_sandbox.h"

namespace shortcut::testing {

class BridgeFixture : public ::testing::Test {
 public:
  // ofproto/trace of `flow` on br-int: the whole explanation.
  std::string Trace(const std::string& flow) {
    RunResult r = RunProcess(
        {"ovs-appctl", "-t", ovs_.dir() + "/ovs-vswitchd.ctl", "ofproto/trace", "br-int", flow},
        ovs_.ToolOptions());
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

 protected:
  static std::string Ctl() { return std::string(SHORTCUT_BIN_DIR) + "/shortcutctl"; }

  // Starts the sandbox and runs `host init` (br-int, sc-tun at 60000) with
  // `tunnel_ip` as the node's underlay address.
  void StartBridge(const std::string& tunnel_ip) {
    ASSERT_TRUE(ovs_.Start({}).ok());
    RunResult r = RunProcess({Ctl(), "host", "init", "--db", ovs_.db_target(), "--tunnel-ip",
                              tunnel_ip, "--datapath-type", "netdev"});
    ASSERT_TRUE(r.ok()) << r.err;
  }
  // Adds a port to br-int at a fixed ofport, with more Interface columns
  // (`type=vxlan`, ...) if given; none: a dummy port.
  void AddPort(const std::string& name, int ofport, const std::vector<std::string>& options = {}) {
    std::vector<std::string> args = {
        "add-port", "br-int",    name, "--",
        "set",      "Interface", name, absl::StrCat("ofport_request=", ofport)};
    args.insert(args.end(), options.begin(), options.end());
    RunResult p = ovs_.Vsctl(args);
    ASSERT_TRUE(p.ok()) << p.err;
  }
  // `shortcutctl switch sync` of `state` (the switch file format) onto
  // br-int; `cookie` (VALUE/MASK) limits the flows it manages.
  RunResult SyncBridge(const std::string& state, const std::string& cookie = "") {
    RunOptions o;
    o.stdin_data = state;
    std::vector<std::string> args = {Ctl(), "switch", "sync", ovs_.OpenflowTarget("br-int"), "-"};
    if (!cookie.empty()) {
      args.push_back("--cookie");
      args.push_back(cookie);
    }
    return RunProcess(args, o);
  }

  OvsSandbox ovs_;
};

}  // namespace shortcut::testing
