// Packets without I/O: parse an Ethernet frame into its header fields, print
// it for logs, and build frames (for tests, and for packet-outs such as ARP
// replies).
//
// The gateway sees the first packets of flows as OpenFlow PACKET_INs: the
// match carries the tunnel metadata (src/openflow decodes it) and the data is
// the inner Ethernet frame, which ParsePacket reads. The frame comes from
// outside, so parsing is total and bounds-checked (fuzzed): a malformed or
// truncated frame gives InvalidArgument naming the layer and the offset,
// never a crash or an over-read.
//
// What is parsed: Ethernet II with up to two VLAN tags (TPID 0x8100, 0x88a8
// or 0x9100); ARP for Ethernet/IPv4; IPv4 (options skipped); IPv6 with its
// hop-by-hop, routing, destination-options and fragment extension headers
// skipped (at most kMaxIpv6ExtensionHeaders); TCP, UDP, ICMP (in IPv4) and
// ICMPv6 (in IPv6). Like Open vSwitch's flow extraction, a non-first IP
// fragment has no L4, and a third VLAN tag is left unparsed (eth_type is then
// its TPID).
//
// Checksums are never required to be right: Open vSwitch may hand over
// packets whose checksums the NIC or the kernel would have filled in
// (offload). The helpers below compute them, and PacketBuilder fills them.
//
// Thread-safety: all functions are pure; the value types are plain data.
// A PacketBuilder belongs to one thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shortcut::packet {

// ---------------------------------------------------------------- addresses

// An Ethernet address, in wire order.
struct MacAddr {
  std::array<uint8_t, 6> bytes{};

  // The low 48 bits of v, most significant first (0x020000000001 is
  // 02:00:00:00:00:01).
  static MacAddr FromU64(uint64_t v);
  uint64_t ToU64() const;
  static MacAddr Broadcast() { return FromU64(0xffffffffffff); }
  bool IsBroadcast() const { return ToU64() == 0xffffffffffff; }
  bool IsMulticast() const { return (bytes[0] & 1) != 0; }

  // "02:00:00:00:00:01" (lower case).
  std::string ToString() const;
  // Six groups of exactly two hex digits separated by ':' (either case).
  static absl::StatusOr<MacAddr> Parse(std::string_view text);

  friend bool operator==(const MacAddr&, const MacAddr&) = default;
  friend auto operator<=>(const MacAddr&, const MacAddr&) = default;
};

// An IPv4 address as a number in host order (10.0.0.1 is 0x0a000001), so
// that masks and ranges are plain arithmetic.
struct Ipv4Addr {
  uint32_t value = 0;

  static constexpr Ipv4Addr FromOctets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4Addr{(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d};
  }
  // Dotted quad, "10.0.0.1".
  std::string ToString() const;
  // Strict dotted quad (inet_pton): four decimal octets, nothing else.
  static absl::StatusOr<Ipv4Addr> Parse(std::string_view text);

  friend bool operator==(const Ipv4Addr&, const Ipv4Addr&) = default;
  friend auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) = default;
};

// An IPv6 address, in wire order.
struct Ipv6Addr {
  std::array<uint8_t, 16> bytes{};

  // RFC 5952 text (inet_ntop): "fe80::1".
  std::string ToString() const;
  // Any form inet_pton accepts, including "::ffff:10.0.0.1".
  static absl::StatusOr<Ipv6Addr> Parse(std::string_view text);

  friend bool operator==(const Ipv6Addr&, const Ipv6Addr&) = default;
  friend auto operator<=>(const Ipv6Addr&, const Ipv6Addr&) = default;
};

// ---------------------------------------------------------------- constants

inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeVlan = 0x8100;  // 802.1Q C-tag.
inline constexpr uint16_t kEthTypeQinQ = 0x88a8;  // 802.1ad S-tag.
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

// TCP flag bits as in the header's low 12 bits (NS is 0x100).
inline constexpr uint16_t kTcpFin = 0x01;
inline constexpr uint16_t kTcpSyn = 0x02;
inline constexpr uint16_t kTcpRst = 0x04;
inline constexpr uint16_t kTcpPsh = 0x08;
inline constexpr uint16_t kTcpAck = 0x10;
inline constexpr uint16_t kTcpUrg = 0x20;
inline constexpr uint16_t kTcpEce = 0x40;
inline constexpr uint16_t kTcpCwr = 0x80;

// Frames carry at most this many parsed VLAN tags (as Open vSwitch).
inline constexpr size_t kMaxVlanTags = 2;
// More IPv6 extension headers than this is an error: a long chain is an
// attack on parsers, not traffic.
inline constexpr size_t kMaxIpv6ExtensionHeaders = 8;

// ---------------------------------------------------------------- parsing

enum class L3Kind : uint8_t { kNone, kArp, kIpv4, kIpv6, kOther };
enum class L4Kind : uint8_t { kNone, kTcp, kUdp, kIcmp, kIcmpv6, kOther };

struct VlanTag {
  uint16_t tpid = kEthTypeVlan;  // 0x8100, 0x88a8 or 0x9100.
  uint16_t vid = 0;              // 12 bits.
  uint8_t pcp = 0;               // Priority, 3 bits.
  bool dei = false;              // Drop eligible.

