// OvsdbClient against a real ovsdb-server serving a small test schema.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ovsdb/client.h"
#include "src/ovsdb/ops.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/co_assert.h"

// gtest's ASSERT_* return from the function, which a coroutine cannot do.

namespace shortcut::ovsdb {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::testing::HasSubstr;
using ClientPtr = std::shared_ptr<OvsdbClient>;

constexpr char kDb[] = "Test";
constexpr char kSchema[] = R"({
  "name": "Test", "version": "1.0.0",
  "tables": {
    "Parent": {
      "isRoot": true,
      "indexes": [["name"]],
      "columns": {
        "name": {"type": "string"},
        "n": {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 100}}},
        "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        "children": {"type": {"key": {"type": "uuid", "refTable": "Child"},
                              "min": 0, "max": "unlimited"}}}},
    "Child": {
      "isRoot": true,
      "columns": {"name": {"type": "string"}}}}})";

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

Json ByName(const std::string& name) { return Json::array({Cond("name", "==", name)}); }

class OvsdbClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start(kSchema).ok()); }

  asio::awaitable<absl::StatusOr<ClientPtr>> Connect() {
    auto target = ParseOvsdbTarget(server_.target());
    if (!target.ok()) co_return target.status();
    OvsdbClient::Options options;
    options.connect_timeout = 5000;
    options.call_timeout = 10000;
    co_return co_await OvsdbClient::Connect(io_.get_executor(), *target, options);
  }

  // Inserts a Parent row and returns its uuid.
  asio::awaitable<absl::StatusOr<std::string>> InsertParent(OvsdbClient& c, std::string name,
                                                            int n) {
    Json ops = Json::array({op::Insert("Parent", Json{{"name", name}, {"n", n}})});
    auto r = co_await c.Transact(kDb, std::move(ops));
    if (!r.ok()) co_return r.status();
    co_return (*r)[0]["uuid"][1].get<std::string>();
  }

  void Run(std::function<asio::awaitable<void>()> test) { RunCoroutine(io_, std::move(test)); }

  testing::OvsdbServer server_;
  asio::io_context io_;
};

TEST_F(OvsdbClientTest, ListDbsAndGetSchema) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(std::vector<std::string> dbs, co_await c->ListDbs());
    EXPECT_THAT(dbs, ::testing::Contains("Test"));
    CO_ASSERT_OK_AND_ASSIGN(Json schema, co_await c->GetSchema(kDb));
    EXPECT_EQ(schema["name"], "Test");
    EXPECT_TRUE(schema["tables"].contains("Parent"));
    auto missing = co_await c->GetSchema("NoSuchDb");
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
    EXPECT_THAT(Msg(missing.status()), HasSubstr("get_schema: unknown database"));
    Json params = Json::array({"ping", 1});
    CO_ASSERT_OK_AND_ASSIGN(Json echoed, co_await c->Echo(params));
    EXPECT_EQ(echoed, params);
    c->Close();
  });
}

TEST_F(OvsdbClientTest, TransactInsertSelectUpdateMutateDelete) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    // A named uuid referenced by a later operation of the same transaction.
    Json ops = Json::array(
        {op::Insert("Child", Json{{"name", "c1"}}, "kid"),
         op::Insert("Parent",
                    Json{{"name", "p1"}, {"n", 1}, {"children", OvsSet({NamedUuid("kid")})}},
                    "parent"),
         op::Comment("insert p1 and its child")});
    CO_ASSERT_OK_AND_ASSIGN(Json results, co_await c->Transact(kDb, ops));
    CO_ASSERT_TRUE(results.size() == 3);
    std::string kid = results[0]["uuid"][1];

    Json select = Json::array({op::Select("Parent", ByName("p1"), {"n", "children"})});
    CO_ASSERT_OK_AND_ASSIGN(Json rows, co_await c->Transact(kDb, select));
    CO_ASSERT_TRUE(rows[0]["rows"].size() == 1);
    EXPECT_EQ(rows[0]["rows"][0]["n"], 1);
    EXPECT_EQ(rows[0]["rows"][0]["children"], Uuid(kid));  // A one-element set is bare.

    Json update = Json::array(
        {op::Update("Parent", ByName("p1"), Json{{"n", 5}}),
         op::Mutate("Parent", ByName("p1"),
                    {Mutation("n", "+=", 2), Mutation("tags", "insert", OvsSet({"a", "b"}))})});
    CO_ASSERT_OK_AND_ASSIGN(Json counts, co_await c->Transact(kDb, update));
    EXPECT_EQ(counts[0]["count"], 1);
    EXPECT_EQ(counts[1]["count"], 1);
    CO_ASSERT_OK_AND_ASSIGN(rows, co_await c->Transact(kDb, select));
    EXPECT_EQ(rows[0]["rows"][0]["n"], 7);
    Json tags_select = Json::array({op::Select("Parent", ByName("p1"), {"tags"})});
    CO_ASSERT_OK_AND_ASSIGN(Json tags, co_await c->Transact(kDb, tags_select));
    EXPECT_EQ(tags[0]["rows"][0]["tags"], OvsSet({"a", "b"}));

    Json del = Json::array({op::Delete("Parent", ByName("p1"))});
    CO_ASSERT_OK_AND_ASSIGN(Json deleted, co_await c->Transact(kDb, del));
    EXPECT_EQ(deleted[0]["count"], 1);
    CO_ASSERT_OK_AND_ASSIGN(rows, co_await c->Transact(kDb, select));
    EXPECT_TRUE(rows[0]["rows"].empty());
    c->Close();
  });
}

