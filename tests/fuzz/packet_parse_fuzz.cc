// libFuzzer target for the packet parser: any input must parse or fail
// cleanly (ASan/UBSan catch over-reads), whatever parses must format, and a
// frame rebuilt with PacketBuilder from the parsed fields must parse to the
// same fields (IP options, TCP options and IPv6 extension headers are not
// rebuilt, so only the fields the builder can set are compared).
//
// Seeds: tests/fuzz/corpus/packet_parse/ (one Ethernet frame per file).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "src/packet/packet.h"

namespace {

using namespace shortcut::packet;

[[noreturn]] void Fail(const char* what, const ParsedPacket& p) {
  std::fprintf(stderr, "%s: %s\n", what, FormatPacket(p).c_str());
  std::abort();
}

// The frame PacketBuilder makes from p's fields and payload.
std::vector<uint8_t> Rebuild(const ParsedPacket& p, std::span<const uint8_t> frame) {
  PacketBuilder b;
  b.Eth(p.eth_src, p.eth_dst);
  for (size_t i = 0; i < p.vlan_count; ++i) b.Vlan(p.vlans[i]);
  switch (p.l3) {
    case L3Kind::kArp:
      b.Arp(p.arp.op, p.arp.sha, p.arp.spa, p.arp.tha, p.arp.tpa);
      break;
    case L3Kind::kIpv4:
      b.Ipv4(p.ipv4.src, p.ipv4.dst,
             {p.ipv4.ttl, p.ipv4.dscp, p.ipv4.ecn, p.ipv4.id, p.ipv4.dont_fragment,
              p.ipv4.more_fragments, p.ipv4.fragment_offset});
      b.IpProto(p.ipv4.proto);
      break;
    case L3Kind::kIpv6:
      b.Ipv6(p.ipv6.src, p.ipv6.dst, {p.ipv6.hop_limit, p.ipv6.traffic_class, p.ipv6.flow_label});
      b.IpProto(p.ipv6.next_header);
      break;
    case L3Kind::kOther:
    case L3Kind::kNone:
      b.EthType(p.eth_type);
      break;
  }
  switch (p.l4) {
    case L4Kind::kTcp:
      b.Tcp(p.src_port, p.dst_port, p.tcp_flags, p.tcp_seq, p.tcp_ack, p.tcp_window);
      break;
    case L4Kind::kUdp:
      b.Udp(p.src_port, p.dst_port);
      break;
    case L4Kind::kIcmp:
      b.Icmp(p.icmp_type, p.icmp_code, p.icmp_rest);
      break;
    case L4Kind::kIcmpv6:
      b.Icmpv6(p.icmp_type, p.icmp_code, p.icmp_rest);
      break;
    case L4Kind::kOther:
    case L4Kind::kNone:
      break;
  }
  b.Payload(frame.subspan(p.payload_offset, p.payload_size));
  return b.Build();
}

// p without what a rebuild does not keep: layout, lengths, extension headers.
ParsedPacket Fields(ParsedPacket p) {
  p.ipv4.header_length = 0;
  p.ipv4.total_length = 0;
  p.ipv6.payload_length = 0;
  p.ipv6.extension_headers = 0;
  p.l3_offset = p.l4_offset = p.payload_offset = 0;
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  // The lenient mode must be as safe as the strict one.
  absl::StatusOr<ParsedPacket> lenient = ParsePacket(in, {.allow_truncated = true});
  if (lenient.ok()) (void)FormatPacket(*lenient);

  absl::StatusOr<ParsedPacket> p = ParsePacket(in);
  if (!p.ok()) return 0;
  if (!lenient.ok() || *lenient != *p) Fail("strict parse differs from lenient", *p);
  if (p->payload_offset + p->payload_size > size) Fail("payload past the frame", *p);
  if (FormatPacket(*p).empty()) Fail("empty format", *p);

  // IPv6 fragment headers are not rebuilt, and without one a later
  // fragment's data would be read as an L4 header.
  if (p->l3 == L3Kind::kIpv6 && p->ipv6.fragment) return 0;
  // An IP packet of more than 65535 bytes cannot be rebuilt (IPv6 jumbo).
  if (size > 65000) return 0;
  std::vector<uint8_t> frame = Rebuild(*p, in);
  absl::StatusOr<ParsedPacket> again = ParsePacket(frame);
  if (!again.ok()) {
    std::fprintf(stderr, "rebuilt frame does not parse: %s\n",
                 std::string(again.status().message()).c_str());
    Fail("original", *p);
  }
  if (Fields(*again) != Fields(*p)) {
    std::fprintf(stderr, "rebuilt: %s\n", FormatPacket(*again).c_str());
    Fail("rebuild changed the fields", *p);
  }
  return 0;
}
