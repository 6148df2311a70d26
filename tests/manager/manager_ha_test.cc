// Active/standby managers against a real ovsdb-server: the OVSDB lock
// elects exactly one, a standby refuses writes naming it, the standby takes
// over when the active one stops, and a write asserting a lock its
// connection does not hold is refused by the server itself.
//
// Oracles: `ovsdb-client` reading the database (NB_Global's active manager,
// rows written or not), and the managers' own API over gRPC (the role each
// reports, what a write answers).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "shortcut/manager/v1/manager.grpc.pb.h"
#include "src/manager/config.h"
#include "src/manager/daemon.h"
#include "src/manager/nb_replica.h"
#include "src/manager/nb_txn.h"
#include "src/manager/store.h"
#include "src/ovsdb/client.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/manager/manager_fixture.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/co_assert.h"
#include "tests/support/dashboard_names.h"
#include "tests/support/http_get.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::manager {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::RunProcess;
using ::shortcut::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr char kDb[] = "Shortcut_Northbound";
constexpr char kLock[] = "shortcut_managerd";

HostRow Host(const std::string& name, const std::string& ip) {
  return HostRow{
      .host = {.name = name, .underlay_ipv4 = ip, .openflow_target = "", .ovsdb_target = ""}};
}

// A ManagerDaemon on a thread of its own, and a client of its API.
class RunningManager {
 public:
  RunningManager(const std::string& name, const std::string& dir, const std::string& nb,
                 const std::string& metrics = "") {
    ManagerConfig config;
    config.metrics = metrics;
    config.name = name;
    config.listen = "unix:" + dir + "/" + name + ".sock";
    config.advertise = config.listen;
    config.nb = {nb};
    config.health_interval_ms = 100;
    address_ = config.listen;
    daemon_ = std::make_unique<ManagerDaemon>(
        config, ManagerDaemon::Options{.handle_signals = false, .shutdown_grace_ms = 1000});
    thread_ = std::thread([this] { status_ = daemon_->Run(); });
    stub_ = v1::Manager::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }
  ~RunningManager() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    daemon_->Stop();
    thread_.join();
    EXPECT_TRUE(status_.ok()) << status_;
  }

  // The manager's status, or nullopt if it does not answer.
  std::optional<v1::ManagerStatus> Status() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::ManagerStatus status;
    if (!stub_->GetManagerStatus(&context, v1::GetManagerStatusRequest(), &status).ok()) {
      return std::nullopt;
    }
    return status;
  }
  bool Active() {
    auto s = Status();
    return s && s->role() == v1::MANAGER_ROLE_ACTIVE;
  }
  grpc::Status RegisterHost(const std::string& name, const std::string& ip, v1::Host* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::RegisterHostRequest request;
    request.mutable_host()->set_name(name);
    request.mutable_host()->set_underlay_ip(ip);
    return stub_->RegisterHost(&context, request, out);
  }
  grpc::Status ListHosts(v1::ListHostsResponse* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->ListHosts(&context, v1::ListHostsRequest(), out);
  }
  const std::string& address() const { return address_; }
  uint16_t metrics_port() const { return daemon_->metrics_port(); }

 private:
  std::string address_;
  std::unique_ptr<ManagerDaemon> daemon_;
  std::thread thread_;
  absl::Status status_;
  std::unique_ptr<v1::Manager::Stub> stub_;
};

class ManagerHaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = db_.Start(testing::ReadSchema());
    ASSERT_TRUE(started.ok()) << started;
  }

  // NB_Global's active manager columns, read by ovsdb-client.
  nlohmann::json Global() {
    nlohmann::json txn = nlohmann::json::array(
        {kDb,
         {{"op", "select"},
          {"table", "NB_Global"},
          {"where", nlohmann::json::array()},
          {"columns", {"active_manager", "active_manager_address", "active_since_ms"}}}});
    auto r = RunProcess({"ovsdb-client", "transact", db_.target(), txn.dump()});
    EXPECT_TRUE(r.ok()) << r.err;
    auto reply = nlohmann::json::parse(r.out, nullptr, false);
    if (!reply.is_array() || reply.empty() || reply[0]["rows"].empty()) return nullptr;
    return reply[0]["rows"][0];
  }
  std::string HostRows() {
    auto r = RunProcess({"ovsdb-client", "dump", db_.target(), kDb, "Host", "name"});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  shortcut::testing::OvsdbServer db_;
  shortcut::testing::TempDir dir_{"manager-ha"};
};

