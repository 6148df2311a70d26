// NbStore against a 3-server Raft cluster of Shortcut_Northbound (the
// deployment for more than one machine): it syncs, commits, and when the
// leader is killed it moves to the new leader and commits again.
#include <asio/io_context.hpp>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/manager/store.h"
#include "src/ovsdb/client.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/ovs_sandbox.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::manager {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::RunProcess;
using ::shortcut::testing::WaitUntil;

constexpr char kDb[] = "Shortcut_Northbound";

class RaftCluster {
 public:
  RaftCluster() : dir_("nb-raft") {}
  ~RaftCluster() {
    for (int i = 1; i <= 3; ++i) Kill(i);
  }

  bool Start() {
    std::string schema = SHORTCUT_NB_SCHEMA;
    if (!Run({"ovsdb-tool", "create-cluster", Db(1), schema, Raft(1)})) return false;
    for (int i = 2; i <= 3; ++i) {
      if (!Run({"ovsdb-tool", "join-cluster", Db(i), kDb, Raft(i), Raft(1)})) return false;
    }
    for (int i = 1; i <= 3; ++i) {
      if (!Run({"ovsdb-server", Db(i), "--remote=punix:" + Sock(i), "--pidfile=" + Pid(i),
                "--unixctl=" + Ctl(i), "--log-file=" + dir_.File(absl::StrCat("s", i, ".log")),
                "--detach", "--no-chdir"})) {
        return false;
      }
    }
    for (int i = 1; i <= 3; ++i) {
      if (!Run({"ovsdb-client", "--timeout=30", "wait", "unix:" + Sock(i), kDb, "connected"})) {
        return false;
      }
    }
    return true;
  }

  // The server that is the leader now, or 0.
  int Leader() {
    for (int i = 1; i <= 3; ++i) {
      if (!alive_[i]) continue;
      auto r = RunProcess({"ovs-appctl", "-t", Ctl(i), "cluster/status", kDb});
      if (r.ok() && r.out.find("Role: leader") != std::string::npos) return i;
    }
    return 0;
  }
  void Kill(int i) {
    if (!alive_[i]) return;
    testing::StopPid(testing::ReadPidFile(Pid(i)), 1000);
    alive_[i] = false;
  }
  std::string Target(int i) const { return "unix:" + Sock(i); }
  // Server i leaves the cluster (its process and its clients' connections
  // stay): a leader hands leadership over first.
  bool Leave(int i) { return Run({"ovs-appctl", "-t", Ctl(i), "cluster/leave", kDb}); }

 private:
  bool Run(const std::vector<std::string>& argv) {
    auto r = RunProcess(argv);
    if (!r.ok()) ADD_FAILURE() << argv[0] << " " << argv[1] << ": " << r.err;
    return r.ok();
  }
  std::string Db(int i) const { return dir_.File(absl::StrCat("s", i, ".db")); }
  std::string Raft(int i) const { return "unix:" + dir_.File(absl::StrCat("s", i, ".raft")); }
  std::string Sock(int i) const { return dir_.File(absl::StrCat("s", i, ".sock")); }
  std::string Pid(int i) const { return dir_.File(absl::StrCat("s", i, ".pid")); }
  std::string Ctl(int i) const { return dir_.File(absl::StrCat("s", i, ".ctl")); }

  testing::TempDir dir_;
  bool alive_[4] = {false, true, true, true};
};

HostRow Host(const std::string& name, const std::string& ip) {
  return HostRow{
      .host = {.name = name, .underlay_ipv4 = ip, .openflow_target = "", .ovsdb_target = ""}};
}

// Commits, retrying while the cluster elects a leader (Unavailable).
asio::awaitable<absl::Status> CommitRetrying(NbStore& store, HostRow host) {
  absl::Status s;
  for (int attempt = 0; attempt < 100; ++attempt) {
    s = co_await store.WaitSynced(10000);
    if (s.ok()) {
      NbTxn t;
      t.InsertHost(host);
      s = co_await store.Commit(std::move(t));
      if (s.ok() || absl::IsAlreadyExists(s)) co_return absl::OkStatus();
    }
    co_await WaitUntil([] { return false; }, 100);
  }
  co_return s;
}

