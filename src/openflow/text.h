// ovs-ofctl text forms of OpenFlow messages.
//
// Format*: the text `ovs-ofctl ofp-print` prints for the same bytes (golden
// tests check this against ovs-ofctl itself). Parse*: the syntax of
// `ovs-ofctl add-flow`, `add-group` and `add-meter`. *Spec functions print a
// flow, group or meter in that input syntax so that parse(format(x)) == x.
//
// Thread-safety: stateless functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/openflow/message.h"

namespace shortcut::of {

// Whole message, as `ovs-ofctl ofp-print HEX` prints it (possibly multi-line,
// no trailing newline).
std::string FormatMessage(const Message& msg);

// Pieces, as they appear inside ovs-ofctl output.
std::string FormatMatch(const Match& match);              // "ip,nw_dst=10.0.0.0/24"
std::string FormatActions(const ActionList& actions);     // "output:2,group:5" or "drop"
std::string FormatInstructions(const Instructions& ins);  // the value after "actions="
std::string FormatPort(uint32_t port);                    // "3", "LOCAL", "CONTROLLER", ...

// Input syntax (add-flow / add-group / add-meter), round-tripping with Parse*.
std::string FormatFlowSpec(const FlowMod& flow);
std::string FormatGroupSpec(const GroupMod& group);
std::string FormatMeterSpec(const MeterMod& meter);

// Parsers for the ovs-ofctl syntax. Errors name the offending token.
absl::StatusOr<FlowMod> ParseFlow(std::string_view text,
                                  FlowModCommand command = FlowModCommand::kAdd);
absl::StatusOr<GroupMod> ParseGroup(std::string_view text,
                                    GroupModCommand command = GroupModCommand::kAdd);
absl::StatusOr<MeterMod> ParseMeter(std::string_view text,
                                    MeterModCommand command = MeterModCommand::kAdd);
absl::StatusOr<Match> ParseMatch(std::string_view text);
absl::StatusOr<ActionList> ParseActions(std::string_view text);

}  // namespace shortcut::of