  friend bool operator==(const VlanTag&, const VlanTag&) = default;
};

// ARP for Ethernet/IPv4 (the only kind parsed).
struct ArpFields {
  uint16_t op = 0;  // kArpRequest, kArpReply, ...
  MacAddr sha;      // Sender hardware address.
  Ipv4Addr spa;     // Sender protocol address.
  MacAddr tha;      // Target hardware address.
  Ipv4Addr tpa;     // Target protocol address.

  friend bool operator==(const ArpFields&, const ArpFields&) = default;
};

struct Ipv4Fields {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t proto = 0;
  uint8_t ttl = 0;
  uint8_t dscp = 0;  // 6 bits.
  uint8_t ecn = 0;   // 2 bits.
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // In 8-byte units; non-zero: no L4 here.
  uint8_t header_length = 0;     // Bytes, options included.
  uint16_t total_length = 0;     // As in the header.

  friend bool operator==(const Ipv4Fields&, const Ipv4Fields&) = default;
};

struct Ipv6Fields {
  Ipv6Addr src;
  Ipv6Addr dst;
  uint8_t next_header = 0;  // After the extension headers that were skipped.
  uint8_t hop_limit = 0;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;        // 20 bits.
  uint16_t payload_length = 0;    // As in the header.
  uint8_t extension_headers = 0;  // How many were skipped.
  bool fragment = false;          // A fragment header was seen.
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // In 8-byte units; non-zero: no L4 here.
  uint32_t fragment_id = 0;

  friend bool operator==(const Ipv6Fields&, const Ipv6Fields&) = default;
};

// The headers of one frame. Only the fields of the kinds in l3 and l4 mean
// anything; the others keep their defaults. Offsets count from the first
// byte of the frame.
struct ParsedPacket {
  MacAddr eth_dst;
  MacAddr eth_src;
  // The EtherType after the VLAN tags (a value below 0x0600 is an 802.3
  // length: l3 is then kOther).
  uint16_t eth_type = 0;
  std::array<VlanTag, kMaxVlanTags> vlans{};  // Outermost first.
  uint8_t vlan_count = 0;

  L3Kind l3 = L3Kind::kNone;
  ArpFields arp;
  Ipv4Fields ipv4;
  Ipv6Fields ipv6;

  L4Kind l4 = L4Kind::kNone;
  uint16_t src_port = 0;  // TCP, UDP.
  uint16_t dst_port = 0;
  uint16_t tcp_flags = 0;  // kTcp* bits.
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint16_t tcp_window = 0;
  uint8_t icmp_type = 0;  // ICMP, ICMPv6.
  uint8_t icmp_code = 0;
  uint32_t icmp_rest = 0;  // The 4 bytes after the checksum (echo: id << 16 | seq).

  size_t l3_offset = 0;  // First byte after the EtherType.
  size_t l4_offset = 0;  // First byte after the IP header(s); 0 without IP.
  // The bytes after the innermost parsed header, bounded by the IP (and UDP)
  // length, so Ethernet padding is excluded; without IP, the rest of the frame.
  size_t payload_offset = 0;
  size_t payload_size = 0;
  // Only with ParseOptions::allow_truncated: the IP length runs past the frame.
  bool truncated = false;

  friend bool operator==(const ParsedPacket&, const ParsedPacket&) = default;
};

struct ParseOptions {
  // A PACKET_IN carries at most its max_len bytes of the frame, so the IP
  // length may run past the data. By default that is an error (the gateway
  // asks for whole packets); with this set it is accepted and `truncated`
  // is set, provided every header up to and including L4 is present.
  bool allow_truncated = false;
};

// Parses an Ethernet frame. A truncated header at any layer, including L4
// (a TCP header shorter than 20 bytes or than its data offset, a UDP header
// under 8 bytes, ICMP under 8) is InvalidArgument: a first packet that cannot
// be classified by its ports must not be forwarded as if it could. So is an
// IP or UDP length that runs past the frame (see ParseOptions). Bytes after
// the IP length are Ethernet padding and are ignored.
absl::StatusOr<ParsedPacket> ParsePacket(std::span<const uint8_t> frame,
                                         const ParseOptions& options = {});
absl::StatusOr<ParsedPacket> ParsePacket(const uint8_t* data, size_t size,
                                         const ParseOptions& options = {});
absl::StatusOr<ParsedPacket> ParsePacket(std::string_view frame, const ParseOptions& options = {});

// One line for logs, tcpdump-like:
//   arp request who-has 10.0.0.2 tell 10.0.0.1 (02:00:00:00:00:01)
//   ipv4 10.0.0.1 > 10.0.0.2 tcp 1234 > 80 [S]
//   vlan 10 ipv6 fe80::1 > fe80::2 icmpv6 type 135 code 0
std::string FormatPacket(const ParsedPacket& packet);

// ---------------------------------------------------------------- checksums

// The Internet checksum (RFC 1071) of data: the ones' complement of the ones'
// complement sum of its 16-bit words (an odd last byte padded with zero).
// Over data whose checksum field is zero it is the value to store there;
// over data that carries a correct checksum it is 0.
uint16_t InternetChecksum(std::span<const uint8_t> data);

