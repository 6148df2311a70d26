// OpenFlow 1.3 error names and descriptions (see errors.h).
//
// The tables are Open vSwitch 3.1's lib/ofp-errors.h restricted to what can
// travel in OpenFlow 1.3: standard (type, code) pairs, and experimenter
// errors (type OFPET_EXPERIMENTER) from Nicira (NX1.2+ codes) and ONF
// (ONF1.3 codes, e.g. the OFPBFC_* bundle errors at 2300+). Names and
// descriptions are OVS's, so logs read like `ovs-ofctl` output.
//
// ErrorToStatus maps every error to FailedPrecondition: the switch understood
// the request and refused it in its current state, which callers handle
// differently from a local encoding problem (InvalidArgument).
#include "src/openflow/errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shortcut::of {
namespace {

constexpr uint16_t kExperimenterType = 0xffff;

struct ErrorInfo {
  uint16_t type;
  uint16_t code;
  const char* name;
  const char* description;
};

// Generated from lib/ofp-errors.h: entries whose annotation covers OF1.3.
constexpr ErrorInfo kStandardErrors[] = {
    {0, 0, "OFPHFC_INCOMPATIBLE", "No compatible version"},
    {0, 1, "OFPHFC_EPERM", "Permissions error"},
    {1, 0, "OFPBRC_BAD_VERSION", "ofp_header.version not supported"},
    {1, 1, "OFPBRC_BAD_TYPE", "ofp_header.type not supported"},
    {1, 2, "OFPBRC_BAD_STAT", "ofp_stats_msg.type not supported"},
    {1, 3, "OFPBRC_BAD_VENDOR", "Vendor not supported (in ofp_vendor_header or ofp_stats_msg)"},
    {1, 4, "OFPBRC_BAD_SUBTYPE", "Vendor subtype not supported"},
    {1, 5, "OFPBRC_EPERM", "Permissions error"},
    {1, 6, "OFPBRC_BAD_LEN", "Wrong request length for type"},
    {1, 7, "OFPBRC_BUFFER_EMPTY", "Specified buffer has already been used"},
    {1, 8, "OFPBRC_BUFFER_UNKNOWN", "Specified buffer does not exist"},
    {1, 9, "OFPBRC_BAD_TABLE_ID", "Specified table-id invalid or does not exist"},
    {1, 10, "OFPBRC_IS_SECONDARY",
     "Denied because controller has secondary role. (Secondary controllers have only read-only "
     "access.)"},
    {1, 11, "OFPBRC_BAD_PORT", "Invalid or missing port"},
    {1, 12, "OFPBRC_BAD_PACKET", "Invalid packet in packet-out"},
    {1, 13, "OFPBRC_MULTIPART_BUFFER_OVERFLOW", "Multipart request overflowed the assigned buffer"},
    {2, 0, "OFPBAC_BAD_TYPE", "Unknown or unsupported action type"},
    {2, 1, "OFPBAC_BAD_LEN", "Length problem in actions"},
    {2, 2, "OFPBAC_BAD_VENDOR", "Unknown experimenter id specified"},
    {2, 3, "OFPBAC_BAD_VENDOR_TYPE", "Unknown action type for experimenter id"},
    {2, 4, "OFPBAC_BAD_OUT_PORT", "Problem validating output port"},
    {2, 5, "OFPBAC_BAD_ARGUMENT", "Bad action argument"},
    {2, 6, "OFPBAC_EPERM", "Permissions error"},
    {2, 7, "OFPBAC_TOO_MANY", "Can't handle this many actions"},
    {2, 8, "OFPBAC_BAD_QUEUE", "Problem validating output queue"},
    {2, 9, "OFPBAC_BAD_OUT_GROUP", "Invalid group id in output action"},
    {2, 10, "OFPBAC_MATCH_INCONSISTENT",
     "Action can't apply for this match or a prerequisite for use of this field is unmet"},
    {2, 11, "OFPBAC_UNSUPPORTED_ORDER",
     "Action order is unsupported for the action list in an Apply-Actions instruction"},
    {2, 12, "OFPBAC_BAD_TAG", "Actions uses an unsupported tag/encap"},
    {2, 13, "OFPBAC_BAD_SET_TYPE", "Action uses unknown or unsupported OXM or NXM field"},
    {2, 14, "OFPBAC_BAD_SET_LEN",
     "Action references past the end of an OXM or NXM field, or uses a length of zero"},
    {2, 15, "OFPBAC_BAD_SET_ARGUMENT",
     "Action sets a field to an invalid or unsupported value, or modifies a read-only field"},
    {3, 0, "OFPBIC_UNKNOWN_INST", "Unknown instruction"},
    {3, 1, "OFPBIC_UNSUP_INST", "Switch or table does not support the instruction"},
    {3, 2, "OFPBIC_BAD_TABLE_ID", "Invalid Table-ID specified"},
    {3, 3, "OFPBIC_UNSUP_METADATA", "Metadata value unsupported by datapath"},
    {3, 4, "OFPBIC_UNSUP_METADATA_MASK", "Metadata mask value unsupported by datapath"},
    {3, 5, "OFPBIC_BAD_EXPERIMENTER", "Unknown experimenter id specified"},
    {3, 6, "OFPBIC_BAD_EXP_TYPE", "Unknown instruction for experimenter id"},
    {3, 7, "OFPBIC_BAD_LEN", "Length problem in instructions"},
    {3, 8, "OFPBIC_EPERM", "Permissions error"},
    {4, 0, "OFPBMC_BAD_TYPE", "Unsupported match type specified by the match"},
    {4, 1, "OFPBMC_BAD_LEN", "Length problem in match"},
    {4, 2, "OFPBMC_BAD_TAG", "Match uses an unsupported tag/encap"},
    {4, 3, "OFPBMC_BAD_DL_ADDR_MASK",
     "Unsupported datalink addr mask - switch does not support arbitrary datalink address mask"},
    {4, 4, "OFPBMC_BAD_NW_ADDR_MASK",
     "Unsupported network addr mask - switch does not support arbitrary network address mask"},
    {4, 5, "OFPBMC_BAD_WILDCARDS", "Unsupported wildcard specified in the match"},
    {4, 6, "OFPBMC_BAD_FIELD", "Unsupported field in the match"},
    {4, 7, "OFPBMC_BAD_VALUE", "Unsupported value in a match field"},
    {4, 8, "OFPBMC_BAD_MASK", "Unsupported mask specified in the match"},
    {4, 9, "OFPBMC_BAD_PREREQ", "A prerequisite was not met"},
    {4, 10, "OFPBMC_DUP_FIELD", "A field type was duplicated"},
    {4, 11, "OFPBMC_EPERM", "Permissions error"},
    {5, 0, "OFPFMFC_UNKNOWN", "Unspecified error"},
    {5, 1, "OFPFMFC_TABLE_FULL", "Flow not added because of full table(s)"},
    {5, 2, "OFPFMFC_BAD_TABLE_ID", "Table does not exist"},
    {5, 3, "OFPFMFC_OVERLAP", "Attempted to add overlapping flow with CHECK_OVERLAP flag set"},
    {5, 4, "OFPFMFC_EPERM", "Permissions error"},
    {5, 5, "OFPFMFC_BAD_TIMEOUT", "Flow not added because of unsupported idle/hard timeout"},
    {5, 6, "OFPFMFC_BAD_COMMAND", "Unsupported or unknown command"},
    {5, 7, "OFPFMFC_BAD_FLAGS", "Unsupported or unknown flags"},
    {6, 0, "OFPGMFC_GROUP_EXISTS",
     "Group not added because a group ADD attempted to replace an already-present group"},
    {6, 1, "OFPGMFC_INVALID_GROUP", "Group not added because Group specified is invalid"},
    {6, 2, "OFPGMFC_WEIGHT_UNSUPPORTED",
     "Switch does not support unequal load sharing with select groups"},
    {6, 3, "OFPGMFC_OUT_OF_GROUPS", "The group table is full"},
    {6, 4, "OFPGMFC_OUT_OF_BUCKETS",
     "The maximum number of action buckets for a group has been exceeded"},
    {6, 5, "OFPGMFC_CHAINING_UNSUPPORTED", "Switch does not support groups that forward to groups"},
    {6, 6, "OFPGMFC_WATCH_UNSUPPORTED",
     "This group cannot watch the watch_port or watch_group specified"},
    {6, 7, "OFPGMFC_LOOP", "Group entry would cause a loop"},
    {6, 8, "OFPGMFC_UNKNOWN_GROUP",
     "Group not modified because a group MODIFY attempted to modify a non-existent group"},
    {6, 9, "OFPGMFC_CHAINED_GROUP", "Group not deleted because another group is forwarding to it"},
    {6, 10, "OFPGMFC_BAD_TYPE", "Unsupported or unknown group type"},
    {6, 11, "OFPGMFC_BAD_COMMAND", "Unsupported or unknown command"},
    {6, 12, "OFPGMFC_BAD_BUCKET", "Error in bucket"},
    {6, 13, "OFPGMFC_BAD_WATCH", "Error in watch port/group"},
    {6, 14, "OFPGMFC_EPERM", "Permissions error"},
    {7, 0, "OFPPMFC_BAD_PORT", "Specified port does not exist"},
    {7, 1, "OFPPMFC_BAD_HW_ADDR", "Specified hardware address does not match the port number"},
    {7, 2, "OFPPMFC_BAD_CONFIG", "Specified config is invalid"},
    {7, 3, "OFPPMFC_BAD_ADVERTISE", "Specified advertise is invalid"},
    {7, 4, "OFPPMFC_EPERM", "Permissions error"},
    {8, 0, "OFPTMFC_BAD_TABLE", "Specified table does not exist"},
    {8, 1, "OFPTMFC_BAD_CONFIG", "Specified config is invalid"},
    {8, 2, "OFPTMFC_EPERM", "Permissions error"},
    {9, 0, "OFPQOFC_BAD_PORT", "Invalid port (or port does not exist)"},
    {9, 1, "OFPQOFC_BAD_QUEUE", "Queue does not exist"},
    {9, 2, "OFPQOFC_EPERM", "Permissions error"},
    {10, 0, "OFPSCFC_BAD_FLAGS", "Specified flags is invalid"},
    {10, 1, "OFPSCFC_BAD_LEN", "Specified len is invalid"},
    {10, 2, "OFPSCFC_EPERM", "Permissions error"},
    {11, 0, "OFPRRFC_STALE", "Stale Message: old generation_id"},
    {11, 1, "OFPRRFC_UNSUP", "Controller role change unsupported"},
    {11, 2, "OFPRRFC_BAD_ROLE", "Invalid role"},
    {12, 0, "OFPMMFC_UNKNOWN", "Unspecified error"},
    {12, 1, "OFPMMFC_METER_EXISTS",
     "Meter not added because a Meter ADD attempted to replace an existing Meter"},
    {12, 2, "OFPMMFC_INVALID_METER",
     "Meter not added because meter specified is invalid, or invalid meter in meter action"},
    {12, 3, "OFPMMFC_UNKNOWN_METER",
     "Meter not modified because a Meter MODIFY attempted to modify a non-existent meter, or bad "
     "meter in meter action"},
    {12, 4, "OFPMMFC_BAD_COMMAND", "Unsupported or unknown command"},
    {12, 5, "OFPMMFC_BAD_FLAGS", "Flag configuration unsupported"},
    {12, 6, "OFPMMFC_BAD_RATE", "Rate unsupported"},
    {12, 7, "OFPMMFC_BAD_BURST", "Burst size unsupported"},
    {12, 8, "OFPMMFC_BAD_BAND", "Band unsupported"},
    {12, 9, "OFPMMFC_BAD_BAND_VALUE", "Band value unsupported"},
    {12, 10, "OFPMMFC_OUT_OF_METERS", "No more meters available"},
    {12, 11, "OFPMMFC_OUT_OF_BANDS",
     "The maximum number of properties for a meter has been exceeded"},
    {13, 0, "OFPTFFC_BAD_TABLE", "Specified table does not exist"},
    {13, 1, "OFPTFFC_BAD_METADATA", "Invalid metadata mask"},
    {13, 2, "OFPBPC_BAD_TYPE", "Unknown or unsupported property type"},
    {13, 3, "OFPBPC_BAD_LEN", "Length problem in property"},
    {13, 4, "OFPBPC_BAD_VALUE", "Unsupported property value"},
    {13, 5, "OFPTFFC_EPERM", "Permissions error"},
};

constexpr ErrorInfo kNiciraErrors[] = {
    {0xffff, 2, "NXBRC_NXM_INVALID", "Invalid NXM flow match"},
    {0xffff, 3, "NXBRC_NXM_BAD_TYPE",
     "The nxm_type, or nxm_type taken in combination with nxm_hasmask or nxm_length or both, is "
     "invalid or not implemented"},
    {0xffff, 4, "NXBRC_MUST_BE_ZERO", "Must-be-zero field had nonzero value"},
    {0xffff, 5, "NXBRC_BAD_REASON", "The reason in an ofp_port_status message is not valid"},
    {0xffff, 6, "OFPMOFC_MONITOR_EXISTS",
     "Monitor not added because a Monitor ADD attempted to replace an existing Monitor"},
    {0xffff, 7, "OFPMOFC_BAD_FLAGS", "Flag configuration unsupported"},
    {0xffff, 8, "OFPMOFC_UNKNOWN_MONITOR",
     "Monitor not modified because a Monitor MODIFY attempted to modify a non-existent Monitor"},
    {0xffff, 9, "NXBRC_FM_BAD_EVENT",
     "The 'event' in an NXST_FLOW_MONITOR reply does not specify one of the NXFME_ABBREV, "
     "NXFME_ADD, NXFME_DELETE, or NXFME_MODIFY"},
    {0xffff, 10, "NXBRC_UNENCODABLE_ERROR",
     "The error that occurred cannot be represented in this OpenFlow version"},
    {0xffff, 11, "NXBAC_MUST_BE_ZERO", "Must-be-zero action argument had nonzero value"},
    {0xffff, 12, "NXFMFC_HARDWARE", "Generic hardware error"},
    {0xffff, 13, "NXFMFC_BAD_TABLE_ID",
     "A nonexistent table ID was specified in the \"command\" field of struct ofp_flow_mod, when "
     "the nxt_flow_mod_table_id extension is enabled"},
    {0xffff, 15, "NXBAC_BAD_CONJUNCTION",
     "Conjunction action must be only action present. conjunction(id, k/n) must satisfy 1 <= k <= "
     "n and 2 <= n <= 64"},
    {0xffff, 16, "NXTTMFC_BAD_COMMAND",
     "The TLV table mod command is not recognized as a valid operation"},
    {0xffff, 17, "NXTTMFC_BAD_OPT_LEN", "The option length is not a valid option size for TLVs"},
    {0xffff, 18, "NXTTMFC_BAD_FIELD_IDX",
     "The field index is out of range for the supported NX_TUN_METADATA<n> match"},
    {0xffff, 19, "NXTTMFC_TABLE_FULL",
     "The total set of configured options exceeds the maximum supported by the switch"},
    {0xffff, 20, "NXTTMFC_ALREADY_MAPPED",
     "The controller issued an NXTTMC_ADD command for a field index that is already mapped"},
    {0xffff, 21, "NXTTMFC_DUP_ENTRY",
     "The option TLV that is attempting to be mapped is the same as one assigned to a different "
     "field"},
    {0xffff, 34, "NXR_NOT_SUPPORTED", "This datapath doesn't support NXT_RESUME"},
    {0xffff, 35, "NXR_STALE",
     "Continuation is stale: Open vSwitch process has been restarted or bridge has been destroyed "
     "since continuation was generated, or continuation was not generated by this Open vSwitch "
     "instance"},
    {0xffff, 36, "NXST_NOT_CONFIGURED", "Protocol is not configured on this Open vSwitch instance"},
    {0xffff, 37, "NXFMFC_INVALID_TLV_FIELD",
     "Attempted to add a flow with an invalid variable length meta-flow field"},
    {0xffff, 38, "NXTTMFC_INVALID_TLV_DEL",
     "Attempted to delete a TLV mapping that is used by any active flow"},
    {0xffff, 39, "NXBAC_BAD_HEADER_TYPE", "Unsupported packet type in encap or decap"},
    {0xffff, 40, "NXBAC_UNKNOWN_ED_PROP", "Unrecognized encap or decap property"},
    {0xffff, 41, "NXBAC_BAD_ED_PROP", "Error in encap or decap property"},
    {0xffff, 42, "NXBAC_CT_DATAPATH_SUPPORT",
     "Action requires connection tracking or a particular connection-tracking based feature that "
     "the datapath in use does not support. If a kernel-based datapath is in use, the kernel "
     "module may need to be upgraded"},
    {0xffff, 43, "NXBMC_CT_DATAPATH_SUPPORT",
     "Flow match requires connection tracking or a particular connection-tracking based feature "
     "that the datapath in use does not support. If a kernel-based datapath is in use, the kernel "
     "module may need to be upgraded"},
    {0xffff, 44, "NXTFFC_DUP_TABLE", "Table specified multiple times"},
};

constexpr ErrorInfo kOnfErrors[] = {
    {0xffff, 2300, "OFPBFC_UNKNOWN", "Unspecified error"},
    {0xffff, 2301, "OFPBFC_EPERM", "Permissions error"},
    {0xffff, 2302, "OFPBFC_BAD_ID", "Bundle ID doesn't exist"},
    {0xffff, 2303, "OFPBFC_BUNDLE_EXIST", "Bundle ID already exists"},
    {0xffff, 2304, "OFPBFC_BUNDLE_CLOSED", "Bundle ID is closed"},
    {0xffff, 2305, "OFPBFC_OUT_OF_BUNDLES", "Too many bundle IDs"},
    {0xffff, 2306, "OFPBFC_BAD_TYPE", "Unsupported of unknown message control type"},
    {0xffff, 2307, "OFPBFC_BAD_FLAGS", "Unsupported, unknown, or inconsistent flags"},
    {0xffff, 2308, "OFPBFC_MSG_BAD_LEN", "Length problem in included message"},
    {0xffff, 2309, "OFPBFC_MSG_BAD_XID", "Inconsistent or duplicate XID"},
    {0xffff, 2310, "OFPBFC_MSG_UNSUP", "Unsupported message in this bundle"},
    {0xffff, 2311, "OFPBFC_MSG_CONFLICT", "Unsupported message combination in this bundle"},
    {0xffff, 2312, "OFPBFC_MSG_TOO_MANY", "Cant handle this many messages in bundle"},
    {0xffff, 2313, "OFPBFC_MSG_FAILED", "One message in bundle failed"},
    {0xffff, 2314, "OFPBFC_TIMEOUT", "Bundle is taking too long"},
    {0xffff, 2315, "OFPBFC_BUNDLE_IN_PROGRESS", "Bundle is locking the resource"},
    {0xffff, 2360, "OFPFMFC_BAD_PRIORITY", "Unsupported priority value"},
    {0xffff, 2370, "OFPACFC_INVALID", "One mask is invalid"},
    {0xffff, 2371, "OFPACFC_UNSUPPORTED", "Requested configuration not supported"},
    {0xffff, 2372, "OFPACFC_EPERM", "Permissions error"},
    {0xffff, 2600, "OFPBIC_DUP_INST", "Duplicate instruction"},
    {0xffff, 2640, "OFPBRC_MULTIPART_REQUEST_TIMEOUT", "Timeout during multipart request"},
    {0xffff, 2641, "OFPBRC_MULTIPART_REPLY_TIMEOUT", "Timeout during multipart reply"},
    {0xffff, 4250, "OFPBAC_BAD_SET_MASK", "Field in Set-Field action has Has-Mask bit set to 1"},
    {0xffff, 4443, "OFPBPC_TOO_MANY", "Can't handle this many properties"},
    {0xffff, 4444, "OFPBPC_DUP_TYPE", "A property type was duplicated"},
    {0xffff, 4445, "OFPBPC_BAD_EXPERIMENTER", "Unknown experimenter id specified"},
    {0xffff, 4446, "OFPBPC_BAD_EXP_TYPE", "Unknown exp_type for experimenter id"},
    {0xffff, 4447, "OFPBPC_BAD_EXP_VALUE", "Unknown value for experimenter id"},
    {0xffff, 4448, "OFPBPC_EPERM", "Permissions error"},
};

constexpr const char* kTypeNames[] = {
    "OFPET_HELLO_FAILED",
    "OFPET_BAD_REQUEST",
    "OFPET_BAD_ACTION",
    "OFPET_BAD_INSTRUCTION",
    "OFPET_BAD_MATCH",
    "OFPET_FLOW_MOD_FAILED",
    "OFPET_GROUP_MOD_FAILED",
    "OFPET_PORT_MOD_FAILED",
    "OFPET_TABLE_MOD_FAILED",
    "OFPET_QUEUE_OP_FAILED",
    "OFPET_SWITCH_CONFIG_FAILED",
    "OFPET_ROLE_REQUEST_FAILED",
    "OFPET_METER_MOD_FAILED",
    "OFPET_TABLE_FEATURES_FAILED",
};

template <size_t N>
const ErrorInfo* Find(const ErrorInfo (&table)[N], uint16_t type, uint16_t code) {
  for (const ErrorInfo& e : table) {
    if (e.type == type && e.code == code) return &e;
  }
  return nullptr;
}

const ErrorInfo* Lookup(const Error& e) {
  if (e.type != kExperimenterType) return Find(kStandardErrors, e.type, e.code);
  if (e.experimenter == kNiciraExperimenter) return Find(kNiciraErrors, e.type, e.code);
  if (e.experimenter == kOnfExperimenter) return Find(kOnfErrors, e.type, e.code);
  return nullptr;
}

std::string VendorName(uint32_t experimenter) {
  if (experimenter == kNiciraExperimenter) return "NX";
  if (experimenter == kOnfExperimenter) return "ONF";
  return absl::StrFormat("0x%08x", experimenter);
}

}  // namespace

std::string ErrorTypeName(uint16_t type) {
  if (type < std::size(kTypeNames)) return kTypeNames[type];
  if (type == kExperimenterType) return "OFPET_EXPERIMENTER";
  return absl::StrCat("OFPET_", type);
}

std::string ErrorName(const Error& e) {
  if (const ErrorInfo* info = Lookup(e)) return info->name;
  if (e.type == kExperimenterType)
    return absl::StrCat(VendorName(e.experimenter), "(", e.code, ")");
  return absl::StrCat(ErrorTypeName(e.type), "(", e.code, ")");
}

std::string_view ErrorDescription(const Error& e) {
  if (const ErrorInfo* info = Lookup(e)) return info->description;
  return "unknown error";
}

absl::Status ErrorToStatus(const Error& e, std::string_view context) {
  std::string_view desc = ErrorDescription(e);
  std::string text =
      absl::StrCat(ErrorName(e), " (", absl::string_view(desc.data(), desc.size()), ")");
  if (!context.empty()) {
    text = absl::StrCat(absl::string_view(context.data(), context.size()), ": ", text);
  }
  return absl::FailedPreconditionError(text);
}

}  // namespace shortcut::of
