// The gateway driver against the real state of record: NbStore on a private
// ovsdb-server serving schema/shortcut_nb.ovsschema, fake gateways, time
// driven by the test. The test writes and reads through a second NbStore
// (an independent replica) and ovsdb-client; each gateway's whole content
// is compared with DesiredContent computed from that second replica.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manager/driver.h"
#include "src/manager/nb_store_driver_store.h"
#include "src/manager/store.h"
#include "src/ovsdb/client.h"
#include "tests/manager/driver_fixture.h"
#include "tests/manager/test_state.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::manager {
namespace {

using testing::Ep;
using ::testing::HasSubstr;
using testing::HoldsExactly;
using ::testing::Not;

constexpr char kDb[] = "Shortcut_Northbound";

// Collects the small state's rows as one transaction.
struct TxnFiller {
  NbTxn txn;
  void PutCluster(uint32_t id) { txn.InsertCluster(ClusterRow{id}); }
  void PutGateway(GatewayRow g) { txn.InsertGateway(std::move(g)); }
  void PutHost(model::Host h) { txn.InsertHost(HostRow{std::move(h)}); }
  void PutVpc(VpcRow v) { txn.InsertVpc(std::move(v)); }
  void PutNetwork(NetworkRow n) { txn.InsertNetwork(std::move(n)); }
  void PutEndpoint(EndpointRow e) { txn.InsertEndpoint(std::move(e)); }
};

class DriverNbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start(::shortcut::testing::ReadFile(SHORTCUT_NB_SCHEMA)).ok());
    driver_db_ = MakeStore();
    test_db_ = MakeStore();
    ASSERT_TRUE(RunUntil([&] { return driver_db_->synced() && test_db_->synced(); }));
    TxnFiller fill;
    testing::FillSmallState(fill);
    absl::Status filled = Commit(std::move(fill.txn));
    ASSERT_TRUE(filled.ok()) << filled;
    ASSERT_TRUE(RunUntil(
        [&] { return driver_db_->synced() && driver_db_->state().endpoints.size() == 3; }));
  }
  void TearDown() override {
    // The loops end on the context; nothing runs it once they are gone.
    if (driver_) {
      driver_->Stop();
      EXPECT_TRUE(RunUntil([&] { return driver_->finished(); }));
    }
    for (auto* s : {driver_db_.get(), test_db_.get()}) {
      if (s) s->Stop();
    }
    io_.restart();
    io_.poll();
  }

  std::unique_ptr<NbStore> MakeStore() {
    NbStore::Options o;
    o.servers = {*ovsdb::ParseOvsdbTarget(server_.target())};
    auto s = std::make_unique<NbStore>(io_.get_executor(), o);
    s->Start();
    return s;
  }

  void StartDriver() {
    adapter_ = std::make_unique<NbStoreDriverStore>(*driver_db_);
    GatewayDriver::Options o;
    o.backoff_max = 1000;
    driver_ = std::make_unique<GatewayDriver>(io_.get_executor(), *adapter_, gateways_.Factory(),
                                              timers_, o);
    driver_->Start();
  }

  absl::Status Commit(NbTxn txn) {
    std::optional<absl::Status> result;
    asio::co_spawn(
        io_,
        [&, t = std::move(txn)]() mutable -> asio::awaitable<void> {
          result = co_await test_db_->Commit(std::move(t));
        },
        asio::detached);
    if (!RunUntil([&] { return result.has_value(); })) return absl::DeadlineExceededError("commit");
    return *result;
  }
  bool RunUntil(const std::function<bool()>& done) { return testing::RunUntil(io_, done); }

  testing::FakeGateway& gw(const std::string& name) { return gateways_.Get(name); }
  // The oracle: the desired content from the test's own replica.
  bool Holds(const std::string& name) {
    return static_cast<bool>(
        HoldsExactly(gw(name).Content(), DesiredContent(test_db_->state(), name)));
  }
  bool Settle() {
    return RunUntil(
        [&] { return driver_->settled() && Holds("gw-a") && Holds("gw-b") && Holds("gw-c"); });
  }
  const GatewayRow& Row(const std::string& name) { return test_db_->state().gateways.at(name); }
  EndpointStatus Status(const std::string& key) {
    return test_db_->state().endpoints.at(key).status;
  }
  // `ovsdb-client transact` select of one row's columns, as JSON text.
  std::string Select(const std::string& table, const std::string& column, const std::string& value,
                     const std::string& columns) {
    auto r = ::shortcut::testing::RunProcess(
        {"ovsdb-client", "transact", server_.target(),
         absl::StrCat(R"([")", kDb, R"(",{"op":"select","table":")", table, R"(","where":[[")",
                      column, R"(","==",")", value, R"("]],"columns":)", columns, "}]")});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  ::shortcut::testing::OvsdbServer server_;
  asio::io_context io_;
  std::unique_ptr<NbStore> driver_db_;
  std::unique_ptr<NbStore> test_db_;
  ManualTimers timers_;
  testing::FakeGateways gateways_;
  std::unique_ptr<NbStoreDriverStore> adapter_;
  std::unique_ptr<GatewayDriver> driver_;
};

