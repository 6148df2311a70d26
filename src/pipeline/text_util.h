// Helpers shared by the pipelines: rules are written in ovs-ofctl syntax
// (the form operators read in dump-flows) and parsed once. Text Shortcut
// generates must parse, or Shortcut itself is broken (Fatal).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "src/openflow/match.h"
#include "src/openflow/message.h"
#include "src/reconcile/state.h"

namespace shortcut::pipeline::internal {

std::string Ip(uint32_t host_order);
std::string Mac(const of::MacAddr& m);
std::string Hex(uint64_t v);
of::FlowMod Flow(const std::string& text, of::FlowModCommand command = of::FlowModCommand::kAdd);
// The flow `text` with `cookie`, as a state entry.
reconcile::FlowEntry Entry(uint64_t cookie, const std::string& text);

}  // namespace shortcut::pipeline::internal
