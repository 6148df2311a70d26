// Runs a command to completion and captures its output: what the CNI plugin
// uses to drive iproute2 and ovs-vsctl, and tests to use Open vSwitch's own
// tools (ovs-ofctl, ovs-vsctl) as independent oracles. No shell unless
// asked for (Shell): arguments are passed as they are.
//
// Thread-safety: each call is independent; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace shortcut {

struct RunResult {
  int exit_code = -1;  // -1 if the command could not start, 128+N if killed by signal N.
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

struct RunOptions {
  std::map<std::string, std::string> env;  // Added to (or replacing in) the current environment.
  std::string stdin_data;
  int timeout_ms = 60000;  // The command is killed (SIGKILL) past this.
};

// argv[0] is looked up in PATH.
RunResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options = {});
// Runs `/bin/sh -c script`.
RunResult Shell(const std::string& script, const RunOptions& options = {});

}  // namespace shortcut
