// `shortcutctl switch sync` and `switch dump` as library calls.
//
// Each call connects to one switch, runs to completion on a private
// io_context on the calling thread, and returns. Every wait on the switch is
// bounded by `timeout_ms`, so an unreachable or silent switch gives a clear
// error instead of a hang.
//
// Thread-safety: calls are independent; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/reconcile/state.h"

namespace shortcut::ctl {

struct SwitchOptions {
  std::string target;        // unix:/abs/path or tcp:IP:PORT.
  uint64_t cookie = 0;       // Flows are managed iff (cookie & mask) == (this & mask).
  uint64_t cookie_mask = 0;  // 0: every flow is managed.
  bool dry_run = false;      // sync: compute and report, send nothing.
  Millis timeout_ms = 10000;
};

// "VALUE/MASK" or "VALUE" (mask all ones), each decimal or 0x-hex.
absl::StatusOr<std::pair<uint64_t, uint64_t>> ParseCookieMask(std::string_view text);

// Brings the switch to exactly `file_text`'s state (see switch_file.h) and
// appends to `output` one line:
//   flows: +A ~M -D  groups: +A ~M -D  meters: +A ~M -D
// On a rejection the status names the OpenFlow error and the file's line,
// and the switch is left unchanged.
absl::Status RunSwitchSync(const SwitchOptions& options, std::string_view file_text,
                           std::string_view file_name, std::string* output);

// Appends the switch's managed flows, groups and meters in the file format.
absl::Status RunSwitchDump(const SwitchOptions& options, std::string* output);

// The switch's managed flows, groups and meters as values.
absl::StatusOr<reconcile::SwitchState> ReadSwitchState(const SwitchOptions& options);

}  // namespace shortcut::ctl
