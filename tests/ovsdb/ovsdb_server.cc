#include "tests/ovsdb/ovsdb_server.h"

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/ovs_sandbox.h"
#include "tests/support/subprocess.h"

namespace shortcut::testing {
namespace {

constexpr char kPrefix[] = "shortcut-ovsdb";

void SweepStaleServers() {
  std::error_code ec;
  const std::string prefix = std::string(kPrefix) + ".";
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::string dir = entry.path().string();
    // No owner.pid yet: a server being set up right now.
    if (!std::filesystem::exists(dir + "/owner.pid")) continue;
    if (ProcessAlive(ReadPidFile(dir + "/owner.pid"))) continue;
    StopPid(ReadPidFile(dir + "/ovsdb-server.pid"), 1000);
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace

OvsdbServer::OvsdbServer()
    : dir_([] {
        SweepStaleServers();
        return std::string(kPrefix);
      }()) {
  WriteFile(dir_.File("owner.pid"), std::to_string(getpid()));
}

namespace {

RunOptions ServerEnv(const std::string& dir) {
  RunOptions o;
  o.env = {{"OVS_RUNDIR", dir}, {"OVS_LOGDIR", dir}, {"OVS_DBDIR", dir}};
  return o;
}

absl::Status RunSteps(const std::vector<std::vector<std::string>>& steps, const RunOptions& o) {
  for (const auto& argv : steps) {
    RunResult r = RunProcess(argv, o);
    if (!r.ok()) {
      return absl::InternalError(
          absl::StrCat(absl::StrJoin(argv, " "), " failed (", r.exit_code, "): ", r.err));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status OvsdbServer::Start(const std::string& schema) {
  WriteFile(dir_.File("test.ovsschema"), schema);
  if (auto s =
          RunSteps({{"ovsdb-tool", "create", dir_.File("test.db"), dir_.File("test.ovsschema")}},
                   ServerEnv(dir()));
      !s.ok()) {
    return s;
  }
  return Resume();
}

absl::Status OvsdbServer::Resume() {
  return RunSteps(
      {{"ovsdb-server", dir_.File("test.db"), "--remote=punix:" + dir_.File("db.sock"),
        "--pidfile=" + dir_.File("ovsdb-server.pid"), "--unixctl=" + dir_.File("ovsdb-server.ctl"),
        "--log-file=" + dir_.File("ovsdb-server.log"), "--detach", "--no-chdir"}},
      ServerEnv(dir()));
}

absl::Status OvsdbServer::OfflineTransact(const std::string& transaction) {
  return RunSteps({{"ovsdb-tool", "transact", dir_.File("test.db"), transaction}},
                  ServerEnv(dir()));
}

void OvsdbServer::Stop() {
  StopPid(ReadPidFile(dir_.File("ovsdb-server.pid")));
  std::error_code ec;
  std::filesystem::remove(dir_.File("ovsdb-server.pid"), ec);
}

}  // namespace shortcut::testing
