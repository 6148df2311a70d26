// NbReplica: the typed copy of the Shortcut_Northbound database that
// NbStore keeps (NbState and its indexes), fed with the monitor's
// <table-updates2>.
//
// Small tables (NB_Global, Host, Gateway, Cluster, Vpc, Network) go through
// an ovsdb::Replica, which applies update2 diffs and resyncs in canonical
// form; their typed rows are derived from it. Endpoint rows, which may be
// millions, are decoded straight from the notification into EndpointRow
// and never kept as JSON: the only other per-endpoint memory is a 16-byte
// uuid → key map (modify and delete name rows by uuid).
//
// Every typed row is keyed as nb.h says; before a row of NbState changes
// (insert, modify, delete) `on_touch` is called with its key, so the owner
// can remember the value before (subscriptions coalesce on it). A change
// that leaves a row equal is no change and not reported.
//
// Resync(): after a reconnect whose history the server lost, the whole
// contents arrive again; rows are compared by key with what NbState holds,
// so only real differences are applied (and reported).
//
// Memory: the typed rows stay (about 620 bytes per endpoint with the
// indexes, BENCHMARKS.md); each notification is still parsed whole into a
// JSON tree first (ovsdb::OvsdbClient), so a full resync of a million
// endpoints (a reconnect to a standalone server) passes through a tree of
// a few GB for a moment. Parsing Endpoint rows as they stream in (a SAX
// reader in the client) would remove that peak; not done yet.
//
// Rows that another writer broke beyond what the schema checks
// (nb_row_check.h: a value no API call would write, or a reference to a
// row not in use) are not used, logged and listed in NbState:
//   - Endpoint rows are kept aside (rejected_endpoints): a row that turns
//     bad reads as deleted, one that is mended as inserted;
//   - Host, Gateway, Vpc and Network rows (refused_rows) keep their last
//     good values in use when they turn bad (a VPC and a gateway take
//     managerd's own columns from the database still); one never good is
//     absent, and so are the networks and endpoints that need it, until
//     it is mended (they are then read again).
// One such row never stops the rest of an update.
//
// Keys are treated as immutable: a row whose key column is rewritten in the
// database (by hand) shows up as that row deleted and inserted under its new
// key; rows referring to it keep the old key until they change themselves.
//
// Thread-safety: none; owned by NbStore on its executor.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "src/manager/nb.h"
#include "src/manager/nb_rows.h"
#include "src/ovsdb/replica.h"
#include "src/ovsdb/replica_session.h"

namespace shortcut::manager {

// The tables and columns NbStore monitors.
std::vector<ovsdb::TableMonitor> NbMonitoredTables();

class NbReplica {
 public:
  // (table, first key part, second key part: a network's id, else "").
  using TouchFn = std::function<void(NbTable, const std::string&, const std::string&)>;

  explicit NbReplica(TouchFn on_touch) : on_touch_(std::move(on_touch)) {}

  // A notification's <table-updates2> (consumed: endpoint rows are moved
  // out of it). On error the connection should be dropped and resynced.
  absl::Status ApplyUpdate2(ovsdb::Json table_updates2);
  // The full contents (monitor_cond_since not "found"), against `schema`.
  absl::Status Resync(ovsdb::Json table_updates2, const ovsdb::DbSchema& schema);

  const NbState& state() const { return state_; }
  // NB_Global's seqno (commits bump it); -1 while there is no NB_Global row.
  int64_t seqno() const { return seqno_; }
  bool has_global() const { return !global_uuid_.empty(); }

  // Uuids of the small tables' rows by key, for references in writes.
  std::optional<std::string> HostUuid(const std::string& name) const;
  std::optional<std::string> ClusterUuid(uint32_t id) const;
  std::optional<std::string> VpcUuid(const std::string& id) const;
  std::optional<std::string> NetworkUuid(const NetworkKey& key) const;
  // An endpoint row's uuid, so that writes to one endpoint name it by uuid:
  // ovsdb-server finds a row by `_uuid` through its index, but by any other
  // column only by scanning the whole table (a million rows for one status).
  std::optional<std::string> EndpointUuid(const std::string& key) const;

  // The current row of (table, a, b) as an NbRow (monostate when absent).
  NbRow Current(NbTable table, const std::string& a, const std::string& b) const;

  size_t endpoint_uuid_count() const { return endpoint_keys_.size(); }

 private:
  absl::Status ApplySmallChanges(std::vector<ovsdb::RowChange> changes);
  void RebuildSmall();
  absl::Status ApplyEndpoints(ovsdb::Json updates, bool resync);
  // Records (or clears, when `why` is OK) an Endpoint row CheckEndpointRow
  // refused.
  void SetRejected(const Uuid128& uuid, EndpointRow row, const absl::Status& why);
  // A small table's row checked: true when it is usable; else it is listed
  // in refused_rows (`has_current`: its key has a good value in use).
  bool Admit(const char* table, const std::string& uuid, const std::string& key,
             const absl::Status& check, bool has_current);
  void Forget(const std::string& uuid);  // A refused row gone from the database.
  // After a row entered the state: the refused networks and endpoints that
  // may need it, checked again.
  void ReadmitDependants();
  EndpointRefs Refs() const;

  // Typed NbState edits; each calls on_touch_ first when the row changes.
  void SetHost(HostRow row);
  void EraseHost(const std::string& name);
  void SetGateway(GatewayRow row);
  void EraseGateway(const std::string& name);
  void SetCluster(ClusterRow row);
  void EraseCluster(uint32_t id);
  void SetVpc(VpcRow row);
  void EraseVpc(const std::string& id);
  void SetNetwork(NetworkRow row);
  void EraseNetwork(const NetworkKey& key);
  void SetEndpoint(EndpointRow row);
  void EraseEndpoint(const std::string& key);
  void SetGlobal(std::string uuid, const Settings& s);  // uuid empty: no row.

  TouchFn on_touch_;
  NbState state_;
  std::optional<ovsdb::Replica> small_;
  // Small tables: uuid ↔ key.
  absl::flat_hash_map<std::string, std::string> host_by_uuid_, host_uuid_;
  absl::flat_hash_map<std::string, uint32_t> cluster_by_uuid_;
  absl::flat_hash_map<uint32_t, std::string> cluster_uuid_;
  absl::flat_hash_map<std::string, std::string> gateway_by_uuid_;
  absl::flat_hash_map<std::string, std::string> vpc_by_uuid_, vpc_uuid_;
  absl::flat_hash_map<std::string, NetworkKey> network_by_uuid_;
  absl::flat_hash_map<NetworkKey, std::string> network_uuid_;
  // Endpoint: uuid → key, and key → uuid.
  absl::flat_hash_map<Uuid128, std::string> endpoint_keys_;
  absl::flat_hash_map<std::string, Uuid128> endpoint_uuids_;
  // Rows CheckEndpointRow refused, as decoded (a later diff applies to
  // them); their reasons are in state_.rejected_endpoints.
  absl::flat_hash_map<Uuid128, EndpointRow> rejected_;
  bool admitted_ = false;  // A host, VPC or network entered the state.
  std::string global_uuid_;
  int64_t seqno_ = -1;
};

}  // namespace shortcut::manager
