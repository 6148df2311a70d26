// Address text forms, ParsePacket and FormatPacket.
//
// Parsing walks the frame with an offset and an end: the end is the frame's
// size until an IP header bounds it by its length, so Ethernet padding is
// never taken for payload. Every header is length-checked against that end
// before a ByteReader over exactly its bytes reads the fields.
#include <arpa/inet.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "src/common/bytes.h"
#include "src/packet/packet.h"

namespace shortcut::packet {

// ---------------------------------------------------------------- addresses

MacAddr MacAddr::FromU64(uint64_t v) {
  MacAddr m;
  for (size_t i = 0; i < 6; ++i) m.bytes[i] = static_cast<uint8_t>(v >> (8 * (5 - i)));
  return m;
}

uint64_t MacAddr::ToU64() const {
  uint64_t v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  return v;
}

std::string MacAddr::ToString() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

namespace {
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

absl::StatusOr<MacAddr> MacAddr::Parse(std::string_view text) {
  MacAddr m;
  // "xx:xx:xx:xx:xx:xx" is exactly 17 characters.
  bool ok = text.size() == 17;
  for (size_t i = 0; ok && i < 6; ++i) {
    int hi = HexDigit(text[3 * i]);
    int lo = HexDigit(text[3 * i + 1]);
    ok = hi >= 0 && lo >= 0 && (i == 5 || text[3 * i + 2] == ':');
    m.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if (!ok)
    return absl::InvalidArgumentError(absl::StrCat("bad MAC address \"", std::string(text), "\""));
  return m;
}

std::string Ipv4Addr::ToString() const {
  return absl::StrCat(value >> 24, ".", (value >> 16) & 0xff, ".", (value >> 8) & 0xff, ".",
                      value & 0xff);
}

absl::StatusOr<Ipv4Addr> Ipv4Addr::Parse(std::string_view text) {
  in_addr a{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &a) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad IPv4 address \"", std::string(text), "\""));
  }
  return Ipv4Addr{ntohl(a.s_addr)};
}

std::string Ipv6Addr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  // inet_ntop cannot fail for AF_INET6 with a buffer of INET6_ADDRSTRLEN.
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

absl::StatusOr<Ipv6Addr> Ipv6Addr::Parse(std::string_view text) {
  Ipv6Addr a;
  if (inet_pton(AF_INET6, std::string(text).c_str(), a.bytes.data()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad IPv6 address \"", std::string(text), "\""));
  }
  return a;
}

// ---------------------------------------------------------------- parsing

namespace {

constexpr uint16_t kEthTypeQinQOld = 0x9100;  // Pre-802.1ad double tagging.
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6DestOpts = 60;

bool IsVlanTpid(uint16_t t) {
  return t == kEthTypeVlan || t == kEthTypeQinQ || t == kEthTypeQinQOld;
}

// Errors are built only on failure: the success path allocates nothing.
absl::Status Malformed(std::string_view layer, size_t offset, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(layer), " at offset ", offset, ": ", std::string(what)));
}
absl::Status Truncated(std::string_view layer, size_t offset, size_t need, size_t have) {
  return Malformed(layer, offset,
                   absl::StrCat("truncated (need ", need, " bytes, have ", have, ")"));
}

class Parser {
 public:
  Parser(std::span<const uint8_t> frame, const ParseOptions& options)
      : frame_(frame), options_(options) {}

  absl::StatusOr<ParsedPacket> Run() {
    absl::Status s = Ethernet();
    if (!s.ok()) return s;
    return std::move(p_);
  }

 private:
  // A reader over the n bytes at off, which must lie before end_.
  ByteReader At(size_t off, size_t n) const { return ByteReader(frame_.subspan(off, n)); }
  size_t Have(size_t off) const { return off <= end_ ? end_ - off : 0; }

  void SetPayload(size_t off, size_t end) {
    p_.payload_offset = off;
    p_.payload_size = end - off;
  }

