#include "src/ovsdb/replica.h"

#include "absl/strings/str_cat.h"
#include "src/ovsdb/datum.h"

namespace shortcut::ovsdb {
namespace {

const TableRows& EmptyRows() {
  static const TableRows* empty = new TableRows();
  return *empty;
}

absl::Status RowError(const std::string& table, const std::string& uuid, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("update of ", table, " row ", uuid, ": ", what));
}

}  // namespace

absl::StatusOr<Row> Replica::CanonicalRow(const TableSchema& table, const Json& row) const {
  if (!row.is_object()) return absl::InvalidArgumentError("row is not an object");
  Row out = Json::object();
  for (const auto& [column, value] : row.items()) {
    if (column == "_uuid" || column == "_version") continue;
    auto it = table.columns.find(column);
    if (it == table.columns.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown column ", column));
    }
    auto canonical = CanonicalDatum(it->second, value);
    if (!canonical.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", column, ": ", canonical.status().message()));
    }
    if (*canonical != DefaultDatum(it->second)) out[column] = *std::move(canonical);
  }
  return out;
}

absl::Status Replica::ApplyUpdate(const Json& table_updates) {
  if (!table_updates.is_object())
    return absl::InvalidArgumentError("table-updates is not an object");
  std::vector<Staged> staged;
  for (const auto& [table_name, rows] : table_updates.items()) {
    const TableSchema* table = schema_.FindTable(table_name);
    if (table == nullptr)
      return absl::InvalidArgumentError("update of unknown table " + table_name);
    if (!rows.is_object()) return RowError(table_name, "", "table-update is not an object");
    for (const auto& [uuid, update] : rows.items()) {
      if (!update.is_object()) return RowError(table_name, uuid, "row-update is not an object");
      auto next = update.find("new");
      if (next == update.end() || next->is_null()) {
        staged.push_back({table_name, uuid, std::nullopt});
        continue;
      }
      auto row = CanonicalRow(*table, *next);
      if (!row.ok()) return RowError(table_name, uuid, row.status().message());
      staged.push_back({table_name, uuid, *std::move(row)});
    }
  }
  Commit(std::move(staged));
  return absl::OkStatus();
}

absl::Status Replica::StageUpdate2(const Json& table_updates2, bool initial_only,
                                   std::vector<Staged>* staged) const {
  if (!table_updates2.is_object()) {
    return absl::InvalidArgumentError("table-updates2 is not an object");
  }
  // Rows modified twice in one update are not sent by ovsdb-server, but a
  // diff must apply to the staged value if they were.
  absl::flat_hash_map<std::pair<std::string, std::string>, size_t> staged_index;
  for (const auto& [table_name, rows] : table_updates2.items()) {
    const TableSchema* table = schema_.FindTable(table_name);
    if (table == nullptr)
      return absl::InvalidArgumentError("update of unknown table " + table_name);
    if (!rows.is_object()) return RowError(table_name, "", "table-update2 is not an object");
    for (const auto& [uuid, update] : rows.items()) {
      if (!update.is_object() || update.size() != 1) {
        return RowError(table_name, uuid, "row-update2 must hold exactly one member");
      }
      const std::string& kind = update.begin().key();
      const Json& body = update.begin().value();
      if (initial_only && kind != "initial") {
        return RowError(table_name, uuid, "expected an initial row, got " + kind);
      }
      std::optional<Row> result;
      if (kind == "initial" || kind == "insert") {
        auto row = CanonicalRow(*table, body);
        if (!row.ok()) return RowError(table_name, uuid, row.status().message());
        result = *std::move(row);
      } else if (kind == "modify") {
        if (!body.is_object()) return RowError(table_name, uuid, "modify is not an object");
        auto key = std::make_pair(table_name, uuid);
        const Row* old = nullptr;
        if (auto s = staged_index.find(key); s != staged_index.end()) {
          if ((*staged)[s->second].row) old = &*(*staged)[s->second].row;
        } else {
          old = Find(table_name, uuid);
        }
        if (old == nullptr) return RowError(table_name, uuid, "modify of a row the replica lacks");
        Row row = *old;
        for (const auto& [column, diff] : body.items()) {
          if (column == "_version") continue;  // Sent when every column is monitored.
          auto it = table->columns.find(column);
          if (it == table->columns.end())
            return RowError(table_name, uuid, "unknown column " + column);
          const Json& old_value = row.contains(column) ? row[column] : DefaultDatum(it->second);
          auto value = ApplyDatumDiff(it->second, old_value, diff);
          if (!value.ok()) {
            return RowError(table_name, uuid,
                            absl::StrCat("column ", column, ": ", value.status().message()));
          }
          if (*value == DefaultDatum(it->second)) {
            row.erase(column);
          } else {
            row[column] = *std::move(value);
          }
        }
        result = std::move(row);
      } else if (kind == "delete") {
        result = std::nullopt;
      } else {
        return RowError(table_name, uuid, "unknown row-update2 kind " + kind);
      }
      staged_index[std::make_pair(table_name, uuid)] = staged->size();
      staged->push_back({table_name, uuid, std::move(result)});
    }
  }
  return absl::OkStatus();
}

