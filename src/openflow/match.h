// OpenFlow match fields (OXM) as a canonical, comparable value.
//
// A Match is a set of (field, value, optional mask) kept sorted by Field with
// at most one entry per field, in canonical form: a full mask is stored as an
// exact match, a zero mask removes the field, and value bits outside the mask
// are cleared. Two matches that select the same packets with the same fields
// therefore compare equal and hash equally, which the reconciler relies on to
// pair desired and installed flows.
//
// The wire encoding (OXM TLVs) lives in codec.h; the ovs-ofctl text form
// (`ip,nw_dst=10.0.0.0/24`) in text.h.
//
// Thread-safety: values; const methods may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/container/inlined_vector.h"

namespace shortcut::of {

// Fields Shortcut matches on or sets. The order is the canonical order of a
// Match and of its encoding: prerequisites (eth_type, ip_proto) come before the
// fields that need them.
enum class Field : uint8_t {
  kInPort,
  kMetadata,
  kEthDst,
  kEthSrc,
  kEthType,
  kVlanVid,
  kIpDscp,
  kIpProto,
  kIpv4Src,
  kIpv4Dst,
  kTcpSrc,
  kTcpDst,
  kUdpSrc,
  kUdpDst,
  kIcmpv4Type,
  kIcmpv4Code,
  kArpOp,
  kArpSpa,
  kArpTpa,
  kArpSha,
  kArpTha,
  kIpv6Src,
  kIpv6Dst,
  kIcmpv6Type,
  kIcmpv6Code,
  kTunnelId,
  kTunIpv4Src,
  kTunIpv4Dst,
  kReg0,
  kReg1,
  kReg2,
  kReg3,
  kReg4,
  kReg5,
  kReg6,
  kReg7,
  kReg8,
  kReg9,
  kReg10,
  kReg11,
  kReg12,
  kReg13,
  kReg14,
  kReg15,
  kCount,  // Not a field.
};
inline constexpr size_t kFieldCount = static_cast<size_t>(Field::kCount);

inline constexpr uint16_t kOxmClassOpenflowBasic = 0x8000;
inline constexpr uint16_t kOxmClassNxm1 = 0x0001;  // NXM_NX_*: registers, tunnel addresses.

// Static description of a field. `name` is Open vSwitch's canonical name
// (as in `set_field:...->NAME`); `alias` the older ovs-ofctl spelling
// (dl_src, nw_dst, tun_id, ...) or empty.
struct FieldInfo {
  Field field;
  std::string_view name;
  std::string_view alias;
  uint16_t oxm_class;
  uint8_t oxm_field;
  uint8_t width;  // Bytes on the wire, 1 to 16.
  bool maskable;
};

const FieldInfo& GetFieldInfo(Field f);
// By OVS name or alias; nullopt if unknown.
std::optional<Field> FieldByName(std::string_view name);
// By OXM class and field number; nullopt if Shortcut does not know it.
std::optional<Field> FieldByOxm(uint16_t oxm_class, uint8_t oxm_field);

inline Field RegField(int n) { return static_cast<Field>(static_cast<int>(Field::kReg0) + n); }

// Up to 16 bytes, big-endian, left-aligned: bytes [0, width) are used and the
// rest are zero.
using FieldBytes = std::array<uint8_t, 16>;
using MacAddr = std::array<uint8_t, 6>;
using Ipv6Addr = std::array<uint8_t, 16>;

struct FieldMatch {
  Field field = Field::kInPort;
  bool masked = false;  // false: exact match, mask is all ones over the width.
  FieldBytes value{};
  FieldBytes mask{};

  // The value (or mask) of a field up to 8 bytes wide as an integer.
  uint64_t ValueU64() const;
  uint64_t MaskU64() const;

  friend bool operator==(const FieldMatch&, const FieldMatch&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FieldMatch& f) {
    return H::combine(std::move(h), f.field, f.masked, f.value, f.mask);
  }
};

FieldBytes FieldBytesFromU64(Field f, uint64_t v);
uint64_t FieldBytesToU64(Field f, const FieldBytes& b);

class Match {
 public:
  using Fields = absl::InlinedVector<FieldMatch, 4>;

  // Exact match on a field up to 8 bytes wide (value is truncated to the width).
  void Set(Field f, uint64_t value);
  // Masked match; canonicalised as described above. The field must be
  // maskable unless the mask is full or zero (checked by the codec and parser,
  // not here, so that decoders can report the error with context).
  void SetMasked(Field f, uint64_t value, uint64_t mask);
  // Any width; an empty mask means exact.
  void SetBytes(Field f, std::span<const uint8_t> value, std::span<const uint8_t> mask = {});
  void SetMac(Field f, const MacAddr& mac) { SetBytes(f, mac); }
  void SetIpv4(Field f, uint32_t addr) { Set(f, addr); }
  void SetIpv4Masked(Field f, uint32_t addr, uint32_t mask) { SetMasked(f, addr, mask); }
  void SetIpv6(Field f, const Ipv6Addr& addr) { SetBytes(f, addr); }
  // Adds an entry as-is after canonicalising it; replaces any entry for the field.
  void Put(const FieldMatch& fm);
  void Clear(Field f);

  const FieldMatch* Find(Field f) const;
  bool Has(Field f) const { return Find(f) != nullptr; }
  const Fields& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }
  size_t size() const { return fields_.size(); }

  friend bool operator==(const Match&, const Match&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Match& m) {
    for (const auto& f : m.fields_) h = H::combine(std::move(h), f);
    return H::combine(std::move(h), m.fields_.size());
  }

 private:
  Fields fields_;  // Sorted by field, unique.
};

}  // namespace shortcut::of
