// OVSDB values (RFC 7047 section 5.1) in one canonical JSON form, so that two
// equal values compare equal whatever the server's spelling:
//   scalar columns  the atom itself: 5, "br0", true, ["uuid", "…"];
//   set columns     ["set", [atoms…]] sorted, duplicates removed (the server
//                   may send a one-element set as the bare atom);
//   map columns     ["map", [[key, value]…]] sorted by key, one pair per key.
// A row in canonical form omits every column whose value is the column's
// default, as ovsdb-server's update2 rows do.
//
// Also the update2 "modify" diff (Open vSwitch's ovsdb-server(7)): for a set
// the elements to toggle (symmetric difference); for a map, per key, a pair
// equal to the old one removes it, any other value inserts or replaces it;
// for a scalar the new value.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/ovsdb/jsonrpc.h"
#include "src/ovsdb/schema.h"

namespace shortcut::ovsdb {

// Validates `value` against `type` and returns it in canonical form.
absl::StatusOr<Json> CanonicalDatum(const ColumnType& type, const Json& value);

// `old_value` (canonical) with the update2 diff `diff` applied.
absl::StatusOr<Json> ApplyDatumDiff(const ColumnType& type, const Json& old_value,
                                    const Json& diff);

// Readers for canonical values; each returns its empty value when `value` is
// null or of another shape, so typed helpers can read optional columns
// without checks.
std::vector<Json> SetElements(const Json& value);
std::map<std::string, std::string> StringMap(const Json& value);
std::string StringAtom(const Json& value);
int64_t IntegerAtom(const Json& value, int64_t absent = 0);
std::string UuidAtom(const Json& value);  // ["uuid", U] → U.
std::vector<std::string> UuidSet(const Json& value);
std::vector<std::string> StringSet(const Json& value);

}  // namespace shortcut::ovsdb
