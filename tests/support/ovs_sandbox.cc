#include "tests/support/ovs_sandbox.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shortcut::testing {
namespace {

constexpr char kPrefix[] = "shortcut-ovs";
constexpr char kSchema[] = "/usr/share/openvswitch/vswitch.ovsschema";

}  // namespace

bool ProcessAlive(int pid) {
  if (pid <= 0) return false;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  return stat[paren + 2] != 'Z';
}

namespace {

bool Alive(int pid) { return ProcessAlive(pid); }

absl::Status RunOk(const std::vector<std::string>& argv, const RunOptions& opts) {
  RunResult r = RunProcess(argv, opts);
  if (!r.ok()) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(argv, " "), " failed (", r.exit_code, "): ", r.err));
  }
  return absl::OkStatus();
}

}  // namespace

int ReadPidFile(const std::string& path) {
  std::string s = ReadFile(path);
  try {
    return s.empty() ? 0 : std::stoi(s);
  } catch (...) {
    return 0;
  }
}

void StopPid(int pid, int grace_ms) {
  if (!Alive(pid)) return;
  if (grace_ms > 0) kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (Alive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (Alive(pid)) kill(pid, SIGKILL);
  for (int i = 0; i < 500 && Alive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void SweepStaleSandboxes() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(std::string(kPrefix) + ".", 0) != 0) continue;
    std::string dir = entry.path().string();
    int owner = ReadPidFile(dir + "/owner.pid");
    if (Alive(owner)) continue;
    StopPid(ReadPidFile(dir + "/ovs-vswitchd.pid"), 1000);
    StopPid(ReadPidFile(dir + "/ovsdb-server.pid"), 1000);
    std::filesystem::remove_all(dir, ec);
  }
}

OvsSandbox::OvsSandbox()
    : dir_([] {
        SweepStaleSandboxes();
        return std::string(kPrefix);
      }()) {
  WriteFile(dir_.File("owner.pid"), std::to_string(getpid()));
}

OvsSandbox::~OvsSandbox() { Stop(); }

RunOptions OvsSandbox::ToolOptions() const {
  RunOptions o;
  o.env = {{"OVS_RUNDIR", dir()},
           {"OVS_LOGDIR", dir()},
           {"OVS_DBDIR", dir()},
           {"OVS_SYSCONFDIR", dir()},
           {"OVS_PKGDATADIR", "/usr/share/openvswitch"}};
  return o;
}

absl::Status OvsSandbox::StartOvsdb() {
  RunOptions o = ToolOptions();
  std::string db = dir_.File("conf.db");
  if (!std::filesystem::exists(db)) {
    if (auto s = RunOk({"ovsdb-tool", "create", db, kSchema}, o); !s.ok()) return s;
  }
  if (auto s = RunOk({"ovsdb-server", db, "--remote=punix:" + dir_.File("db.sock"),
                      "--pidfile=" + dir_.File("ovsdb-server.pid"),
                      "--unixctl=" + dir_.File("ovsdb-server.ctl"),
                      "--log-file=" + dir_.File("ovsdb-server.log"), "--detach", "--no-chdir"},
                     o);
      !s.ok()) {
    return s;
  }
  return RunOk({"ovs-vsctl", "--db=" + db_target(), "--no-wait", "init"}, o);
}

absl::Status OvsSandbox::StartVswitchd() {
  return RunOk({"ovs-vswitchd", db_target(), "--enable-dummy=override", "--disable-system",
                "--disable-system-route", "--pidfile=" + dir_.File("ovs-vswitchd.pid"),
                "--unixctl=" + dir_.File("ovs-vswitchd.ctl"),
                "--log-file=" + dir_.File("ovs-vswitchd.log"), "--detach", "--no-chdir"},
               ToolOptions());
}

void OvsSandbox::StopVswitchd() {
  // SIGKILL at once: a graceful exit takes seconds and tests gain nothing
  // from it; for the restart tests a crash is the harder case anyway.
  StopPid(ReadPidFile(dir_.File("ovs-vswitchd.pid")), 0);
  std::error_code ec;
  std::filesystem::remove(dir_.File("ovs-vswitchd.pid"), ec);
}

absl::Status OvsSandbox::Start(const std::vector<std::string>& bridges) {
  if (auto s = StartOvsdb(); !s.ok()) return s;
  if (auto s = StartVswitchd(); !s.ok()) return s;
  for (const auto& br : bridges) {
    // Without --no-wait, ovs-vsctl returns once ovs-vswitchd has created the
    // bridge and its management socket.
    if (auto s = RunOk({"ovs-vsctl", "--db=" + db_target(), "--timeout=30", "add-br", br, "--",
                        "set", "bridge", br, "datapath_type=dummy",
                        "protocols=OpenFlow13,OpenFlow15", "fail_mode=secure"},
                       ToolOptions());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status OvsSandbox::RestartVswitchd() {
  StopVswitchd();
  if (auto s = StartVswitchd(); !s.ok()) return s;
  // Wait until the bridges are back: ovs-vsctl (with wait) round-trips through vswitchd.
  return RunOk({"ovs-vsctl", "--db=" + db_target(), "--timeout=30", "set", "Open_vSwitch", ".",
                "external_ids:shortcut-restarted=true"},
               ToolOptions());
}

void OvsSandbox::StopOvsdb() {
  StopPid(ReadPidFile(dir_.File("ovsdb-server.pid")));
  std::error_code ec;
  std::filesystem::remove(dir_.File("ovsdb-server.pid"), ec);
}

void OvsSandbox::Stop() {
  StopVswitchd();
  StopOvsdb();
}

RunResult OvsSandbox::Vsctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ovs-vsctl", "--db=" + db_target(), "--timeout=30"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, ToolOptions());
}

RunResult OvsSandbox::Ofctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ovs-ofctl", "-O", "OpenFlow13"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, ToolOptions());
}

}  // namespace shortcut::testing
