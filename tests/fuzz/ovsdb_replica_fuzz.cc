// libFuzzer target for the OVSDB replica: a JSON array of table-updates2
// (or, when the first byte is odd, of v1 table-updates), applied in turn to
// a replica of a small schema with every column kind. Each update must
// apply or fail cleanly; a failed one must leave the replica exactly as it
// was, and every row must stay in canonical form.
//
// Seeds: tests/fuzz/corpus/ovsdb_replica/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/ovsdb/datum.h"
#include "src/ovsdb/replica.h"
#include "src/ovsdb/schema.h"

namespace {

using shortcut::ovsdb::Json;

const shortcut::ovsdb::DbSchema& Schema() {
  static const auto* schema =
      new shortcut::ovsdb::DbSchema(*shortcut::ovsdb::ParseSchema(Json::parse(R"({
    "name": "F", "version": "1.0.0",
    "tables": {
      "T": {"columns": {
        "s": {"type": "string"},
        "i": {"type": {"key": "integer", "min": 0, "max": 1}},
        "b": {"type": "boolean"},
        "r": {"type": "real"},
        "u": {"type": {"key": {"type": "uuid", "refTable": "T"}, "min": 0, "max": "unlimited"}},
        "set": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        "map": {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}}}},
      "U": {"columns": {"name": {"type": "string"}}}}})")));
  return *schema;
}

// The replica's contents as one JSON value, to compare.
Json Contents(const shortcut::ovsdb::Replica& r) {
  Json out = Json::object();
  for (const char* table : {"T", "U"}) {
    for (const auto& [uuid, row] : r.Rows(table)) out[table][uuid] = row;
  }
  return out;
}

void CheckCanonical(const shortcut::ovsdb::Replica& r) {
  for (const char* table : {"T", "U"}) {
    for (const auto& [uuid, row] : r.Rows(table)) {
      for (const auto& [column, value] : row.items()) {
        const auto* type = Schema().FindColumn(table, column);
        auto again = type ? shortcut::ovsdb::CanonicalDatum(*type, value) : absl::InternalError("");
        if (!again.ok() || *again != value || value == shortcut::ovsdb::DefaultDatum(*type)) {
          std::fprintf(stderr, "row %s of %s not canonical: %s\n", uuid.c_str(), table,
                       row.dump().c_str());
          std::abort();
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool v1 = data[0] & 1;
  Json updates = Json::parse(reinterpret_cast<const char*>(data) + 1,
                             reinterpret_cast<const char*>(data) + size, nullptr,
                             /*allow_exceptions=*/false);
  if (updates.is_discarded() || !updates.is_array()) return 0;
  shortcut::ovsdb::Replica replica(Schema());
  for (const Json& update : updates) {
    Json before = Contents(replica);
    absl::Status s = v1 ? replica.ApplyUpdate(update) : replica.ApplyUpdate2(update);
    if (!s.ok() && Contents(replica) != before) {
      std::fprintf(stderr, "a failed update changed the replica\n");
      std::abort();
    }
    CheckCanonical(replica);
  }
  (void)replica.TakeChanges();
  if (replica.has_changes()) std::abort();
  return 0;
}
