// NbStore: managerd's connection to its state of record, the
// Shortcut_Northbound database served by ovsdb-server (a standalone file or
// a Raft cluster: nothing here assumes one server). It keeps an NbState
// replica up to date through a monitor (reconnect with backoff,
// monitor_cond_since, resync: src/ovsdb/replica_session.h's rules), reports
// every change made by anyone (this managerd, another one, ovsdb-client
// transact) to its subscribers, and writes typed transactions.
//
// Reads: state() is one consistent snapshot between two co_awaits.
// Writes: Commit() sends one OVSDB transaction for the whole NbTxn (a bulk
// load is one transaction, not one per endpoint) and returns once it is
// committed AND state() shows its effects, so a caller reads its own write.
// The database refuses duplicates and dangling references by itself
// (indexes, strong references); such a refusal comes back as
// AlreadyExists / FailedPrecondition with the database's words.
//
// Lock (Options::lock): managerd's active/standby election, as ovn-northd
// does it. On every connection (to the Raft leader only: a server's locks
// are its own, so every contender must ask the same server) the store asks
// for the OVSDB lock once synced; has_lock() says whether this connection
// holds it ("locked" replies and notifications), and it is lost at once
// when the connection goes or another client steals it ("stolen"). Every
// Commit() then starts with an `assert` of the lock, so that a write sent
// by a manager that lost it is refused by the server itself; without the
// lock Commit() sends nothing and answers Unavailable. on_lock is called
// (on the executor, from the store's own loop) whenever has_lock() changes.
//
// Leadership: a clustered server is used only while it is the leader of
// the database: checked at connect, then followed through a monitor of its
// _Server database; a server that stops being the leader (or loses its
// cluster) is left for the next one, as ovsdb-cs's leader_only does.
//
// Thread-safety: none; everything on the executor given at construction.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/manager/nb.h"
#include "src/ofconn/target.h"

namespace shortcut::manager {

// The operations of one transaction, by key. Inserts may name rows inserted
// earlier in the same transaction (a VPC and its networks and endpoints).
class NbTxn {
 public:
  void InsertHost(HostRow row);
  void UpdateHost(HostRow row);
  void DeleteHost(std::string name);
  void InsertGateway(GatewayRow row);
  void UpdateGateway(GatewayRow row);  // Every column, state included.
  // Only the driver's columns (state, instance_id, detail) of `row.name`.
  void SetGatewayObserved(GatewayRow row);
  // Only cluster management's columns (cluster_id, role) of `row.name`.
  void SetGatewayMembership(GatewayRow row);
  void DeleteGateway(std::string name);
  void InsertCluster(ClusterRow row);
  void DeleteCluster(uint32_t id);
  void InsertVpc(VpcRow row);
  void UpdateVpc(VpcRow row);      // Its cluster (a VPC moving between clusters).
  void DeleteVpc(std::string id);  // Only the row: delete its networks and endpoints too.
  void InsertNetwork(NetworkRow row);
  void DeleteNetwork(std::string vpc, std::string id);
  void InsertEndpoint(EndpointRow row);
  void UpdateEndpoint(EndpointRow row);
  void SetEndpointStatus(std::string key, EndpointStatus status);
  void DeleteEndpoint(std::string key);
  void SetSettings(Settings settings);
  void SetActiveManager(ActiveManager manager);  // NB_Global's active manager columns.

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

  struct Op;  // Defined in store.cc.
 private:
  friend class NbStore;
  std::vector<std::shared_ptr<const Op>> ops_;
};

class NbStore {
 public:
  struct Options {
    std::vector<ofconn::Target> servers;  // Tried in turn; the Raft leader is followed.
    std::string db = "Shortcut_Northbound";
    Millis commit_timeout = 30000;
    std::string lock;  // The OVSDB lock to ask for on every connection; empty: none.
    std::function<void(bool held)> on_lock;  // has_lock() changed.
    // The clock of the store's own waits: the pause between rounds of
    // servers (250 ms doubling to 8 s) and the deadlines of WaitSynced and
    // Commit. (The OVSDB connection's probes and call timeouts are the
    // client's, on the system clock.)
    const Clock* clock = &SystemClock::Get();
  };

  // The server of the current connection.
  struct ServerInfo {
    std::string target;  // Empty while not connected.
    bool clustered = false;
    bool leader = false;  // The Raft leader (a standalone server: true once synced).
  };

  // Changes since the subscriber's last Take(), each row once, coalesced.
  class Subscription {
   public:
    asio::awaitable<void> Wait();  // Until a change is pending.
    std::vector<NbChange> Take();
    ~Subscription();

   private:
    friend class NbStore;
    struct Impl;
    std::shared_ptr<Impl> impl_;
  };

  NbStore(asio::any_io_executor ex, Options options);
  ~NbStore();
  NbStore(const NbStore&) = delete;
  NbStore& operator=(const NbStore&) = delete;

  void Start();
  void Stop();
  // Until the replica holds the database's contents (first monitor reply),
  // or Unavailable after `timeout`.
  asio::awaitable<absl::Status> WaitSynced(Millis timeout);
  bool synced() const;
  bool connected() const;
  // Connections tried since Start() (each server of each round).
  uint64_t connect_attempts() const;
  bool has_lock() const;
  ServerInfo server() const;

  const NbState& state() const;
  std::unique_ptr<Subscription> Subscribe();

  // Unavailable when not connected or, with a lock, not holding it (nothing
  // was sent), or when the outcome is unknown (the caller may retry an
  // idempotent write); Unavailable too when the server refused the lock's
  // assert (lost meanwhile: nothing was written).
  asio::awaitable<absl::Status> Commit(NbTxn txn);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace shortcut::manager
