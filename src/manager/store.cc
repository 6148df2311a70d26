// NbStore: the connection loop (servers in turn, the Raft leader only, a
// monitor_cond_since per connection), Commit() and subscriptions. The typed
// replica is nb_replica.h; the transaction text and its reply, nb_txn.h.
#include "src/manager/store.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <asio/detached.hpp>
#include <chrono>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/common/clock_timer.h"
#include "src/manager/nb_replica.h"
#include "src/manager/nb_txn.h"
#include "src/ofconn/signal.h"
#include "src/ovsdb/client.h"
#include "src/ovsdb/ops.h"
#include "src/ovsdb/schema.h"

namespace shortcut::manager {
namespace {

using ovsdb::Json;

constexpr char kMonitorId[] = "shortcut-nb";
constexpr char kServerMonitorId[] = "shortcut-server";
constexpr Millis kMinBackoff = 250;
constexpr Millis kMaxBackoff = 8000;

// A notification of many rows was parsed into a JSON tree of hundreds of MB
// and freed again; give that memory back to the system, or a replica of a
// million endpoints keeps the peak of its largest update for good.
void ReleaseFreedMemory(size_t rows) {
#ifdef __GLIBC__
  if (rows >= 10000) malloc_trim(0);
#else
  (void)rows;
#endif
}

// Rows in a <table-updates2> (before it is consumed).
size_t RowCount(const Json& table_updates2) {
  size_t n = 0;
  if (!table_updates2.is_object()) return 0;
  for (const auto& [table, rows] : table_updates2.items()) n += rows.size();
  return n;
}

// A row as subscriptions track it: (table, key, second key part of a network).
struct TrackKey {
  NbTable table;
  std::string a;
  std::string b;
  friend bool operator==(const TrackKey&, const TrackKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TrackKey& k) {
    return H::combine(std::move(h), k.table, k.a, k.b);
  }
};

std::string ServersText(const std::vector<ofconn::Target>& servers) {
  std::vector<std::string> out;
  for (const auto& t : servers) out.push_back(t.ToString());
  return absl::StrJoin(out, ",");
}

}  // namespace

struct NbStore::Subscription::Impl {
  explicit Impl(const asio::any_io_executor& ex) : signal(ex) {}
  std::weak_ptr<NbStore::Impl> store;
  absl::flat_hash_map<TrackKey, NbRow> before;  // Row value at the last Take().
  ofconn::Signal signal;
};

struct NbStore::Impl {
  Impl(asio::any_io_executor ex_in, Options options_in)
      : ex(ex_in),
        options(std::move(options_in)),
        replica([this](NbTable t, const std::string& a, const std::string& b) { Touch(t, a, b); }),
        changed(ex_in),
        backoff_timer(ex_in, *options.clock) {}

  // Before a row changes: every subscriber without a pending change of it
  // remembers its current value.
  void Touch(NbTable table, const std::string& a, const std::string& b) {
    if (subs.empty()) return;
    TrackKey key{table, a, b};
    std::optional<NbRow> current;
    for (const auto& weak : subs) {
      auto sub = weak.lock();
      if (!sub || sub->before.contains(key)) continue;
      if (!current) current = replica.Current(table, a, b);
      sub->before.emplace(key, *current);
    }
  }

  void Changed() {
    changed.Notify();
    std::erase_if(subs, [](const auto& w) { return w.expired(); });
    for (const auto& weak : subs) {
      auto sub = weak.lock();
      if (sub && !sub->before.empty()) sub->signal.Notify();
    }
  }

  // Wakes `changed` waiters after `timeout`, so their loops can give up;
  // cancelled when the guard goes.
  struct AlarmGuard {
    std::shared_ptr<ClockTimer> timer;
    ~AlarmGuard() { timer->Cancel(); }
  };
  AlarmGuard Alarm(std::shared_ptr<Impl> self, Millis timeout) {
    auto timer = std::make_shared<ClockTimer>(ex, *options.clock);
    timer->ExpiresAfter(timeout);
    std::weak_ptr<Impl> weak = self;
    asio::co_spawn(
        ex,
        [timer, weak]() -> asio::awaitable<void> {
          if (!co_await timer->Wait()) co_return;
          if (auto s = weak.lock()) s->changed.Notify();
        },
        asio::detached);
    return AlarmGuard{timer};
  }
  Millis Now() const { return options.clock->NowMs(); }

