// The offload policy of a VPC and the direct-path budget of a host
// (model/types.h): their names as the APIs and the CLI spell them, and the
// rules both daemons check them by.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/model/types.h"

namespace shortcut::model {

// "first-packet", "threshold".
std::string_view OffloadModeName(OffloadMode mode);
std::optional<OffloadMode> ParseOffloadMode(std::string_view name);

// InvalidArgument naming `field` (e.g. "vpc.offload") unless: first-packet
// with no threshold set; threshold with `packets` or `bytes` (or both)
// above zero and `window_ms` 0 or in [kMinOffloadWindowMs,
// kMaxOffloadWindowMs].
absl::Status ValidateOffload(const OffloadPolicy& policy, const std::string& field);

// The window a threshold policy counts over (its default filled in).
inline uint32_t OffloadWindowMs(const OffloadPolicy& p) {
  return p.window_ms == 0 ? kDefaultOffloadWindowMs : p.window_ms;
}

// "first-packet", or "threshold: 10 packets or 100000 bytes in 1000 ms".
std::string FormatOffload(const OffloadPolicy& policy);

}  // namespace shortcut::model