  absl::Status Ethernet() {
    end_ = frame_.size();
    if (Have(0) < 14) return Truncated("ethernet header", 0, 14, Have(0));
    ByteReader r = At(0, 14);
    r.Bytes(p_.eth_dst.bytes.data(), 6);
    r.Bytes(p_.eth_src.bytes.data(), 6);
    uint16_t type = r.U16();
    size_t off = 14;
    while (IsVlanTpid(type) && p_.vlan_count < kMaxVlanTags) {
      // The TCI and the next EtherType follow the TPID.
      if (Have(off) < 4) return Truncated("vlan tag", off, 4, Have(off));
      ByteReader t = At(off, 4);
      uint16_t tci = t.U16();
      p_.vlans[p_.vlan_count++] = VlanTag{type, static_cast<uint16_t>(tci & 0x0fff),
                                          static_cast<uint8_t>(tci >> 13), (tci & 0x1000) != 0};
      type = t.U16();
      off += 4;
    }
    p_.eth_type = type;
    p_.l3_offset = off;
    switch (type) {
      case kEthTypeArp:
        return Arp(off);
      case kEthTypeIpv4:
        return Ipv4(off);
      case kEthTypeIpv6:
        return Ipv6(off);
      default:
        p_.l3 = L3Kind::kOther;
        SetPayload(off, end_);
        return absl::OkStatus();
    }
  }

  absl::Status Arp(size_t off) {
    constexpr size_t kLen = 28;  // Ethernet/IPv4 ARP.
    if (Have(off) < kLen) return Truncated("arp", off, kLen, Have(off));
    ByteReader r = At(off, kLen);
    uint16_t htype = r.U16();
    uint16_t ptype = r.U16();
    uint8_t hlen = r.U8();
    uint8_t plen = r.U8();
    if (htype != 1 || ptype != kEthTypeIpv4 || hlen != 6 || plen != 4) {
      return Malformed(
          "arp", off,
          absl::StrCat("not Ethernet/IPv4 (htype ", htype, ", ptype 0x",
                       absl::Hex(ptype, absl::kZeroPad4), ", hlen ", hlen, ", plen ", plen, ")"));
    }
    p_.l3 = L3Kind::kArp;
    p_.arp.op = r.U16();
    r.Bytes(p_.arp.sha.bytes.data(), 6);
    p_.arp.spa.value = r.U32();
    r.Bytes(p_.arp.tha.bytes.data(), 6);
    p_.arp.tpa.value = r.U32();
    SetPayload(off + kLen, end_);
    return absl::OkStatus();
  }

  // Bounds end_ by an IP length of `len` bytes from `off`.
  absl::Status LimitTo(std::string_view layer, size_t off, size_t len, std::string_view field) {
    if (len <= Have(off)) {
      end_ = off + len;
      return absl::OkStatus();
    }
    if (!options_.allow_truncated) {
      return Malformed(
          layer, off,
          absl::StrCat(std::string(field), " ", len, " > ", Have(off), " bytes in the frame"));
    }
    p_.truncated = true;
    return absl::OkStatus();
  }