TEST_F(OvsdbClientTest, WaitWithZeroTimeoutFailsNamingTheOp) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(std::string uuid, co_await InsertParent(*c, "p", 1));
    (void)uuid;
    Json satisfied =
        Json::array({op::Wait("Parent", ByName("p"), {"n"}, "==", {Json{{"n", 1}}}, 0)});
    auto ok = co_await c->Transact(kDb, satisfied);
    EXPECT_TRUE(ok.ok()) << ok.status();
    Json unsatisfied = Json::array(
        {op::Comment("first"), op::Wait("Parent", ByName("p"), {"n"}, "==", {Json{{"n", 2}}}, 0)});
    auto r = co_await c->Transact(kDb, unsatisfied);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
    EXPECT_THAT(Msg(r.status()), HasSubstr("transact op 1 (wait Parent): timed out"));
    c->Close();
  });
}

TEST_F(OvsdbClientTest, AbortRollsBack) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    Json ops = Json::array({op::Insert("Parent", Json{{"name", "gone"}}), op::Abort()});
    auto r = co_await c->Transact(kDb, ops);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted) << r.status();
    EXPECT_THAT(Msg(r.status()), HasSubstr("transact op 1 (abort): aborted"));
    Json select = Json::array({op::Select("Parent", ByName("gone"))});
    CO_ASSERT_OK_AND_ASSIGN(Json rows, co_await c->Transact(kDb, select));
    EXPECT_TRUE(rows[0]["rows"].empty());
    c->Close();
  });
}

TEST_F(OvsdbClientTest, ConstraintViolationNamesTheOp) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    Json ops = Json::array({op::Insert("Parent", Json{{"name", "ok"}, {"n", 1}}),
                            op::Insert("Parent", Json{{"name", "big"}, {"n", 200}})});
    auto r = co_await c->Transact(kDb, ops);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    EXPECT_THAT(Msg(r.status()),
                HasSubstr("transact op 1 (insert into Parent): constraint violation"));
    c->Close();
  });
}

TEST_F(OvsdbClientTest, CommitErrorsAreNamedAsCommit) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(std::string uuid, co_await InsertParent(*c, "dup", 1));
    (void)uuid;
    // The index on name is checked at commit: one result more than ops.
    Json dup = Json::array({op::Insert("Parent", Json{{"name", "dup"}})});
    auto r = co_await c->Transact(kDb, dup);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    EXPECT_THAT(Msg(r.status()), HasSubstr("transact commit: constraint violation"));

    // A strong reference to a row that is deleted.
    Json ops = Json::array(
        {op::Insert("Child", Json{{"name", "c"}}, "kid"),
         op::Insert("Parent", Json{{"name", "p"}, {"children", OvsSet({NamedUuid("kid")})}})});
    CO_ASSERT_OK_AND_ASSIGN(Json results, co_await c->Transact(kDb, ops));
    Json del = Json::array({op::Delete("Child", ByName("c"))});
    r = co_await c->Transact(kDb, del);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    EXPECT_THAT(Msg(r.status()), HasSubstr("transact commit: referential integrity violation"));
    c->Close();
  });
}