  asio::awaitable<void> Run(std::shared_ptr<Impl> self);
  asio::awaitable<absl::Status> Serve(const ofconn::Target& target);
  asio::awaitable<absl::Status> CheckLeader();
  asio::awaitable<absl::Status> MonitorLeader();
  // Why a _Server update means leaving this server; OK if it does not.
  absl::Status LeaderUpdate(const Json& table_updates2) const;
  void SetLock(bool held);

  asio::any_io_executor ex;
  Options options;
  NbReplica replica;
  ofconn::Signal changed;  // Replica changes and connection events.
  ClockTimer backoff_timer;
  uint64_t connect_attempts = 0;
  std::shared_ptr<ovsdb::OvsdbClient> client;
  std::optional<ovsdb::DbSchema> schema;
  std::string last_txn_id;
  bool started = false;
  bool stopped = false;
  bool connected = false;
  bool synced = false;
  bool inserting_global = false;  // A Commit is inserting the NB_Global row.
  bool has_lock = false;
  bool saw_follower = false;  // In this round of servers, one answered as a follower.
  ServerInfo server;
  std::vector<std::weak_ptr<Subscription::Impl>> subs;
};

asio::awaitable<absl::Status> NbStore::Impl::CheckLeader() {
  // What ovsdb-cs does with leader_only: ask the server's _Server database
  // whether it is the leader of a clustered database. A standalone server
  // (model "standalone") is always fine; an old server without _Server too.
  Json where = Json::array({ovsdb::Cond("name", "==", options.db)});
  Json ops = Json::array({ovsdb::op::Select("Database", where, {"model", "connected", "leader"})});
  auto result = co_await client->Transact("_Server", std::move(ops));
  if (!result.ok()) co_return absl::OkStatus();
  const Json& rows = (*result)[0]["rows"];
  if (!rows.is_array() || rows.empty()) co_return absl::OkStatus();
  const Json& row = rows[0];
  if (row.value("model", "") != "clustered") co_return absl::OkStatus();
  server.clustered = true;
  if (row.value("leader", false) && row.value("connected", false)) co_return absl::OkStatus();
  co_return absl::UnavailableError("not the leader of the clustered database");
}

asio::awaitable<absl::Status> NbStore::Impl::MonitorLeader() {
  // The leader can change while we are connected (an election after a
  // partition, a leadership transfer): watch this server's own view of the
  // database and leave as soon as it is no longer the leader. Otherwise
  // two managers could hold the lock on two servers at once.
  Json monitor_id = kServerMonitorId;
  Json requests = Json::object();
  requests["Database"] = Json::array(
      {Json::object({{"columns", Json::array({"name", "leader", "connected"})},
                     {"where", Json::array({ovsdb::Cond("name", "==", options.db)})}})});
  auto initial = co_await client->MonitorCond("_Server", monitor_id, std::move(requests));
  if (!initial.ok()) co_return initial.status();
  co_return LeaderUpdate(*initial);
}

absl::Status NbStore::Impl::LeaderUpdate(const Json& table_updates2) const {
  if (!table_updates2.is_object()) return absl::OkStatus();
  auto rows = table_updates2.find("Database");
  if (rows == table_updates2.end() || !rows->is_object()) return absl::OkStatus();
  for (const auto& [uuid, change] : rows->items()) {
    if (!change.is_object()) continue;
    if (change.contains("delete")) return absl::UnavailableError("the database was removed");
    for (const char* kind : {"initial", "insert", "modify"}) {
      auto row = change.find(kind);
      if (row == change.end() || !row->is_object()) continue;
      if (auto leader = row->find("leader"); leader != row->end() && *leader == false) {
        return absl::UnavailableError("no longer the leader of the clustered database");
      }
      if (auto up = row->find("connected"); up != row->end() && *up == false) {
        return absl::UnavailableError("disconnected from its cluster");
      }
    }
  }
  return absl::OkStatus();
}

void NbStore::Impl::SetLock(bool held) {
  if (held == has_lock) return;
  has_lock = held;
  if (held) {
    spdlog::info("{}: holding lock {}", server.target, options.lock);
  } else {
    spdlog::warn("{}: lock {} lost", server.target.empty() ? "database" : server.target,
                 options.lock);
  }
  if (options.on_lock) options.on_lock(held);
}

asio::awaitable<absl::Status> NbStore::Impl::Serve(const ofconn::Target& target) {
  ovsdb::OvsdbClient::Options co;
  co.connect_timeout = 5000;
  // ovsdb-server answers nothing while it executes a transaction, and a
  // bulk load of 100,000 endpoints takes it seconds (18 s on a busy 2-core
  // machine): probe only after 30 s of silence (close after 60 s).
  co.probe_interval = 30000;
  // A standalone server sends everything again after a reconnect: with a
  // million endpoints that is one message of a few hundred MB.
  co.max_message_bytes = size_t{2} << 30;
  co.max_notifications = 1 << 16;
  co.call_timeout = std::max<Millis>(options.commit_timeout, 30000);
  auto connected_client = co_await ovsdb::OvsdbClient::Connect(ex, target, co);
  if (!connected_client.ok()) co_return connected_client.status();
  client = *std::move(connected_client);
  connected = true;
  changed.Notify();

  auto schema_json = co_await client->GetSchema(options.db);
  if (!schema_json.ok()) co_return schema_json.status();
  auto parsed = ovsdb::ParseSchema(*schema_json);
  if (!parsed.ok()) co_return parsed.status();
  for (const auto& t : NbMonitoredTables()) {
    if (parsed->FindTable(t.table) == nullptr) {
      co_return absl::FailedPreconditionError(
          absl::StrCat("database ", options.db, " has no table ", t.table));
    }
  }
  if (schema && schema->version != parsed->version) last_txn_id.clear();
  schema = *std::move(parsed);
  server = ServerInfo{target.ToString(), false, false};
  if (auto s = co_await CheckLeader(); !s.ok()) {
    saw_follower = true;
    co_return s;
  }
  if (server.clustered) {
    if (auto s = co_await MonitorLeader(); !s.ok()) co_return s;
  }
  server.leader = true;

  Json monitor_id = kMonitorId;
  Json requests = ovsdb::MonitorRequestsJson(NbMonitoredTables());
  auto result =
      co_await client->MonitorCondSince(options.db, monitor_id, std::move(requests), last_txn_id);
  if (!result.ok()) co_return result.status();
  absl::Status applied;
  if (result->found && !last_txn_id.empty()) {
    applied = replica.ApplyUpdate2(std::move(result->updates));
  } else {
    applied = replica.Resync(std::move(result->updates), *schema);
  }
  if (!applied.ok()) co_return applied;
  ReleaseFreedMemory(replica.state().endpoints.size());
  last_txn_id = result->last_txn_id;
  synced = true;
  spdlog::info("{}: {} synced ({} endpoints)", target.ToString(), options.db,
               replica.state().endpoints.size());
  Changed();
  if (!options.lock.empty()) {
    // Asked for only now: a manager takes over with its replica complete.
    auto locked = co_await client->Lock(options.lock);
    if (!locked.ok()) co_return locked.status();
    if (*locked) SetLock(true);
  }

  while (true) {
    auto note = co_await client->NextNotification();
    if (!note.ok()) co_return note.status();
    if (note->method == "locked" || note->method == "stolen") {
      const Json& p = note->params;
      if (p.is_array() && !p.empty() && p[0] == options.lock) {
        // Stolen: the server keeps us waiting behind the thief; "locked"
        // comes again when it lets go.
        SetLock(note->method == "locked");
      }
      continue;
    }
    if (note->method == "update2" && note->params.is_array() && note->params.size() == 2 &&
        note->params[0] == kServerMonitorId) {
      if (auto s = LeaderUpdate(note->params[1]); !s.ok()) co_return s;
      continue;
    }
    if (note->method != "update3" && note->method != "update2") continue;
    Json& params = note->params;
    if (!params.is_array() || params.empty() || params[0] != monitor_id) continue;
    absl::Status s;
    if (note->method == "update3") {
      if (params.size() != 3 || !params[1].is_string()) {
        co_return absl::InvalidArgumentError("malformed update3 notification");
      }
      const size_t rows = RowCount(params[2]);
      s = replica.ApplyUpdate2(std::move(params[2]));
      if (s.ok()) last_txn_id = params[1].get<std::string>();
      note.value() = {};
      ReleaseFreedMemory(rows);
    } else {
      if (params.size() != 2) co_return absl::InvalidArgumentError("malformed update2");
      s = replica.ApplyUpdate2(std::move(params[1]));
    }
    if (!s.ok()) {
      // Start over from the full contents rather than guess.
      last_txn_id.clear();
      co_return s;
    }
    Changed();
  }
}

asio::awaitable<void> NbStore::Impl::Run([[maybe_unused]] std::shared_ptr<Impl> self) {
  Millis backoff = kMinBackoff;
  size_t next = 0;
  size_t failed = 0;  // Servers tried in a row without getting synced.
  const size_t n = options.servers.size();
  while (!stopped) {
    const ofconn::Target target = options.servers[next % n];
    ++next;
    ++connect_attempts;
    absl::Status why = co_await Serve(target);
    const bool was_synced = synced;
    // The lock went with the connection (the server releases it when the
    // session closes): stop acting on it before anything else.
    SetLock(false);
    server = ServerInfo{};
    synced = false;
    connected = false;
    if (client) {
      client->Close();
      client.reset();
    }
    changed.Notify();
    if (stopped) break;
    if (was_synced) {
      backoff = kMinBackoff;
      failed = 0;
      spdlog::warn("{}: {} connection lost ({})", target.ToString(), options.db,
                   std::string(why.message()));
    } else {
      spdlog::info("{}: {}: {}", target.ToString(), options.db, std::string(why.message()));
    }
    // After every server failed once, wait before the next round.
    if (!was_synced && ++failed % n == 0) {
      // Servers that answer but are not the leader: an election is under
      // way and will end within an election timeout; keep asking at the
      // shortest interval rather than back off past its end.
      if (saw_follower) backoff = kMinBackoff;
      saw_follower = false;
      backoff_timer.ExpiresAfter(backoff);
      co_await backoff_timer.Wait();
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
}

NbStore::NbStore(asio::any_io_executor ex, Options options)
    : impl_(std::make_shared<Impl>(ex, std::move(options))) {}

NbStore::~NbStore() { Stop(); }

void NbStore::Start() {
  if (impl_->started || impl_->options.servers.empty()) return;
  impl_->started = true;
  asio::co_spawn(impl_->ex, impl_->Run(impl_), asio::detached);
}

void NbStore::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  // The owner stops acting on the lock itself; no call back while it goes.
  s.options.on_lock = nullptr;
  s.has_lock = false;
  if (s.client) s.client->Close();
  s.backoff_timer.Cancel();
  s.changed.Notify();
  for (const auto& weak : s.subs) {
    if (auto sub = weak.lock()) sub->signal.Notify();
  }
}

bool NbStore::synced() const { return impl_->synced; }
bool NbStore::connected() const { return impl_->connected; }
uint64_t NbStore::connect_attempts() const { return impl_->connect_attempts; }
bool NbStore::has_lock() const { return impl_->has_lock; }
NbStore::ServerInfo NbStore::server() const {
  ServerInfo info = impl_->server;
  if (!impl_->synced) info.leader = false;
  return info;
}
const NbState& NbStore::state() const { return impl_->replica.state(); }

asio::awaitable<absl::Status> NbStore::WaitSynced(Millis timeout) {
  std::shared_ptr<Impl> s = impl_;
  const Millis deadline = s->Now() + timeout;
  auto alarm = s->Alarm(s, timeout);
  while (!s->synced && !s->stopped && s->Now() < deadline) co_await s->changed.Wait();
  if (s->synced) co_return absl::OkStatus();
  co_return absl::UnavailableError(absl::StrCat("database ", s->options.db, " at ",
                                                ServersText(s->options.servers),
                                                " not synced within ", timeout, " ms"));
}

asio::awaitable<absl::Status> NbStore::Commit(NbTxn txn) {
  std::shared_ptr<Impl> s = impl_;
  if (!s->synced || !s->client) {
    co_return absl::UnavailableError(absl::StrCat("not connected to database ", s->options.db,
                                                  " at ", ServersText(s->options.servers)));
  }
  if (txn.empty()) co_return absl::OkStatus();
  const Millis deadline = s->Now() + s->options.commit_timeout;
  auto alarm = s->Alarm(s, s->options.commit_timeout);
  // The first transaction on an empty database inserts the NB_Global row;
  // one at a time, or the second would exceed its maxRows.
  while (!s->replica.has_global() && s->inserting_global && s->synced && s->Now() < deadline) {
    co_await s->changed.Wait();
  }
  if (!s->synced || !s->client) {
    co_return absl::UnavailableError(absl::StrCat("not connected to database ", s->options.db,
                                                  " at ", ServersText(s->options.servers)));
  }
  if (!s->options.lock.empty() && !s->has_lock) {
    co_return absl::UnavailableError(
        absl::StrCat("not holding lock ", s->options.lock, ": another manager is active"));
  }
  const bool inserting_global = !s->replica.has_global();
  absl::StatusOr<BuiltTxn> built = BuildTransaction(txn.ops_, s->replica, s->options.lock);
  if (!built.ok()) co_return built.status();
  std::shared_ptr<ovsdb::OvsdbClient> client = s->client;
  std::string params = std::move(built->params);
  if (inserting_global) s->inserting_global = true;
  auto reply = co_await client->CallText("transact", std::move(params), s->options.commit_timeout);
  if (inserting_global) {
    s->inserting_global = false;
    s->changed.Notify();
  }
  if (!reply.ok()) {
    // Lost connection or no answer: the outcome is unknown.
    co_return absl::UnavailableError(
        absl::StrCat("transaction outcome unknown: ", reply.status().message()));
  }
  absl::StatusOr<int64_t> seqno = ParseTransactReply(*reply, *built, txn.ops_);
  if (!seqno.ok()) {
    // A server that is no longer the leader: move on to the next one.
    if (absl::IsUnavailable(seqno.status()) && client->is_open()) client->Close();
    co_return seqno.status();
  }
  // Committed; return once the replica shows it (read your own write).
  while (s->replica.seqno() < *seqno && !s->stopped && s->Now() < deadline) {
    co_await s->changed.Wait();
  }
  if (s->replica.seqno() >= *seqno) co_return absl::OkStatus();
  co_return absl::DeadlineExceededError(absl::StrCat("committed (seqno ", *seqno,
                                                     ") but not yet seen by the replica after ",
                                                     s->options.commit_timeout, " ms"));
}

std::unique_ptr<NbStore::Subscription> NbStore::Subscribe() {
  auto sub = std::unique_ptr<Subscription>(new Subscription());
  sub->impl_ = std::make_shared<Subscription::Impl>(impl_->ex);
  sub->impl_->store = impl_;
  impl_->subs.push_back(sub->impl_);
  return sub;
}

NbStore::Subscription::~Subscription() = default;

asio::awaitable<void> NbStore::Subscription::Wait() {
  std::shared_ptr<Impl> self = impl_;
  while (self->before.empty()) {
    auto store = self->store.lock();
    if (!store || store->stopped) co_return;
    store.reset();
    co_await self->signal.Wait();
  }
}

std::vector<NbChange> NbStore::Subscription::Take() {
  std::vector<NbChange> out;
  auto store = impl_->store.lock();
  auto before = std::move(impl_->before);
  impl_->before.clear();
  if (!store) return out;
  out.reserve(before.size());
  std::vector<std::pair<TrackKey, NbRow>> sorted(std::make_move_iterator(before.begin()),
                                                 std::make_move_iterator(before.end()));
  before.clear();
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) {
    return std::tie(x.first.table, x.first.a, x.first.b) <
           std::tie(y.first.table, y.first.a, y.first.b);
  });
  for (auto& [key, old] : sorted) {
    NbRow now = store->replica.Current(key.table, key.a, key.b);
    if (now == old) continue;
    NbChange c;
    c.table = key.table;
    c.key = key.table == NbTable::kNetwork ? absl::StrCat(key.a, "/", key.b) : key.a;
    const bool was = !std::holds_alternative<std::monostate>(old);
    const bool is = !std::holds_alternative<std::monostate>(now);
    c.kind = !was ? NbChangeKind::kInsert : (!is ? NbChangeKind::kDelete : NbChangeKind::kModify);
    c.old = std::move(old);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace shortcut::manager
