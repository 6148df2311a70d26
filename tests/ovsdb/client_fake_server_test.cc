// OvsdbClient against a scripted peer on a Unix socket, for what a real
// ovsdb-server does not do on demand: echo requests, garbage, floods,
// silence.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ovsdb/client.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::ovsdb {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::WaitUntil;
using ::testing::HasSubstr;
using Socket = asio::local::stream_protocol::socket;
using ClientPtr = std::shared_ptr<OvsdbClient>;

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

class FakeServerTest : public ::testing::Test {
 protected:
  FakeServerTest()
      : dir_("shortcut-ovsdb-fake"),
        acceptor_(io_, asio::local::stream_protocol::endpoint(dir_.File("s.sock"))) {}

  OvsdbClient::Options Options() {
    OvsdbClient::Options o;
    o.connect_timeout = 5000;
    o.probe_interval = 0;
    o.call_timeout = 5000;
    return o;
  }

  // Connects a client and accepts its connection.
  asio::awaitable<std::optional<std::pair<ClientPtr, std::shared_ptr<Socket>>>> Open(
      OvsdbClient::Options options) {
    auto target = ParseOvsdbTarget("unix:" + dir_.File("s.sock"));
    if (!target.ok()) co_return std::nullopt;
    auto client = co_await OvsdbClient::Connect(io_.get_executor(), *target, options);
    if (!client.ok()) {
      ADD_FAILURE() << client.status();
      co_return std::nullopt;
    }
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      ADD_FAILURE() << ec.message();
      co_return std::nullopt;
    }
    co_return std::make_pair(*client, std::make_shared<Socket>(std::move(socket)));
  }

  static asio::awaitable<bool> Write(Socket& s, std::string text) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(text), kTuple);
    co_return !ec;
  }

  // The next JSON value the client sent.
  asio::awaitable<std::optional<Json>> Read(Socket& s) {
    while (true) {
      auto next = framer_.Next();
      if (!next.ok()) co_return std::nullopt;
      if (next->has_value()) co_return **next;
      char buf[4096];
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), kTuple);
      if (ec) co_return std::nullopt;
      framer_.Append(std::string_view(buf, n));
    }
  }

  void Run(std::function<asio::awaitable<void>()> test) { RunCoroutine(io_, std::move(test)); }

  testing::TempDir dir_;
  asio::io_context io_;
  asio::local::stream_protocol::acceptor acceptor_;
  JsonFramer framer_;
};

TEST_F(FakeServerTest, AnswersEchoAndRejectsUnknownRequests) {
  Run([&]() -> asio::awaitable<void> {
    auto opened = co_await Open(Options());
    CO_ASSERT_TRUE(opened.has_value());
    auto [client, sock] = *opened;
    std::string echo = R"({"id":"e1","method":"echo","params":[1,"x"]})";
    CO_ASSERT_TRUE(co_await Write(*sock, echo));
    std::optional<Json> reply = co_await Read(*sock);
    CO_ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(*reply, Json::parse(R"({"id":"e1","result":[1,"x"],"error":null})"));
    EXPECT_EQ(client->echo_requests_answered(), 1u);

    std::string odd = R"({"id":9,"method":"frobnicate","params":[]})";
    CO_ASSERT_TRUE(co_await Write(*sock, odd));
    reply = co_await Read(*sock);
    CO_ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(*reply, Json::parse(R"({"id":9,"result":null,"error":"unknown method"})"));
    client->Close();
  });
}

TEST_F(FakeServerTest, ReplySplitAcrossWritesCompletesTheCall) {
  Run([&]() -> asio::awaitable<void> {
    auto opened = co_await Open(Options());
    CO_ASSERT_TRUE(opened.has_value());
    auto [client, sock] = *opened;
    std::optional<absl::StatusOr<std::vector<std::string>>> dbs;
    asio::co_spawn(
        io_.get_executor(),
        [](ClientPtr c, std::optional<absl::StatusOr<std::vector<std::string>>>* out)
            -> asio::awaitable<void> { *out = co_await c->ListDbs(); }(client, &dbs),
        asio::detached);
    std::optional<Json> request = co_await Read(*sock);
    CO_ASSERT_TRUE(request.has_value());
    EXPECT_EQ((*request)["method"], "list_dbs");
    std::string id = (*request)["id"].dump();
    std::string head = R"({"id":)" + id + R"(,"result":["A","{\"}")";
    std::string tail = R"(],"error":null})";
    CO_ASSERT_TRUE(co_await Write(*sock, head));
    CO_ASSERT_TRUE(co_await Write(*sock, tail));
    std::function<bool()> done = [&dbs] { return dbs.has_value(); };
    CO_ASSERT_TRUE(co_await WaitUntil(done));
    CO_ASSERT_TRUE(dbs->ok());
    EXPECT_THAT(**dbs, ::testing::ElementsAre("A", "{\"}"));
    client->Close();
  });
}

