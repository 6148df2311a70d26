// Internal helpers shared by the text_*.cc files that implement text.h (the
// ovs-ofctl text forms). Not part of the library's interface.
//
// Thread-safety: stateless functions.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/openflow/message.h"

namespace shortcut::of::text_internal {

// String building without absl::StrCat, whose string_view is not
// std::string_view in the abseil build Shortcut uses.
inline void AppendPiece(std::string& out, std::string_view s) { out.append(s); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, const std::string& s) { out.append(s); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void AppendPiece(std::string& out, T v) {
  out += std::to_string(v);
}
template <typename... A>
void Append(std::string& out, const A&... a) {
  (AppendPiece(out, a), ...);
}
template <typename... A>
std::string Cat(const A&... a) {
  std::string s;
  Append(s, a...);
  return s;
}
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// ---- Scanning (ovs's ofputil_parse_key_value) ----

// One "key", "key=value", "key:value" or "key(value)" item of a comma or
// space separated list. `value` is empty when there is none.
struct KeyValue {
  std::string_view key;
  std::string_view value;
  char delim = 0;  // '=', ':', '(' or 0.
};

// Reads the next item from `*s`, advancing it. Returns false at the end.
bool NextKeyValue(std::string_view* s, KeyValue* kv);

absl::Status Invalid(std::string_view what, std::string_view token);

// Unsigned integers in decimal or 0x-hex, range-checked.
std::optional<uint64_t> ParseUint(std::string_view s, uint64_t max);
absl::StatusOr<uint64_t> ParseUintNamed(std::string_view s, uint64_t max, std::string_view name);

// Ports: numbers and the reserved names.
std::optional<uint32_t> ParsePort(std::string_view s);
void AppendPort(std::string& out, uint32_t port);

// ---- Formatting ----

void AppendHex(std::string& out, uint64_t v);  // "%#llx": "0" for 0, else "0x.."
void AppendMac(std::string& out, std::span<const uint8_t> mac);
void AppendIpv4(std::string& out, uint32_t ip);
void AppendIpv6(std::string& out, std::span<const uint8_t> ip);
// ds_put_hex_dump(..., ascii=true) from Open vSwitch.
void AppendHexDump(std::string& out, std::span<const uint8_t> data);

// Match as match_format prints it; priority printed first unless it is the
// OpenFlow default (0x8000) or negative.
void AppendMatch(std::string& out, const Match& match, int priority);

// A field value (and mask when masked) as mf_format prints it.
void AppendFieldValue(std::string& out, Field f, const FieldBytes& value, const FieldBytes* mask);
// Parses a field value with optional "/mask" into `fm` (field set by caller).
absl::Status ParseFieldValue(Field f, std::string_view text, bool allow_mask, FieldMatch* fm);

void AppendActions(std::string& out, const ActionList& actions);
void AppendInstructions(std::string& out, const Instructions& ins);
absl::StatusOr<Instructions> ParseInstructionsText(std::string_view text);
absl::StatusOr<ActionList> ParseActionsText(std::string_view text);

// Checks that every field's prerequisites hold; the error names the field.
absl::Status CheckPrerequisites(const Match& match);

// Parses one match key=value item (field names, aliases, shorthands) into
// `match`. Returns false (and leaves `match` untouched) when `kv.key` is not
// a match keyword. L4 ports and ICMP type/code are resolved by Finish once the
// protocol is known.
class MatchBuilder {
 public:
  absl::StatusOr<bool> Add(const KeyValue& kv);
  absl::StatusOr<Match> Finish();

 private:
  void PutVlan(uint64_t value, uint64_t mask);
  Match match_;
  struct Pending {
    int kind = -1;  // 0 tp_src, 1 tp_dst, 2 icmp_type, 3 icmp_code
    FieldMatch fm;
    std::string token;
  };
  std::vector<Pending> pending_;
};

// ofp_print_group(): "group_id=1,type=select,bucket=..."; buckets omitted
// when null.
void AppendGroup(std::string& out, uint32_t group_id, GroupType type,
                 const std::vector<Bucket>* buckets, bool suppress_type);
// ofputil_format_meter_id(): "meter=5", "meter:all", ...
void AppendMeterId(std::string& out, uint32_t meter_id, char sep);
// ofputil_format_meter_config(), with its trailing newline.
void AppendMeterConfig(std::string& out, uint32_t meter_id, uint16_t flags,
                       const std::vector<MeterBand>& bands);

std::string PacketInReasonName(uint8_t reason);
std::optional<uint8_t> PacketInReasonFromName(std::string_view name);

}  // namespace shortcut::of::text_internal