  absl::Status Ipv4(size_t off) {
    constexpr std::string_view kLayer = "ipv4 header";
    if (Have(off) < 20) return Truncated(kLayer, off, 20, Have(off));
    ByteReader r = At(off, 20);
    uint8_t vihl = r.U8();
    if (vihl >> 4 != 4) return Malformed(kLayer, off, absl::StrCat("version ", vihl >> 4, " != 4"));
    size_t ihl = vihl & 0x0f;
    if (ihl < 5) return Malformed(kLayer, off, absl::StrCat("ihl ", ihl, " < 5"));
    size_t hlen = ihl * 4;
    if (Have(off) < hlen) return Truncated(kLayer, off, hlen, Have(off));
    Ipv4Fields& ip = p_.ipv4;
    uint8_t tos = r.U8();
    ip.dscp = tos >> 2;
    ip.ecn = tos & 3;
    ip.total_length = r.U16();
    ip.header_length = static_cast<uint8_t>(hlen);
    if (ip.total_length < hlen) {
      return Malformed(kLayer, off,
                       absl::StrCat("total length ", ip.total_length, " < header length ", hlen));
    }
    ip.id = r.U16();
    uint16_t frag = r.U16();
    ip.dont_fragment = (frag & 0x4000) != 0;
    ip.more_fragments = (frag & 0x2000) != 0;
    ip.fragment_offset = frag & 0x1fff;
    ip.ttl = r.U8();
    ip.proto = r.U8();
    r.Skip(2);  // Checksum: not checked (offload), see the header.
    ip.src.value = r.U32();
    ip.dst.value = r.U32();
    absl::Status s = LimitTo(kLayer, off, ip.total_length, "total length");
    if (!s.ok()) return s;
    p_.l3 = L3Kind::kIpv4;
    size_t l4 = off + hlen;
    p_.l4_offset = l4;
    if (ip.fragment_offset != 0) {
      SetPayload(l4, end_);
      return absl::OkStatus();
    }
    L4Kind kind = ip.proto == kIpProtoTcp    ? L4Kind::kTcp
                  : ip.proto == kIpProtoUdp  ? L4Kind::kUdp
                  : ip.proto == kIpProtoIcmp ? L4Kind::kIcmp
                                             : L4Kind::kOther;
    return Transport(kind, l4);
  }

  absl::Status Ipv6(size_t off) {
    constexpr std::string_view kLayer = "ipv6 header";
    if (Have(off) < 40) return Truncated(kLayer, off, 40, Have(off));
    ByteReader r = At(off, 40);
    uint32_t first = r.U32();
    if (first >> 28 != 6) {
      return Malformed(kLayer, off, absl::StrCat("version ", first >> 28, " != 6"));
    }
    Ipv6Fields& ip = p_.ipv6;
    ip.traffic_class = static_cast<uint8_t>(first >> 20);
    ip.flow_label = first & 0xfffff;
    ip.payload_length = r.U16();
    uint8_t next = r.U8();
    ip.hop_limit = r.U8();
    r.Bytes(ip.src.bytes.data(), 16);
    r.Bytes(ip.dst.bytes.data(), 16);
    absl::Status s = LimitTo(kLayer, off, 40 + size_t{ip.payload_length}, "40 + payload length");
    if (!s.ok()) return s;
    p_.l3 = L3Kind::kIpv6;

    size_t pos = off + 40;
    bool later_fragment = false;
    while (next == kIpv6HopByHop || next == kIpv6Routing || next == kIpv6DestOpts ||
           next == kIpv6Fragment) {
      constexpr std::string_view kExt = "ipv6 extension header";
      if (ip.extension_headers == kMaxIpv6ExtensionHeaders) {
        return Malformed(
            kExt, pos, absl::StrCat("more than ", kMaxIpv6ExtensionHeaders, " extension headers"));
      }
      ++ip.extension_headers;
      if (next == kIpv6Fragment) {
        if (Have(pos) < 8) return Truncated(kExt, pos, 8, Have(pos));
        ByteReader f = At(pos, 8);
        next = f.U8();
        f.Skip(1);
        uint16_t offm = f.U16();
        ip.fragment = true;
        ip.fragment_offset = offm >> 3;
        ip.more_fragments = (offm & 1) != 0;
        ip.fragment_id = f.U32();
        pos += 8;
        if (ip.fragment_offset != 0) {
          // The rest of the chain and the L4 header are in the first fragment.
          later_fragment = true;
          break;
        }
        continue;
      }
      if (Have(pos) < 2) return Truncated(kExt, pos, 2, Have(pos));
      ByteReader h = At(pos, 2);
      uint8_t following = h.U8();
      size_t len = (size_t{h.U8()} + 1) * 8;
      if (Have(pos) < len) return Truncated(kExt, pos, len, Have(pos));
      next = following;
      pos += len;
    }
    ip.next_header = next;
    p_.l4_offset = pos;
    if (later_fragment) {
      SetPayload(pos, end_);
      return absl::OkStatus();
    }
    L4Kind kind = next == kIpProtoTcp      ? L4Kind::kTcp
                  : next == kIpProtoUdp    ? L4Kind::kUdp
                  : next == kIpProtoIcmpv6 ? L4Kind::kIcmpv6
                                           : L4Kind::kOther;
    return Transport(kind, pos);
  }

