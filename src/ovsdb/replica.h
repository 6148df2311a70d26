// An in-memory replica of monitored OVSDB tables, after Open vSwitch's IDL:
// the rows as the server last described them, in canonical form (datum.h),
// plus what changed since the owner last looked.
//
// Each Apply*() call applies one whole notification or nothing: it is
// checked and staged first, so a malformed update leaves the replica as it
// was (the caller then drops the connection and resynchronises). Between
// calls the replica is a consistent snapshot of one server state.
//
// Change tracking: the replica remembers, per row, its value when the owner
// last called TakeChanges() (or its absence). TakeChanges() compares that
// with now and reports each row once, coalesced: a row inserted and modified
// is one insert; inserted then deleted is nothing; deleted and put back
// identical by a resynchronisation after a reconnect is nothing. That is
// what lets a watcher see every change once across reconnects.
//
// Thread-safety: none; a replica belongs to its owner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "src/ovsdb/jsonrpc.h"
#include "src/ovsdb/schema.h"

namespace shortcut::ovsdb {

// One row: column name → canonical value; default-valued columns omitted.
using Row = Json;
// uuid → row.
using TableRows = absl::flat_hash_map<std::string, Row>;

struct RowChange {
  enum class Kind { kInsert, kModify, kDelete };
  std::string table;
  std::string uuid;
  Kind kind = Kind::kInsert;
  Row old_row;  // Null for kInsert.
  Row new_row;  // Null for kDelete.
};

class Replica {
 public:
  explicit Replica(DbSchema schema) : schema_(std::move(schema)) {}

  // <table-updates> of "monitor" and "update" (old/new rows).
  absl::Status ApplyUpdate(const Json& table_updates);
  // <table-updates2> of monitor_cond and "update2"/"update3" (initial,
  // insert, modify with diffs, delete).
  absl::Status ApplyUpdate2(const Json& table_updates2);
  // The server's full contents after a reconnect whose history was lost:
  // every row not in `table_updates2` (initial rows) of a table it names, or
  // of `tables`, is deleted; the others replaced.
  absl::Status Resync(const Json& table_updates2, const std::vector<std::string>& tables);
  void Clear();
  // Deletes every row (reported by TakeChanges as usual) and adopts a new
  // schema: a server upgraded to another schema version.
  void ClearAndReplaceSchema(DbSchema schema);

  const DbSchema& schema() const { return schema_; }
  const TableRows& Rows(const std::string& table) const;
  const Row* Find(const std::string& table, const std::string& uuid) const;
  size_t row_count() const;
  // Bumped by every Apply*()/Resync() that changed something.
  uint64_t seqno() const { return seqno_; }

  // What changed since the last call, each row once, in no particular order.
  std::vector<RowChange> TakeChanges();
  bool has_changes() const { return !before_.empty(); }

 private:
  struct Staged {
    std::string table;
    std::string uuid;
    std::optional<Row> row;  // nullopt: delete.
  };
  absl::StatusOr<Row> CanonicalRow(const TableSchema& table, const Json& row) const;
  absl::Status StageUpdate2(const Json& table_updates2, bool initial_only,
                            std::vector<Staged>* staged) const;
  void Commit(std::vector<Staged> staged);
  void Remember(const std::string& table, const std::string& uuid);

  DbSchema schema_;
  absl::flat_hash_map<std::string, TableRows> tables_;
  // Rows changed since TakeChanges(): (table, uuid) → value then (null: absent).
  absl::flat_hash_map<std::pair<std::string, std::string>, Row> before_;
  uint64_t seqno_ = 0;
};

}  // namespace shortcut::ovsdb
