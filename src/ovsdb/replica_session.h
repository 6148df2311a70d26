// A replica kept up to date across reconnects: the client side of OVSDB that
// daemons and `shortcutctl host watch` use (Open vSwitch's ovsdb-cs plus IDL,
// in one small class).
//
// The session connects with backoff (ofconn::Reconnect), reads the schema,
// and monitors the requested tables with monitor_cond_since. On a reconnect
// it asks for the changes since the last transaction id it saw: a clustered
// server that still has that history sends only the delta; otherwise
// (a standalone server, or history lost) the whole contents come again and
// Replica::Resync() turns them into the real differences. Either way, a row
// changed while the session was away shows up in TakeChanges() exactly once,
// and an unchanged row not at all.
//
// The owner awaits WaitForChange() and then reads replica() and
// replica().TakeChanges(); the replica is only modified between co_awaits,
// so what the owner reads between two awaits is one consistent snapshot.
// client() is the current connection, for transactions, or null.
//
// Lifetime: Start() spawns a coroutine holding a shared_ptr; Stop() closes
// the connection and lets it end.
//
// Thread-safety: none; use from the executor given to Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/ofconn/reconnect.h"
#include "src/ofconn/signal.h"
#include "src/ofconn/target.h"
#include "src/ovsdb/client.h"
#include "src/ovsdb/replica.h"

namespace shortcut::ovsdb {

struct TableMonitor {
  std::string table;
  std::vector<std::string> columns;  // Empty: every column.
  Json where;                        // A monitor_cond condition array; null: all rows.
};

// The <monitor-cond-requests> object for `tables`.
Json MonitorRequestsJson(const std::vector<TableMonitor>& tables);

// A one-shot replica: reads the schema of `db` and the current contents of
// `tables` over `client` (monitor_cond, then cancelled). For commands that
// look once and act, without keeping a session.
asio::awaitable<absl::StatusOr<Replica>> LoadReplica(OvsdbClient& client, std::string db,
                                                     std::vector<TableMonitor> tables);

class ReplicaSession : public std::enable_shared_from_this<ReplicaSession> {
 public:
  struct Options {
    std::string db;
    std::vector<TableMonitor> tables;
    OvsdbClient::Options client;
    Millis min_backoff = 250;
    Millis max_backoff = 8000;
  };

  static std::shared_ptr<ReplicaSession> Start(asio::any_io_executor ex, ofconn::Target target,
                                               Options options);
  void Stop();

  // Returns once the replica changed, or the connection came up or went down,
  // since the previous call returned. Cancelled once stopped.
  asio::awaitable<absl::Status> WaitForChange();

  // Null until the first connection has read the schema.
  Replica* replica() { return replica_ ? &*replica_ : nullptr; }
  // The current connection with its monitor in place, or null.
  std::shared_ptr<OvsdbClient> client() const { return synced_ ? client_ : nullptr; }
  bool synced() const { return synced_; }
  const absl::Status& last_error() const { return fsm_.last_error(); }
  uint64_t connections() const { return connections_; }
  // Reconnects that got only the delta (monitor_cond_since "found").
  uint64_t delta_resyncs() const { return delta_resyncs_; }
  uint64_t full_resyncs() const { return full_resyncs_; }

 private:
  ReplicaSession(asio::any_io_executor ex, ofconn::Target target, Options options);
  asio::awaitable<void> Run(std::shared_ptr<ReplicaSession> self);
  // One connection from monitor to loss; returns why it ended.
  asio::awaitable<absl::Status> Serve();
  void Changed();

  asio::any_io_executor ex_;
  ofconn::Target target_;
  Options options_;
  ofconn::Reconnect fsm_;
  asio::steady_timer timer_;
  ofconn::Signal signal_;
  std::shared_ptr<OvsdbClient> client_;
  std::optional<Replica> replica_;
  std::string last_txn_id_;  // Newest transaction seen; empty: none yet.
  bool synced_ = false;
  bool stopped_ = false;
  uint64_t events_ = 0;     // Changes and connection events so far.
  uint64_t delivered_ = 0;  // events_ when WaitForChange() last returned.
  uint64_t connections_ = 0;
  uint64_t delta_resyncs_ = 0;
  uint64_t full_resyncs_ = 0;
};

}  // namespace shortcut::ovsdb