  absl::Status Transport(L4Kind kind, size_t off) {
    switch (kind) {
      case L4Kind::kTcp: {
        constexpr std::string_view kLayer = "tcp header";
        if (Have(off) < 20) return Truncated(kLayer, off, 20, Have(off));
        ByteReader r = At(off, 20);
        p_.src_port = r.U16();
        p_.dst_port = r.U16();
        p_.tcp_seq = r.U32();
        p_.tcp_ack = r.U32();
        uint16_t doff_flags = r.U16();
        size_t doff = doff_flags >> 12;
        if (doff < 5) return Malformed(kLayer, off, absl::StrCat("data offset ", doff, " < 5"));
        if (Have(off) < doff * 4) return Truncated(kLayer, off, doff * 4, Have(off));
        p_.tcp_flags = doff_flags & 0x0fff;
        p_.tcp_window = r.U16();
        SetPayload(off + doff * 4, end_);
        break;
      }
      case L4Kind::kUdp: {
        constexpr std::string_view kLayer = "udp header";
        if (Have(off) < 8) return Truncated(kLayer, off, 8, Have(off));
        ByteReader r = At(off, 8);
        p_.src_port = r.U16();
        p_.dst_port = r.U16();
        size_t len = r.U16();
        if (len < 8) return Malformed(kLayer, off, absl::StrCat("length ", len, " < 8"));
        size_t end = end_;
        if (len <= Have(off)) {
          end = off + len;  // Bytes after the UDP length are not payload.
        } else if (!p_.truncated) {
          // Within a whole IP packet a longer UDP length is a lie, whatever
          // the options say.
          return Malformed(
              kLayer, off,
              absl::StrCat("length ", len, " > ", Have(off), " bytes in the ip payload"));
        }
        SetPayload(off + 8, end);
        break;
      }
      case L4Kind::kIcmp:
      case L4Kind::kIcmpv6: {
        std::string_view layer = kind == L4Kind::kIcmp ? "icmp header" : "icmpv6 header";
        if (Have(off) < 8) return Truncated(layer, off, 8, Have(off));
        ByteReader r = At(off, 8);
        p_.icmp_type = r.U8();
        p_.icmp_code = r.U8();
        r.Skip(2);  // Checksum.
        p_.icmp_rest = r.U32();
        SetPayload(off + 8, end_);
        break;
      }
      case L4Kind::kOther:
      case L4Kind::kNone:
        SetPayload(off, end_);
        break;
    }
    p_.l4 = kind;
    return absl::OkStatus();
  }

  std::span<const uint8_t> frame_;
  const ParseOptions& options_;
  size_t end_ = 0;  // Bytes at or after end_ belong to no header being parsed.
  ParsedPacket p_;
};

}  // namespace

absl::StatusOr<ParsedPacket> ParsePacket(std::span<const uint8_t> frame,
                                         const ParseOptions& options) {
  return Parser(frame, options).Run();
}

absl::StatusOr<ParsedPacket> ParsePacket(const uint8_t* data, size_t size,
                                         const ParseOptions& options) {
  return ParsePacket(std::span<const uint8_t>(data, size), options);
}

absl::StatusOr<ParsedPacket> ParsePacket(std::string_view frame, const ParseOptions& options) {
  return ParsePacket(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(frame.data()), frame.size()),
      options);
}

// ---------------------------------------------------------------- formatting