TEST(NbStoreRaftTest, FollowsTheLeader) {
  RaftCluster cluster;
  ASSERT_TRUE(cluster.Start());
  asio::io_context io;
  NbStore::Options o;
  for (int i = 1; i <= 3; ++i) o.servers.push_back(*ovsdb::ParseOvsdbTarget(cluster.Target(i)));
  NbStore store(io.get_executor(), o);
  store.Start();
  RunCoroutine(
      io,
      [&]() -> asio::awaitable<void> {
        CO_ASSERT_OK(co_await CommitRetrying(store, Host("h1", "192.168.0.1")));
        EXPECT_TRUE(store.state().hosts.contains("h1"));
        int leader = cluster.Leader();
        CO_ASSERT_TRUE(leader != 0);
        cluster.Kill(leader);
        CO_ASSERT_OK(co_await CommitRetrying(store, Host("h2", "192.168.0.2")));
        EXPECT_TRUE(store.state().hosts.contains("h1"));
        EXPECT_TRUE(store.state().hosts.contains("h2"));
        int new_leader = cluster.Leader();
        EXPECT_NE(new_leader, 0);
        EXPECT_NE(new_leader, leader);
      },
      120000);
  // A surviving server, read by ovsdb-client, holds both.
  int any = cluster.Leader();
  ASSERT_NE(any, 0);
  auto r = RunProcess({"ovsdb-client", "dump", cluster.Target(any), kDb, "Host", "name"});
  EXPECT_NE(r.out.find("h1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("h2"), std::string::npos) << r.out;
}

// Two stores asking for the managers' lock against the cluster: exactly
// one holds it (both follow the leader, where the lock lives); when the
// leader is killed both lose it at once, and on the new leader exactly one
// holds it again and commits, while the other's writes are refused.
TEST(NbStoreRaftTest, TheLockFollowsTheLeader) {
  RaftCluster cluster;
  ASSERT_TRUE(cluster.Start());
  asio::io_context io;
  NbStore::Options o;
  for (int i = 1; i <= 3; ++i) o.servers.push_back(*ovsdb::ParseOvsdbTarget(cluster.Target(i)));
  o.lock = "shortcut_managerd";
  NbStore a(io.get_executor(), o);
  NbStore b(io.get_executor(), o);
  a.Start();
  b.Start();
  RunCoroutine(
      io,
      [&]() -> asio::awaitable<void> {
        auto one = [&] { return a.has_lock() != b.has_lock(); };
        CO_ASSERT_TRUE(co_await WaitUntil(one, 30000));
        int leader = cluster.Leader();
        CO_ASSERT_TRUE(leader != 0);
        EXPECT_EQ(a.server().target, cluster.Target(leader));
        EXPECT_EQ(b.server().target, cluster.Target(leader));
        EXPECT_TRUE(a.server().clustered && a.server().leader);
        cluster.Kill(leader);
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return !a.has_lock() && !b.has_lock(); }, 5000));
        CO_ASSERT_TRUE(co_await WaitUntil(one, 60000));
        int new_leader = cluster.Leader();
        EXPECT_NE(new_leader, leader);
        NbStore& holder = a.has_lock() ? a : b;
        NbStore& other = a.has_lock() ? b : a;
        EXPECT_EQ(holder.server().target, cluster.Target(new_leader));
        NbTxn t1;
        t1.InsertHost(Host("h1", "192.168.0.1"));
        CO_ASSERT_OK(co_await holder.Commit(std::move(t1)));
        NbTxn t2;
        t2.InsertHost(Host("h2", "192.168.0.2"));
        absl::Status refused = co_await other.Commit(std::move(t2));
        EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
        a.Stop();
        b.Stop();
      },
      120000);
  int any = cluster.Leader();
  ASSERT_NE(any, 0);
  auto r = RunProcess({"ovsdb-client", "dump", cluster.Target(any), kDb, "Host", "name"});
  EXPECT_NE(r.out.find("h1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("h2"), std::string::npos) << r.out;
}

// The leader leaves the cluster while its process (and the stores'
// connections to it) stay: the stores see through its _Server database
// that it is no longer the leader and move on, so the lock is held on the
// new leader only.
TEST(NbStoreRaftTest, AServerThatStopsBeingLeaderIsLeft) {
  RaftCluster cluster;
  ASSERT_TRUE(cluster.Start());
  asio::io_context io;
  NbStore::Options o;
  for (int i = 1; i <= 3; ++i) o.servers.push_back(*ovsdb::ParseOvsdbTarget(cluster.Target(i)));
  o.lock = "shortcut_managerd";
  NbStore a(io.get_executor(), o);
  NbStore b(io.get_executor(), o);
  a.Start();
  b.Start();
  RunCoroutine(
      io,
      [&]() -> asio::awaitable<void> {
        auto one = [&] { return a.has_lock() != b.has_lock(); };
        CO_ASSERT_TRUE(co_await WaitUntil(one, 30000));
        int leader = cluster.Leader();
        CO_ASSERT_TRUE(leader != 0);
        CO_ASSERT_TRUE(cluster.Leave(leader));
        const std::string old_target = cluster.Target(leader);
        auto moved = [&] {
          int now = cluster.Leader();
          return now != 0 && now != leader && one() && a.server().target == cluster.Target(now) &&
                 b.server().target == cluster.Target(now);
        };
        CO_ASSERT_TRUE(co_await WaitUntil(moved, 60000));
        NbStore& holder = a.has_lock() ? a : b;
        NbTxn t;
        t.InsertHost(Host("h1", "192.168.0.1"));
        CO_ASSERT_OK(co_await holder.Commit(std::move(t)));
        EXPECT_NE(a.server().target, old_target);
        a.Stop();
        b.Stop();
      },
      120000);
}

}  // namespace
}  // namespace shortcut::manager