TEST_F(DriverNbStoreTest, FirstContactLoadsEveryGatewayAndTheirStateReachesTheDatabase) {
  StartDriver();
  ASSERT_TRUE(Settle());
  ASSERT_TRUE(RunUntil([&] {
    return Row("gw-a").state == GatewayState::kReady && Row("gw-c").state == GatewayState::kReady;
  }));
  EXPECT_EQ(gw("gw-c").Content().vpcs.count("blue"), 0u);
  EXPECT_EQ(gw("gw-a").Content().vpcs.count("red"), 0u);
  std::string row = Select("Gateway", "name", "gw-a", R"(["state","instance_id"])");
  EXPECT_THAT(row, HasSubstr("\"ready\""));
  EXPECT_THAT(row, HasSubstr(gw("gw-a").instance_id()));
}

TEST_F(DriverNbStoreTest, EndpointChangesReachOnlyTheirClustersGateways) {
  StartDriver();
  ASSERT_TRUE(Settle());
  size_t red_calls = gw("gw-c").calls().size();
  NbTxn add;
  add.InsertEndpoint(Ep("b3", "blue", "web", "10.0.0.3", "h1", 4));
  ASSERT_TRUE(Commit(std::move(add)).ok());
  ASSERT_TRUE(Settle());
  EXPECT_TRUE(gw("gw-a").HoldsEndpoint("b3"));
  EXPECT_TRUE(gw("gw-b").HoldsEndpoint("b3"));

  EndpointRow moved = test_db_->state().endpoints.at("b3");
  moved.endpoint.host = "h2";
  NbTxn move;
  move.UpdateEndpoint(moved);
  ASSERT_TRUE(Commit(std::move(move)).ok());
  ASSERT_TRUE(Settle());

  NbTxn del;
  del.DeleteEndpoint("b3");
  ASSERT_TRUE(Commit(std::move(del)).ok());
  ASSERT_TRUE(Settle());
  EXPECT_FALSE(gw("gw-a").HoldsEndpoint("b3"));
  for (size_t i = red_calls; i < gw("gw-c").calls().size(); ++i) {
    EXPECT_THAT(gw("gw-c").calls()[i], Not(HasSubstr("b3")));
  }
  EXPECT_EQ(gw("gw-a").Count("UpdateEndpoint b3"), 2u);
  EXPECT_EQ(gw("gw-a").Count("DeleteEndpoint b3"), 1u);
}

TEST_F(DriverNbStoreTest, ARestartedGatewayIsReloadedToExactlyTheDesiredContent) {
  StartDriver();
  ASSERT_TRUE(Settle());
  gw("gw-a").Restart();
  NbTxn add;
  add.InsertEndpoint(Ep("b4", "blue", "web", "10.0.0.4", "h2", 5));
  ASSERT_TRUE(Commit(std::move(add)).ok());
  timers_.Advance(500);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(driver_->view("gw-a")->full_loads, 2u);
  ASSERT_TRUE(RunUntil([&] { return Row("gw-a").instance_id == gw("gw-a").instance_id(); }));
}

TEST_F(DriverNbStoreTest, AGatewayDownThenBackGetsTheChangesItMissed) {
  StartDriver();
  ASSERT_TRUE(Settle());
  gw("gw-b").down = true;
  NbTxn change;
  change.InsertEndpoint(Ep("b5", "blue", "web", "10.0.0.5", "h1", 6));
  change.DeleteEndpoint("b2");
  ASSERT_TRUE(Commit(std::move(change)).ok());
  ASSERT_TRUE(RunUntil([&] { return Row("gw-b").state == GatewayState::kDown; }));
  EXPECT_THAT(Select("Gateway", "name", "gw-b", R"(["state"])"), HasSubstr("\"down\""));
  gw("gw-b").down = false;
  timers_.Advance(1000);
  ASSERT_TRUE(Settle());
  ASSERT_TRUE(RunUntil([&] { return Row("gw-b").state == GatewayState::kReady; }));
  EXPECT_EQ(driver_->view("gw-b")->full_loads, 1u);
}

TEST_F(DriverNbStoreTest, OnlineStatusReachesTheDatabase) {
  gw("gw-a").designated = false;
  gw("gw-b").bound.insert("b1");
  StartDriver();
  ASSERT_TRUE(Settle());
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] { return Status("b1") == EndpointStatus::kOnline; }));
  EXPECT_THAT(Select("Endpoint", "key", "b1", R"(["status"])"), HasSubstr("\"online\""));
  EXPECT_THAT(Select("Endpoint", "key", "b2", R"(["status"])"), HasSubstr("\"pending\""));
  // A move makes it pending again until its new host confirms it.
  gw("gw-b").bound.clear();
  EndpointRow moved = test_db_->state().endpoints.at("b1");
  moved.endpoint.host = "h2";
  NbTxn move;
  move.UpdateEndpoint(moved);
  ASSERT_TRUE(Commit(std::move(move)).ok());
  ASSERT_TRUE(RunUntil([&] { return Status("b1") == EndpointStatus::kPending; }));
  gw("gw-b").bound.insert("b1");
  timers_.Advance(200);
  ASSERT_TRUE(RunUntil([&] { return Status("b1") == EndpointStatus::kOnline; }));
}

}  // namespace
}  // namespace shortcut::manager