namespace {

// tcpdump's letters, in tcpdump's order ('.' is ACK).
std::string TcpFlags(uint16_t flags) {
  static constexpr struct {
    uint16_t bit;
    char letter;
  } kLetters[] = {{kTcpFin, 'F'}, {kTcpSyn, 'S'}, {kTcpRst, 'R'}, {kTcpPsh, 'P'},
                  {kTcpAck, '.'}, {kTcpUrg, 'U'}, {kTcpEce, 'E'}, {kTcpCwr, 'W'}};
  std::string out;
  for (const auto& l : kLetters) {
    if (flags & l.bit) out += l.letter;
  }
  return out.empty() ? "none" : out;
}

void AppendL4(const ParsedPacket& p, std::string& out) {
  switch (p.l4) {
    case L4Kind::kTcp:
      absl::StrAppend(&out, " tcp ", p.src_port, " > ", p.dst_port, " [", TcpFlags(p.tcp_flags),
                      "]");
      break;
    case L4Kind::kUdp:
      absl::StrAppend(&out, " udp ", p.src_port, " > ", p.dst_port);
      break;
    case L4Kind::kIcmp:
    case L4Kind::kIcmpv6:
      absl::StrAppend(&out, p.l4 == L4Kind::kIcmp ? " icmp" : " icmpv6", " type ", p.icmp_type,
                      " code ", p.icmp_code);
      break;
    case L4Kind::kOther:
    case L4Kind::kNone:
      absl::StrAppend(&out, " proto ", p.l3 == L3Kind::kIpv4 ? p.ipv4.proto : p.ipv6.next_header);
      break;
  }
}

}  // namespace

std::string FormatPacket(const ParsedPacket& p) {
  std::string out;
  for (size_t i = 0; i < p.vlan_count; ++i) absl::StrAppend(&out, "vlan ", p.vlans[i].vid, " ");
  switch (p.l3) {
    case L3Kind::kArp:
      if (p.arp.op == kArpRequest) {
        absl::StrAppend(&out, "arp request who-has ", p.arp.tpa.ToString(), " tell ",
                        p.arp.spa.ToString(), " (", p.arp.sha.ToString(), ")");
      } else if (p.arp.op == kArpReply) {
        absl::StrAppend(&out, "arp reply ", p.arp.spa.ToString(), " is-at ", p.arp.sha.ToString(),
                        " to ", p.arp.tpa.ToString(), " (", p.arp.tha.ToString(), ")");
      } else {
        absl::StrAppend(&out, "arp op ", p.arp.op, " ", p.arp.spa.ToString(), " (",
                        p.arp.sha.ToString(), ") > ", p.arp.tpa.ToString(), " (",
                        p.arp.tha.ToString(), ")");
      }
      break;
    case L3Kind::kIpv4:
      absl::StrAppend(&out, "ipv4 ", p.ipv4.src.ToString(), " > ", p.ipv4.dst.ToString());
      AppendL4(p, out);
      if (p.ipv4.fragment_offset != 0 || p.ipv4.more_fragments) {
        absl::StrAppend(&out, " fragment offset ", p.ipv4.fragment_offset * 8,
                        p.ipv4.more_fragments ? " +" : "");
      }
      break;
    case L3Kind::kIpv6:
      absl::StrAppend(&out, "ipv6 ", p.ipv6.src.ToString(), " > ", p.ipv6.dst.ToString());
      AppendL4(p, out);
      if (p.ipv6.fragment) {
        absl::StrAppend(&out, " fragment offset ", p.ipv6.fragment_offset * 8,
                        p.ipv6.more_fragments ? " +" : "");
      }
      break;
    case L3Kind::kOther:
    case L3Kind::kNone:
      absl::StrAppend(&out, "eth ", p.eth_src.ToString(), " > ", p.eth_dst.ToString(), " type 0x",
                      absl::Hex(p.eth_type, absl::kZeroPad4));
      break;
  }
  if (p.truncated) absl::StrAppend(&out, " (truncated)");
  return out;
}

}  // namespace shortcut::packet