TEST_F(FakeServerTest, GarbageClosesTheConnection) {
  Run([&]() -> asio::awaitable<void> {
    auto opened = co_await Open(Options());
    CO_ASSERT_TRUE(opened.has_value());
    auto [client, sock] = *opened;
    CO_ASSERT_TRUE(co_await Write(*sock, "{\"id\":null,\"method\":\"update\",\"params\":[]} junk"));
    auto first = co_await client->NextNotification();
    CO_ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->method, "update");
    auto next = co_await client->NextNotification();
    EXPECT_EQ(next.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(next.status()), HasSubstr("expected '{' or '['"));
  });
}

TEST_F(FakeServerTest, NotificationOverflowClosesRatherThanDrops) {
  Run([&]() -> asio::awaitable<void> {
    OvsdbClient::Options options = Options();
    options.max_notifications = 2;
    auto opened = co_await Open(options);
    CO_ASSERT_TRUE(opened.has_value());
    auto [client, sock] = *opened;
    std::string updates;
    for (int i = 0; i < 3; ++i) {
      updates += R"({"id":null,"method":"update","params":["m",{"n":)" + std::to_string(i) + "}]}";
    }
    CO_ASSERT_TRUE(co_await Write(*sock, updates));
    std::function<bool()> closed = [client] { return !client->is_open(); };
    CO_ASSERT_TRUE(co_await WaitUntil(closed));
    for (int i = 0; i < 2; ++i) {
      auto n = co_await client->NextNotification();
      CO_ASSERT_TRUE(n.ok());
      EXPECT_EQ(n->params[1]["n"], i);
    }
    auto end = co_await client->NextNotification();
    EXPECT_THAT(Msg(end.status()), HasSubstr("more than 2 notifications"));
  });
}

TEST_F(FakeServerTest, UnansweredCallTimesOutAndLateReplyIsIgnored) {
  Run([&]() -> asio::awaitable<void> {
    auto opened = co_await Open(Options());
    CO_ASSERT_TRUE(opened.has_value());
    auto [client, sock] = *opened;
    Json params = Json::array();
    auto r = co_await client->Call("list_dbs", params, 20);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(Msg(r.status()), HasSubstr("list_dbs: no reply"));
    std::optional<Json> request = co_await Read(*sock);
    CO_ASSERT_TRUE(request.has_value());
    std::string late = R"({"id":)" + (*request)["id"].dump() + R"(,"result":[],"error":null})";
    CO_ASSERT_TRUE(co_await Write(*sock, late));
    // The connection survives the late reply: an echo request is still answered.
    std::string echo = R"({"id":"e","method":"echo","params":[]})";
    CO_ASSERT_TRUE(co_await Write(*sock, echo));
    std::optional<Json> reply = co_await Read(*sock);
    CO_ASSERT_TRUE(reply.has_value());
    EXPECT_EQ((*reply)["id"], "e");
    EXPECT_TRUE(client->is_open());
    client->Close();
  });
}

TEST_F(FakeServerTest, KeepaliveProbesThenClosesOnSilence) {
  Run([&]() -> asio::awaitable<void> {
    OvsdbClient::Options options = Options();
    options.probe_interval = 30;
    auto opened = co_await Open(options);
    CO_ASSERT_TRUE(opened.has_value());
    auto [client, sock] = *opened;
    std::optional<Json> probe = co_await Read(*sock);
    CO_ASSERT_TRUE(probe.has_value());
    EXPECT_EQ((*probe)["method"], "echo");
    std::function<bool()> closed = [client] { return !client->is_open(); };
    CO_ASSERT_TRUE(co_await WaitUntil(closed));
    auto end = co_await client->NextNotification();
    EXPECT_THAT(Msg(end.status()), HasSubstr("echo unanswered"));
  });
}

}  // namespace
}  // namespace shortcut::ovsdb
