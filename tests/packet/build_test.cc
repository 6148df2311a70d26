// PacketBuilder against an independent oracle: the golden frames below were
// made once by scapy 2.5 (Debian's python3-scapy), which computes lengths and
// checksums with its own code; the builder must produce the same bytes.
// Checksums are also checked the RFC 1071 way (a correct one sums to 0).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/common/hex.h"
#include "src/packet/packet.h"

namespace shortcut::packet {
namespace {

const MacAddr kA = MacAddr::FromU64(0x020000000001);
const MacAddr kB = MacAddr::FromU64(0x020000000002);
const MacAddr kZero;
constexpr Ipv4Addr kIp1 = Ipv4Addr::FromOctets(10, 0, 0, 1);
constexpr Ipv4Addr kIp2 = Ipv4Addr::FromOctets(10, 0, 0, 2);

Ipv6Addr V6(std::string_view text) {
  absl::StatusOr<Ipv6Addr> a = Ipv6Addr::Parse(text);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *a : Ipv6Addr{};
}

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

struct Golden {
  const char* name;
  const char* hex;  // From scapy: bytes(Ether(...)/...).hex().
  std::vector<uint8_t> built;
};

std::vector<Golden> Goldens() {
  const Ipv6Addr s6 = V6("fd00::1");
  const Ipv6Addr d6 = V6("fd00::2");
  std::vector<uint8_t> target(d6.bytes.begin(), d6.bytes.end());
  return {
      // Ether(src=A,dst=BC)/ARP(op=1,hwsrc=A,psrc='10.0.0.1',pdst='10.0.0.2')
      {"arp_request",
       "ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002",
       PacketBuilder()
           .Eth(kA, MacAddr::Broadcast())
           .Arp(kArpRequest, kA, kIp1, kZero, kIp2)
           .Build()},
      // Ether(src=B,dst=A)/ARP(op=2,hwsrc=B,psrc='10.0.0.2',hwdst=A,pdst='10.0.0.1')
      {"arp_reply",
       "020000000001020000000002080600010800060400020200000000020a0000020200000000010a000001",
       PacketBuilder().Eth(kB, kA).Arp(kArpReply, kB, kIp2, kA, kIp1).Build()},
      // IP(id=0,ttl=64)/TCP(sport=1234,dport=80,flags='S',seq=1000,window=65535)
      {"ipv4_tcp_syn",
       "02000000000202000000000108004500002800000000400666ce0a0000010a00000204d20050000003e80000"
       "00005002ffff92d60000",
       PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Tcp(1234, 80, kTcpSyn, 1000).Build()},
      // IP(id=7,ttl=63,tos=0xb8,flags='DF')/TCP(flags='PA',seq=1001,ack=5000,window=512)/Raw
      {"ipv4_tcp_data",
       "020000000002020000000001080045b8003a000740003f0626fd0a0000010a00000204d20050000003e90000"
       "1388501802009e850000474554202f20485454502f312e300d0a0d0a",
       PacketBuilder()
           .Eth(kA, kB)
           .Ipv4(kIp1, kIp2, {.ttl = 63, .dscp = 46, .id = 7, .dont_fragment = true})
           .Tcp(1234, 80, kTcpPsh | kTcpAck, 1001, 5000, 512)
           .Payload("GET / HTTP/1.0\r\n\r\n")
           .Build()},
      // IP(src='192.168.1.10',dst='8.8.8.8',id=0)/UDP(sport=5353,dport=53)/Raw(b'hello')
      {"ipv4_udp",
       "020000000002020000000001080045000021000000004011a90ac0a8010a0808080814e90035000dd5216865"
       "6c6c6f",
       PacketBuilder()
           .Eth(kA, kB)
           .Ipv4(Ipv4Addr::FromOctets(192, 168, 1, 10), Ipv4Addr::FromOctets(8, 8, 8, 8))
           .Udp(5353, 53)
           .Payload("hello")
           .Build()},
      // IP(id=0)/ICMP(type=8,code=0,id=0x1234,seq=1)/Raw(b'ping!')
      {"ipv4_icmp_echo",
       "02000000000202000000000108004500002100000000400166da0a0000010a0000020800e5f9123400017069"
       "6e6721",
       PacketBuilder()
           .Eth(kA, kB)
           .Ipv4(kIp1, kIp2)
           .Icmp(8, 0, 0x12340001)
           .Payload("ping!")
           .Build()},
      // IPv6(src='fd00::1',dst='fd00::2')/TCP(sport=40000,dport=443,flags='SA',seq=1,ack=2)
      {"ipv6_tcp",
       "02000000000202000000000186dd6000000000140640fd000000000000000000000000000001fd0000000000"
       "000000000000000000029c4001bb00000001000000025012ffff17d00000",
       PacketBuilder().Eth(kA, kB).Ipv6(s6, d6).Tcp(40000, 443, kTcpSyn | kTcpAck, 1, 2).Build()},
      // IPv6/UDP(sport=546,dport=547)/Raw(b'dhcp6')
      {"ipv6_udp",
       "02000000000202000000000186dd60000000000d1140fd000000000000000000000000000001fd0000000000"
       "0000000000000000000202220223000d03b26468637036",
       PacketBuilder().Eth(kA, kB).Ipv6(s6, d6).Udp(546, 547).Payload("dhcp6").Build()},
      // Ether(dst='33:33:ff:00:00:02')/IPv6(dst='ff02::1:ff00:2',hlim=255)/ICMPv6ND_NS(tgt=fd00::2)
      {"ipv6_icmpv6_ns",
       "3333ff00000202000000000186dd6000000000183afffd000000000000000000000000000001ff0200000000"
       "000000000001ff000002870080a100000000fd000000000000000000000000000002",
       PacketBuilder()
           .Eth(kA, MacAddr::FromU64(0x3333ff000002))
           .Ipv6(s6, V6("ff02::1:ff00:2"), {.hop_limit = 255})
           .Icmpv6(135, 0)
           .Payload(target)
           .Build()},
      // Dot1Q(vlan=10,prio=5)/IP(id=0)/UDP(sport=1000,dport=2000)/Raw(b'x')
      {"vlan_ipv4_udp",
       "0200000000020200000000018100a00a08004500001d00000000401166ce0a0000010a00000203e807d00009"
       "682178",
       PacketBuilder()
           .Eth(kA, kB)
           .Vlan(10, 5)
           .Ipv4(kIp1, kIp2)
           .Udp(1000, 2000)
           .Payload("x")
           .Build()},
      // Dot1AD(vlan=100)/Dot1Q(vlan=10)/ARP(op=1,...)
      {"qinq_arp",
       "ffffffffffff02000000000188a800648100000a080600010800060400010200000000010a00000100000000"
       "00000a000002",
       PacketBuilder()
           .Eth(kA, MacAddr::Broadcast())
           .Vlan(VlanTag{kEthTypeQinQ, 100, 0, false})
           .Vlan(10)
           .Arp(kArpRequest, kA, kIp1, kZero, kIp2)
           .Build()},
      // UDP(sport=1,dport=2)/Raw(b'\xeb\xd4'): the sum is 0, sent as 0xffff.
      {"ipv4_udp_zero_sum",
       "02000000000202000000000108004500001e00000000401166cd0a0000010a00000200010002000affffebd4",
       PacketBuilder()
           .Eth(kA, kB)
           .Ipv4(kIp1, kIp2)
           .Udp(1, 2)
           .Payload(std::vector<uint8_t>{0xeb, 0xd4})
           .Build()},
  };
}

TEST(BuildTest, MatchesScapyGoldens) {
  for (const Golden& g : Goldens()) {
    EXPECT_EQ(ToHex(g.built), g.hex) << g.name;
  }
}

// Every checksum in every golden verifies by summing to zero, and what the
// parser reads back is what was built.
TEST(BuildTest, GoldenChecksumsVerify) {
  for (const Golden& g : Goldens()) {
    absl::StatusOr<ParsedPacket> p = ParsePacket(g.built);
    ASSERT_TRUE(p.ok()) << g.name << ": " << p.status();
    std::span<const uint8_t> f(g.built);
    std::span<const uint8_t> seg = f.subspan(p->l4_offset);
    if (p->l3 == L3Kind::kIpv4) {
      std::span<const uint8_t> hdr = f.subspan(p->l3_offset, p->ipv4.header_length);
      EXPECT_EQ(InternetChecksum(hdr), 0) << g.name;
      EXPECT_EQ(Ipv4HeaderChecksum(hdr), (hdr[10] << 8) | hdr[11]) << g.name;
      if (p->l4 == L4Kind::kIcmp) {
        EXPECT_EQ(InternetChecksum(seg), 0) << g.name;
      } else {
        EXPECT_EQ(Ipv4L4Checksum(p->ipv4.src, p->ipv4.dst, p->ipv4.proto, seg), 0) << g.name;
      }
    } else if (p->l3 == L3Kind::kIpv6) {
      EXPECT_EQ(Ipv6L4Checksum(p->ipv6.src, p->ipv6.dst, p->ipv6.next_header, seg), 0) << g.name;
    }
  }
}

// The worked example of an IPv4 header checksum from the Wikipedia article
// "Internet checksum"/"IPv4 header checksum": 0xb861.
TEST(BuildTest, Ipv4HeaderChecksumKnownExample) {
  absl::StatusOr<std::vector<uint8_t>> hdr =
      FromHex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  ASSERT_TRUE(hdr.ok());
  EXPECT_EQ(Ipv4HeaderChecksum(*hdr), 0xb861);
  EXPECT_EQ(InternetChecksum(*hdr), 0);
  // The field's current value does not matter.
  (*hdr)[10] = 0x12;
  (*hdr)[11] = 0x34;
  EXPECT_EQ(Ipv4HeaderChecksum(*hdr), 0xb861);
}

// RFC 1071 section 3's example words 0001 f203 f4f5 f6f7 sum to 0xddf2, so
// the checksum is its complement; an odd byte is padded with zero.
TEST(BuildTest, InternetChecksumRfc1071Example) {
  absl::StatusOr<std::vector<uint8_t>> data = FromHex("0001 f203 f4f5 f6f7");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(InternetChecksum(*data), static_cast<uint16_t>(~0xddf2));
  std::vector<uint8_t> odd = {0x01};
  EXPECT_EQ(InternetChecksum(odd), static_cast<uint16_t>(~0x0100));
  EXPECT_EQ(InternetChecksum({}), 0xffff);
}

TEST(BuildTest, LengthsFollowThePayload) {
  std::vector<uint8_t> payload(1000, 0xab);
  std::vector<uint8_t> f =
      PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).Udp(1, 2).Payload(payload).Build();
  ASSERT_EQ(f.size(), 14u + 20 + 8 + 1000);
  EXPECT_EQ((f[16] << 8) | f[17], 20 + 8 + 1000);  // IPv4 total length.
  EXPECT_EQ((f[38] << 8) | f[39], 8 + 1000);       // UDP length.
  std::vector<uint8_t> g = PacketBuilder()
                               .Eth(kA, kB)
                               .Ipv6(V6("::1"), V6("::2"))
                               .Tcp(1, 2, kTcpAck)
                               .Payload(payload)
                               .Build();
  EXPECT_EQ((g[18] << 8) | g[19], 20 + 1000);  // IPv6 payload length.
}

TEST(BuildTest, CallOrderDoesNotMatter) {
  std::vector<uint8_t> a = PacketBuilder()
                               .Payload("abc")
                               .Tcp(1, 2, kTcpSyn)
                               .Ipv4(kIp1, kIp2)
                               .Vlan(7)
                               .Eth(kA, kB)
                               .Build();
  std::vector<uint8_t> b = PacketBuilder()
                               .Eth(kA, kB)
                               .Vlan(7)
                               .Ipv4(kIp1, kIp2)
                               .Tcp(1, 2, kTcpSyn)
                               .Payload("abc")
                               .Build();
  EXPECT_EQ(a, b);
}

TEST(BuildTest, RawEthTypeAndIpProto) {
  std::vector<uint8_t> f = PacketBuilder().Eth(kA, kB).EthType(0x88cc).Payload("lldp").Build();
  EXPECT_EQ(ToHex(f),
            "020000000002020000000001"
            "88cc" +
                ToHex(Bytes("lldp")));
  std::vector<uint8_t> g =
      PacketBuilder().Eth(kA, kB).Ipv4(kIp1, kIp2).IpProto(47).Payload("gre").Build();
  absl::StatusOr<ParsedPacket> p = ParsePacket(g);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->ipv4.proto, 47);
  EXPECT_EQ(p->l4, L4Kind::kOther);
  EXPECT_EQ(p->payload_size, 3u);
}

