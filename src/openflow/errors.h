// Names and meanings of OpenFlow 1.3 errors, including the Nicira (NXBRC_*,
// NXBAC_*, ...) and ONF (OFPBFC_* bundle errors, ONFERR_*) experimenter
// errors that Open vSwitch sends, spelled as `ovs-ofctl` spells them.
//
// Thread-safety: stateless functions over constant tables.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/openflow/message.h"

namespace shortcut::of {

// "OFPET_BAD_ACTION"; for an unknown type "OFPET_<number>".
std::string ErrorTypeName(uint16_t type);
// "OFPBAC_BAD_OUT_PORT", "OFPBFC_MSG_FAILED", "NXBRC_NXM_INVALID", ...;
// unknown ones as "OFPET_<type>(<code>)" or "<vendor>(<code>)".
std::string ErrorName(const Error& e);
// A short human sentence for the error, e.g. "output port invalid or missing".
std::string_view ErrorDescription(const Error& e);
// An absl::Status carrying the name and description, prefixed by `context`.
absl::Status ErrorToStatus(const Error& e, std::string_view context);

}  // namespace shortcut::of
