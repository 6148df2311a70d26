// ParsePacket and FormatPacket: fields of frames made by another tool
// (scapy), round trips through the builder for every layer combination,
// every truncation of valid frames, and malformed headers (each error names
// the layer and the offset). Runs under ASan+UBSan in scripts/test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "src/common/hex.h"
#include "src/packet/packet.h"

namespace shortcut::packet {
namespace {

using ::testing::HasSubstr;

const MacAddr kA = MacAddr::FromU64(0x020000000001);
const MacAddr kB = MacAddr::FromU64(0x020000000002);
constexpr Ipv4Addr kIp1 = Ipv4Addr::FromOctets(10, 0, 0, 1);
constexpr Ipv4Addr kIp2 = Ipv4Addr::FromOctets(10, 0, 0, 2);

Ipv6Addr V6(std::string_view text) {
  absl::StatusOr<Ipv6Addr> a = Ipv6Addr::Parse(text);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *a : Ipv6Addr{};
}

std::vector<uint8_t> Hex(std::string_view hex) {
  absl::StatusOr<std::vector<uint8_t>> b = FromHex(hex);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : std::vector<uint8_t>{};
}

ParsedPacket MustParse(std::span<const uint8_t> frame, const ParseOptions& options = {}) {
  absl::StatusOr<ParsedPacket> p = ParsePacket(frame, options);
  EXPECT_TRUE(p.ok()) << p.status() << " for " << ToHex(frame);
  return p.ok() ? *p : ParsedPacket{};
}

// ---------------------------------------------------------------- addresses

TEST(AddrTest, Mac) {
  EXPECT_EQ(kA.ToString(), "02:00:00:00:00:01");
  absl::StatusOr<MacAddr> m = MacAddr::Parse("0A:bc:DE:f0:12:34");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ToU64(), 0x0abcdef01234u);
  EXPECT_EQ(m->ToString(), "0a:bc:de:f0:12:34");
  for (const char* bad : {"", "02:00:00:00:00", "02:00:00:00:00:001", "02-00-00-00-00-01",
                          "0g:00:00:00:00:01", "2:00:00:00:00:01:", "02:00:00:00:00:01 "}) {
    EXPECT_FALSE(MacAddr::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(MacAddr::Broadcast().IsBroadcast());
  EXPECT_TRUE(MacAddr::FromU64(0x01005e000001).IsMulticast());
  EXPECT_FALSE(kA.IsMulticast());
}

TEST(AddrTest, Ipv4) {
  EXPECT_EQ(kIp1.value, 0x0a000001u);
  EXPECT_EQ(kIp1.ToString(), "10.0.0.1");
  EXPECT_EQ(Ipv4Addr{0xffffffff}.ToString(), "255.255.255.255");
  absl::StatusOr<Ipv4Addr> a = Ipv4Addr::Parse("192.168.1.254");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, Ipv4Addr::FromOctets(192, 168, 1, 254));
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1/24", "::1", "a.b.c.d"}) {
    EXPECT_FALSE(Ipv4Addr::Parse(bad).ok()) << bad;
  }
}

TEST(AddrTest, Ipv6) {
  Ipv6Addr a = V6("FE80:0:0:0:0:0:0:1");
  EXPECT_EQ(a.bytes[0], 0xfe);
  EXPECT_EQ(a.bytes[15], 1);
  EXPECT_EQ(a.ToString(), "fe80::1");
  EXPECT_EQ(V6("::ffff:10.0.0.1").ToString(), "::ffff:10.0.0.1");
  EXPECT_EQ(Ipv6Addr{}.ToString(), "::");
  for (const char* bad : {"", "fe80::1::2", "10.0.0.1", "fe80::g", "fe80::1%eth0"}) {
    EXPECT_FALSE(Ipv6Addr::Parse(bad).ok()) << bad;
  }
}

// ---------------------------------------------------------------- scapy frames

// Frames made by scapy 2.5 (see build_test.cc): the parser reads fields that
// another implementation wrote.
TEST(ParseTest, ScapyArpRequest) {
  std::vector<uint8_t> f =
      Hex("ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002");
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.eth_dst, MacAddr::Broadcast());
  EXPECT_EQ(p.eth_src, kA);
  EXPECT_EQ(p.eth_type, kEthTypeArp);
  EXPECT_EQ(p.l3, L3Kind::kArp);
  EXPECT_EQ(p.arp.op, kArpRequest);
  EXPECT_EQ(p.arp.sha, kA);
  EXPECT_EQ(p.arp.spa, kIp1);
  EXPECT_EQ(p.arp.tha, MacAddr{});
  EXPECT_EQ(p.arp.tpa, kIp2);
  EXPECT_EQ(p.l4, L4Kind::kNone);
  EXPECT_EQ(FormatPacket(p), "arp request who-has 10.0.0.2 tell 10.0.0.1 (02:00:00:00:00:01)");
}

