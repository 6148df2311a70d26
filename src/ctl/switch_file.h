// The switch state file of `shortcutctl switch sync|dump`.
//
// One object per line: `flow <ovs-ofctl add-flow syntax>`, `group <add-group
// syntax>` or `meter <add-meter syntax>`; `#` starts a comment; blank lines
// are ignored. Parsing yields the desired state directly, each entry's origin
// being its line number, so that an error from the switch can be traced back
// to the line that caused it.
//
// Thread-safety: stateless functions over values.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/reconcile/state.h"

namespace shortcut::ctl {

// Parses a whole file. Any malformed line is an InvalidArgument error naming
// the line ("line 7: ..."); so is a second definition of the same flow
// (table, priority, match), group id or meter id. `name` prefixes messages.
// With threads > 1, large files are cut at line boundaries and the pieces
// parsed in parallel; the result and the first error reported are the same.
absl::StatusOr<reconcile::SwitchState> ParseSwitchFile(std::string_view text,
                                                       std::string_view name = "", int threads = 1);

// Prints a state in the file format, one object per line, in a stable order:
// meters and groups by id, flows by table, then priority (highest first),
// then text.
std::string FormatSwitchFile(const reconcile::SwitchState& state);

}  // namespace shortcut::ctl
