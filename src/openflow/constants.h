// OpenFlow 1.3 wire constants (OpenFlow Switch Specification 1.3.5, and the
// Open vSwitch / ONF extensions Shortcut uses). Header-only.
#pragma once

#include <cstdint>

namespace shortcut::of {

inline constexpr uint8_t kVersion13 = 0x04;
inline constexpr uint8_t kVersion15 = 0x06;
inline constexpr size_t kHeaderLen = 8;
inline constexpr size_t kMaxMessageLen = 65535;

enum class MsgType : uint8_t {
  kHello = 0,
  kError = 1,
  kEchoRequest = 2,
  kEchoReply = 3,
  kExperimenter = 4,
  kFeaturesRequest = 5,
  kFeaturesReply = 6,
  kGetConfigRequest = 7,
  kGetConfigReply = 8,
  kSetConfig = 9,
  kPacketIn = 10,
  kFlowRemoved = 11,
  kPortStatus = 12,
  kPacketOut = 13,
  kFlowMod = 14,
  kGroupMod = 15,
  kPortMod = 16,
  kTableMod = 17,
  kMultipartRequest = 18,
  kMultipartReply = 19,
  kBarrierRequest = 20,
  kBarrierReply = 21,
  kQueueGetConfigRequest = 22,
  kQueueGetConfigReply = 23,
  kRoleRequest = 24,
  kRoleReply = 25,
  kGetAsyncRequest = 26,
  kGetAsyncReply = 27,
  kSetAsync = 28,
  kMeterMod = 29,
};

// Reserved port numbers (ofp_port_no).
inline constexpr uint32_t kPortMax = 0xffffff00;
inline constexpr uint32_t kPortInPort = 0xfffffff8;
inline constexpr uint32_t kPortTable = 0xfffffff9;
inline constexpr uint32_t kPortNormal = 0xfffffffa;
inline constexpr uint32_t kPortFlood = 0xfffffffb;
inline constexpr uint32_t kPortAll = 0xfffffffc;
inline constexpr uint32_t kPortController = 0xfffffffd;
inline constexpr uint32_t kPortLocal = 0xfffffffe;
inline constexpr uint32_t kPortAny = 0xffffffff;

inline constexpr uint32_t kGroupMax = 0xffffff00;
inline constexpr uint32_t kGroupAll = 0xfffffffc;
inline constexpr uint32_t kGroupAny = 0xffffffff;

inline constexpr uint32_t kMeterMax = 0xffff0000;
inline constexpr uint32_t kMeterSlowpath = 0xfffffffd;
inline constexpr uint32_t kMeterController = 0xfffffffe;
inline constexpr uint32_t kMeterAll = 0xffffffff;

inline constexpr uint32_t kNoBuffer = 0xffffffff;
inline constexpr uint16_t kControllerMaxLenNoBuffer = 0xffff;
inline constexpr uint8_t kTableAll = 0xff;
inline constexpr uint8_t kTableMax = 0xfe;

// ofp_flow_mod_flags.
inline constexpr uint16_t kFlowSendFlowRem = 1 << 0;
inline constexpr uint16_t kFlowCheckOverlap = 1 << 1;
inline constexpr uint16_t kFlowResetCounts = 1 << 2;
inline constexpr uint16_t kFlowNoPktCounts = 1 << 3;
inline constexpr uint16_t kFlowNoBytCounts = 1 << 4;

// ofp_meter_flags.
inline constexpr uint16_t kMeterKbps = 1 << 0;
inline constexpr uint16_t kMeterPktps = 1 << 1;
inline constexpr uint16_t kMeterBurst = 1 << 2;
inline constexpr uint16_t kMeterStats = 1 << 3;

// ofp_meter_band_type.
inline constexpr uint16_t kMeterBandDrop = 1;
inline constexpr uint16_t kMeterBandDscpRemark = 2;

// ofp_multipart_types used by Shortcut.
inline constexpr uint16_t kMultipartFlow = 1;
inline constexpr uint16_t kMultipartGroupDesc = 7;
inline constexpr uint16_t kMultipartGroupFeatures = 8;
inline constexpr uint16_t kMultipartMeterConfig = 10;
inline constexpr uint16_t kMultipartMeterFeatures = 11;
inline constexpr uint16_t kMultipartPortDesc = 13;
inline constexpr uint16_t kMultipartReplyMore = 1;    // ofp_multipart_reply_flags
inline constexpr uint16_t kMultipartRequestMore = 1;  // ofp_multipart_request_flags

// Packet-in reasons (ofp_packet_in_reason).
inline constexpr uint8_t kPacketInNoMatch = 0;
inline constexpr uint8_t kPacketInAction = 1;
inline constexpr uint8_t kPacketInInvalidTtl = 2;

// Controller roles (ofp_controller_role).
inline constexpr uint32_t kRoleNoChange = 0;
inline constexpr uint32_t kRoleEqual = 1;
inline constexpr uint32_t kRoleMaster = 2;
inline constexpr uint32_t kRoleSlave = 3;

// Vendor ids.
inline constexpr uint32_t kNiciraExperimenter = 0x00002320;
inline constexpr uint32_t kOnfExperimenter = 0x4f4e4600;

// ONF bundle extension (EXT-230) as Open vSwitch implements it for OpenFlow 1.3.
inline constexpr uint32_t kOnfBundleControl = 2300;
inline constexpr uint32_t kOnfBundleAdd = 2301;
inline constexpr uint16_t kBundleAtomic = 1 << 0;
inline constexpr uint16_t kBundleOrdered = 1 << 1;

// OFPVID_PRESENT bit of vlan_vid.
inline constexpr uint16_t kVidPresent = 0x1000;

}  // namespace shortcut::of
