#include "src/openflow/match.h"

#include <algorithm>
#include <cstring>

namespace shortcut::of {
namespace {

constexpr uint16_t B = kOxmClassOpenflowBasic;
constexpr uint16_t N = kOxmClassNxm1;

// Indexed by Field. OXM numbers: OpenFlow 1.3.5 section 7.2.3.7 and Open
// vSwitch's meta-flow.h for the NXM_NX class.
constexpr FieldInfo kFields[] = {
    {Field::kInPort, "in_port", "", B, 0, 4, false},
    {Field::kMetadata, "metadata", "", B, 2, 8, true},
    {Field::kEthDst, "eth_dst", "dl_dst", B, 3, 6, true},
    {Field::kEthSrc, "eth_src", "dl_src", B, 4, 6, true},
    {Field::kEthType, "eth_type", "dl_type", B, 5, 2, false},
    {Field::kVlanVid, "vlan_vid", "", B, 6, 2, true},
    {Field::kIpDscp, "ip_dscp", "", B, 8, 1, false},
    {Field::kIpProto, "nw_proto", "ip_proto", B, 10, 1, false},
    {Field::kIpv4Src, "ip_src", "nw_src", B, 11, 4, true},
    {Field::kIpv4Dst, "ip_dst", "nw_dst", B, 12, 4, true},
    {Field::kTcpSrc, "tcp_src", "tp_src", B, 13, 2, true},
    {Field::kTcpDst, "tcp_dst", "tp_dst", B, 14, 2, true},
    {Field::kUdpSrc, "udp_src", "", B, 15, 2, true},
    {Field::kUdpDst, "udp_dst", "", B, 16, 2, true},
    {Field::kIcmpv4Type, "icmp_type", "icmpv4_type", B, 19, 1, false},
    {Field::kIcmpv4Code, "icmp_code", "icmpv4_code", B, 20, 1, false},
    {Field::kArpOp, "arp_op", "", B, 21, 2, false},
    {Field::kArpSpa, "arp_spa", "", B, 22, 4, true},
    {Field::kArpTpa, "arp_tpa", "", B, 23, 4, true},
    {Field::kArpSha, "arp_sha", "", B, 24, 6, true},
    {Field::kArpTha, "arp_tha", "", B, 25, 6, true},
    {Field::kIpv6Src, "ipv6_src", "", B, 26, 16, true},
    {Field::kIpv6Dst, "ipv6_dst", "", B, 27, 16, true},
    {Field::kIcmpv6Type, "icmpv6_type", "", B, 29, 1, false},
    {Field::kIcmpv6Code, "icmpv6_code", "", B, 30, 1, false},
    {Field::kTunnelId, "tun_id", "tunnel_id", B, 38, 8, true},
    {Field::kTunIpv4Src, "tun_src", "", N, 31, 4, true},
    {Field::kTunIpv4Dst, "tun_dst", "", N, 32, 4, true},
    {Field::kReg0, "reg0", "", N, 0, 4, true},
    {Field::kReg1, "reg1", "", N, 1, 4, true},
    {Field::kReg2, "reg2", "", N, 2, 4, true},
    {Field::kReg3, "reg3", "", N, 3, 4, true},
    {Field::kReg4, "reg4", "", N, 4, 4, true},
    {Field::kReg5, "reg5", "", N, 5, 4, true},
    {Field::kReg6, "reg6", "", N, 6, 4, true},
    {Field::kReg7, "reg7", "", N, 7, 4, true},
    {Field::kReg8, "reg8", "", N, 8, 4, true},
    {Field::kReg9, "reg9", "", N, 9, 4, true},
    {Field::kReg10, "reg10", "", N, 10, 4, true},
    {Field::kReg11, "reg11", "", N, 11, 4, true},
    {Field::kReg12, "reg12", "", N, 12, 4, true},
    {Field::kReg13, "reg13", "", N, 13, 4, true},
    {Field::kReg14, "reg14", "", N, 14, 4, true},
    {Field::kReg15, "reg15", "", N, 15, 4, true},
};
static_assert(std::size(kFields) == kFieldCount);

constexpr bool TableIsIndexed() {
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (static_cast<size_t>(kFields[i].field) != i) return false;
  }
  return true;
}
static_assert(TableIsIndexed());

bool AllOnes(const FieldBytes& b, size_t width) {
  for (size_t i = 0; i < width; ++i) {
    if (b[i] != 0xff) return false;
  }
  return true;
}
bool AllZero(const FieldBytes& b, size_t width) {
  for (size_t i = 0; i < width; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

}  // namespace

const FieldInfo& GetFieldInfo(Field f) { return kFields[static_cast<size_t>(f)]; }

std::optional<Field> FieldByName(std::string_view name) {
  for (const auto& fi : kFields) {
    if (fi.name == name || (!fi.alias.empty() && fi.alias == name)) return fi.field;
  }
  return std::nullopt;
}

std::optional<Field> FieldByOxm(uint16_t oxm_class, uint8_t oxm_field) {
  for (const auto& fi : kFields) {
    if (fi.oxm_class == oxm_class && fi.oxm_field == oxm_field) return fi.field;
  }
  return std::nullopt;
}

FieldBytes FieldBytesFromU64(Field f, uint64_t v) {
  FieldBytes b{};
  size_t w = std::min<size_t>(GetFieldInfo(f).width, 8);
  for (size_t i = 0; i < w; ++i) b[w - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

uint64_t FieldBytesToU64(Field f, const FieldBytes& b) {
  size_t w = std::min<size_t>(GetFieldInfo(f).width, 8);
  uint64_t v = 0;
  for (size_t i = 0; i < w; ++i) v = (v << 8) | b[i];
  return v;
}

uint64_t FieldMatch::ValueU64() const { return FieldBytesToU64(field, value); }
uint64_t FieldMatch::MaskU64() const { return FieldBytesToU64(field, mask); }

void Match::Set(Field f, uint64_t value) {
  FieldMatch fm;
  fm.field = f;
  fm.value = FieldBytesFromU64(f, value);
  Put(fm);
}

void Match::SetMasked(Field f, uint64_t value, uint64_t mask) {
  FieldMatch fm;
  fm.field = f;
  fm.masked = true;
  fm.value = FieldBytesFromU64(f, value);
  fm.mask = FieldBytesFromU64(f, mask);
  Put(fm);
}

void Match::SetBytes(Field f, std::span<const uint8_t> value, std::span<const uint8_t> mask) {
  FieldMatch fm;
  fm.field = f;
  size_t w = GetFieldInfo(f).width;
  std::memcpy(fm.value.data(), value.data(), std::min(w, value.size()));
  if (!mask.empty()) {
    fm.masked = true;
    std::memcpy(fm.mask.data(), mask.data(), std::min(w, mask.size()));
  }
  Put(fm);
}

void Match::Put(const FieldMatch& in) {
  FieldMatch fm = in;
  size_t w = GetFieldInfo(fm.field).width;
  for (size_t i = w; i < fm.value.size(); ++i) fm.value[i] = fm.mask[i] = 0;
  if (fm.masked) {
    if (AllZero(fm.mask, w)) {
      Clear(fm.field);
      return;
    }
    if (AllOnes(fm.mask, w)) {
      fm.masked = false;
    } else {
      for (size_t i = 0; i < w; ++i) fm.value[i] &= fm.mask[i];
    }
  }
  if (!fm.masked) {
    for (size_t i = 0; i < w; ++i) fm.mask[i] = 0xff;
  }
  auto it = std::lower_bound(fields_.begin(), fields_.end(), fm.field,
                             [](const FieldMatch& a, Field b) { return a.field < b; });
  if (it != fields_.end() && it->field == fm.field) {
    *it = fm;
  } else {
    fields_.insert(it, fm);
  }
}

void Match::Clear(Field f) {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), f,
                             [](const FieldMatch& a, Field b) { return a.field < b; });
  if (it != fields_.end() && it->field == f) fields_.erase(it);
}

const FieldMatch* Match::Find(Field f) const {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), f,
                             [](const FieldMatch& a, Field b) { return a.field < b; });
  return it != fields_.end() && it->field == f ? &*it : nullptr;
}

}  // namespace shortcut::of
