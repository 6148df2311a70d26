#include "src/openflow/subfield.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace shortcut::of {
namespace {

// NXM/OXM 32-bit header: class (16) | field (7) | has-mask (1) | length (8).
constexpr uint32_t Header(uint16_t cls, uint8_t field, uint8_t len) {
  return uint32_t{cls} << 16 | uint32_t{field} << 9 | len;
}
constexpr uint16_t kNxmOf = 0x0000;  // NXM_OF_*
constexpr uint16_t kNxmNx = 0x0001;  // NXM_NX_*
constexpr uint16_t kOxm = 0x8000;    // OXM_OF_*

constexpr uint32_t NxmOf(uint8_t f, uint8_t len) { return Header(kNxmOf, f, len); }
constexpr uint32_t NxmNx(uint8_t f, uint8_t len) { return Header(kNxmNx, f, len); }
constexpr uint32_t Oxm(uint8_t f, uint8_t len) { return Header(kOxm, f, len); }

// Indexed by Field. NXM/OXM numbers and bit widths from OVS meta-flow.h; the
// preferred header is the one nxm_field_by_mf_id(id, 0) returns there (the
// NXM one if any), which is what encode_REG_MOVE writes for OpenFlow 1.3 and
// mf_format_subfield prints. n_bits 0: not usable in a move.
constexpr SubfieldInfo kSubfields[] = {
    // OVS's in_port_oxm (OXM_OF_IN_PORT, 32 bits); NXM_OF_IN_PORT is OVS's
    // 16-bit in_port, a different field Shortcut does not model.
    {Field::kInPort, Oxm(0, 4), "OXM_OF_IN_PORT", 0, "", 32, true},
    {Field::kMetadata, Oxm(2, 8), "OXM_OF_METADATA", 0, "", 64, true},
    {Field::kEthDst, NxmOf(1, 6), "NXM_OF_ETH_DST", Oxm(3, 6), "OXM_OF_ETH_DST", 48, true},
    {Field::kEthSrc, NxmOf(2, 6), "NXM_OF_ETH_SRC", Oxm(4, 6), "OXM_OF_ETH_SRC", 48, true},
    {Field::kEthType, NxmOf(3, 2), "NXM_OF_ETH_TYPE", Oxm(5, 2), "OXM_OF_ETH_TYPE", 16, false},
    {Field::kVlanVid, Oxm(6, 2), "OXM_OF_VLAN_VID", 0, "", 12, true},
    {Field::kIpDscp, Oxm(8, 1), "OXM_OF_IP_DSCP", 0, "", 6, true},
    {Field::kIpProto, NxmOf(6, 1), "NXM_OF_IP_PROTO", Oxm(10, 1), "OXM_OF_IP_PROTO", 8, false},
    {Field::kIpv4Src, NxmOf(7, 4), "NXM_OF_IP_SRC", Oxm(11, 4), "OXM_OF_IPV4_SRC", 32, true},
    {Field::kIpv4Dst, NxmOf(8, 4), "NXM_OF_IP_DST", Oxm(12, 4), "OXM_OF_IPV4_DST", 32, true},
    {Field::kTcpSrc, NxmOf(9, 2), "NXM_OF_TCP_SRC", Oxm(13, 2), "OXM_OF_TCP_SRC", 16, true},
    {Field::kTcpDst, NxmOf(10, 2), "NXM_OF_TCP_DST", Oxm(14, 2), "OXM_OF_TCP_DST", 16, true},
    {Field::kUdpSrc, NxmOf(11, 2), "NXM_OF_UDP_SRC", Oxm(15, 2), "OXM_OF_UDP_SRC", 16, true},
    {Field::kUdpDst, NxmOf(12, 2), "NXM_OF_UDP_DST", Oxm(16, 2), "OXM_OF_UDP_DST", 16, true},
    {Field::kIcmpv4Type, NxmOf(13, 1), "NXM_OF_ICMP_TYPE", Oxm(19, 1), "OXM_OF_ICMPV4_TYPE", 8,
     true},
    {Field::kIcmpv4Code, NxmOf(14, 1), "NXM_OF_ICMP_CODE", Oxm(20, 1), "OXM_OF_ICMPV4_CODE", 8,
     true},
    {Field::kArpOp, NxmOf(15, 2), "NXM_OF_ARP_OP", Oxm(21, 2), "OXM_OF_ARP_OP", 16, true},
    {Field::kArpSpa, NxmOf(16, 4), "NXM_OF_ARP_SPA", Oxm(22, 4), "OXM_OF_ARP_SPA", 32, true},
    {Field::kArpTpa, NxmOf(17, 4), "NXM_OF_ARP_TPA", Oxm(23, 4), "OXM_OF_ARP_TPA", 32, true},
    {Field::kArpSha, NxmNx(17, 6), "NXM_NX_ARP_SHA", Oxm(24, 6), "OXM_OF_ARP_SHA", 48, true},
    {Field::kArpTha, NxmNx(18, 6), "NXM_NX_ARP_THA", Oxm(25, 6), "OXM_OF_ARP_THA", 48, true},
    {Field::kIpv6Src, NxmNx(19, 16), "NXM_NX_IPV6_SRC", Oxm(26, 16), "OXM_OF_IPV6_SRC", 128, true},
    {Field::kIpv6Dst, NxmNx(20, 16), "NXM_NX_IPV6_DST", Oxm(27, 16), "OXM_OF_IPV6_DST", 128, true},
    {Field::kIcmpv6Type, NxmNx(21, 1), "NXM_NX_ICMPV6_TYPE", Oxm(29, 1), "OXM_OF_ICMPV6_TYPE", 8,
     true},
    {Field::kIcmpv6Code, NxmNx(22, 1), "NXM_NX_ICMPV6_CODE", Oxm(30, 1), "OXM_OF_ICMPV6_CODE", 8,
     true},
    {Field::kTunnelId, NxmNx(16, 8), "NXM_NX_TUN_ID", Oxm(38, 8), "OXM_OF_TUNNEL_ID", 64, true},
    {Field::kTunIpv4Src, NxmNx(31, 4), "NXM_NX_TUN_IPV4_SRC", 0, "", 32, true},
    {Field::kTunIpv4Dst, NxmNx(32, 4), "NXM_NX_TUN_IPV4_DST", 0, "", 32, true},
    {Field::kReg0, NxmNx(0, 4), "NXM_NX_REG0", 0, "", 32, true},
    {Field::kReg1, NxmNx(1, 4), "NXM_NX_REG1", 0, "", 32, true},
    {Field::kReg2, NxmNx(2, 4), "NXM_NX_REG2", 0, "", 32, true},
    {Field::kReg3, NxmNx(3, 4), "NXM_NX_REG3", 0, "", 32, true},
    {Field::kReg4, NxmNx(4, 4), "NXM_NX_REG4", 0, "", 32, true},
    {Field::kReg5, NxmNx(5, 4), "NXM_NX_REG5", 0, "", 32, true},
    {Field::kReg6, NxmNx(6, 4), "NXM_NX_REG6", 0, "", 32, true},
    {Field::kReg7, NxmNx(7, 4), "NXM_NX_REG7", 0, "", 32, true},
    {Field::kReg8, NxmNx(8, 4), "NXM_NX_REG8", 0, "", 32, true},
    {Field::kReg9, NxmNx(9, 4), "NXM_NX_REG9", 0, "", 32, true},
    {Field::kReg10, NxmNx(10, 4), "NXM_NX_REG10", 0, "", 32, true},
    {Field::kReg11, NxmNx(11, 4), "NXM_NX_REG11", 0, "", 32, true},
    {Field::kReg12, NxmNx(12, 4), "NXM_NX_REG12", 0, "", 32, true},
    {Field::kReg13, NxmNx(13, 4), "NXM_NX_REG13", 0, "", 32, true},
    {Field::kReg14, NxmNx(14, 4), "NXM_NX_REG14", 0, "", 32, true},
    {Field::kReg15, NxmNx(15, 4), "NXM_NX_REG15", 0, "", 32, true},
};
static_assert(std::size(kSubfields) == kFieldCount);

constexpr bool TableIsIndexed() {
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (static_cast<size_t>(kSubfields[i].field) != i) return false;
    // A header's length byte is the field's wire width in bytes.
    if ((kSubfields[i].header & 0xff) * 8 < kSubfields[i].n_bits) return false;
  }
  return true;
}
static_assert(TableIsIndexed());

absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

absl::Status CheckRange(std::string_view role, const SubfieldInfo& sf, uint16_t ofs,
                        uint16_t n_bits) {
  // Widened: ofs + n_bits may exceed 16 bits on the wire.
  if (uint32_t{ofs} + n_bits > sf.n_bits) {
    return absl::InvalidArgumentError(absl::StrCat("move: ", AV(role), " bits ", ofs, "..",
                                                   uint32_t{ofs} + n_bits - 1, " exceed the ",
                                                   sf.n_bits, "-bit field ", AV(sf.name)));
  }
  return absl::OkStatus();
}

}  // namespace

const SubfieldInfo* GetSubfieldInfo(Field f) {
  size_t i = static_cast<size_t>(f);
  if (i >= kFieldCount || kSubfields[i].n_bits == 0) return nullptr;
  return &kSubfields[i];
}

const SubfieldInfo* SubfieldByHeader(uint32_t header) {
  if (header == 0) return nullptr;
  for (const SubfieldInfo& sf : kSubfields) {
    if (sf.header == header || sf.alt_header == header) return &sf;
  }
  return nullptr;
}

const SubfieldInfo* SubfieldByNxmName(std::string_view name) {
  if (name.empty()) return nullptr;
  for (const SubfieldInfo& sf : kSubfields) {
    if (sf.name == name || sf.alt_name == name) return &sf;
  }
  return nullptr;
}

absl::Status CheckMove(const ActionMove& m) {
  const SubfieldInfo* src = GetSubfieldInfo(m.src);
  const SubfieldInfo* dst = GetSubfieldInfo(m.dst);
  if (src == nullptr || dst == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "move: field ", static_cast<int>(src == nullptr ? m.src : m.dst), " cannot be moved"));
  }
  if (m.n_bits == 0) return absl::InvalidArgumentError("move: n_bits is 0");
  if (absl::Status st = CheckRange("source", *src, m.src_ofs, m.n_bits); !st.ok()) return st;
  if (absl::Status st = CheckRange("destination", *dst, m.dst_ofs, m.n_bits); !st.ok()) return st;
  if (!dst->writable) {
    return absl::InvalidArgumentError(
        absl::StrCat("move: destination field ", AV(dst->name), " is not writable"));
  }
  return absl::OkStatus();
}

}  // namespace shortcut::of
