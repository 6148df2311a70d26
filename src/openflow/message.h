// OpenFlow 1.3 messages as protocol-independent values.
//
// One struct per message body, gathered in the Message variant with the
// header's version and xid. codec.h turns a Message into bytes and back;
// text.h prints it as `ovs-ofctl ofp-print` does and parses the ovs-ofctl
// flow, group and meter syntax. Deciding which messages to send lives
// elsewhere (src/reconcile).
//
// Thread-safety: values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "src/openflow/action.h"
#include "src/openflow/constants.h"
#include "src/openflow/match.h"

namespace shortcut::of {

using Bytes = std::vector<uint8_t>;

struct Hello {
  // Versions in the version bitmap element; empty means no element (the
  // header's version is then the only one offered).
  std::vector<uint8_t> versions;
  friend bool operator==(const Hello&, const Hello&) = default;
};

// OFPT_ERROR. For type 0xffff (OFPET_EXPERIMENTER) `code` is the exp_code
// and `experimenter` the vendor id (Nicira's and ONF's errors from OVS).
struct Error {
  uint16_t type = 0;
  uint16_t code = 0;
  uint32_t experimenter = 0;
  Bytes data;  // Usually the start of the offending request.
  friend bool operator==(const Error&, const Error&) = default;
};

struct EchoRequest {
  Bytes data;
  friend bool operator==(const EchoRequest&, const EchoRequest&) = default;
};
struct EchoReply {
  Bytes data;
  friend bool operator==(const EchoReply&, const EchoReply&) = default;
};

struct FeaturesRequest {
  friend bool operator==(const FeaturesRequest&, const FeaturesRequest&) = default;
};
struct FeaturesReply {
  uint64_t datapath_id = 0;
  uint32_t n_buffers = 0;
  uint8_t n_tables = 0;
  uint8_t auxiliary_id = 0;
  uint32_t capabilities = 0;
  friend bool operator==(const FeaturesReply&, const FeaturesReply&) = default;
};

struct GetConfigRequest {
  friend bool operator==(const GetConfigRequest&, const GetConfigRequest&) = default;
};
struct SwitchConfig {
  uint16_t flags = 0;
  uint16_t miss_send_len = 128;
  friend bool operator==(const SwitchConfig&, const SwitchConfig&) = default;
};
struct GetConfigReply {
  SwitchConfig config;
  friend bool operator==(const GetConfigReply&, const GetConfigReply&) = default;
};
struct SetConfig {
  SwitchConfig config;
  friend bool operator==(const SetConfig&, const SetConfig&) = default;
};

// ofp_port (OpenFlow 1.3).
struct PortDesc {
  uint32_t port_no = 0;
  MacAddr hw_addr{};
  std::string name;  // At most 15 characters on the wire.
  uint32_t config = 0;
  uint32_t state = 0;
  uint32_t curr = 0;
  uint32_t advertised = 0;
  uint32_t supported = 0;
  uint32_t peer = 0;
  uint32_t curr_speed = 0;  // kbps
  uint32_t max_speed = 0;   // kbps
  friend bool operator==(const PortDesc&, const PortDesc&) = default;
};

struct PortStatus {
  uint8_t reason = 0;  // OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY.
  PortDesc desc;
  friend bool operator==(const PortStatus&, const PortStatus&) = default;
};

struct PacketIn {
  uint32_t buffer_id = kNoBuffer;
  uint16_t total_len = 0;
  uint8_t reason = kPacketInNoMatch;
  uint8_t table_id = 0;
  uint64_t cookie = 0;
  Match match;  // Pipeline fields: in_port, tunnel metadata, registers, ...
  Bytes data;
  friend bool operator==(const PacketIn&, const PacketIn&) = default;
};

struct PacketOut {
  uint32_t buffer_id = kNoBuffer;
  uint32_t in_port = kPortController;
  ActionList actions;
  Bytes data;
  friend bool operator==(const PacketOut&, const PacketOut&) = default;
};

enum class FlowModCommand : uint8_t {
  kAdd = 0,
  kModify = 1,
  kModifyStrict = 2,
  kDelete = 3,
  kDeleteStrict = 4,
};

struct FlowMod {
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;
  uint8_t table_id = 0;
  FlowModCommand command = FlowModCommand::kAdd;
  uint16_t idle_timeout = 0;  // Seconds; 0: none.
  uint16_t hard_timeout = 0;  // Seconds; 0: none.
  uint16_t priority = 0x8000;
  uint32_t buffer_id = kNoBuffer;
  uint32_t out_port = kPortAny;
  uint32_t out_group = kGroupAny;
  uint16_t flags = 0;  // kFlow* flags.
  Match match;
  Instructions instructions;
  friend bool operator==(const FlowMod&, const FlowMod&) = default;
};

struct FlowRemoved {
  uint64_t cookie = 0;
  uint16_t priority = 0;
  uint8_t reason = 0;  // OFPRR_IDLE_TIMEOUT, HARD_TIMEOUT, DELETE, GROUP_DELETE, METER_DELETE.
  uint8_t table_id = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  uint16_t idle_timeout = 0;
  uint16_t hard_timeout = 0;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  Match match;
  friend bool operator==(const FlowRemoved&, const FlowRemoved&) = default;
};

enum class GroupType : uint8_t { kAll = 0, kSelect = 1, kIndirect = 2, kFastFailover = 3 };
enum class GroupModCommand : uint16_t { kAdd = 0, kModify = 1, kDelete = 2 };

struct Bucket {
  uint16_t weight = 0;  // Select groups; OVS treats 0 as "never chosen".
  uint32_t watch_port = kPortAny;
  uint32_t watch_group = kGroupAny;
  ActionList actions;
  friend bool operator==(const Bucket&, const Bucket&) = default;
};

struct GroupMod {
  GroupModCommand command = GroupModCommand::kAdd;
  GroupType type = GroupType::kAll;
  uint32_t group_id = 0;
  std::vector<Bucket> buckets;
  friend bool operator==(const GroupMod&, const GroupMod&) = default;
};

struct MeterBand {
  uint16_t type = kMeterBandDrop;
  uint32_t rate = 0;        // kbps or pktps, per the meter's flags.
  uint32_t burst_size = 0;  // kbits or packets; used with kMeterBurst.
  uint8_t prec_level = 0;   // DSCP remark bands only.
  friend bool operator==(const MeterBand&, const MeterBand&) = default;
};

enum class MeterModCommand : uint16_t { kAdd = 0, kModify = 1, kDelete = 2 };

struct MeterMod {
  MeterModCommand command = MeterModCommand::kAdd;
  uint16_t flags = kMeterKbps;
  uint32_t meter_id = 0;
  std::vector<MeterBand> bands;
  friend bool operator==(const MeterMod&, const MeterMod&) = default;
};

struct BarrierRequest {
  friend bool operator==(const BarrierRequest&, const BarrierRequest&) = default;
};
struct BarrierReply {
  friend bool operator==(const BarrierReply&, const BarrierReply&) = default;
};

struct RoleRequest {
  uint32_t role = kRoleNoChange;
  uint64_t generation_id = 0;
  friend bool operator==(const RoleRequest&, const RoleRequest&) = default;
};
struct RoleReply {
  uint32_t role = kRoleNoChange;
  uint64_t generation_id = 0;
  friend bool operator==(const RoleReply&, const RoleReply&) = default;
};

// ---- Multipart (OFPT_MULTIPART_REQUEST / REPLY) ----

struct FlowStatsRequest {
  uint8_t table_id = kTableAll;
  uint32_t out_port = kPortAny;
  uint32_t out_group = kGroupAny;
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;
  Match match;
  friend bool operator==(const FlowStatsRequest&, const FlowStatsRequest&) = default;
};
struct GroupDescRequest {
  friend bool operator==(const GroupDescRequest&, const GroupDescRequest&) = default;
};
struct GroupFeaturesRequest {
  friend bool operator==(const GroupFeaturesRequest&, const GroupFeaturesRequest&) = default;
};
struct MeterConfigRequest {
  uint32_t meter_id = kMeterAll;
  friend bool operator==(const MeterConfigRequest&, const MeterConfigRequest&) = default;
};
struct MeterFeaturesRequest {
  friend bool operator==(const MeterFeaturesRequest&, const MeterFeaturesRequest&) = default;
};
struct PortDescRequest {
  friend bool operator==(const PortDescRequest&, const PortDescRequest&) = default;
};

struct MultipartRequest {
  uint16_t flags = 0;  // kMultipartRequestMore.
  std::variant<FlowStatsRequest, GroupDescRequest, GroupFeaturesRequest, MeterConfigRequest,
               MeterFeaturesRequest, PortDescRequest>
      body;
  friend bool operator==(const MultipartRequest&, const MultipartRequest&) = default;
};

struct FlowStats {
  uint8_t table_id = 0;
  uint32_t duration_sec = 0;
  uint32_t duration_nsec = 0;
  uint16_t priority = 0;
  uint16_t idle_timeout = 0;
  uint16_t hard_timeout = 0;
  uint16_t flags = 0;
  uint64_t cookie = 0;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
  Match match;
  Instructions instructions;
  friend bool operator==(const FlowStats&, const FlowStats&) = default;
};

struct GroupDesc {
  GroupType type = GroupType::kAll;
  uint32_t group_id = 0;
  std::vector<Bucket> buckets;
  friend bool operator==(const GroupDesc&, const GroupDesc&) = default;
};

struct GroupFeatures {
  uint32_t types = 0;         // Bitmap of 1 << GroupType.
  uint32_t capabilities = 0;  // OFPGFC_*.
  std::array<uint32_t, 4> max_groups{};
  std::array<uint32_t, 4> actions{};  // Bitmaps of 1 << OFPAT_*.
  friend bool operator==(const GroupFeatures&, const GroupFeatures&) = default;
};

struct MeterConfig {
  uint16_t flags = 0;
  uint32_t meter_id = 0;
  std::vector<MeterBand> bands;
  friend bool operator==(const MeterConfig&, const MeterConfig&) = default;
};

struct MeterFeatures {
  uint32_t max_meter = 0;
  uint32_t band_types = 0;    // Bitmap of 1 << band type.
  uint32_t capabilities = 0;  // kMeter* flags.
  uint8_t max_bands = 0;
  uint8_t max_color = 0;
  friend bool operator==(const MeterFeatures&, const MeterFeatures&) = default;
};

struct MultipartReply {
  uint16_t flags = 0;  // kMultipartReplyMore: more parts follow with the same xid.
  std::variant<std::vector<FlowStats>, std::vector<GroupDesc>, GroupFeatures,
               std::vector<MeterConfig>, MeterFeatures, std::vector<PortDesc>>
      body;
  friend bool operator==(const MultipartReply&, const MultipartReply&) = default;
};

// ---- Bundles (ONF EXT-230 on OpenFlow 1.3, as Open vSwitch implements it) ----

enum class BundleControlType : uint16_t {
  kOpenRequest = 0,
  kOpenReply = 1,
  kCloseRequest = 2,
  kCloseReply = 3,
  kCommitRequest = 4,
  kCommitReply = 5,
  kDiscardRequest = 6,
  kDiscardReply = 7,
};

struct BundleControl {
  uint32_t bundle_id = 0;
  BundleControlType type = BundleControlType::kOpenRequest;
  uint16_t flags = 0;  // kBundleAtomic | kBundleOrdered.
  friend bool operator==(const BundleControl&, const BundleControl&) = default;
};

// One message added to an open bundle. `message` is the complete encoded
// inner message (header included); its xid must equal the outer xid, which is
// how Open vSwitch reports which inner message failed on commit.
struct BundleAdd {
  uint32_t bundle_id = 0;
  uint16_t flags = 0;
  Bytes message;
  friend bool operator==(const BundleAdd&, const BundleAdd&) = default;
};

using MessageBody =
    std::variant<Hello, Error, EchoRequest, EchoReply, FeaturesRequest, FeaturesReply,
                 GetConfigRequest, GetConfigReply, SetConfig, PortStatus, PacketIn, PacketOut,
                 FlowMod, FlowRemoved, GroupMod, MeterMod, MultipartRequest, MultipartReply,
                 BarrierRequest, BarrierReply, RoleRequest, RoleReply, BundleControl, BundleAdd>;

struct Message {
  uint8_t version = kVersion13;
  uint32_t xid = 0;
  MessageBody body;
  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace shortcut::of
