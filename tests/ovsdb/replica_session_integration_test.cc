// ReplicaSession against a real ovsdb-server: the initial contents, live
// updates, and a server restart with changes made while the session was
// away, each reported exactly once.
#include <algorithm>
#include <asio/io_context.hpp>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ovsdb/datum.h"
#include "src/ovsdb/ops.h"
#include "src/ovsdb/replica_session.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/co_assert.h"

namespace shortcut::ovsdb {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::WaitUntil;

constexpr char kSchema[] = R"({
  "name": "Test", "version": "1.0.0",
  "tables": {
    "Parent": {
      "isRoot": true,
      "columns": {
        "name": {"type": "string"},
        "n": {"type": "integer"},
        "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}}}}}})";

// name → (kind, n after the change) for every change, to compare at once.
std::map<std::string, std::string> Summarize(const std::vector<RowChange>& changes) {
  std::map<std::string, std::string> out;
  for (const RowChange& c : changes) {
    const Row& row = c.kind == RowChange::Kind::kDelete ? c.old_row : c.new_row;
    std::string kind = c.kind == RowChange::Kind::kInsert   ? "insert"
                       : c.kind == RowChange::Kind::kModify ? "modify"
                                                            : "delete";
    out[StringAtom(row["name"])] = kind + " n=" + std::to_string(IntegerAtom(row["n"]));
  }
  return out;
}

class ReplicaSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start(kSchema).ok()); }

  std::shared_ptr<ReplicaSession> StartSession() {
    ReplicaSession::Options o;
    o.db = "Test";
    o.tables = {{"Parent", {}, nullptr}};
    o.client.connect_timeout = 2000;
    o.min_backoff = 100;
    o.max_backoff = 400;
    return ReplicaSession::Start(io_.get_executor(), *ParseOvsdbTarget(server_.target()), o);
  }

  // Waits until the session is synced and has changes, and takes them.
  asio::awaitable<std::map<std::string, std::string>> Changes(ReplicaSession& s) {
    bool ok = co_await WaitUntil(
        [&] { return s.synced() && s.replica() != nullptr && s.replica()->has_changes(); }, 10000);
    if (!ok) co_return std::map<std::string, std::string>{{"timeout", ""}};
    co_return Summarize(s.replica()->TakeChanges());
  }

  asio::awaitable<absl::Status> Transact(Json ops) {
    auto c =
        co_await OvsdbClient::Connect(io_.get_executor(), *ParseOvsdbTarget(server_.target()), {});
    if (!c.ok()) co_return c.status();
    auto r = co_await (*c)->Transact("Test", std::move(ops));
    (*c)->Close();
    co_return r.status();
  }

  testing::OvsdbServer server_;
  asio::io_context io_;
};

Json ByName(const std::string& name) { return Json::array({Cond("name", "==", name)}); }

TEST_F(ReplicaSessionTest, InitialContentsThenLiveUpdates) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    Json first = Json::array({op::Insert("Parent", {{"name", "a"}, {"n", 1}})});
    CO_ASSERT_OK(co_await Transact(first));
    auto session = StartSession();
    auto initial = co_await Changes(*session);
    EXPECT_EQ(initial, (std::map<std::string, std::string>{{"a", "insert n=1"}}));

    Json more = Json::array({op::Insert("Parent", {{"name", "b"}, {"n", 2}}),
                             op::Update("Parent", ByName("a"), {{"n", 5}})});
    CO_ASSERT_OK(co_await Transact(more));
    auto live = co_await Changes(*session);
    EXPECT_EQ(live, (std::map<std::string, std::string>{{"a", "modify n=5"}, {"b", "insert n=2"}}));

    Json del = Json::array({op::Delete("Parent", ByName("b"))});
    CO_ASSERT_OK(co_await Transact(del));
    auto gone = co_await Changes(*session);
    EXPECT_EQ(gone, (std::map<std::string, std::string>{{"b", "delete n=2"}}));
    EXPECT_EQ(session->replica()->Rows("Parent").size(), 1u);
    EXPECT_EQ(session->connections(), 1u);  // Every update applied on the first connection.
    session->Stop();
  });
}

TEST_F(ReplicaSessionTest, ChangesMadeWhileAwayShowUpOnce) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    Json rows = Json::array({op::Insert("Parent", {{"name", "same"}, {"n", 1}}),
                             op::Insert("Parent", {{"name", "changes"}, {"n", 1}}),
                             op::Insert("Parent", {{"name", "goes"}, {"n", 1}})});
    CO_ASSERT_OK(co_await Transact(rows));
    auto session = StartSession();
    auto initial = co_await Changes(*session);
    EXPECT_EQ(initial.size(), 3u);

    server_.Stop();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return !session->synced(); }, 10000));
    // Made while no server runs, so the session can only learn of them by
    // resynchronising after the restart.
    CO_ASSERT_OK(server_.OfflineTransact(R"(["Test",
        {"op": "update", "table": "Parent", "where": [["name", "==", "changes"]], "row": {"n": 7}},
        {"op": "delete", "table": "Parent", "where": [["name", "==", "goes"]]},
        {"op": "insert", "table": "Parent", "row": {"name": "new", "n": 3}}])"));
    CO_ASSERT_OK(server_.Resume());

    auto after = co_await Changes(*session);
    EXPECT_EQ(after,
              (std::map<std::string, std::string>{
                  {"changes", "modify n=7"}, {"goes", "delete n=1"}, {"new", "insert n=3"}}));
    EXPECT_EQ(session->connections(), 2u);
    EXPECT_EQ(session->full_resyncs(), 1u);  // A standalone server keeps no history.

    // And nothing more: no change is reported twice.
    Json touch = Json::array({op::Update("Parent", ByName("same"), {{"n", 2}})});
    CO_ASSERT_OK(co_await Transact(touch));
    auto next = co_await Changes(*session);
    EXPECT_EQ(next, (std::map<std::string, std::string>{{"same", "modify n=2"}}));
    EXPECT_EQ(session->replica()->Rows("Parent").size(), 3u);
    session->Stop();
  });
}

TEST_F(ReplicaSessionTest, UnknownTableIsAnErrorNotASilentEmptyReplica) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    ReplicaSession::Options o;
    o.db = "Test";
    o.tables = {{"NoSuchTable", {}, nullptr}};
    o.min_backoff = 100;
    auto session =
        ReplicaSession::Start(io_.get_executor(), *ParseOvsdbTarget(server_.target()), o);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return !session->last_error().ok(); }, 10000));
    EXPECT_FALSE(session->synced());
    EXPECT_THAT(std::string(session->last_error().message()), ::testing::HasSubstr("NoSuchTable"));
    session->Stop();
  });
}

}  // namespace
}  // namespace shortcut::ovsdb