TEST_F(OvsdbClientTest, MonitorDeliversInitialRowsThenUpdatesInOrder) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr watcher, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr writer, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(std::string first, co_await InsertParent(*writer, "first", 1));
    Json requests = Json{{"Parent", Json{{"columns", Json::array({"name", "n"})}}}};
    CO_ASSERT_OK_AND_ASSIGN(Json initial, co_await watcher->Monitor(kDb, Json("m1"), requests));
    EXPECT_EQ(initial["Parent"][first]["new"]["name"], "first");

    CO_ASSERT_OK_AND_ASSIGN(std::string second, co_await InsertParent(*writer, "second", 2));
    Json update = Json::array({op::Update("Parent", ByName("second"), Json{{"n", 3}})});
    CO_ASSERT_OK_AND_ASSIGN(Json ignored, co_await writer->Transact(kDb, update));
    (void)ignored;

    CO_ASSERT_OK_AND_ASSIGN(Notification insert, co_await watcher->NextNotification());
    EXPECT_EQ(insert.method, "update");
    EXPECT_EQ(insert.params[0], "m1");
    EXPECT_EQ(insert.params[1]["Parent"][second]["new"]["n"], 2);
    EXPECT_FALSE(insert.params[1]["Parent"][second].contains("old"));
    CO_ASSERT_OK_AND_ASSIGN(Notification modify, co_await watcher->NextNotification());
    EXPECT_EQ(modify.params[1]["Parent"][second]["old"]["n"], 2);
    EXPECT_EQ(modify.params[1]["Parent"][second]["new"]["n"], 3);
    watcher->Close();
    writer->Close();
  });
}

TEST_F(OvsdbClientTest, MonitorCondFiltersAndSendsUpdate2) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr watcher, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr writer, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(std::string x, co_await InsertParent(*writer, "x", 1));
    CO_ASSERT_OK_AND_ASSIGN(std::string y, co_await InsertParent(*writer, "y", 1));
    Json requests = Json{{"Parent", Json::array({Json{{"columns", Json::array({"name", "n"})},
                                                      {"where", ByName("x")}}})}};
    CO_ASSERT_OK_AND_ASSIGN(Json initial, co_await watcher->MonitorCond(kDb, Json("mc"), requests));
    EXPECT_EQ(initial["Parent"].size(), 1u);
    EXPECT_EQ(initial["Parent"][x]["initial"]["name"], "x");

    // A change outside the condition first: only the second one is sent.
    Json change_y = Json::array({op::Update("Parent", ByName("y"), Json{{"n", 9}})});
    Json change_x = Json::array({op::Update("Parent", ByName("x"), Json{{"n", 4}})});
    CO_ASSERT_OK_AND_ASSIGN(Json r1, co_await writer->Transact(kDb, change_y));
    CO_ASSERT_OK_AND_ASSIGN(Json r2, co_await writer->Transact(kDb, change_x));
    CO_ASSERT_OK_AND_ASSIGN(Notification n, co_await watcher->NextNotification());
    EXPECT_EQ(n.method, "update2");
    EXPECT_EQ(n.params[0], "mc");
    EXPECT_EQ(n.params[1]["Parent"].size(), 1u);
    EXPECT_EQ(n.params[1]["Parent"][x]["modify"]["n"], 4);

    // Switching the condition to y: x leaves, y arrives.
    Json change = Json{{"Parent", Json::array({Json{{"where", ByName("y")}}})}};
    CO_ASSERT_OK(co_await watcher->MonitorCondChange(Json("mc"), Json("mc"), change));
    CO_ASSERT_OK_AND_ASSIGN(Notification switched, co_await watcher->NextNotification());
    EXPECT_EQ(switched.method, "update2");
    EXPECT_TRUE(switched.params[1]["Parent"][x].contains("delete"));
    EXPECT_EQ(switched.params[1]["Parent"][y]["insert"]["n"], 9);
    watcher->Close();
    writer->Close();
  });
}

TEST_F(OvsdbClientTest, MonitorCondSinceSendsUpdate3) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr watcher, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr writer, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(std::string a, co_await InsertParent(*writer, "a", 1));
    Json requests = Json{{"Parent", Json::array({Json{{"columns", Json::array({"name", "n"})}}})}};
    CO_ASSERT_OK_AND_ASSIGN(MonitorSinceResult since,
                            co_await watcher->MonitorCondSince(kDb, Json("ms"), requests, ""));
    EXPECT_FALSE(since.found);
    EXPECT_EQ(since.updates["Parent"][a]["initial"]["name"], "a");
    CO_ASSERT_OK_AND_ASSIGN(std::string b, co_await InsertParent(*writer, "b", 2));
    CO_ASSERT_OK_AND_ASSIGN(Notification n, co_await watcher->NextNotification());
    EXPECT_EQ(n.method, "update3");
    CO_ASSERT_TRUE(n.params.size() == 3);
    EXPECT_EQ(n.params[0], "ms");
    EXPECT_TRUE(n.params[1].is_string());
    EXPECT_EQ(n.params[2]["Parent"][b]["insert"]["n"], 2);
    CO_ASSERT_OK(co_await watcher->MonitorCancel(Json("ms")));
    watcher->Close();
    writer->Close();
  });
}