TEST(ParseTest, ScapyIpv4TcpWithData) {
  std::vector<uint8_t> f = Hex(
      "020000000002020000000001080045b8003a000740003f0626fd0a0000010a00000204d20050000003e900001"
      "388501802009e850000474554202f20485454502f312e300d0a0d0a");
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.l3, L3Kind::kIpv4);
  EXPECT_EQ(p.ipv4.src, kIp1);
  EXPECT_EQ(p.ipv4.dst, kIp2);
  EXPECT_EQ(p.ipv4.proto, kIpProtoTcp);
  EXPECT_EQ(p.ipv4.ttl, 63);
  EXPECT_EQ(p.ipv4.dscp, 46);
  EXPECT_EQ(p.ipv4.ecn, 0);
  EXPECT_EQ(p.ipv4.id, 7);
  EXPECT_TRUE(p.ipv4.dont_fragment);
  EXPECT_FALSE(p.ipv4.more_fragments);
  EXPECT_EQ(p.ipv4.fragment_offset, 0);
  EXPECT_EQ(p.ipv4.header_length, 20);
  EXPECT_EQ(p.ipv4.total_length, 58);
  EXPECT_EQ(p.l4, L4Kind::kTcp);
  EXPECT_EQ(p.src_port, 1234);
  EXPECT_EQ(p.dst_port, 80);
  EXPECT_EQ(p.tcp_flags, kTcpPsh | kTcpAck);
  EXPECT_EQ(p.tcp_seq, 1001u);
  EXPECT_EQ(p.tcp_ack, 5000u);
  EXPECT_EQ(p.tcp_window, 512);
  EXPECT_EQ(p.l3_offset, 14u);
  EXPECT_EQ(p.l4_offset, 34u);
  EXPECT_EQ(p.payload_offset, 54u);
  EXPECT_EQ(p.payload_size, 18u);
  EXPECT_EQ(FormatPacket(p), "ipv4 10.0.0.1 > 10.0.0.2 tcp 1234 > 80 [P.]");
}

TEST(ParseTest, ScapyIpv6IcmpNeighborSolicitation) {
  std::vector<uint8_t> f = Hex(
      "3333ff00000202000000000186dd6000000000183afffd000000000000000000000000000001ff020000000000"
      "0000000001ff000002870080a100000000fd000000000000000000000000000002");
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.l3, L3Kind::kIpv6);
  EXPECT_EQ(p.ipv6.src, V6("fd00::1"));
  EXPECT_EQ(p.ipv6.dst, V6("ff02::1:ff00:2"));
  EXPECT_EQ(p.ipv6.hop_limit, 255);
  EXPECT_EQ(p.ipv6.next_header, kIpProtoIcmpv6);
  EXPECT_EQ(p.ipv6.payload_length, 24);
  EXPECT_EQ(p.l4, L4Kind::kIcmpv6);
  EXPECT_EQ(p.icmp_type, 135);
  EXPECT_EQ(p.icmp_code, 0);
  EXPECT_EQ(p.payload_size, 16u);  // The target address.
  EXPECT_EQ(FormatPacket(p), "ipv6 fd00::1 > ff02::1:ff00:2 icmpv6 type 135 code 0");
}

TEST(ParseTest, ScapyQinQArp) {
  std::vector<uint8_t> f = Hex(
      "ffffffffffff02000000000188a800648100000a080600010800060400010200000000010a0000010000000000"
      "000a000002");
  ParsedPacket p = MustParse(f);
  ASSERT_EQ(p.vlan_count, 2);
  EXPECT_EQ(p.vlans[0], (VlanTag{kEthTypeQinQ, 100, 0, false}));
  EXPECT_EQ(p.vlans[1], (VlanTag{kEthTypeVlan, 10, 0, false}));
  EXPECT_EQ(p.eth_type, kEthTypeArp);
  EXPECT_EQ(p.l3_offset, 22u);
  EXPECT_EQ(FormatPacket(p),
            "vlan 100 vlan 10 arp request who-has 10.0.0.2 tell 10.0.0.1 (02:00:00:00:00:01)");
}

