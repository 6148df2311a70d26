// Hex conversions for tests, logs and the CLI. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shortcut {

// "0a1b..." lower case, no separators.
std::string ToHex(std::span<const uint8_t> bytes);
// Accepts hex digits with optional whitespace, ':' or '-' separators and an
// optional "0x" prefix; an odd number of digits or any other character is an error.
absl::StatusOr<std::vector<uint8_t>> FromHex(std::string_view text);

}  // namespace shortcut
