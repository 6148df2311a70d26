#include "src/model/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shortcut::model {
namespace {

// inet_pton needs a NUL-terminated string; copy into a stack buffer rather
// than allocate (the bulk load parses millions).
template <size_t N>
bool CopyZ(std::string_view text, char (&buf)[N]) {
  if (text.size() >= N) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::pair<std::string_view, int>> SplitCidr(std::string_view text, int max) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash + 1 == text.size() || text.size() - slash > 4) {
    return std::nullopt;
  }
  int len = 0;
  for (char c : text.substr(slash + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  if (len > max) return std::nullopt;
  return std::make_pair(text.substr(0, slash), len);
}

Ipv4 Mask4(int len) { return len == 0 ? 0 : ~Ipv4{0} << (32 - len); }

Ipv6 Mask6(const Ipv6& ip, int len) {
  Ipv6 out{};
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(len - 8 * i, 0, 8);
    out[i] = ip[i] & static_cast<uint8_t>(0xff00 >> bits);
  }
  return out;
}

}  // namespace

std::optional<Ipv4> ParseIpv4(std::string_view text) {
  char buf[INET_ADDRSTRLEN];
  in_addr a;
  if (!CopyZ(text, buf) || inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::optional<Ipv6> ParseIpv6(std::string_view text) {
  char buf[INET6_ADDRSTRLEN];
  Ipv6 out;
  if (!CopyZ(text, buf) || inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

std::optional<Mac> ParseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  Mac out;
  for (int i = 0; i < 6; ++i) {
    int hi = HexDigit(text[3 * i]);
    int lo = HexDigit(text[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != ':')) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string FormatIpv4(Ipv4 ip) {
  return absl::StrCat(ip >> 24, ".", (ip >> 16) & 0xff, ".", (ip >> 8) & 0xff, ".", ip & 0xff);
}

std::string FormatIpv6(const Ipv6& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, ip.data(), buf, sizeof buf) == nullptr)
    std::abort();  // 16 bytes always format.
  return buf;
}

std::string FormatMac(const Mac& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(17);
  for (int i = 0; i < 6; ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xf]);
  }
  return out;
}

bool Ipv4Cidr::Contains(Ipv4 ip) const { return (ip & Mask4(length)) == prefix; }

bool Ipv6Cidr::Contains(const Ipv6& ip) const { return Mask6(ip, length) == prefix; }

std::optional<Ipv4Cidr> ParseIpv4Cidr(std::string_view text) {
  auto split = SplitCidr(text, 32);
  if (!split) return std::nullopt;
  std::optional<Ipv4> ip = ParseIpv4(split->first);
  if (!ip || (*ip & ~Mask4(split->second)) != 0) return std::nullopt;
  return Ipv4Cidr{*ip, static_cast<uint8_t>(split->second)};
}

std::optional<Ipv6Cidr> ParseIpv6Cidr(std::string_view text) {
  auto split = SplitCidr(text, 128);
  if (!split) return std::nullopt;
  std::optional<Ipv6> ip = ParseIpv6(split->first);
  if (!ip || Mask6(*ip, split->second) != *ip) return std::nullopt;
  return Ipv6Cidr{*ip, static_cast<uint8_t>(split->second)};
}

std::string FormatCidr(const Ipv4Cidr& c) {
  return absl::StrCat(FormatIpv4(c.prefix), "/", c.length);
}

std::string FormatCidr(const Ipv6Cidr& c) {
  return absl::StrCat(FormatIpv6(c.prefix), "/", c.length);
}

bool Overlaps(const Ipv4Cidr& a, const Ipv4Cidr& b) {
  int len = std::min(a.length, b.length);
  return (a.prefix & Mask4(len)) == (b.prefix & Mask4(len));
}

bool Overlaps(const Ipv6Cidr& a, const Ipv6Cidr& b) {
  int len = std::min(a.length, b.length);
  return Mask6(a.prefix, len) == Mask6(b.prefix, len);
}

bool IsUnicast(const Mac& m) {
  bool zero = true;
  for (uint8_t b : m) zero = zero && b == 0;
  return (m[0] & 1) == 0 && !zero;
}

bool ValidTargetText(std::string_view t) {
  if (t.empty()) return true;
  for (std::string_view prefix : {"tcp:", "ssl:", "unix:"}) {
    if (t.size() > prefix.size() && t.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace shortcut::model