TEST(ParseTest, ScapyVlanUdp) {
  std::vector<uint8_t> f = Hex(
      "0200000000020200000000018100a00a08004500001d00000000401166ce0a0000010a00000203e807d000096"
      "82178");
  ParsedPacket p = MustParse(f);
  ASSERT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.vlans[0].vid, 10);
  EXPECT_EQ(p.vlans[0].pcp, 5);
  EXPECT_EQ(p.l4, L4Kind::kUdp);
  EXPECT_EQ(p.src_port, 1000);
  EXPECT_EQ(p.dst_port, 2000);
  EXPECT_EQ(p.payload_size, 1u);
  EXPECT_EQ(f[p.payload_offset], 'x');
  EXPECT_EQ(FormatPacket(p), "vlan 10 ipv4 10.0.0.1 > 10.0.0.2 udp 1000 > 2000");
}

// ---------------------------------------------------------------- round trips

struct Combo {
  std::string name;
  std::vector<uint8_t> frame;
  ParsedPacket want;  // The fields the builder was given (offsets unchecked).
};

// Every L3/L4 combination the builder makes, with 0, 1 and 2 VLAN tags and
// with and without payload.
std::vector<Combo> Combos() {
  const Ipv6Addr s6 = V6("2001:db8::1");
  const Ipv6Addr d6 = V6("2001:db8::2");
  std::vector<Combo> out;
  for (int vlans = 0; vlans <= 2; ++vlans) {
    for (std::string_view payload : {std::string_view(), std::string_view("payload!")}) {
      for (int kind = 0; kind < 10; ++kind) {
        PacketBuilder b;
        ParsedPacket w;
        b.Eth(kA, kB);
        w.eth_src = kA;
        w.eth_dst = kB;
        for (int v = 0; v < vlans; ++v) {
          VlanTag tag{v == 0 && vlans == 2 ? kEthTypeQinQ : kEthTypeVlan,
                      static_cast<uint16_t>(100 + v), static_cast<uint8_t>(v + 1), v == 1};
          b.Vlan(tag);
          w.vlans[w.vlan_count++] = tag;
        }
        std::string name;
        if (kind == 0) {
          name = "arp";
          b.Arp(kArpReply, kA, kIp1, kB, kIp2);
          w.eth_type = kEthTypeArp;
          w.l3 = L3Kind::kArp;
          w.arp = {kArpReply, kA, kIp1, kB, kIp2};
        } else if (kind == 1) {
          name = "other";
          b.EthType(0x88cc);
          w.eth_type = 0x88cc;
          w.l3 = L3Kind::kOther;
        } else if (kind <= 5) {
          Ipv4Options o{.ttl = 9, .dscp = 10, .ecn = 1, .id = 0x4242, .dont_fragment = true};
          b.Ipv4(kIp1, kIp2, o);
          w.eth_type = kEthTypeIpv4;
          w.l3 = L3Kind::kIpv4;
          w.ipv4.src = kIp1;
          w.ipv4.dst = kIp2;
          w.ipv4.ttl = 9;
          w.ipv4.dscp = 10;
          w.ipv4.ecn = 1;
          w.ipv4.id = 0x4242;
          w.ipv4.dont_fragment = true;
          w.ipv4.header_length = 20;
        } else {
          b.Ipv6(s6, d6, {.hop_limit = 7, .traffic_class = 0xa5, .flow_label = 0xabcde});
          w.eth_type = kEthTypeIpv6;
          w.l3 = L3Kind::kIpv6;
          w.ipv6.src = s6;
          w.ipv6.dst = d6;
          w.ipv6.hop_limit = 7;
          w.ipv6.traffic_class = 0xa5;
          w.ipv6.flow_label = 0xabcde;
        }
        uint8_t proto = 0;
        switch (kind) {
          case 2:
          case 6:
            name = kind == 2 ? "ipv4_tcp" : "ipv6_tcp";
            b.Tcp(1234, 80, kTcpSyn | kTcpEce | kTcpCwr, 7, 8, 9);
            proto = kIpProtoTcp;
            w.l4 = L4Kind::kTcp;
            w.src_port = 1234;
            w.dst_port = 80;
            w.tcp_flags = kTcpSyn | kTcpEce | kTcpCwr;
            w.tcp_seq = 7;
            w.tcp_ack = 8;
            w.tcp_window = 9;
            break;
          case 3:
          case 7:
            name = kind == 3 ? "ipv4_udp" : "ipv6_udp";
            b.Udp(53, 5353);
            proto = kIpProtoUdp;
            w.l4 = L4Kind::kUdp;
            w.src_port = 53;
            w.dst_port = 5353;
            break;
          case 4:
            name = "ipv4_icmp";
            b.Icmp(3, 4, 0x01020304);
            proto = kIpProtoIcmp;
            w.l4 = L4Kind::kIcmp;
            break;
          case 8:
            name = "ipv6_icmpv6";
            b.Icmpv6(1, 4, 0x01020304);
            proto = kIpProtoIcmpv6;
            w.l4 = L4Kind::kIcmpv6;
            break;
          case 5:
          case 9:
            name = kind == 5 ? "ipv4_raw" : "ipv6_raw";
            b.IpProto(132);  // SCTP: not parsed.
            proto = 132;
            w.l4 = L4Kind::kOther;
            break;
        }
        if (w.l4 == L4Kind::kIcmp || w.l4 == L4Kind::kIcmpv6) {
          w.icmp_type = w.l4 == L4Kind::kIcmp ? 3 : 1;
          w.icmp_code = 4;
          w.icmp_rest = 0x01020304;
        }
        w.ipv4.proto = w.l3 == L3Kind::kIpv4 ? proto : 0;
        w.ipv6.next_header = w.l3 == L3Kind::kIpv6 ? proto : 0;
        b.Payload(payload);
        w.payload_size = payload.size();
        Combo c{absl::StrCat(name, "/vlans", vlans, "/payload", payload.size()), b.Build(), w};
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

// The parsed packet with its length and offset fields taken from `want`,
// which the builder computes rather than being told.
ParsedPacket WithoutLayout(ParsedPacket p, const ParsedPacket& want) {
  p.ipv4.total_length = want.ipv4.total_length;
  p.ipv6.payload_length = want.ipv6.payload_length;
  p.l3_offset = want.l3_offset;
  p.l4_offset = want.l4_offset;
  p.payload_offset = want.payload_offset;
  return p;
}

TEST(RoundTripTest, EveryLayerCombination) {
  std::vector<Combo> combos = Combos();
  ASSERT_EQ(combos.size(), 60u);
  for (const Combo& c : combos) {
    ParsedPacket p = MustParse(c.frame);
    EXPECT_EQ(WithoutLayout(p, c.want), c.want) << c.name << ": " << FormatPacket(p);
    EXPECT_EQ(p.payload_offset + p.payload_size, c.frame.size()) << c.name;
    EXPECT_EQ(p.l3_offset, 14u + 4 * p.vlan_count) << c.name;
    EXPECT_FALSE(FormatPacket(p).empty());
  }
}

TEST(RoundTripTest, EthernetPaddingIsNotPayload) {
  for (const Combo& c : Combos()) {
    if (c.want.l3 == L3Kind::kOther || c.want.l3 == L3Kind::kArp) continue;
    std::vector<uint8_t> padded = c.frame;
    padded.resize(padded.size() + 18, 0);
    ParsedPacket p = MustParse(padded);
    EXPECT_EQ(p, MustParse(c.frame)) << c.name;
  }
}

// Every prefix of every frame either fails with an error naming a layer and
// an offset, or parses to the same headers (only the payload can be shorter).
TEST(RoundTripTest, EveryTruncationFailsCleanly) {
  for (const Combo& c : Combos()) {
    ParsedPacket full = MustParse(c.frame);
    for (size_t n = 0; n < c.frame.size(); ++n) {
      std::span<const uint8_t> prefix(c.frame.data(), n);
      absl::StatusOr<ParsedPacket> p = ParsePacket(prefix);
      if (!p.ok()) {
        EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.name << " " << n;
        EXPECT_THAT(std::string(p.status().message()), HasSubstr(" at offset ")) << c.name;
        continue;
      }
      // Only frames whose last layer has no length field can be cut.
      EXPECT_TRUE(full.l3 == L3Kind::kOther || full.l3 == L3Kind::kArp) << c.name << " " << n;
      EXPECT_GE(n, full.payload_offset) << c.name;
      ParsedPacket q = *p;
      q.payload_size = full.payload_size;
      EXPECT_EQ(q, full) << c.name << " " << n;
    }
  }
}

// With allow_truncated, a prefix that holds every header parses to the same
// headers and says it is truncated; a shorter one fails as before.
TEST(RoundTripTest, AllowTruncatedKeepsTheHeaders) {
  for (const Combo& c : Combos()) {
    if (c.want.l3 != L3Kind::kIpv4 && c.want.l3 != L3Kind::kIpv6) continue;
    ParsedPacket full = MustParse(c.frame);
    for (size_t n = 0; n < c.frame.size(); ++n) {
      std::span<const uint8_t> prefix(c.frame.data(), n);
      absl::StatusOr<ParsedPacket> p = ParsePacket(prefix, {.allow_truncated = true});
      if (n < full.payload_offset) {
        EXPECT_FALSE(p.ok()) << c.name << " " << n;
        continue;
      }
      ASSERT_TRUE(p.ok()) << c.name << " " << n << ": " << p.status();
      EXPECT_TRUE(p->truncated);
      EXPECT_EQ(p->payload_size, n - full.payload_offset) << c.name;
      ParsedPacket q = *p;
      q.payload_size = full.payload_size;
      q.truncated = false;
      EXPECT_EQ(q, full) << c.name << " " << n;
      EXPECT_THAT(FormatPacket(*p), HasSubstr("(truncated)"));
    }
  }
}

// ---------------------------------------------------------------- malformed

std::vector<uint8_t> Ipv4Tcp() {
  return PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Tcp(1, 2, kTcpSyn).Payload("data").Build();
}

std::string ParseError(std::span<const uint8_t> f) {
  absl::StatusOr<ParsedPacket> p = ParsePacket(f);
  if (p.ok()) return "parsed: " + FormatPacket(*p);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

TEST(MalformedTest, Ethernet) {
  std::vector<uint8_t> f = Ipv4Tcp();
  EXPECT_EQ(ParseError(std::span(f).first(13)),
            "ethernet header at offset 0: truncated (need 14 bytes, have 13)");
  EXPECT_EQ(ParseError({}), "ethernet header at offset 0: truncated (need 14 bytes, have 0)");
}

TEST(MalformedTest, VlanTagTruncated) {
  std::vector<uint8_t> f = PacketBuilder().Eth(kA, kB).Vlan(5).Vlan(6).EthType(0x88cc).Build();
  EXPECT_EQ(ParseError(std::span(f).first(16)),
            "vlan tag at offset 14: truncated (need 4 bytes, have 2)");
  EXPECT_EQ(ParseError(std::span(f).first(20)),
            "vlan tag at offset 18: truncated (need 4 bytes, have 2)");
}

TEST(MalformedTest, ThirdVlanTagIsNotParsed) {
  std::vector<uint8_t> f =
      PacketBuilder().Eth(kA, kB).Vlan(1).Vlan(2).Vlan(3).Ipv4(kIp1, kIp2).Udp(1, 2).Build();
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.vlan_count, 2);
  EXPECT_EQ(p.eth_type, kEthTypeVlan);
  EXPECT_EQ(p.l3, L3Kind::kOther);
  EXPECT_EQ(p.l3_offset, 22u);
  EXPECT_EQ(FormatPacket(p), "vlan 1 vlan 2 eth 02:00:00:00:00:01 > 02:00:00:00:00:02 type 0x8100");
}

TEST(MalformedTest, Ieee8023LengthIsOther) {
  std::vector<uint8_t> f = PacketBuilder().Eth(kA, kB).EthType(46).Payload("llc").Build();
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.l3, L3Kind::kOther);
  EXPECT_EQ(p.eth_type, 46);
  EXPECT_EQ(p.payload_size, 3u);
}

TEST(MalformedTest, Arp) {
  std::vector<uint8_t> f =
      PacketBuilder().Eth(kA, kB).Arp(kArpRequest, kA, kIp1, MacAddr{}, kIp2).Build();
  EXPECT_EQ(ParseError(std::span(f).first(41)),
            "arp at offset 14: truncated (need 28 bytes, have 27)");
  f[15] = 6;  // htype 6 (IEEE 802).
  EXPECT_EQ(ParseError(f),
            "arp at offset 14: not Ethernet/IPv4 (htype 6, ptype 0x0800, hlen 6, plen 4)");
}

TEST(MalformedTest, Ipv4) {
  std::vector<uint8_t> f = Ipv4Tcp();
  EXPECT_EQ(ParseError(std::span(f).first(33)),
            "ipv4 header at offset 14: truncated (need 20 bytes, have 19)");
  std::vector<uint8_t> g = f;
  g[14] = 0x43;
  EXPECT_EQ(ParseError(g), "ipv4 header at offset 14: ihl 3 < 5");
  g[14] = 0x65;
  EXPECT_EQ(ParseError(g), "ipv4 header at offset 14: version 6 != 4");
  g = f;
  g[14] = 0x4f;  // 60 bytes of header; the frame has 44 after offset 14.
  EXPECT_EQ(ParseError(g), "ipv4 header at offset 14: truncated (need 60 bytes, have 44)");
  g = f;
  g[16] = 0;
  g[17] = 45;  // Total length beyond the frame.
  EXPECT_EQ(ParseError(g), "ipv4 header at offset 14: total length 45 > 44 bytes in the frame");
  g[17] = 19;
  EXPECT_EQ(ParseError(g), "ipv4 header at offset 14: total length 19 < header length 20");
  g[17] = 25;  // Cuts the TCP header.
  EXPECT_EQ(ParseError(g), "tcp header at offset 34: truncated (need 20 bytes, have 5)");
}

TEST(MalformedTest, Ipv4OptionsAreSkipped) {
  std::vector<uint8_t> f = Ipv4Tcp();
  // Insert a 4-byte option (NOP NOP NOP EOL) and fix ihl and total length;
  // the checksum is not checked.
  f.insert(f.begin() + 34, {1, 1, 1, 0});
  f[14] = 0x46;
  f[17] += 4;
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.ipv4.header_length, 24);
  EXPECT_EQ(p.l4_offset, 38u);
  EXPECT_EQ(p.l4, L4Kind::kTcp);
  EXPECT_EQ(p.dst_port, 2);
  EXPECT_EQ(p.payload_size, 4u);
}

TEST(MalformedTest, Tcp) {
  std::vector<uint8_t> f = Ipv4Tcp();
  std::vector<uint8_t> g = f;
  g[46] = 0x40;  // Data offset 4.
  EXPECT_EQ(ParseError(g), "tcp header at offset 34: data offset 4 < 5");
  g[46] = 0x70;  // 28 bytes of header; 24 in the packet.
  EXPECT_EQ(ParseError(g), "tcp header at offset 34: truncated (need 28 bytes, have 24)");
  g[46] = 0x60;  // 24 bytes: the "data" is then a TCP option.
  ParsedPacket p = MustParse(g);
  EXPECT_EQ(p.payload_size, 0u);
}

TEST(MalformedTest, Udp) {
  std::vector<uint8_t> f =
      PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Udp(1, 2).Payload("abcd").Build();
  std::vector<uint8_t> g = f;
  g[39] = 7;
  EXPECT_EQ(ParseError(g), "udp header at offset 34: length 7 < 8");
  g[39] = 13;
  EXPECT_EQ(ParseError(g), "udp header at offset 34: length 13 > 12 bytes in the ip payload");
  g[39] = 10;  // A shorter UDP length bounds the payload.
  EXPECT_EQ(MustParse(g).payload_size, 2u);
  EXPECT_EQ(ParseError(std::span(f).first(41)),
            "ipv4 header at offset 14: total length 32 > 27 bytes in the frame");
}

TEST(MalformedTest, Icmp) {
  std::vector<uint8_t> f = PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Icmp(8, 0).Build();
  f[17] -= 1;
  EXPECT_EQ(ParseError(f), "icmp header at offset 34: truncated (need 8 bytes, have 7)");
  std::vector<uint8_t> g =
      PacketBuilder().Eth(kA, kB).Ipv6(V6("::1"), V6("::2")).Icmpv6(128, 0).Build();
  g[19] = 4;
  EXPECT_EQ(ParseError(std::span(g).first(58)),
            "icmpv6 header at offset 54: truncated (need 8 bytes, have 4)");
}

TEST(MalformedTest, Ipv6) {
  std::vector<uint8_t> f =
      PacketBuilder().Eth(kA, kB).Ipv6(V6("::1"), V6("::2")).Udp(1, 2).Payload("x").Build();
  EXPECT_EQ(ParseError(std::span(f).first(53)),
            "ipv6 header at offset 14: truncated (need 40 bytes, have 39)");
  std::vector<uint8_t> g = f;
  g[14] = 0x40;
  EXPECT_EQ(ParseError(g), "ipv6 header at offset 14: version 4 != 6");
  g = f;
  g[19] = 10;  // Payload length 10, 9 bytes follow.
  EXPECT_EQ(ParseError(g),
            "ipv6 header at offset 14: 40 + payload length 50 > 49 bytes in the frame");
}

// An IPv6 packet whose payload is `ext` (extension headers) followed by a
// UDP header, with `first` as the IPv6 next header.
std::vector<uint8_t> Ipv6WithExtensions(uint8_t first, std::string_view ext_hex) {
  std::vector<uint8_t> udp =
      PacketBuilder().Eth(kA, kB).Ipv6(V6("::1"), V6("::2")).Udp(7, 9).Payload("hi").Build();
  std::vector<uint8_t> payload = Hex(ext_hex);
  payload.insert(payload.end(), udp.begin() + 54, udp.end());
  return PacketBuilder()
      .Eth(kA, kB)
      .Ipv6(V6("::1"), V6("::2"))
      .IpProto(first)
      .Payload(payload)
      .Build();
}

TEST(Ipv6ExtensionTest, ChainIsSkipped) {
  // Hop-by-hop (8 bytes, PadN) -> routing (16 bytes) -> destination options
  // (8) -> fragment (first fragment, more to come) -> UDP.
  std::vector<uint8_t> f = Ipv6WithExtensions(0,
                                              "2b00 0104 00000000"
                                              "3c01 0000 00000000 0000000000000000"
                                              "2c00 0104 00000000"
                                              "1100 0001 deadbeef");
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.ipv6.extension_headers, 4);
  EXPECT_EQ(p.ipv6.next_header, kIpProtoUdp);
  EXPECT_TRUE(p.ipv6.fragment);
  EXPECT_TRUE(p.ipv6.more_fragments);
  EXPECT_EQ(p.ipv6.fragment_offset, 0);
  EXPECT_EQ(p.ipv6.fragment_id, 0xdeadbeefu);
  EXPECT_EQ(p.l4_offset, 54u + 40);
  EXPECT_EQ(p.l4, L4Kind::kUdp);
  EXPECT_EQ(p.src_port, 7);
  EXPECT_EQ(p.payload_size, 2u);
  EXPECT_EQ(FormatPacket(p), "ipv6 ::1 > ::2 udp 7 > 9 fragment offset 0 +");
}

TEST(Ipv6ExtensionTest, LaterFragmentHasNoL4) {
  std::vector<uint8_t> f = Ipv6WithExtensions(44, "1100 00b8 00000001");  // Offset 23 * 8.
  ParsedPacket p = MustParse(f);
  EXPECT_EQ(p.ipv6.fragment_offset, 23);
  EXPECT_EQ(p.ipv6.next_header, kIpProtoUdp);
  EXPECT_EQ(p.l4, L4Kind::kNone);
  EXPECT_EQ(p.payload_offset, 62u);
  EXPECT_EQ(p.payload_size, 10u);  // The UDP header and "hi" are just data here.
  EXPECT_EQ(FormatPacket(p), "ipv6 ::1 > ::2 proto 17 fragment offset 184");
}

TEST(Ipv6ExtensionTest, ChainLimit) {
  // Exactly kMaxIpv6ExtensionHeaders parse; one more is an error.
  std::string chain;
  for (size_t i = 0; i + 1 < kMaxIpv6ExtensionHeaders; ++i) chain += "3c00 0000 00000000";
  ParsedPacket p = MustParse(Ipv6WithExtensions(60, chain + "1100 0000 00000000"));
  EXPECT_EQ(p.ipv6.extension_headers, kMaxIpv6ExtensionHeaders);
  EXPECT_EQ(p.l4, L4Kind::kUdp);
  std::vector<uint8_t> f =
      Ipv6WithExtensions(60, chain + "3c00 0000 00000000" + "1100 0000 00000000");
  EXPECT_EQ(ParseError(f), "ipv6 extension header at offset 118: more than 8 extension headers");
}

TEST(Ipv6ExtensionTest, Truncated) {
  // A routing header that claims 24 bytes inside a 16-byte payload.
  std::vector<uint8_t> f = Ipv6WithExtensions(43, "1102 0000 00000000");
  EXPECT_EQ(ParseError(f),
            "ipv6 extension header at offset 54: truncated (need 24 bytes, have 18)");
  f = Ipv6WithExtensions(43, "");  // The UDP header read as a routing header.
  EXPECT_EQ(ParseError(f),
            "ipv6 extension header at offset 54: truncated (need 64 bytes, have 10)");
}

TEST(FragmentTest, Ipv4) {
  std::vector<uint8_t> later = PacketBuilder()
                                   .Eth(kA, kB)
                                   .Ipv4(kIp1, kIp2, {.id = 5, .fragment_offset = 185})
                                   .IpProto(kIpProtoTcp)
                                   .Payload("0123456789")
                                   .Build();
  ParsedPacket p = MustParse(later);
  EXPECT_EQ(p.ipv4.fragment_offset, 185);
  EXPECT_EQ(p.ipv4.proto, kIpProtoTcp);
  EXPECT_EQ(p.l4, L4Kind::kNone);  // Ten bytes that are not a TCP header.
  EXPECT_EQ(p.payload_offset, 34u);
  EXPECT_EQ(p.payload_size, 10u);
  EXPECT_EQ(FormatPacket(p), "ipv4 10.0.0.1 > 10.0.0.2 proto 6 fragment offset 1480");

  std::vector<uint8_t> first = PacketBuilder()
                                   .Eth(kA, kB)
                                   .Ipv4(kIp1, kIp2, {.id = 5, .more_fragments = true})
                                   .Udp(1, 2)
                                   .Payload("abc")
                                   .Build();
  p = MustParse(first);
  EXPECT_EQ(p.l4, L4Kind::kUdp);
  EXPECT_TRUE(p.ipv4.more_fragments);
  EXPECT_EQ(FormatPacket(p), "ipv4 10.0.0.1 > 10.0.0.2 udp 1 > 2 fragment offset 0 +");
}

// ---------------------------------------------------------------- format

TEST(FormatTest, Lines) {
  auto fmt = [](const std::vector<uint8_t>& f) { return FormatPacket(MustParse(f)); };
  EXPECT_EQ(fmt(PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Tcp(1234, 80, kTcpSyn).Build()),
            "ipv4 10.0.0.1 > 10.0.0.2 tcp 1234 > 80 [S]");
  EXPECT_EQ(
      fmt(PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Tcp(80, 1234, kTcpSyn | kTcpAck).Build()),
      "ipv4 10.0.0.1 > 10.0.0.2 tcp 80 > 1234 [S.]");
  EXPECT_EQ(fmt(PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Tcp(1, 2, kTcpFin | kTcpAck).Build()),
            "ipv4 10.0.0.1 > 10.0.0.2 tcp 1 > 2 [F.]");
  EXPECT_EQ(fmt(PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Tcp(1, 2, 0).Build()),
            "ipv4 10.0.0.1 > 10.0.0.2 tcp 1 > 2 [none]");
  EXPECT_EQ(fmt(PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Icmp(8, 0, 1).Build()),
            "ipv4 10.0.0.1 > 10.0.0.2 icmp type 8 code 0");
  EXPECT_EQ(
      fmt(PacketBuilder().Eth(kA, kB).Ipv6(V6("fe80::1"), V6("fe80::2")).Udp(546, 547).Build()),
      "ipv6 fe80::1 > fe80::2 udp 546 > 547");
  EXPECT_EQ(fmt(PacketBuilder().Eth(kA, kB).Arp(7, kA, kIp1, kB, kIp2).Build()),
            "arp op 7 10.0.0.1 (02:00:00:00:00:01) > 10.0.0.2 (02:00:00:00:00:02)");
  EXPECT_EQ(fmt(PacketBuilder().Eth(kA, kB).EthType(0x88cc).Build()),
            "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 type 0x88cc");
}

TEST(ParseTest, Overloads) {
  std::vector<uint8_t> f = Ipv4Tcp();
  std::string s(f.begin(), f.end());
  absl::StatusOr<ParsedPacket> a = ParsePacket(f.data(), f.size());
  absl::StatusOr<ParsedPacket> b = ParsePacket(std::string_view(s));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

}  // namespace
}  // namespace shortcut::packet
