// The parts of an OVSDB schema (RFC 7047 section 3.2) that a replica needs:
// tables, their columns, and each column's kind (scalar, set or map) and atom
// types, so that values can be put in canonical form, defaults filled in and
// update2 diffs applied.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "src/ovsdb/jsonrpc.h"

namespace shortcut::ovsdb {

struct ColumnType {
  enum class Kind { kScalar, kSet, kMap };
  Kind kind = Kind::kScalar;  // kScalar: exactly one atom (min 1, max 1).
  std::string key_type;       // "integer", "real", "boolean", "string", "uuid".
  std::string value_type;     // kMap only.
  std::string ref_table;      // uuid keys: the table they point to, if any.
  int64_t max = 1;            // Maximum number of elements; -1: unlimited.
};

struct TableSchema {
  std::string name;
  bool is_root = false;
  absl::flat_hash_map<std::string, ColumnType> columns;
};

struct DbSchema {
  std::string name;
  std::string version;
  absl::flat_hash_map<std::string, TableSchema> tables;

  const TableSchema* FindTable(const std::string& table) const;
  const ColumnType* FindColumn(const std::string& table, const std::string& column) const;
};

// Reads a <database-schema> as returned by get_schema. InvalidArgument names
// the table and column at fault.
absl::StatusOr<DbSchema> ParseSchema(const Json& json);

// The default value of a column in canonical form (see datum.h).
Json DefaultDatum(const ColumnType& type);

}  // namespace shortcut::ovsdb