// The metrics endpoint: what the database and the API say, and what
// Prometheus' own checker (promtool) says of the exposition.
TEST_F(ManagerHaTest, MetricsReportTheStateAndTheApiCalls) {
  RunningManager m1("m1", dir_.path(), db_.target(), "127.0.0.1:0");
  ASSERT_TRUE(testing::PollUntil([&] { return m1.Active(); }, 10000)) << "m1 never became active";
  ASSERT_NE(m1.metrics_port(), 0);
  v1::Host h;
  ASSERT_TRUE(m1.RegisterHost("h1", "172.31.1.1", &h).ok());
  grpc::Status refused = m1.RegisterHost("h2", "172.31.1.1", &h);  // The same IP.
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::ALREADY_EXISTS) << refused.error_message();
  std::string text = shortcut::testing::HttpGetBody(m1.metrics_port());
  ASSERT_FALSE(text.empty());
  EXPECT_THAT(text, HasSubstr("\nshortcut_manager_active 1\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_manager_hosts 1\n"));
  EXPECT_THAT(HostRows(), HasSubstr("h1"));  // The database agrees.
  EXPECT_THAT(text, HasSubstr("\nshortcut_manager_api_request_duration_seconds_count{method=\""
                              "shortcut.manager.v1.Manager/RegisterHost\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("\nshortcut_manager_api_request_duration_seconds_count{method=\""
                        "shortcut.manager.v1.Manager/RegisterHost\",code=\"ALREADY_EXISTS\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nshortcut_manager_endpoints{status=\"pending\"} 0\n"));
  // Every manager metric the Grafana dashboard queries is exported.
  std::set<std::string> used = shortcut::testing::DashboardMetricNames(
      SHORTCUT_SOURCE_DIR "/docs/grafana/shortcut.json", "shortcut_manager_");
  EXPECT_GT(used.size(), 5u);
  for (const std::string& name : used) {
    EXPECT_THAT(text, HasSubstr("# TYPE " + name + " ")) << name << " is not exported";
  }
  shortcut::testing::RunOptions o;
  o.stdin_data = text;
  shortcut::testing::RunResult r = RunProcess({"promtool", "check", "metrics"}, o);
  ASSERT_NE(r.exit_code, -1) << "promtool is missing (Debian package prometheus)";
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "");
}

TEST_F(ManagerHaTest, OneActiveStandbyRefusesWritesAndTakesOver) {
  RunningManager m1("m1", dir_.path(), db_.target());
  ASSERT_TRUE(testing::PollUntil([&] { return m1.Active(); }, 10000)) << "m1 never became active";
  RunningManager m2("m2", dir_.path(), db_.target());
  ASSERT_TRUE(testing::PollUntil([&] { return m2.Status().has_value(); }, 10000));
  // The database names m1 (written by m1 once active).
  ASSERT_TRUE(
      testing::PollUntil([&] { return Global().value("active_manager", "") == "m1"; }, 10000))
      << Global().dump();
  EXPECT_EQ(Global().value("active_manager_address", ""), m1.address());
  EXPECT_GT(Global().value("active_since_ms", 0), 0);

  // Exactly one active, for a while (m2 stays in the lock's queue).
  for (int i = 0; i < 10; ++i) {
    auto s1 = m1.Status();
    auto s2 = m2.Status();
    ASSERT_TRUE(s1 && s2);
    EXPECT_EQ(s1->role(), v1::MANAGER_ROLE_ACTIVE);
    EXPECT_EQ(s2->role(), v1::MANAGER_ROLE_STANDBY);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto s2 = m2.Status();
  EXPECT_EQ(s2->name(), "m2");
  EXPECT_EQ(s2->active_name(), "m1");
  EXPECT_EQ(s2->active_address(), m1.address());
  EXPECT_EQ(s2->store_server(), db_.target());
  EXPECT_TRUE(s2->store_leader());
  EXPECT_FALSE(s2->store_clustered());

  // A write on the standby: UNAVAILABLE naming the active one; nothing written.
  v1::Host host;
  grpc::Status refused = m2.RegisterHost("h1", "192.168.0.1", &host);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("this manager (m2) is standby; the active one is m1 at " + m1.address()));
  EXPECT_EQ(HostRows().find("h1"), std::string::npos);
  // On the active one it is written; the standby reads it from its replica.
  grpc::Status written = m1.RegisterHost("h1", "192.168.0.1", &host);
  ASSERT_TRUE(written.ok()) << written.error_message();
  EXPECT_NE(HostRows().find("h1"), std::string::npos);
  EXPECT_TRUE(testing::PollUntil(
      [&] {
        v1::ListHostsResponse hosts;
        return m2.ListHosts(&hosts).ok() && hosts.hosts_size() == 1;
      },
      5000));

  // The active one stops: the standby takes over and writes.
  m1.Stop();
  ASSERT_TRUE(testing::PollUntil([&] { return m2.Active(); }, 5000)) << "m2 never became active";
  EXPECT_TRUE(
      testing::PollUntil([&] { return Global().value("active_manager", "") == "m2"; }, 5000))
      << Global().dump();
  written = m2.RegisterHost("h2", "192.168.0.2", &host);
  ASSERT_TRUE(written.ok()) << written.error_message();
  EXPECT_NE(HostRows().find("h2"), std::string::npos);
}

