#include "src/ovsdb/ops.h"

#include "absl/strings/str_cat.h"

namespace shortcut::ovsdb {

Json Uuid(const std::string& uuid) { return Json::array({"uuid", uuid}); }
Json NamedUuid(const std::string& name) { return Json::array({"named-uuid", name}); }

Json OvsSet(std::vector<Json> elements) {
  Json list = Json::array();
  for (auto& e : elements) list.push_back(std::move(e));
  return Json::array({"set", std::move(list)});
}

Json OvsMap(std::vector<std::pair<Json, Json>> pairs) {
  Json list = Json::array();
  for (auto& [k, v] : pairs) list.push_back(Json::array({std::move(k), std::move(v)}));
  return Json::array({"map", std::move(list)});
}

Json Cond(const std::string& column, const std::string& function, Json value) {
  return Json::array({column, function, std::move(value)});
}

Json Mutation(const std::string& column, const std::string& mutator, Json value) {
  return Json::array({column, mutator, std::move(value)});
}

namespace op {
namespace {

Json Base(const char* name, const std::string& table) {
  Json j = Json::object();
  j["op"] = name;
  j["table"] = table;
  return j;
}

Json Where(Json where) { return where.is_null() ? Json::array() : std::move(where); }

}  // namespace

Json Insert(const std::string& table, Json row, const std::string& uuid_name) {
  Json j = Base("insert", table);
  j["row"] = row.is_null() ? Json::object() : std::move(row);
  if (!uuid_name.empty()) j["uuid-name"] = uuid_name;
  return j;
}

Json Select(const std::string& table, Json where, std::vector<std::string> columns) {
  Json j = Base("select", table);
  j["where"] = Where(std::move(where));
  if (!columns.empty()) j["columns"] = columns;
  return j;
}

Json Update(const std::string& table, Json where, Json row) {
  Json j = Base("update", table);
  j["where"] = Where(std::move(where));
  j["row"] = std::move(row);
  return j;
}

Json Mutate(const std::string& table, Json where, std::vector<Json> mutations) {
  Json j = Base("mutate", table);
  j["where"] = Where(std::move(where));
  j["mutations"] = Json(std::move(mutations));
  return j;
}

Json Delete(const std::string& table, Json where) {
  Json j = Base("delete", table);
  j["where"] = Where(std::move(where));
  return j;
}

Json Wait(const std::string& table, Json where, std::vector<std::string> columns,
          const std::string& until, std::vector<Json> rows, std::optional<int64_t> timeout_ms) {
  Json j = Base("wait", table);
  j["where"] = Where(std::move(where));
  j["columns"] = columns;
  j["until"] = until;
  j["rows"] = Json(std::move(rows));
  if (timeout_ms) j["timeout"] = *timeout_ms;
  return j;
}

Json Commit(bool durable) { return Json{{"op", "commit"}, {"durable", durable}}; }
Json Abort() { return Json{{"op", "abort"}}; }
Json Comment(const std::string& text) { return Json{{"op", "comment"}, {"comment", text}}; }
Json Assert(const std::string& lock) { return Json{{"op", "assert"}, {"lock", lock}}; }

}  // namespace op

std::string DescribeOp(const Json& op) {
  if (!op.is_object()) return "malformed operation";
  auto name = op.find("op");
  if (name == op.end() || !name->is_string()) return "operation without \"op\"";
  std::string text = name->get<std::string>();
  auto table = op.find("table");
  if (table != op.end() && table->is_string()) {
    const char* prep = text == "insert"                       ? " into "
                       : text == "select" || text == "delete" ? " from "
                                                              : " ";
    absl::StrAppend(&text, prep, table->get<std::string>());
  }
  return text;
}

}  // namespace shortcut::ovsdb
