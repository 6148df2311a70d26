#include "src/ovsdb/datum.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shortcut::ovsdb {
namespace {

bool IsTagged(const Json& v, const char* tag) {
  return v.is_array() && v.size() == 2 && v[0].is_string() &&
         v[0].get_ref<const std::string&>() == tag;
}

absl::Status CheckAtom(const std::string& type, const Json& atom) {
  bool ok = false;
  if (type == "integer") {
    ok = atom.is_number_integer();
  } else if (type == "real") {
    ok = atom.is_number();
  } else if (type == "boolean") {
    ok = atom.is_boolean();
  } else if (type == "string") {
    ok = atom.is_string();
  } else if (type == "uuid") {
    ok = (IsTagged(atom, "uuid") || IsTagged(atom, "named-uuid")) && atom[1].is_string();
  }
  if (!ok)
    return absl::InvalidArgumentError(absl::StrCat("expected ", type, ", got ", atom.dump()));
  return absl::OkStatus();
}

// Elements of a set value: ["set", [...]] or a bare atom.
absl::StatusOr<std::vector<Json>> RawSet(const ColumnType& type, const Json& value) {
  std::vector<Json> out;
  if (IsTagged(value, "set")) {
    if (!value[1].is_array()) return absl::InvalidArgumentError("\"set\" without an array");
    out.assign(value[1].begin(), value[1].end());
  } else {
    out.push_back(value);
  }
  for (const Json& atom : out) {
    if (auto s = CheckAtom(type.key_type, atom); !s.ok()) return s;
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<Json, Json>>> RawMap(const ColumnType& type,
                                                          const Json& value) {
  if (!IsTagged(value, "map") || !value[1].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("expected a map, got ", value.dump()));
  }
  std::vector<std::pair<Json, Json>> out;
  for (const Json& pair : value[1]) {
    if (!pair.is_array() || pair.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("bad map pair ", pair.dump()));
    }
    if (auto s = CheckAtom(type.key_type, pair[0]); !s.ok()) return s;
    if (auto s = CheckAtom(type.value_type, pair[1]); !s.ok()) return s;
    out.emplace_back(pair[0], pair[1]);
  }
  return out;
}

Json MakeSet(std::vector<Json> elements) {
  std::sort(elements.begin(), elements.end());
  elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
  return Json::array({"set", Json(std::move(elements))});
}

// Last pair wins for a repeated key (the server never sends one).
Json MakeMap(std::vector<std::pair<Json, Json>> pairs) {
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Json out = Json::array();
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i + 1 < pairs.size() && pairs[i + 1].first == pairs[i].first) continue;
    out.push_back(Json::array({pairs[i].first, pairs[i].second}));
  }
  return Json::array({"map", std::move(out)});
}

}  // namespace

absl::StatusOr<Json> CanonicalDatum(const ColumnType& type, const Json& value) {
  switch (type.kind) {
    case ColumnType::Kind::kScalar: {
      if (auto s = CheckAtom(type.key_type, value); !s.ok()) return s;
      return value;
    }
    case ColumnType::Kind::kSet: {
      auto elements = RawSet(type, value);
      if (!elements.ok()) return elements.status();
      return MakeSet(*std::move(elements));
    }
    case ColumnType::Kind::kMap: {
      auto pairs = RawMap(type, value);
      if (!pairs.ok()) return pairs.status();
      return MakeMap(*std::move(pairs));
    }
  }
  return absl::InternalError("unknown column kind");
}

absl::StatusOr<Json> ApplyDatumDiff(const ColumnType& type, const Json& old_value,
                                    const Json& diff) {
  switch (type.kind) {
    case ColumnType::Kind::kScalar:
      return CanonicalDatum(type, diff);
    case ColumnType::Kind::kSet: {
      auto toggles = RawSet(type, diff);
      if (!toggles.ok()) return toggles.status();
      std::vector<Json> elements = SetElements(old_value);
      // An optional value (max 1): ovsdb-server 3.1 sends the new value
      // (["set", []] when cleared), not the toggles; one element that is
      // not the old value is also the new value. Two elements are toggles.
      if (type.max == 1 && toggles->size() < 2) {
        if (toggles->empty() || elements.empty() || elements[0] != (*toggles)[0]) {
          return MakeSet(*std::move(toggles));
        }
      }
      for (Json& atom : *toggles) {
        auto it = std::find(elements.begin(), elements.end(), atom);
        if (it != elements.end()) {
          elements.erase(it);
        } else {
          elements.push_back(std::move(atom));
        }
      }
      return MakeSet(std::move(elements));
    }
    case ColumnType::Kind::kMap: {
      auto changes = RawMap(type, diff);
      if (!changes.ok()) return changes.status();
      std::vector<std::pair<Json, Json>> pairs;
      if (IsTagged(old_value, "map") && old_value[1].is_array()) {
        for (const Json& p : old_value[1]) pairs.emplace_back(p[0], p[1]);
      }
      for (auto& change : *changes) {
        Json& key = change.first;  // Not a structured binding: clang 14 cannot capture those.
        Json& value = change.second;
        auto it =
            std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; });
        if (it == pairs.end()) {
          pairs.emplace_back(std::move(key), std::move(value));
        } else if (it->second == value) {
          pairs.erase(it);
        } else {
          it->second = std::move(value);
        }
      }
      return MakeMap(std::move(pairs));
    }
  }
  return absl::InternalError("unknown column kind");
}

std::vector<Json> SetElements(const Json& value) {
  if (IsTagged(value, "set") && value[1].is_array()) {
    return std::vector<Json>(value[1].begin(), value[1].end());
  }
  if (value.is_null()) return {};
  return {value};
}

std::map<std::string, std::string> StringMap(const Json& value) {
  std::map<std::string, std::string> out;
  if (!IsTagged(value, "map") || !value[1].is_array()) return out;
  for (const Json& p : value[1]) {
    if (p.is_array() && p.size() == 2 && p[0].is_string() && p[1].is_string()) {
      out[p[0].get<std::string>()] = p[1].get<std::string>();
    }
  }
  return out;
}

std::string StringAtom(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  auto elements = SetElements(value);  // An optional string column.
  if (elements.size() == 1 && elements[0].is_string()) return elements[0].get<std::string>();
  return "";
}

int64_t IntegerAtom(const Json& value, int64_t absent) {
  if (value.is_number_integer()) return value.get<int64_t>();
  auto elements = SetElements(value);  // An optional integer column.
  if (elements.size() == 1 && elements[0].is_number_integer()) return elements[0].get<int64_t>();
  return absent;
}

std::string UuidAtom(const Json& value) {
  if (IsTagged(value, "uuid") && value[1].is_string()) return value[1].get<std::string>();
  auto elements = SetElements(value);
  if (elements.size() == 1 && IsTagged(elements[0], "uuid")) return UuidAtom(elements[0]);
  return "";
}

std::vector<std::string> UuidSet(const Json& value) {
  std::vector<std::string> out;
  for (const Json& e : SetElements(value)) {
    if (IsTagged(e, "uuid") && e[1].is_string()) out.push_back(e[1].get<std::string>());
  }
  return out;
}

std::vector<std::string> StringSet(const Json& value) {
  std::vector<std::string> out;
  for (const Json& e : SetElements(value)) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace shortcut::ovsdb
