#include "src/ovsdb/schema.h"

#include "absl/strings/str_cat.h"

namespace shortcut::ovsdb {
namespace {

bool IsAtomicType(const std::string& t) {
  return t == "integer" || t == "real" || t == "boolean" || t == "string" || t == "uuid";
}

// <base-type>: "integer" or {"type": "integer", ...}.
absl::Status ParseBaseType(const Json& json, std::string* type, std::string* ref_table) {
  const Json* t = &json;
  if (json.is_object()) {
    auto it = json.find("type");
    if (it == json.end()) return absl::InvalidArgumentError("base type without \"type\"");
    t = &*it;
    auto ref = json.find("refTable");
    if (ref != json.end() && ref->is_string()) *ref_table = ref->get<std::string>();
  }
  if (!t->is_string() || !IsAtomicType(t->get<std::string>())) {
    return absl::InvalidArgumentError(absl::StrCat("unknown atomic type ", t->dump()));
  }
  *type = t->get<std::string>();
  return absl::OkStatus();
}

absl::StatusOr<ColumnType> ParseColumnType(const Json& json) {
  ColumnType out;
  if (json.is_string()) {
    if (auto s = ParseBaseType(json, &out.key_type, &out.ref_table); !s.ok()) return s;
    return out;
  }
  if (!json.is_object())
    return absl::InvalidArgumentError("type is neither a string nor an object");
  auto key = json.find("key");
  if (key == json.end()) return absl::InvalidArgumentError("type without \"key\"");
  if (auto s = ParseBaseType(*key, &out.key_type, &out.ref_table); !s.ok()) return s;
  int64_t min = 1;
  if (auto it = json.find("min"); it != json.end()) {
    if (!it->is_number_integer()) return absl::InvalidArgumentError("\"min\" is not an integer");
    min = it->get<int64_t>();
  }
  if (auto it = json.find("max"); it != json.end()) {
    if (it->is_string() && it->get<std::string>() == "unlimited") {
      out.max = -1;
    } else if (it->is_number_integer() && it->get<int64_t>() >= 1) {
      out.max = it->get<int64_t>();
    } else {
      return absl::InvalidArgumentError("\"max\" is neither a positive integer nor \"unlimited\"");
    }
  }
  if (auto value = json.find("value"); value != json.end()) {
    std::string unused_ref;
    if (auto s = ParseBaseType(*value, &out.value_type, &unused_ref); !s.ok()) return s;
    out.kind = ColumnType::Kind::kMap;
  } else if (min == 1 && out.max == 1) {
    out.kind = ColumnType::Kind::kScalar;
  } else {
    out.kind = ColumnType::Kind::kSet;
  }
  return out;
}

}  // namespace

const TableSchema* DbSchema::FindTable(const std::string& table) const {
  auto it = tables.find(table);
  return it == tables.end() ? nullptr : &it->second;
}

const ColumnType* DbSchema::FindColumn(const std::string& table, const std::string& column) const {
  const TableSchema* t = FindTable(table);
  if (t == nullptr) return nullptr;
  auto it = t->columns.find(column);
  return it == t->columns.end() ? nullptr : &it->second;
}

absl::StatusOr<DbSchema> ParseSchema(const Json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("schema is not an object");
  DbSchema schema;
  if (auto it = json.find("name"); it != json.end() && it->is_string()) {
    schema.name = it->get<std::string>();
  } else {
    return absl::InvalidArgumentError("schema without a name");
  }
  if (auto it = json.find("version"); it != json.end() && it->is_string()) {
    schema.version = it->get<std::string>();
  }
  auto tables = json.find("tables");
  if (tables == json.end() || !tables->is_object()) {
    return absl::InvalidArgumentError("schema without tables");
  }
  for (const auto& [table_name, table_json] : tables->items()) {
    TableSchema table;
    table.name = table_name;
    if (auto it = table_json.find("isRoot"); it != table_json.end() && it->is_boolean()) {
      table.is_root = it->get<bool>();
    }
    auto columns = table_json.find("columns");
    if (columns == table_json.end() || !columns->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("table ", table_name, " has no columns"));
    }
    for (const auto& [column_name, column_json] : columns->items()) {
      auto type_it = column_json.find("type");
      if (type_it == column_json.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("column ", table_name, ".", column_name, " has no type"));
      }
      auto type = ParseColumnType(*type_it);
      if (!type.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("column ", table_name, ".", column_name, ": ", type.status().message()));
      }
      table.columns.emplace(column_name, *std::move(type));
    }
    schema.tables.emplace(table_name, std::move(table));
  }
  return schema;
}

Json DefaultDatum(const ColumnType& type) {
  switch (type.kind) {
    case ColumnType::Kind::kSet:
      return Json::array({"set", Json::array()});
    case ColumnType::Kind::kMap:
      return Json::array({"map", Json::array()});
    case ColumnType::Kind::kScalar:
      break;
  }
  if (type.key_type == "integer") return 0;
  if (type.key_type == "real") return 0.0;
  if (type.key_type == "boolean") return false;
  if (type.key_type == "uuid") return Json::array({"uuid", "00000000-0000-0000-0000-000000000000"});
  return "";
}

}  // namespace shortcut::ovsdb
