// A managerd in the test process: a private ovsdb-server holding the
// Shortcut_Northbound schema, a real NbStore on an io_context thread, the
// Northbound, ManagerService and ManagerServer on a Unix socket, and a
// client stub. Service and CLI tests share it.
//
// Oracles independent of the code under test: `ovsdb-client dump` of the
// database (to prove a refused call changed nothing) and `ovsdb-client
// transact` (to read rows, and to write an endpoint's status as the gateway
// driver would).
//
// Everything on the io_context is touched from the test thread only through
// OnIo, or while the io thread is not running.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "shortcut/manager/v1/manager.grpc.pb.h"
#include "src/common/clock.h"
#include "src/manager/northbound.h"
#include "src/manager/server.h"
#include "src/manager/service.h"
#include "src/manager/store.h"
#include "src/ofconn/target.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/poll.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::manager::testing {

inline std::string ReadSchema() {
  std::ifstream f(SHORTCUT_SOURCE_DIR "/schema/shortcut_nb.ovsschema");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

using ::shortcut::testing::PollUntil;  // tests/support/poll.h

class ManagerFixture : public ::testing::Test {
 protected:
  virtual ManagerService::Options ServiceOptions() { return {}; }
  virtual Northbound::Options NorthboundOptions() { return {}; }

  void SetUp() override {
    absl::Status started = db_.Start(ReadSchema());
    ASSERT_TRUE(started.ok()) << started;
    auto target = ofconn::ParseTarget(db_.target());
    ASSERT_TRUE(target.ok()) << target.status();
    NbStore::Options options;
    options.servers = {*target};
    store_ = std::make_unique<NbStore>(io_.get_executor(), options);
    nb_ = std::make_unique<Northbound>(io_.get_executor(), store_.get(), NorthboundOptions());
    service_ = std::make_unique<ManagerService>(io_.get_executor(), nb_.get(), ServiceOptions());
    io_thread_ = std::thread([this] { io_.run(); });
    absl::Status synced = AwaitIo([this]() -> asio::awaitable<absl::Status> {
      store_->Start();
      absl::Status s = co_await store_->WaitSynced(10000);
      nb_->Start();
      co_return s;
    });
    ASSERT_TRUE(synced.ok()) << synced;
    auto server = ManagerServer::Start("unix:" + dir_.File("manager.sock"), service_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Manager::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(0);
    if (store_) {
      std::promise<void> stopped;
      asio::post(io_, [&] {
        store_->Stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
    }
    work_.reset();
    io_.stop();
    if (io_thread_.joinable()) io_thread_.join();
    server_.reset();
    service_.reset();
    nb_.reset();
    store_.reset();
  }

  template <typename F>
  auto OnIo(F fn) {
    std::promise<decltype(fn())> done;
    asio::post(io_, [&] {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        done.set_value();
      } else {
        done.set_value(fn());
      }
    });
    return done.get_future().get();
  }
  absl::Status AwaitIo(std::function<asio::awaitable<absl::Status>()> fn) {
    std::promise<absl::Status> done;
    asio::co_spawn(io_, std::move(fn), [&](std::exception_ptr e, absl::Status s) {
      done.set_value(e ? absl::InternalError("exception") : s);
    });
    return done.get_future().get();
  }

  // ---- Oracles. ----

  std::string Dump() {
    auto r = shortcut::testing::RunProcess({"ovsdb-client", "dump", db_.target(), kDb});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  // The result of one transact operation list (a JSON array of results).
  nlohmann::json Transact(const nlohmann::json& ops) {
    nlohmann::json txn = nlohmann::json::array({kDb});
    for (const auto& op : ops) txn.push_back(op);
    auto r = shortcut::testing::RunProcess({"ovsdb-client", "transact", db_.target(), txn.dump()});
    EXPECT_TRUE(r.ok()) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // Rows of `table` where column == value (or all), as the server sends them.
  nlohmann::json Select(const std::string& table, const std::string& column = "",
                        const nlohmann::json& value = nullptr) {
    nlohmann::json where = nlohmann::json::array();
    if (!column.empty()) where.push_back({column, "==", value});
    nlohmann::json result =
        Transact(nlohmann::json::array({{{"op", "select"}, {"table", table}, {"where", where}}}));
    if (!result.is_array() || result.empty()) return nlohmann::json::array();
    return result[0]["rows"];
  }
  size_t Count(const std::string& table) { return Select(table).size(); }

  static bool WaitFor(std::function<bool()> pred, int timeout_ms = 10000) {
    return PollUntil(pred, timeout_ms);
  }

  static constexpr const char* kDb = "Shortcut_Northbound";

  shortcut::testing::TempDir dir_;
  shortcut::testing::OvsdbServer db_;
  ManualClock clock_;  // For tests that inject it; outlives io_ (its timers).
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread io_thread_;
  std::unique_ptr<NbStore> store_;
  std::unique_ptr<Northbound> nb_;
  std::unique_ptr<ManagerService> service_;
  std::unique_ptr<ManagerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Manager::Stub> stub_;
};

}  // namespace shortcut::manager::testing