// The value for an IPv4 header's checksum field; the header's bytes 10-11
// (the field itself) are taken as zero, whatever they hold.
uint16_t Ipv4HeaderChecksum(std::span<const uint8_t> header);

// The TCP/UDP checksum over the pseudo-header and the segment as given (so,
// like InternetChecksum: the value to store if the field is zero, 0 if the
// segment carries a correct one). For UDP a computed 0 is sent as 0xffff.
uint16_t Ipv4L4Checksum(Ipv4Addr src, Ipv4Addr dst, uint8_t proto,
                        std::span<const uint8_t> segment);
// The same with the IPv6 pseudo-header (TCP, UDP, ICMPv6).
uint16_t Ipv6L4Checksum(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                        std::span<const uint8_t> segment);

// ---------------------------------------------------------------- building

struct Ipv4Options {
  uint8_t ttl = 64;
  uint8_t dscp = 0;
  uint8_t ecn = 0;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // In 8-byte units.
};

struct Ipv6Options {
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
};

// Builds a frame layer by layer, in the style of Katran's test fixtures:
//
//   std::vector<uint8_t> f = PacketBuilder()
//       .Eth(src_mac, dst_mac).Vlan(10)
//       .Ipv4(src_ip, dst_ip).Tcp(1234, 80, kTcpSyn).Payload(data).Build();
//
// Layers are written in protocol order whatever the call order; calling a
// layer's method again replaces it (Vlan appends a tag). Build fills the
// EtherTypes, IP protocol, lengths and every checksum (IPv4 header; TCP, UDP,
// ICMPv6 with their pseudo-headers; ICMP). No Ethernet padding is added.
// Misuse (an L4 without IP, ICMP in IPv6, no EtherType to write, a frame
// over 65535 bytes of IP) is a bug in the caller: Build aborts with a message.
class PacketBuilder {
 public:
  PacketBuilder& Eth(MacAddr src, MacAddr dst);
  PacketBuilder& Vlan(uint16_t vid, uint8_t pcp = 0);
  PacketBuilder& Vlan(const VlanTag& tag);
  // Overrides the EtherType derived from the L3 (required when there is none).
  PacketBuilder& EthType(uint16_t eth_type);

  PacketBuilder& Arp(uint16_t op, MacAddr sha, Ipv4Addr spa, MacAddr tha, Ipv4Addr tpa);
  PacketBuilder& Ipv4(Ipv4Addr src, Ipv4Addr dst, const Ipv4Options& options = {});
  PacketBuilder& Ipv6(const Ipv6Addr& src, const Ipv6Addr& dst, const Ipv6Options& options = {});
  // Overrides the IP protocol / next header derived from the L4 (required
  // when there is none: the payload then follows the IP header).
  PacketBuilder& IpProto(uint8_t proto);

  PacketBuilder& Tcp(uint16_t sport, uint16_t dport, uint16_t flags, uint32_t seq = 0,
                     uint32_t ack = 0, uint16_t window = 0xffff);
  PacketBuilder& Udp(uint16_t sport, uint16_t dport);
  // An 8-byte ICMP header; `rest` is its last four bytes (echo: id << 16 | seq).
  PacketBuilder& Icmp(uint8_t type, uint8_t code, uint32_t rest = 0);
  PacketBuilder& Icmpv6(uint8_t type, uint8_t code, uint32_t rest = 0);

  // The bytes after the innermost header.
  PacketBuilder& Payload(std::span<const uint8_t> bytes);
  PacketBuilder& Payload(std::string_view bytes);

  std::vector<uint8_t> Build() const;

 private:
  enum class L3 : uint8_t { kNone, kArp, kIpv4, kIpv6 };
  enum class L4 : uint8_t { kNone, kTcp, kUdp, kIcmp, kIcmpv6 };

  MacAddr eth_src_;
  MacAddr eth_dst_;
  std::vector<VlanTag> vlans_;
  std::optional<uint16_t> eth_type_;
  L3 l3_ = L3::kNone;
  ArpFields arp_;
  Ipv4Addr ipv4_src_, ipv4_dst_;
  Ipv4Options ipv4_options_;
  Ipv6Addr ipv6_src_, ipv6_dst_;
  Ipv6Options ipv6_options_;
  std::optional<uint8_t> ip_proto_;
  L4 l4_ = L4::kNone;
  uint16_t sport_ = 0, dport_ = 0;
  uint16_t tcp_flags_ = 0;
  uint32_t tcp_seq_ = 0, tcp_ack_ = 0;
  uint16_t tcp_window_ = 0;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  uint32_t icmp_rest_ = 0;
  std::vector<uint8_t> payload_;
};

// The ARP reply to `request` (same VLAN tags): `answer_mac` has the
// requested address. REQUIRES: request.l3 == kArp and arp.op == kArpRequest
// (aborts otherwise: the caller decides what to answer).
std::vector<uint8_t> BuildArpReply(const ParsedPacket& request, MacAddr answer_mac);

}  // namespace shortcut::packet