// Two stores asking for the lock on one server: one holds it; a client
// stealing it deposes the holder at once, and when the thief lets go one
// of the stores holds it again.
TEST_F(ManagerHaTest, StoresShareTheLockAndFollowASteal) {
  asio::io_context io;
  NbStore::Options o;
  o.servers = {*ofconn::ParseTarget(db_.target())};
  o.lock = kLock;
  int changes = 0;
  o.on_lock = [&](bool) { ++changes; };
  NbStore a(io.get_executor(), o);
  NbStore b(io.get_executor(), o);
  a.Start();
  b.Start();
  RunCoroutine(
      io,
      [&]() -> asio::awaitable<void> {
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return a.has_lock() || b.has_lock(); }, 10000));
        CO_ASSERT_TRUE(a.has_lock() != b.has_lock());
        NbStore& holder = a.has_lock() ? a : b;
        NbStore& waiter = a.has_lock() ? b : a;
        NbTxn t1;
        t1.InsertHost(Host("h1", "192.168.0.1"));
        CO_ASSERT_OK(co_await holder.Commit(std::move(t1)));
        NbTxn t2;
        t2.InsertHost(Host("h2", "192.168.0.2"));
        absl::Status refused = co_await waiter.Commit(std::move(t2));
        EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;

        auto thief = co_await ovsdb::OvsdbClient::Connect(io.get_executor(),
                                                          *ofconn::ParseTarget(db_.target()), {});
        CO_ASSERT_TRUE(thief.ok());
        CO_ASSERT_OK(co_await (*thief)->Steal(kLock));
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return !a.has_lock() && !b.has_lock(); }, 5000));
        NbTxn t3;
        t3.InsertHost(Host("h3", "192.168.0.3"));
        refused = co_await holder.Commit(std::move(t3));
        EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;

        CO_ASSERT_OK(co_await (*thief)->Unlock(kLock));
        CO_ASSERT_TRUE(co_await WaitUntil([&] { return a.has_lock() || b.has_lock(); }, 5000));
        EXPECT_TRUE(a.has_lock() != b.has_lock());
        (*thief)->Close();
        a.Stop();
        b.Stop();
      },
      60000);
  EXPECT_GE(changes, 3);  // Taken, stolen, taken again.
  std::string rows = HostRows();
  EXPECT_NE(rows.find("h1"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("h2"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("h3"), std::string::npos) << rows;
}

// The transaction a manager sends, from a connection that does not hold the
// lock (lost, or never had it): the server refuses it whole.
TEST_F(ManagerHaTest, AssertOfALockNotHeldIsRefusedByTheServer) {
  asio::io_context io;
  RunCoroutine(
      io,
      [&]() -> asio::awaitable<void> {
        auto target = *ofconn::ParseTarget(db_.target());
        auto owner = co_await ovsdb::OvsdbClient::Connect(io.get_executor(), target, {});
        auto deposed = co_await ovsdb::OvsdbClient::Connect(io.get_executor(), target, {});
        CO_ASSERT_TRUE(owner.ok() && deposed.ok());
        // The deposed one held the lock, then another took it.
        CO_ASSERT_OK_AND_ASSIGN(bool got, co_await (*deposed)->Lock(kLock));
        CO_ASSERT_TRUE(got);
        CO_ASSERT_OK(co_await (*owner)->Steal(kLock));

        NbReplica replica([](NbTable, const std::string&, const std::string&) {});
        // The operations as NbStore::Commit() hands them to the builder.
        std::vector<std::shared_ptr<const NbTxn::Op>> ops;
        auto op = std::make_shared<NbTxn::Op>();
        op->kind = NbTxn::Op::Kind::kInsert;
        op->table = NbTable::kHost;
        op->row = Host("h9", "192.168.0.9");
        ops.push_back(op);
        auto built = BuildTransaction(ops, replica, kLock);
        CO_ASSERT_TRUE(built.ok());
        EXPECT_THAT(built->params, HasSubstr("\"assert\""));
        auto reply = co_await (*deposed)->CallText("transact", built->params, 10000);
        CO_ASSERT_TRUE(reply.ok());
        auto parsed = ParseTransactReply(*reply, *built, ops);
        EXPECT_TRUE(absl::IsUnavailable(parsed.status())) << parsed.status();
        EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("not owner"));
        // The holder's identical request commits.
        auto again = co_await (*owner)->CallText("transact", built->params, 10000);
        CO_ASSERT_TRUE(again.ok());
        EXPECT_TRUE(ParseTransactReply(*again, *built, ops).ok());
        (*owner)->Close();
        (*deposed)->Close();
      },
      30000);
  // Written once: by the holder only.
  auto r = RunProcess({"ovsdb-client", "dump", db_.target(), kDb, "Host", "name"});
  EXPECT_NE(r.out.find("h9"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace shortcut::manager
