// Builders for OVSDB transact operations and values (RFC 7047 sections 5.1
// and 5.2), as JSON ready to pass to OvsdbClient::Transact().
//
// They only assemble JSON; the server validates tables, columns and types.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/ovsdb/jsonrpc.h"

namespace shortcut::ovsdb {

// <value> forms.
Json Uuid(const std::string& uuid);                     // ["uuid", uuid]
Json NamedUuid(const std::string& name);                // ["named-uuid", name]
Json OvsSet(std::vector<Json> elements);                // ["set", [...]]
Json OvsMap(std::vector<std::pair<Json, Json>> pairs);  // ["map", [[k, v], ...]]

// A <condition>: [column, function, value], e.g. Cond("name", "==", "br0").
Json Cond(const std::string& column, const std::string& function, Json value);
// A <mutation>: [column, mutator, value], e.g. Mutation("n", "+=", 1).
Json Mutation(const std::string& column, const std::string& mutator, Json value);

namespace op {

// `uuid_name` (if not empty) names the new row for later operations of the
// same transaction (NamedUuid(uuid_name)).
Json Insert(const std::string& table, Json row, const std::string& uuid_name = "");
// `columns` empty: every column.
Json Select(const std::string& table, Json where, std::vector<std::string> columns = {});
Json Update(const std::string& table, Json where, Json row);
Json Mutate(const std::string& table, Json where, std::vector<Json> mutations);
Json Delete(const std::string& table, Json where);
// `until` is "==" or "!="; `rows` the expected rows restricted to `columns`.
// No timeout: the server waits forever.
Json Wait(const std::string& table, Json where, std::vector<std::string> columns,
          const std::string& until, std::vector<Json> rows,
          std::optional<int64_t> timeout_ms = std::nullopt);
Json Commit(bool durable);
Json Abort();
Json Comment(const std::string& text);
Json Assert(const std::string& lock);

}  // namespace op

// "insert into Bridge", "abort", ... for error messages.
std::string DescribeOp(const Json& op);

}  // namespace shortcut::ovsdb
