// Scanning and small formatting helpers for the ovs-ofctl text forms.
#include <arpa/inet.h>

#include <cctype>
#include <cstdio>

#include "src/openflow/text_internal.h"

namespace shortcut::of::text_internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// ovs's parse_value(): up to a delimiter, skipping over balanced parentheses.
size_t ValueLength(std::string_view s, std::string_view delims) {
  size_t n = 0;
  while (n < s.size() && delims.find(s[n]) == std::string_view::npos) {
    if (s[n] == '(') {
      int level = 0;
      do {
        if (n >= s.size()) return n;
        if (s[n] == '(') ++level;
        if (s[n] == ')') --level;
        ++n;
      } while (level > 0);
    } else {
      ++n;
    }
  }
  return n;
}

struct NamedPort {
  std::string_view name;
  uint32_t port;
};
constexpr NamedPort kNamedPorts[] = {
    {"IN_PORT", kPortInPort}, {"TABLE", kPortTable}, {"NORMAL", kPortNormal},
    {"FLOOD", kPortFlood},    {"ALL", kPortAll},     {"CONTROLLER", kPortController},
    {"LOCAL", kPortLocal},    {"ANY", kPortAny},     {"NONE", kPortAny},
};

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool NextKeyValue(std::string_view* s, KeyValue* kv) {
  size_t i = 0;
  while (i < s->size() && ((*s)[i] == ',' || IsSpace((*s)[i]))) ++i;
  s->remove_prefix(i);
  if (s->empty()) return false;
  size_t key_len = 0;
  while (key_len < s->size()) {
    char c = (*s)[key_len];
    if (c == ':' || c == '=' || c == '(' || c == ',' || IsSpace(c)) break;
    ++key_len;
  }
  kv->key = s->substr(0, key_len);
  char delim = key_len < s->size() ? (*s)[key_len] : 0;
  s->remove_prefix(std::min(s->size(), key_len + (delim != 0 ? 1 : 0)));
  kv->value = {};
  if (delim == ':' || delim == '=') {
    size_t n = ValueLength(*s, ", \t\r\n");
    kv->value = s->substr(0, n);
    s->remove_prefix(std::min(s->size(), n + 1));
  } else if (delim == '(') {
    size_t n = ValueLength(*s, ")");
    kv->value = s->substr(0, n);
    s->remove_prefix(std::min(s->size(), n + 1));
  } else {
    delim = 0;
  }
  kv->delim = delim;
  return true;
}

absl::Status Invalid(std::string_view what, std::string_view token) {
  return absl::InvalidArgumentError(Cat(what, ": \"", token, "\""));
}

std::optional<uint64_t> ParseUint(std::string_view s, uint64_t max) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    for (char c : s) {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return std::nullopt;
      }
      if (v > (UINT64_MAX >> 4)) return std::nullopt;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
  } else {
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) return std::nullopt;
      v = v * 10 + d;
    }
  }
  if (v > max) return std::nullopt;
  return v;
}

absl::StatusOr<uint64_t> ParseUintNamed(std::string_view s, uint64_t max, std::string_view name) {
  auto v = ParseUint(s, max);
  if (!v) {
    return absl::InvalidArgumentError(
        Cat("invalid value \"", s, "\" for ", name, " (max ", max, ")"));
  }
  return *v;
}

std::optional<uint32_t> ParsePort(std::string_view s) {
  for (const auto& np : kNamedPorts) {
    if (EqualsIgnoreCase(s, np.name)) return np.port;
  }
  auto v = ParseUint(s, UINT32_MAX);
  if (!v) return std::nullopt;
  uint32_t p = static_cast<uint32_t>(*v);
  // OpenFlow 1.0 reserved numbers map to their OpenFlow 1.1+ values, as in ovs.
  if (p >= 0xff00 && p <= 0xffff) return p + 0xffff0000u;
  if (p > 0xffff && p < kPortMax) return std::nullopt;
  return p;
}

void AppendPort(std::string& out, uint32_t port) {
  for (const auto& np : kNamedPorts) {
    if (np.port == port) {
      out += np.name;
      return;
    }
  }
  // ovs keeps 16-bit port numbers: OpenFlow 1.1+ 0xffffff00.. map to 0xff00..
  if (port >= kPortMax) port -= 0xffff0000u;
  Append(out, port);
}

void AppendHex(std::string& out, uint64_t v) {
  if (v == 0) {
    out += '0';
  } else {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    out += buf;
  }
}

void AppendMac(std::string& out, std::span<const uint8_t> mac) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  out += buf;
}

void AppendIpv4(std::string& out, uint32_t ip) {
  Append(out, ip >> 24, ".", (ip >> 16) & 0xff, ".", (ip >> 8) & 0xff, ".", ip & 0xff);
}

void AppendIpv6(std::string& out, std::span<const uint8_t> ip) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, ip.data(), buf, sizeof buf)) out += buf;
}

void AppendHexDump(std::string& out, std::span<const uint8_t> data) {
  constexpr size_t kPerLine = 16;
  char buf[32];
  for (size_t ofs = 0; ofs < data.size(); ofs += kPerLine) {
    size_t n = std::min(kPerLine, data.size() - ofs);
    std::snprintf(buf, sizeof buf, "%08zx  ", ofs);
    out += buf;
    for (size_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof buf, "%02x%c", data[ofs + i], i == kPerLine / 2 - 1 ? '-' : ' ');
      out += buf;
    }
    for (size_t i = n; i < kPerLine; ++i) out += "   ";
    out += '|';
    for (size_t i = 0; i < n; ++i) {
      uint8_t c = data[ofs + i];
      out += (c >= 32 && c < 127) ? static_cast<char>(c) : '.';
    }
    for (size_t i = n; i < kPerLine; ++i) out += ' ';
    out += "|\n";
  }
}

std::string PacketInReasonName(uint8_t reason) {
  switch (reason) {
    case 0:
      return "no_match";
    case 1:
      return "action";
    case 2:
      return "invalid_ttl";
    case 3:
      return "action_set";
    case 4:
      return "group";
    case 5:
      return "packet_out";
    default:
      return std::to_string(reason);
  }
}

std::optional<uint8_t> PacketInReasonFromName(std::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (EqualsIgnoreCase(name, PacketInReasonName(static_cast<uint8_t>(i)))) {
      return static_cast<uint8_t>(i);
    }
  }
  return std::nullopt;
}

}  // namespace shortcut::of::text_internal
