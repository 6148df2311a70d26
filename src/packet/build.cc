// Checksums, PacketBuilder and BuildArpReply.
//
// Build writes every header with zero lengths and checksums, then patches
// them once the whole frame exists: lengths first, then the L4 checksum
// (which covers the L4 length field of UDP), then the IPv4 header checksum.
#include <cstdio>
#include <cstdlib>

#include "src/common/bytes.h"
#include "src/packet/packet.h"

namespace shortcut::packet {

// ---------------------------------------------------------------- checksums

namespace {

// The ones' complement sum of data's big-endian 16-bit words, not yet folded.
// 64 bits cannot overflow for any frame size.
uint64_t Sum(std::span<const uint8_t> data, uint64_t sum = 0) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (i < data.size()) sum += uint32_t{data[i]} << 8;
  return sum;
}

uint16_t FoldAndInvert(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

[[noreturn]] void Misuse(const char* what) {
  std::fprintf(stderr, "PacketBuilder: %s\n", what);
  std::abort();
}

}  // namespace

uint16_t InternetChecksum(std::span<const uint8_t> data) { return FoldAndInvert(Sum(data)); }

uint16_t Ipv4HeaderChecksum(std::span<const uint8_t> header) {
  uint64_t sum = Sum(header);
  if (header.size() >= 12) sum -= (uint32_t{header[10]} << 8) | header[11];
  return FoldAndInvert(sum);
}

uint16_t Ipv4L4Checksum(Ipv4Addr src, Ipv4Addr dst, uint8_t proto,
                        std::span<const uint8_t> segment) {
  uint64_t sum = (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) +
                 (dst.value & 0xffff) + proto + segment.size();
  return FoldAndInvert(Sum(segment, sum));
}

uint16_t Ipv6L4Checksum(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                        std::span<const uint8_t> segment) {
  // Pseudo-header (RFC 8200 8.1): addresses, 32-bit length, 3 zero bytes,
  // next header.
  uint64_t sum = Sum(src.bytes) + Sum(dst.bytes) + (segment.size() >> 16) +
                 (segment.size() & 0xffff) + next_header;
  return FoldAndInvert(Sum(segment, sum));
}

// ---------------------------------------------------------------- builder

PacketBuilder& PacketBuilder::Eth(MacAddr src, MacAddr dst) {
  eth_src_ = src;
  eth_dst_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::Vlan(uint16_t vid, uint8_t pcp) {
  return Vlan(VlanTag{kEthTypeVlan, vid, pcp, false});
}

PacketBuilder& PacketBuilder::Vlan(const VlanTag& tag) {
  vlans_.push_back(tag);
  return *this;
}

PacketBuilder& PacketBuilder::EthType(uint16_t eth_type) {
  eth_type_ = eth_type;
  return *this;
}

PacketBuilder& PacketBuilder::Arp(uint16_t op, MacAddr sha, Ipv4Addr spa, MacAddr tha,
                                  Ipv4Addr tpa) {
  l3_ = L3::kArp;
  arp_ = ArpFields{op, sha, spa, tha, tpa};
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4(Ipv4Addr src, Ipv4Addr dst, const Ipv4Options& options) {
  l3_ = L3::kIpv4;
  ipv4_src_ = src;
  ipv4_dst_ = dst;
  ipv4_options_ = options;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6(const Ipv6Addr& src, const Ipv6Addr& dst,
                                   const Ipv6Options& options) {
  l3_ = L3::kIpv6;
  ipv6_src_ = src;
  ipv6_dst_ = dst;
  ipv6_options_ = options;
  return *this;
}

PacketBuilder& PacketBuilder::IpProto(uint8_t proto) {
  ip_proto_ = proto;
  return *this;
}

PacketBuilder& PacketBuilder::Tcp(uint16_t sport, uint16_t dport, uint16_t flags, uint32_t seq,
                                  uint32_t ack, uint16_t window) {
  l4_ = L4::kTcp;
  sport_ = sport;
  dport_ = dport;
  tcp_flags_ = flags;
  tcp_seq_ = seq;
  tcp_ack_ = ack;
  tcp_window_ = window;
  return *this;
}

PacketBuilder& PacketBuilder::Udp(uint16_t sport, uint16_t dport) {
  l4_ = L4::kUdp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::Icmp(uint8_t type, uint8_t code, uint32_t rest) {
  l4_ = L4::kIcmp;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest;
  return *this;
}

PacketBuilder& PacketBuilder::Icmpv6(uint8_t type, uint8_t code, uint32_t rest) {
  l4_ = L4::kIcmpv6;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest;
  return *this;
}

PacketBuilder& PacketBuilder::Payload(std::span<const uint8_t> bytes) {
  payload_.assign(bytes.begin(), bytes.end());
  return *this;
}

PacketBuilder& PacketBuilder::Payload(std::string_view bytes) {
  payload_.assign(bytes.begin(), bytes.end());
  return *this;
}

std::vector<uint8_t> PacketBuilder::Build() const {
  // What goes in the EtherType and IP protocol fields.
  uint16_t eth_type = 0;
  if (eth_type_) {
    eth_type = *eth_type_;
  } else if (l3_ == L3::kArp) {
    eth_type = kEthTypeArp;
  } else if (l3_ == L3::kIpv4) {
    eth_type = kEthTypeIpv4;
  } else if (l3_ == L3::kIpv6) {
    eth_type = kEthTypeIpv6;
  } else {
    Misuse("no L3 and no EthType()");
  }
  if (l4_ != L4::kNone && l3_ != L3::kIpv4 && l3_ != L3::kIpv6) Misuse("an L4 without IP");
  if (l4_ == L4::kIcmp && l3_ != L3::kIpv4) Misuse("Icmp() needs Ipv4()");
  if (l4_ == L4::kIcmpv6 && l3_ != L3::kIpv6) Misuse("Icmpv6() needs Ipv6()");
  uint8_t proto = 0;
  if (ip_proto_) {
    proto = *ip_proto_;
  } else if (l4_ == L4::kTcp) {
    proto = kIpProtoTcp;
  } else if (l4_ == L4::kUdp) {
    proto = kIpProtoUdp;
  } else if (l4_ == L4::kIcmp) {
    proto = kIpProtoIcmp;
  } else if (l4_ == L4::kIcmpv6) {
    proto = kIpProtoIcmpv6;
  } else if (l3_ == L3::kIpv4 || l3_ == L3::kIpv6) {
    Misuse("IP without an L4 and no IpProto()");
  }

  std::vector<uint8_t> out;
  out.reserve(14 + 4 * vlans_.size() + 40 + 20 + payload_.size());
  ByteWriter w(out);
  w.Bytes(eth_dst_.bytes);
  w.Bytes(eth_src_.bytes);
  for (const VlanTag& v : vlans_) {
    w.U16(v.tpid);
    w.U16(static_cast<uint16_t>((v.pcp & 7) << 13 | (v.dei ? 0x1000 : 0) | (v.vid & 0x0fff)));
  }
  w.U16(eth_type);

  const size_t l3 = w.size();
  switch (l3_) {
    case L3::kArp:
      w.U16(1);  // Ethernet.
      w.U16(kEthTypeIpv4);
      w.U8(6);
      w.U8(4);
      w.U16(arp_.op);
      w.Bytes(arp_.sha.bytes);
      w.U32(arp_.spa.value);
      w.Bytes(arp_.tha.bytes);
      w.U32(arp_.tpa.value);
      break;
    case L3::kIpv4: {
      const Ipv4Options& o = ipv4_options_;
      w.U8(0x45);
      w.U8(static_cast<uint8_t>(o.dscp << 2 | (o.ecn & 3)));
      w.U16(0);  // Total length, patched below.
      w.U16(o.id);
      w.U16(static_cast<uint16_t>((o.dont_fragment ? 0x4000 : 0) | (o.more_fragments ? 0x2000 : 0) |
                                  (o.fragment_offset & 0x1fff)));
      w.U8(o.ttl);
      w.U8(proto);
      w.U16(0);  // Checksum, patched below.
      w.U32(ipv4_src_.value);
      w.U32(ipv4_dst_.value);
      break;
    }
    case L3::kIpv6: {
      const Ipv6Options& o = ipv6_options_;
      w.U32(6u << 28 | uint32_t{o.traffic_class} << 20 | (o.flow_label & 0xfffff));
      w.U16(0);  // Payload length, patched below.
      w.U8(proto);
      w.U8(o.hop_limit);
      w.Bytes(ipv6_src_.bytes);
      w.Bytes(ipv6_dst_.bytes);
      break;
    }
    case L3::kNone:
      break;
  }

  const size_t l4 = w.size();
  switch (l4_) {
    case L4::kTcp:
      w.U16(sport_);
      w.U16(dport_);
      w.U32(tcp_seq_);
      w.U32(tcp_ack_);
      w.U16(static_cast<uint16_t>(5 << 12 | (tcp_flags_ & 0x0fff)));
      w.U16(tcp_window_);
      w.U16(0);  // Checksum.
      w.U16(0);  // Urgent pointer.
      break;
    case L4::kUdp:
      w.U16(sport_);
      w.U16(dport_);
      w.U16(0);  // Length.
      w.U16(0);  // Checksum.
      break;
    case L4::kIcmp:
    case L4::kIcmpv6:
      w.U8(icmp_type_);
      w.U8(icmp_code_);
      w.U16(0);  // Checksum.
      w.U32(icmp_rest_);
      break;
    case L4::kNone:
      break;
  }
  w.Bytes(payload_);

  // Lengths.
  const size_t l3_len = out.size() - l3;
  const size_t l4_len = out.size() - l4;
  if (l3_ == L3::kIpv4) {
    if (l3_len > 0xffff) Misuse("IPv4 packet over 65535 bytes");
    w.PatchU16(l3 + 2, static_cast<uint16_t>(l3_len));
  } else if (l3_ == L3::kIpv6) {
    if (l4_len > 0xffff) Misuse("IPv6 payload over 65535 bytes");
    w.PatchU16(l3 + 4, static_cast<uint16_t>(l4_len));
  }
  if (l4_ == L4::kUdp) w.PatchU16(l4 + 4, static_cast<uint16_t>(l4_len));

  // L4 checksum: over the L4 header (its checksum field still zero) and the
  // payload, with the IP pseudo-header except for ICMPv4.
  std::span<const uint8_t> segment(out.data() + l4, l4_len);
  auto pseudo = [&] {
    return l3_ == L3::kIpv4 ? Ipv4L4Checksum(ipv4_src_, ipv4_dst_, proto, segment)
                            : Ipv6L4Checksum(ipv6_src_, ipv6_dst_, proto, segment);
  };
  switch (l4_) {
    case L4::kTcp:
      w.PatchU16(l4 + 16, pseudo());
      break;
    case L4::kUdp: {
      // 0 means "no checksum" for UDP (and is not allowed over IPv6), so a
      // computed 0 is sent as its other ones' complement form, 0xffff.
      uint16_t c = pseudo();
      w.PatchU16(l4 + 6, c == 0 ? 0xffff : c);
      break;
    }
    case L4::kIcmp:
      w.PatchU16(l4 + 2, InternetChecksum(segment));
      break;
    case L4::kIcmpv6:
      w.PatchU16(l4 + 2, pseudo());
      break;
    case L4::kNone:
      break;
  }
  if (l3_ == L3::kIpv4) {
    w.PatchU16(l3 + 10, Ipv4HeaderChecksum(std::span<const uint8_t>(out.data() + l3, 20)));
  }
  return out;
}

std::vector<uint8_t> BuildArpReply(const ParsedPacket& request, MacAddr answer_mac) {
  if (request.l3 != L3Kind::kArp || request.arp.op != kArpRequest) {
    std::fprintf(stderr, "BuildArpReply: not an ARP request\n");
    std::abort();
  }
  PacketBuilder b;
  // To the frame's sender, as OVN's ARP responder does (eth.dst = eth.src).
  b.Eth(answer_mac, request.eth_src);
  for (size_t i = 0; i < request.vlan_count; ++i) b.Vlan(request.vlans[i]);
  b.Arp(kArpReply, answer_mac, request.arp.tpa, request.arp.sha, request.arp.spa);
  return b.Build();
}

}  // namespace shortcut::packet