absl::Status Replica::ApplyUpdate2(const Json& table_updates2) {
  std::vector<Staged> staged;
  if (auto s = StageUpdate2(table_updates2, /*initial_only=*/false, &staged); !s.ok()) return s;
  Commit(std::move(staged));
  return absl::OkStatus();
}

absl::Status Replica::Resync(const Json& table_updates2, const std::vector<std::string>& tables) {
  std::vector<Staged> staged;
  if (auto s = StageUpdate2(table_updates2, /*initial_only=*/true, &staged); !s.ok()) return s;
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, bool>> present;
  for (const Staged& s : staged) present[s.table][s.uuid] = true;
  std::vector<std::string> all_tables = tables;
  for (const auto& [name, unused] : table_updates2.items()) all_tables.push_back(name);
  for (const std::string& name : all_tables) {
    auto it = tables_.find(name);
    if (it == tables_.end()) continue;
    for (const auto& [uuid, unused] : it->second) {
      if (!present[name].contains(uuid)) staged.push_back({name, uuid, std::nullopt});
      present[name][uuid] = true;  // Staged once, even if the table is named twice.
    }
  }
  Commit(std::move(staged));
  return absl::OkStatus();
}

void Replica::Clear() {
  std::vector<Staged> staged;
  for (const auto& [name, rows] : tables_) {
    for (const auto& [uuid, unused] : rows) staged.push_back({name, uuid, std::nullopt});
  }
  Commit(std::move(staged));
}

void Replica::ClearAndReplaceSchema(DbSchema schema) {
  Clear();
  tables_.clear();
  schema_ = std::move(schema);
}

void Replica::Remember(const std::string& table, const std::string& uuid) {
  auto key = std::make_pair(table, uuid);
  if (before_.contains(key)) return;
  const Row* row = Find(table, uuid);
  before_.emplace(std::move(key), row != nullptr ? *row : Json());
}

void Replica::Commit(std::vector<Staged> staged) {
  bool changed = false;
  for (Staged& s : staged) {
    TableRows& rows = tables_[s.table];
    auto it = rows.find(s.uuid);
    if (!s.row) {
      if (it == rows.end()) continue;
      Remember(s.table, s.uuid);
      rows.erase(it);
    } else {
      if (it != rows.end() && it->second == *s.row) continue;
      Remember(s.table, s.uuid);
      rows[s.uuid] = *std::move(s.row);
    }
    changed = true;
  }
  if (changed) ++seqno_;
}

const TableRows& Replica::Rows(const std::string& table) const {
  auto it = tables_.find(table);
  return it == tables_.end() ? EmptyRows() : it->second;
}

const Row* Replica::Find(const std::string& table, const std::string& uuid) const {
  const TableRows& rows = Rows(table);
  auto it = rows.find(uuid);
  return it == rows.end() ? nullptr : &it->second;
}

size_t Replica::row_count() const {
  size_t n = 0;
  for (const auto& [name, rows] : tables_) n += rows.size();
  return n;
}

std::vector<RowChange> Replica::TakeChanges() {
  std::vector<RowChange> out;
  for (auto& [key, old_row] : before_) {
    const Row* now = Find(key.first, key.second);
    if (now == nullptr && old_row.is_null()) continue;
    if (now != nullptr && *now == old_row) continue;
    RowChange change;
    change.table = key.first;
    change.uuid = key.second;
    change.kind = old_row.is_null() ? RowChange::Kind::kInsert
                  : now == nullptr  ? RowChange::Kind::kDelete
                                    : RowChange::Kind::kModify;
    change.old_row = std::move(old_row);
    if (now != nullptr) change.new_row = *now;
    out.push_back(std::move(change));
  }
  before_.clear();
  return out;
}

}  // namespace shortcut::ovsdb
