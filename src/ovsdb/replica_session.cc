#include "src/ovsdb/replica_session.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace shortcut::ovsdb {
namespace {

Millis Now() { return SystemClock::Get().NowMs(); }

constexpr char kMonitorId[] = "shortcut-replica";

}  // namespace

Json MonitorRequestsJson(const std::vector<TableMonitor>& tables) {
  Json requests = Json::object();
  for (const TableMonitor& t : tables) {
    Json request = Json::object();
    if (!t.columns.empty()) request["columns"] = t.columns;
    if (!t.where.is_null()) request["where"] = t.where;
    requests[t.table] = Json::array({request});
  }
  return requests;
}

asio::awaitable<absl::StatusOr<Replica>> LoadReplica(OvsdbClient& client, std::string db,
                                                     std::vector<TableMonitor> tables) {
  auto schema_json = co_await client.GetSchema(db);
  if (!schema_json.ok()) co_return schema_json.status();
  auto schema = ParseSchema(*schema_json);
  if (!schema.ok()) co_return schema.status();
  for (const TableMonitor& t : tables) {
    if (schema->FindTable(t.table) == nullptr) {
      co_return absl::NotFoundError(absl::StrCat("database ", db, " has no table ", t.table));
    }
  }
  Replica replica(*std::move(schema));
  Json monitor_id = "shortcut-load";
  Json requests = MonitorRequestsJson(tables);
  auto initial = co_await client.MonitorCond(db, monitor_id, std::move(requests));
  if (!initial.ok()) co_return initial.status();
  if (auto s = replica.ApplyUpdate2(*initial); !s.ok()) co_return s;
  replica.TakeChanges();
  auto cancelled = co_await client.MonitorCancel(monitor_id);
  if (!cancelled.ok()) co_return cancelled;
  co_return replica;
}

ReplicaSession::ReplicaSession(asio::any_io_executor ex, ofconn::Target target, Options options)
    : ex_(ex),
      target_(std::move(target)),
      options_(std::move(options)),
      fsm_(ofconn::Reconnect::Options{.min_backoff = options_.min_backoff,
                                      .max_backoff = options_.max_backoff,
                                      .probe_interval = 0}),
      timer_(ex),
      signal_(ex) {}

std::shared_ptr<ReplicaSession> ReplicaSession::Start(asio::any_io_executor ex,
                                                      ofconn::Target target, Options options) {
  std::shared_ptr<ReplicaSession> session(
      new ReplicaSession(ex, std::move(target), std::move(options)));
  asio::co_spawn(ex, session->Run(session), asio::detached);
  return session;
}

void ReplicaSession::Stop() {
  if (stopped_) return;
  stopped_ = true;
  fsm_.Disable(Now());
  if (client_) client_->Close();
  timer_.cancel();
  signal_.Notify();
}

void ReplicaSession::Changed() {
  ++events_;
  signal_.Notify();
}

asio::awaitable<absl::Status> ReplicaSession::WaitForChange() {
  auto self = shared_from_this();
  while (!stopped_ && delivered_ == events_) co_await signal_.Wait();
  if (stopped_) co_return absl::CancelledError("OVSDB session stopped");
  delivered_ = events_;
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> ReplicaSession::Serve() {
  auto schema_json = co_await client_->GetSchema(options_.db);
  if (!schema_json.ok()) co_return schema_json.status();
  auto schema = ParseSchema(*schema_json);
  if (!schema.ok()) co_return schema.status();
  if (replica_ && replica_->schema().version != schema->version) {
    // A new schema: rows may have new columns; start over (the owner sees
    // every row deleted and inserted again).
    spdlog::info("{}: schema {} changed to {}", target_.ToString(), replica_->schema().version,
                 schema->version);
    replica_->ClearAndReplaceSchema(*std::move(schema));
    last_txn_id_.clear();
  } else if (!replica_) {
    replica_.emplace(*std::move(schema));
  }
  for (const TableMonitor& t : options_.tables) {
    if (replica_->schema().FindTable(t.table) == nullptr) {
      co_return absl::NotFoundError(
          absl::StrCat("database ", options_.db, " has no table ", t.table));
    }
  }

  Json monitor_id = kMonitorId;
  Json requests = MonitorRequestsJson(options_.tables);
  auto result = co_await client_->MonitorCondSince(options_.db, monitor_id, std::move(requests),
                                                   last_txn_id_);
  if (!result.ok()) co_return result.status();
  absl::Status applied;
  if (result->found && !last_txn_id_.empty()) {
    applied = replica_->ApplyUpdate2(result->updates);
    ++delta_resyncs_;
  } else {
    std::vector<std::string> tables;
    for (const TableMonitor& t : options_.tables) tables.push_back(t.table);
    applied = replica_->Resync(result->updates, tables);
    if (connections_ > 0) ++full_resyncs_;
  }
  if (!applied.ok()) co_return applied;
  last_txn_id_ = result->last_txn_id;
  synced_ = true;
  ++connections_;
  Changed();

  while (true) {
    auto note = co_await client_->NextNotification();
    if (!note.ok()) co_return note.status();
    if (note->method != "update3" && note->method != "update2") continue;
    const Json& params = note->params;
    if (!params.is_array() || params.empty() || params[0] != monitor_id) continue;
    if (note->method == "update3") {
      if (params.size() != 3 || !params[1].is_string()) {
        co_return absl::InvalidArgumentError("malformed update3 notification");
      }
      if (auto s = replica_->ApplyUpdate2(params[2]); !s.ok()) co_return s;
      last_txn_id_ = params[1].get<std::string>();
    } else {
      if (params.size() != 2)
        co_return absl::InvalidArgumentError("malformed update2 notification");
      if (auto s = replica_->ApplyUpdate2(params[1]); !s.ok()) co_return s;
    }
    if (replica_->has_changes()) Changed();
  }
}

asio::awaitable<void> ReplicaSession::Run([[maybe_unused]] std::shared_ptr<ReplicaSession> self) {
  fsm_.Enable(Now());
  while (!stopped_) {
    if (fsm_.Run(Now()) == ofconn::ReconnectAction::kConnect) {
      fsm_.Connecting(Now());
      auto client = co_await OvsdbClient::Connect(ex_, target_, options_.client);
      if (stopped_) {
        if (client.ok()) (*client)->Close();
        break;
      }
      if (!client.ok()) {
        fsm_.ConnectFailed(Now(), client.status());
        spdlog::info("{}: {}; retrying in {} ms", target_.ToString(),
                     std::string(client.status().message()), fsm_.backoff());
        continue;
      }
      client_ = *std::move(client);
      fsm_.Connected(Now());
      absl::Status why = co_await Serve();
      bool was_synced = synced_;
      synced_ = false;
      client_->Close();
      client_.reset();
      if (stopped_) break;
      // A connection that delivered the contents counts as stable: the next
      // attempt waits only the minimum backoff.
      if (was_synced) fsm_.Activity(Now());
      fsm_.Disconnected(Now(), why);
      spdlog::warn("{}: OVSDB connection lost ({}); reconnecting in {} ms", target_.ToString(),
                   std::string(why.message()), fsm_.backoff());
      if (was_synced) Changed();
      continue;
    }
    Millis wait = fsm_.Timeout(Now());
    timer_.expires_after(std::chrono::milliseconds(wait < 0 ? 3600 * 1000 : wait));
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

}  // namespace shortcut::ovsdb
