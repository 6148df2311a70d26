// Short names of OpenFlow messages for logs and errors, spelled as
// `ovs-ofctl ofp-print` heads them: "OFPT_FLOW_MOD", "OFPST_FLOW request".
//
// Thread-safety: stateless.
#pragma once

#include <string>

#include "src/openflow/message.h"

namespace shortcut::ofconn {

std::string MessageName(const of::MessageBody& body);

}  // namespace shortcut::ofconn
