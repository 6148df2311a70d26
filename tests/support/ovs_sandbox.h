// A private Open vSwitch (ovsdb-server + ovs-vswitchd) for integration tests.
//
// Everything lives in a temp dir: database, sockets, pidfiles, logs, and
// OVS_RUNDIR, so nothing touches a system OVS. ovs-vswitchd runs with
// --enable-dummy=override --disable-system --disable-system-route: bridges
// use the userspace dummy datapath and nothing is configured in the root
// network namespace. Daemons are stopped by the pid in their pidfile.
//
// A run that crashed leaves its directory behind with an owner.pid file;
// every new sandbox first stops the daemons of directories whose owner is
// gone and removes them.
//
// Thread-safety: none; one sandbox belongs to one test.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::testing {

class OvsSandbox {
 public:
  OvsSandbox();
  ~OvsSandbox();  // Stops the daemons.
  OvsSandbox(const OvsSandbox&) = delete;
  OvsSandbox& operator=(const OvsSandbox&) = delete;

  // Starts ovsdb-server and ovs-vswitchd and creates `bridges` with
  // OpenFlow13+15, fail_mode=secure and the dummy datapath.
  absl::Status Start(const std::vector<std::string>& bridges = {"br0"});
  void Stop();

  // Kills ovs-vswitchd only (flows, groups and meters are lost) and starts it
  // again on the same database: the restart the reconciler must recover from.
  absl::Status RestartVswitchd();
  absl::Status StartVswitchd();
  void StopVswitchd();
  // ovsdb-server alone, for clients that must survive its restart; the
  // database file stays.
  absl::Status StartOvsdb();
  void StopOvsdb();

  const std::string& dir() const { return dir_.path(); }
  std::string db_target() const { return "unix:" + dir_.File("db.sock"); }
  // The bridge's management socket, as ovs-ofctl and shortcutctl take it.
  std::string OpenflowTarget(const std::string& bridge = "br0") const {
    return "unix:" + dir_.File(bridge + ".mgmt");
  }

  // ovs-vsctl --db=... ARGS, and ovs-ofctl -O OpenFlow13 ARGS (the caller
  // passes the target, usually OpenflowTarget()).
  RunResult Vsctl(const std::vector<std::string>& args) const;
  RunResult Ofctl(const std::vector<std::string>& args) const;
  // Environment for OVS tools run by hand (OVS_RUNDIR etc.).
  RunOptions ToolOptions() const;

 private:
  TempDir dir_;
};

// Stops daemons left by sandboxes whose test process is gone and removes
// their directories. Called by OvsSandbox's constructor.
void SweepStaleSandboxes();

// True if the process exists and is not a zombie (a detached daemon is
// reparented to PID 1, which may reap it late).
bool ProcessAlive(int pid);
// Reads a pidfile; 0 if missing or unreadable.
int ReadPidFile(const std::string& path);
// SIGTERM, then SIGKILL after `grace_ms` (at once if 0); returns once the
// process is gone.
void StopPid(int pid, int grace_ms = 3000);

}  // namespace shortcut::testing