TEST(BuildTest, ArpReplyAnswersTheRequest) {
  std::vector<uint8_t> req = PacketBuilder()
                                 .Eth(kA, MacAddr::Broadcast())
                                 .Vlan(10)
                                 .Arp(kArpRequest, kA, kIp1, kZero, kIp2)
                                 .Build();
  absl::StatusOr<ParsedPacket> p = ParsePacket(req);
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<uint8_t> reply = BuildArpReply(*p, kB);
  // The same frame built by hand.
  EXPECT_EQ(reply, PacketBuilder().Eth(kB, kA).Vlan(10).Arp(kArpReply, kB, kIp2, kA, kIp1).Build());
  absl::StatusOr<ParsedPacket> r = ParsePacket(reply);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(FormatPacket(*r),
            "vlan 10 arp reply 10.0.0.2 is-at 02:00:00:00:00:02 to 10.0.0.1 (02:00:00:00:00:01)");
}

TEST(BuildDeathTest, MisuseAborts) {
  EXPECT_DEATH(PacketBuilder().Eth(kA, kB).Build(), "no L3 and no EthType");
  EXPECT_DEATH(PacketBuilder().Eth(kA, kB).EthType(0x800).Tcp(1, 2, 0).Build(), "L4 without IP");
  EXPECT_DEATH(PacketBuilder().Eth(kA, kB).Ipv6(V6("::1"), V6("::2")).Icmp(8, 0).Build(),
               "Icmp\\(\\) needs Ipv4");
  ParsedPacket not_arp;
  EXPECT_DEATH(BuildArpReply(not_arp, kB), "not an ARP request");
}

}  // namespace
}  // namespace shortcut::packet
