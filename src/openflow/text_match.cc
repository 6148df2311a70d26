// Match text: match_format() ordering and shorthands, and the match part of
// the ovs-ofctl flow syntax.
#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cstdio>

#include "src/common/status_macros.h"
#include "src/openflow/text.h"
#include "src/openflow/text_internal.h"

namespace shortcut::of {
namespace ti = text_internal;
using ti::Append;
using ti::AppendHex;
using ti::Cat;
using ti::EqualsIgnoreCase;

namespace text_internal {
namespace {

constexpr uint16_t kEthIp = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kEthRarp = 0x8035;

enum class ValueKind { kInt, kMac, kIpv4, kIpv6, kPort };

ValueKind KindOf(Field f) {
  switch (f) {
    case Field::kEthDst:
    case Field::kEthSrc:
    case Field::kArpSha:
    case Field::kArpTha:
      return ValueKind::kMac;
    case Field::kIpv4Src:
    case Field::kIpv4Dst:
    case Field::kArpSpa:
    case Field::kArpTpa:
    case Field::kTunIpv4Src:
    case Field::kTunIpv4Dst:
      return ValueKind::kIpv4;
    case Field::kIpv6Src:
    case Field::kIpv6Dst:
      return ValueKind::kIpv6;
    case Field::kInPort:
      return ValueKind::kPort;
    default:
      return ValueKind::kInt;
  }
}

// ovs prints these integer fields in hex (mf "Formatting: hexadecimal").
bool IsHexField(Field f) {
  return f == Field::kMetadata || f == Field::kEthType || f == Field::kTunnelId ||
         (f >= Field::kReg0 && f <= Field::kReg15);
}

// Largest valid value of an integer field (narrower than its wire width).
uint64_t MaxValue(Field f) {
  switch (f) {
    case Field::kVlanVid:
      return 0x1fff;
    case Field::kIpDscp:
      return 63;
    case Field::kArpOp:
      return 255;  // ovs keeps arp_op in an 8-bit slot.
    default: {
      size_t w = GetFieldInfo(f).width;
      return w >= 8 ? UINT64_MAX : (uint64_t{1} << (8 * w)) - 1;
    }
  }
}

bool ParseMac(std::string_view s, uint8_t* out) {
  if (s.size() != 17) return false;
  for (int i = 0; i < 6; ++i) {
    if (i < 5 && s[i * 3 + 2] != ':') return false;
    auto v = ParseUint(Cat("0x", s.substr(i * 3, 2)), 0xff);
    if (!v || !std::isxdigit(static_cast<unsigned char>(s[i * 3])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i * 3 + 1]))) {
      return false;
    }
    out[i] = static_cast<uint8_t>(*v);
  }
  return true;
}

bool ParseIpv4(std::string_view s, uint32_t* out) {
  if (s.size() > 15) return false;
  char buf[16];
  s.copy(buf, s.size());
  buf[s.size()] = 0;
  in_addr a;
  if (inet_pton(AF_INET, buf, &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

bool ParseIpv6(std::string_view s, uint8_t* out) {
  if (s.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  s.copy(buf, s.size());
  buf[s.size()] = 0;
  return inet_pton(AF_INET6, buf, out) == 1;
}

void PutU64(FieldBytes& b, Field f, uint64_t v) { b = FieldBytesFromU64(f, v); }

void AppendIpv4Masked(std::string& out, uint32_t ip, uint32_t mask) {
  AppendIpv4(out, ip);
  if (mask != UINT32_MAX) {
    uint32_t inv = ~mask;
    if ((inv & (inv + 1)) == 0) {
      Append(out, "/", std::popcount(mask));
    } else {
      out += '/';
      AppendIpv4(out, mask);
    }
  }
}

void AppendIpv6Masked(std::string& out, const FieldBytes& ip, const FieldBytes* mask) {
  AppendIpv6(out, std::span<const uint8_t>(ip.data(), 16));
  if (!mask) return;
  bool exact = std::all_of(mask->begin(), mask->begin() + 16, [](uint8_t b) { return b == 0xff; });
  if (exact) return;
  // CIDR: ones then zeros.
  int bits = 0;
  bool cidr = true, in_zeros = false;
  for (int i = 0; i < 16; ++i) {
    for (int b = 7; b >= 0; --b) {
      bool one = ((*mask)[i] >> b) & 1;
      if (one && in_zeros) cidr = false;
      if (one) ++bits;
      if (!one) in_zeros = true;
    }
  }
  if (cidr) {
    Append(out, "/", bits);
  } else {
    out += '/';
    AppendIpv6(out, std::span<const uint8_t>(mask->data(), 16));
  }
}

// format_be16/uint8_masked style: exact in decimal, masked as hex/hex.
void AppendDecOrHexMasked(std::string& out, std::string_view name, uint64_t v, uint64_t m,
                          bool masked, int pad) {
  Append(out, name, "=");
  if (!masked) {
    Append(out, v);
  } else {
    char buf[48];
    std::snprintf(buf, sizeof buf, "0x%0*llx/0x%0*llx", pad, static_cast<unsigned long long>(v),
                  pad, static_cast<unsigned long long>(m));
    out += buf;
  }
  out += ',';
}

// format_uint32_masked / format_be64_masked: "%#x" value and mask.
void AppendHexMasked(std::string& out, std::string_view name, const FieldMatch& fm) {
  Append(out, name, "=");
  AppendHex(out, fm.ValueU64());
  if (fm.masked) {
    out += '/';
    AppendHex(out, fm.MaskU64());
  }
  out += ',';
}

void AppendNetmask(std::string& out, std::string_view name, const FieldMatch& fm) {
  Append(out, name, "=");
  AppendIpv4Masked(out, static_cast<uint32_t>(fm.ValueU64()),
                   fm.masked ? static_cast<uint32_t>(fm.MaskU64()) : UINT32_MAX);
  out += ',';
}

void AppendEthMasked(std::string& out, std::string_view name, const FieldMatch& fm) {
  Append(out, name, "=");
  AppendMac(out, std::span<const uint8_t>(fm.value.data(), 6));
  if (fm.masked) {
    out += '/';
    AppendMac(out, std::span<const uint8_t>(fm.mask.data(), 6));
  }
  out += ',';
}

void AppendIpv6Field(std::string& out, std::string_view name, const FieldMatch& fm) {
  Append(out, name, "=");
  AppendIpv6Masked(out, fm.value, fm.masked ? &fm.mask : nullptr);
  out += ',';
}

}  // namespace

void AppendFieldValue(std::string& out, Field f, const FieldBytes& value, const FieldBytes* mask) {
  size_t w = GetFieldInfo(f).width;
  if (mask && std::all_of(mask->begin(), mask->begin() + w, [](uint8_t b) { return b == 0xff; })) {
    mask = nullptr;
  }
  switch (KindOf(f)) {
    case ValueKind::kMac:
      AppendMac(out, std::span<const uint8_t>(value.data(), 6));
      if (mask) {
        out += '/';
        AppendMac(out, std::span<const uint8_t>(mask->data(), 6));
      }
      return;
    case ValueKind::kIpv4:
      AppendIpv4Masked(out, static_cast<uint32_t>(FieldBytesToU64(f, value)),
                       mask ? static_cast<uint32_t>(FieldBytesToU64(f, *mask)) : UINT32_MAX);
      return;
    case ValueKind::kIpv6:
      AppendIpv6Masked(out, value, mask);
      return;
    case ValueKind::kPort:
      if (!mask) {
        AppendPort(out, static_cast<uint32_t>(FieldBytesToU64(f, value)));
        return;
      }
      [[fallthrough]];
    case ValueKind::kInt:
      if (IsHexField(f)) {
        AppendHex(out, FieldBytesToU64(f, value));
      } else {
        Append(out, FieldBytesToU64(f, value));
      }
      if (mask) {
        out += '/';
        AppendHex(out, FieldBytesToU64(f, *mask));
      }
      return;
  }
}

absl::Status ParseFieldValue(Field f, std::string_view text, bool allow_mask, FieldMatch* fm) {
  const FieldInfo& info = GetFieldInfo(f);
  std::string_view value = text, mask;
  size_t slash = text.find('/');
  bool has_mask = slash != std::string_view::npos;
  if (has_mask) {
    value = text.substr(0, slash);
    mask = text.substr(slash + 1);
    if (!allow_mask) return Invalid(Cat(info.name, ": masks are not allowed here"), text);
    if (!info.maskable) {
      return Invalid(Cat("field ", info.name, " does not support masking"), text);
    }
  }
  fm->field = f;
  fm->masked = has_mask;
  fm->value = {};
  fm->mask = {};
  auto bad = [&] { return Invalid(Cat("invalid value for ", info.name), text); };
  switch (KindOf(f)) {
    case ValueKind::kMac:
      if (!ParseMac(value, fm->value.data())) return bad();
      if (has_mask && !ParseMac(mask, fm->mask.data())) return bad();
      break;
    case ValueKind::kIpv4: {
      uint32_t ip = 0, m = UINT32_MAX;
      if (!ParseIpv4(value, &ip)) return bad();
      if (has_mask) {
        if (mask.find('.') != std::string_view::npos) {
          if (!ParseIpv4(mask, &m)) return bad();
        } else {
          auto bits = ParseUint(mask, 32);
          if (!bits) return bad();
          m = *bits == 0 ? 0 : UINT32_MAX << (32 - *bits);
        }
      }
      PutU64(fm->value, f, ip);
      PutU64(fm->mask, f, m);
      break;
    }
    case ValueKind::kIpv6:
      if (!ParseIpv6(value, fm->value.data())) return bad();
      if (has_mask) {
        if (mask.find(':') != std::string_view::npos) {
          if (!ParseIpv6(mask, fm->mask.data())) return bad();
        } else {
          auto bits = ParseUint(mask, 128);
          if (!bits) return bad();
          for (uint64_t i = 0; i < *bits; ++i)
            fm->mask[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
        }
      }
      break;
    case ValueKind::kPort: {
      auto p = ParsePort(value);
      if (!p) return bad();
      PutU64(fm->value, f, *p);
      break;
    }
    case ValueKind::kInt: {
      auto v = ParseUint(value, MaxValue(f));
      if (!v) return bad();
      PutU64(fm->value, f, *v);
      if (has_mask) {
        size_t w = info.width;
        auto m = ParseUint(mask, w >= 8 ? UINT64_MAX : (uint64_t{1} << (8 * w)) - 1);
        if (!m) return bad();
        PutU64(fm->mask, f, *m);
      }
      break;
    }
  }
  return absl::OkStatus();
}

void AppendMatch(std::string& out, const Match& match, int priority) {
  size_t start = out.size();
  if (priority >= 0 && priority != 0x8000) Append(out, "priority=", priority, ",");

  const FieldMatch* type = match.Find(Field::kEthType);
  const FieldMatch* proto = match.Find(Field::kIpProto);
  uint16_t dl_type = type ? static_cast<uint16_t>(type->ValueU64()) : 0;
  uint8_t nw_proto = proto ? static_cast<uint8_t>(proto->ValueU64()) : 0;
  bool skip_type = false, skip_proto = false;
  if (type) {
    skip_type = true;
    std::string_view name;
    if (dl_type == kEthIp || dl_type == kEthIpv6) {
      bool v6 = dl_type == kEthIpv6;
      name = v6 ? "ipv6" : "ip";
      if (proto) {
        skip_proto = true;
        if (nw_proto == (v6 ? 58 : 1)) {
          name = v6 ? "icmp6" : "icmp";
        } else if (nw_proto == 6) {
          name = v6 ? "tcp6" : "tcp";
        } else if (nw_proto == 17) {
          name = v6 ? "udp6" : "udp";
        } else if (nw_proto == 132) {
          name = v6 ? "sctp6" : "sctp";
        } else {
          skip_proto = false;
        }
      }
    } else if (dl_type == kEthArp) {
      name = "arp";
    } else if (dl_type == kEthRarp) {
      name = "rarp";
    } else if (dl_type == 0x8847) {
      name = "mpls";
    } else if (dl_type == 0x8848) {
      name = "mplsm";
    } else {
      skip_type = false;
    }
    if (skip_type) Append(out, name, ",");
  }
  for (int i = 0; i < 16; ++i) {
    if (const FieldMatch* r = match.Find(RegField(i))) AppendHexMasked(out, Cat("reg", i), *r);
  }
  if (const FieldMatch* f = match.Find(Field::kTunnelId)) AppendHexMasked(out, "tun_id", *f);
  if (const FieldMatch* f = match.Find(Field::kTunIpv4Src)) AppendNetmask(out, "tun_src", *f);
  if (const FieldMatch* f = match.Find(Field::kTunIpv4Dst)) AppendNetmask(out, "tun_dst", *f);
  if (const FieldMatch* f = match.Find(Field::kMetadata)) AppendHexMasked(out, "metadata", *f);
  if (const FieldMatch* f = match.Find(Field::kInPort)) {
    out += "in_port=";
    AppendPort(out, static_cast<uint32_t>(f->ValueU64()));
    out += ',';
  }
  if (const FieldMatch* f = match.Find(Field::kVlanVid)) {
    // ovs keeps vlan_vid as the VID and CFI bits of vlan_tci.
    uint16_t mask = static_cast<uint16_t>(f->MaskU64()) & 0x1fff;
    uint16_t tci = static_cast<uint16_t>(f->ValueU64()) & mask;
    uint16_t vid_mask = mask & 0x0fff;
    if (mask != 0) {
      if ((mask & 0x1000) && (tci & 0x1000) && vid_mask == 0x0fff) {
        Append(out, "dl_vlan=", tci & 0x0fff, ",");
      } else {
        char buf[40];
        std::snprintf(buf, sizeof buf, "vlan_tci=0x%04x/0x%04x,", tci, mask);
        out += buf;
      }
    }
  }
  if (const FieldMatch* f = match.Find(Field::kEthSrc)) AppendEthMasked(out, "dl_src", *f);
  if (const FieldMatch* f = match.Find(Field::kEthDst)) AppendEthMasked(out, "dl_dst", *f);
  if (type && !skip_type) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "dl_type=0x%04x,", dl_type);
    out += buf;
  }
  bool arp = dl_type == kEthArp || dl_type == kEthRarp;
  if (dl_type == kEthIpv6) {
    if (const FieldMatch* f = match.Find(Field::kIpv6Src)) AppendIpv6Field(out, "ipv6_src", *f);
    if (const FieldMatch* f = match.Find(Field::kIpv6Dst)) AppendIpv6Field(out, "ipv6_dst", *f);
  } else if (arp) {
    if (const FieldMatch* f = match.Find(Field::kArpSpa)) AppendNetmask(out, "arp_spa", *f);
    if (const FieldMatch* f = match.Find(Field::kArpTpa)) AppendNetmask(out, "arp_tpa", *f);
  } else {
    if (const FieldMatch* f = match.Find(Field::kIpv4Src)) AppendNetmask(out, "nw_src", *f);
    if (const FieldMatch* f = match.Find(Field::kIpv4Dst)) AppendNetmask(out, "nw_dst", *f);
  }
  if (proto && !skip_proto) Append(out, "nw_proto=", nw_proto, ",");
  if (arp) {
    if (const FieldMatch* f = match.Find(Field::kArpOp)) {
      Append(out, "arp_op=", f->ValueU64(), ",");
    }
    if (const FieldMatch* f = match.Find(Field::kArpSha)) AppendEthMasked(out, "arp_sha", *f);
    if (const FieldMatch* f = match.Find(Field::kArpTha)) AppendEthMasked(out, "arp_tha", *f);
  }
  if (const FieldMatch* f = match.Find(Field::kIpDscp)) {
    Append(out, "nw_tos=", (f->ValueU64() & 0x3f) << 2, ",");
  }
  auto l4 = [&](Field a, Field b, std::string_view name) {
    const FieldMatch* f = match.Find(a);
    if (!f) f = match.Find(b);
    if (f) AppendDecOrHexMasked(out, name, f->ValueU64(), f->MaskU64(), f->masked, 0);
  };
  if ((dl_type == kEthIp && nw_proto == 1) || (dl_type == kEthIpv6 && nw_proto == 58)) {
    l4(Field::kIcmpv4Type, Field::kIcmpv6Type, "icmp_type");
    l4(Field::kIcmpv4Code, Field::kIcmpv6Code, "icmp_code");
  } else {
    l4(Field::kTcpSrc, Field::kUdpSrc, "tp_src");
    l4(Field::kTcpDst, Field::kUdpDst, "tp_dst");
  }
  if (out.size() > start && out.back() == ',') out.pop_back();
}

absl::Status CheckPrerequisites(const Match& match) {
  const FieldMatch* type = match.Find(Field::kEthType);
  const FieldMatch* proto = match.Find(Field::kIpProto);
  uint64_t dl_type = type ? type->ValueU64() : 0;
  uint64_t nw_proto = proto ? proto->ValueU64() : 0;
  bool ip4 = dl_type == kEthIp, ip6 = dl_type == kEthIpv6;
  bool ip_any = ip4 || ip6;
  for (const FieldMatch& fm : match.fields()) {
    const char* need = nullptr;
    switch (fm.field) {
      case Field::kIpDscp:
      case Field::kIpProto:
        if (!ip_any) need = "ip or ipv6";
        break;
      case Field::kIpv4Src:
      case Field::kIpv4Dst:
        if (!ip4) need = "ip";
        break;
      case Field::kTcpSrc:
      case Field::kTcpDst:
        if (!ip_any || nw_proto != 6) need = "tcp or tcp6";
        break;
      case Field::kUdpSrc:
      case Field::kUdpDst:
        if (!ip_any || nw_proto != 17) need = "udp or udp6";
        break;
      case Field::kIcmpv4Type:
      case Field::kIcmpv4Code:
        if (!ip4 || nw_proto != 1) need = "icmp";
        break;
      case Field::kArpOp:
      case Field::kArpSpa:
      case Field::kArpTpa:
      case Field::kArpSha:
      case Field::kArpTha:
        if (dl_type != kEthArp && dl_type != kEthRarp) need = "arp";
        break;
      case Field::kIpv6Src:
      case Field::kIpv6Dst:
        if (!ip6) need = "ipv6";
        break;
      case Field::kIcmpv6Type:
      case Field::kIcmpv6Code:
        if (!ip6 || nw_proto != 58) need = "icmp6";
        break;
      default:
        break;
    }
    if (need) {
      return absl::InvalidArgumentError(
          Cat("field ", GetFieldInfo(fm.field).name, " is missing its prerequisite (", need, ")"));
    }
  }
  return absl::OkStatus();
}

namespace {

struct Shorthand {
  std::string_view name;
  uint16_t dl_type;
  int nw_proto;  // -1: none
};
constexpr Shorthand kShorthands[] = {
    {"ip", kEthIp, -1},     {"ipv4", kEthIp, -1},   {"icmp", kEthIp, 1},
    {"tcp", kEthIp, 6},     {"udp", kEthIp, 17},    {"sctp", kEthIp, 132},
    {"ipv6", kEthIpv6, -1}, {"ip6", kEthIpv6, -1},  {"icmp6", kEthIpv6, 58},
    {"tcp6", kEthIpv6, 6},  {"udp6", kEthIpv6, 17}, {"sctp6", kEthIpv6, 132},
    {"arp", kEthArp, -1},   {"rarp", kEthRarp, -1},
};

int PendingKind(std::string_view key) {
  if (key == "tp_src" || key == "tcp_src" || key == "udp_src") return 0;
  if (key == "tp_dst" || key == "tcp_dst" || key == "udp_dst") return 1;
  if (key == "icmp_type" || key == "icmpv4_type" || key == "icmpv6_type") return 2;
  if (key == "icmp_code" || key == "icmpv4_code" || key == "icmpv6_code") return 3;
  return -1;
}

std::string Token(const KeyValue& kv) {
  return kv.delim ? Cat(kv.key, std::string(1, kv.delim), kv.value) : std::string(kv.key);
}

}  // namespace

absl::StatusOr<bool> MatchBuilder::Add(const KeyValue& kv) {
  for (const auto& sh : kShorthands) {
    if (kv.key == sh.name && kv.value.empty() && kv.delim == 0) {
      match_.Set(Field::kEthType, sh.dl_type);
      if (sh.nw_proto >= 0) match_.Set(Field::kIpProto, static_cast<uint64_t>(sh.nw_proto));
      return true;
    }
  }
  int pk = PendingKind(kv.key);
  bool is_vlan = kv.key == "dl_vlan" || kv.key == "vlan_tci" || kv.key == "nw_tos";
  std::optional<Field> field;
  if (pk < 0 && !is_vlan) {
    field = FieldByName(kv.key);
    if (!field) return false;
  }
  if (kv.value.empty()) return Invalid("field is missing its value", Token(kv));
  if (pk >= 0) {
    Field f = pk == 0   ? Field::kTcpSrc
              : pk == 1 ? Field::kTcpDst
              : pk == 2 ? Field::kIcmpv4Type
                        : Field::kIcmpv4Code;
    Pending p;
    p.kind = pk;
    RETURN_IF_ERROR(ParseFieldValue(f, kv.value, true, &p.fm));
    p.token = Token(kv);
    pending_.push_back(std::move(p));
    return true;
  }
  if (kv.key == "dl_vlan") {
    auto v = ParseUint(kv.value, 0xffff);
    if (!v || (*v > 0xfff && *v != 0xffff)) return Invalid("invalid value for dl_vlan", Token(kv));
    // 0xffff is OpenFlow 1.0's "no VLAN".
    match_.Set(Field::kVlanVid, *v == 0xffff ? 0 : (*v | kVidPresent));
    return true;
  }
  if (kv.key == "vlan_tci") {
    std::string_view value = kv.value, mask;
    size_t slash = value.find('/');
    if (slash != std::string_view::npos) {
      mask = value.substr(slash + 1);
      value = value.substr(0, slash);
    }
    auto v = ParseUint(value, 0xffff);
    auto m = mask.empty() ? std::optional<uint64_t>(0xffff) : ParseUint(mask, 0xffff);
    if (!v || !m) return Invalid("invalid value for vlan_tci", Token(kv));
    // Only the VID and CFI (OFPVID_PRESENT) bits map to OXM vlan_vid; a PCP
    // match on a tagged packet cannot be represented.
    if ((*v & *m & 0x1000) && (*m & 0xe000) && (*v & *m & 0xe000)) {
      return Invalid("vlan_tci: matching on the priority bits is not supported", Token(kv));
    }
    PutVlan(*v, *m);
    return true;
  }
  if (kv.key == "nw_tos") {
    auto v = ParseUint(kv.value, 0xff);
    if (!v || (*v & 3)) return Invalid("invalid value for nw_tos", Token(kv));
    match_.Set(Field::kIpDscp, *v >> 2);
    return true;
  }
  FieldMatch fm;
  RETURN_IF_ERROR(ParseFieldValue(*field, kv.value, true, &fm));
  if (*field == Field::kVlanVid) {
    PutVlan(fm.ValueU64(), fm.masked ? fm.MaskU64() : 0xffff);
  } else {
    match_.Put(fm);
  }
  return true;
}

// Only the VID and OFPVID_PRESENT bits matter (ovs masks the rest away), so
// a mask covering all 13 of them is an exact match.
void MatchBuilder::PutVlan(uint64_t value, uint64_t mask) {
  mask &= 0x1fff;
  if (mask == 0x1fff) {
    match_.Set(Field::kVlanVid, value & 0x1fff);
  } else {
    match_.SetMasked(Field::kVlanVid, value & mask, mask);
  }
}

absl::StatusOr<Match> MatchBuilder::Finish() {
  const FieldMatch* type = match_.Find(Field::kEthType);
  const FieldMatch* proto = match_.Find(Field::kIpProto);
  uint64_t dl_type = type ? type->ValueU64() : 0;
  uint64_t nw_proto = proto ? proto->ValueU64() : 0;
  bool ip_any = dl_type == kEthIp || dl_type == kEthIpv6;
  for (Pending& p : pending_) {
    Field f;
    if (p.kind <= 1) {
      if (!ip_any || (nw_proto != 6 && nw_proto != 17)) {
        return Invalid("missing prerequisite tcp or udp for", p.token);
      }
      bool udp = nw_proto == 17;
      f = p.kind == 0 ? (udp ? Field::kUdpSrc : Field::kTcpSrc)
                      : (udp ? Field::kUdpDst : Field::kTcpDst);
    } else {
      bool v4 = dl_type == kEthIp && nw_proto == 1;
      bool v6 = dl_type == kEthIpv6 && nw_proto == 58;
      if (!v4 && !v6) return Invalid("missing prerequisite icmp or icmp6 for", p.token);
      if (p.fm.masked) return Invalid("ICMP fields do not support masking", p.token);
      f = p.kind == 2 ? (v4 ? Field::kIcmpv4Type : Field::kIcmpv6Type)
                      : (v4 ? Field::kIcmpv4Code : Field::kIcmpv6Code);
    }
    p.fm.field = f;
    match_.Put(p.fm);
  }
  pending_.clear();
  RETURN_IF_ERROR(CheckPrerequisites(match_));
  return std::move(match_);
}

}  // namespace text_internal

std::string FormatMatch(const Match& match) {
  std::string s;
  ti::AppendMatch(s, match, -1);
  return s;
}

std::string FormatPort(uint32_t port) {
  std::string s;
  ti::AppendPort(s, port);
  return s;
}

absl::StatusOr<Match> ParseMatch(std::string_view text) {
  ti::MatchBuilder b;
  ti::KeyValue kv;
  while (ti::NextKeyValue(&text, &kv)) {
    ASSIGN_OR_RETURN(bool used, b.Add(kv));
    if (!used) return ti::Invalid("unknown match field", kv.key);
  }
  return b.Finish();
}

}  // namespace shortcut::of