TEST_F(OvsdbClientTest, LockContentionUnlockAndSteal) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr first, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr second, co_await Connect());
    CO_ASSERT_OK_AND_ASSIGN(bool got1, co_await first->Lock("L"));
    EXPECT_TRUE(got1);
    CO_ASSERT_OK_AND_ASSIGN(bool got2, co_await second->Lock("L"));
    EXPECT_FALSE(got2);
    // Only the owner may commit with an assert on the lock.
    Json guarded = Json::array({op::Assert("L"), op::Comment("guarded")});
    auto denied = co_await second->Transact(kDb, guarded);
    EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
    EXPECT_THAT(Msg(denied.status()), HasSubstr("transact op 0 (assert): not owner"));

    CO_ASSERT_OK(co_await first->Unlock("L"));
    CO_ASSERT_OK_AND_ASSIGN(Notification locked, co_await second->NextNotification());
    EXPECT_EQ(locked.method, "locked");
    EXPECT_EQ(locked.params, Json::array({"L"}));
    auto allowed = co_await second->Transact(kDb, guarded);
    EXPECT_TRUE(allowed.ok()) << allowed.status();

    // first holds no lock request after its unlock; a steal needs none.
    CO_ASSERT_OK(co_await first->Steal("L"));
    CO_ASSERT_OK_AND_ASSIGN(Notification stolen, co_await second->NextNotification());
    EXPECT_EQ(stolen.method, "stolen");
    EXPECT_EQ(stolen.params, Json::array({"L"}));
    first->Close();
    second->Close();
  });
}

// A coroutine function, not a lambda: a lambda's captures die before the
// coroutine it starts has run.
asio::awaitable<void> CallInto(ClientPtr c, int64_t id, Json params,
                               std::shared_ptr<std::optional<absl::StatusOr<Json>>> result) {
  *result = co_await c->CallWithId(id, "transact", std::move(params), 10000);
}

TEST_F(OvsdbClientTest, CancelEndsABlockedWait) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    Json params =
        Json::array({kDb, op::Wait("Parent", ByName("never"), {"n"}, "!=", {}, std::nullopt)});
    int64_t id = c->ReserveId();
    auto result = std::make_shared<std::optional<absl::StatusOr<Json>>>();
    asio::co_spawn(io_.get_executor(), CallInto(c, id, params, result), asio::detached);
    // The echo round trip orders the blocked transact before the cancel.
    Json ping = Json::array({"ping"});
    CO_ASSERT_OK_AND_ASSIGN(Json echoed, co_await c->Echo(ping));
    CO_ASSERT_TRUE(!result->has_value());
    CO_ASSERT_OK(c->Cancel(id));
    // Named: a braced temporary inside co_await is destroyed twice by g++ 12.
    std::function<bool()> finished = [result] { return result->has_value(); };
    bool done = co_await testing::WaitUntil(finished);
    CO_ASSERT_TRUE(done);
    EXPECT_EQ((*result)->status().code(), absl::StatusCode::kCancelled) << (*result)->status();
    EXPECT_THAT(Msg((*result)->status()), HasSubstr("transact: canceled"));
    // The session is still usable.
    CO_ASSERT_OK_AND_ASSIGN(std::string uuid, co_await InsertParent(*c, "after-cancel", 1));
    EXPECT_FALSE(uuid.empty());
    c->Close();
  });
}

TEST_F(OvsdbClientTest, CloseFailsNotificationsAndCalls) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    c->Close();
    auto n = co_await c->NextNotification();
    EXPECT_EQ(n.status().code(), absl::StatusCode::kUnavailable);
    auto dbs = co_await c->ListDbs();
    EXPECT_EQ(dbs.status().code(), absl::StatusCode::kUnavailable);
  });
}

TEST_F(OvsdbClientTest, ServerStopClosesTheClient) {
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ClientPtr c, co_await Connect());
    server_.Stop();
    auto n = co_await c->NextNotification();
    EXPECT_EQ(n.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(n.status()), HasSubstr("closed"));
  });
}

TEST(OvsdbClientConnectTest, MissingSocketIsUnavailable) {
  asio::io_context io;
  RunCoroutine(io, [&]() -> asio::awaitable<void> {
    auto target = ParseOvsdbTarget("unix:/nonexistent/shortcut-ovsdb.sock");
    CO_ASSERT_TRUE(target.ok());
    auto c = co_await OvsdbClient::Connect(io.get_executor(), *target, {});
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  });
}

TEST(OvsdbTargetTest, DefaultsTcpPortTo6640) {
  auto t = ParseOvsdbTarget("tcp:127.0.0.1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->port, 6640);
  t = ParseOvsdbTarget("tcp:127.0.0.1:1234");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->port, 1234);
  t = ParseOvsdbTarget("tcp:[::1]");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->port, 6640);
}

}  // namespace
}  // namespace shortcut::ovsdb
