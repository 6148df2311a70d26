#include "src/model/offload.h"

#include "absl/strings/str_cat.h"

namespace shortcut::model {

std::string_view OffloadModeName(OffloadMode mode) {
  switch (mode) {
    case OffloadMode::kFirstPacket:
      return "first-packet";
    case OffloadMode::kThreshold:
      return "threshold";
  }
  return "first-packet";
}

std::optional<OffloadMode> ParseOffloadMode(std::string_view name) {
  if (name == "first-packet") return OffloadMode::kFirstPacket;
  if (name == "threshold") return OffloadMode::kThreshold;
  return std::nullopt;
}

absl::Status ValidateOffload(const OffloadPolicy& p, const std::string& field) {
  if (p.mode == OffloadMode::kFirstPacket) {
    if (p.packets != 0 || p.bytes != 0 || p.window_ms != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       ": packets, bytes and window_ms apply to the threshold mode only; "
                       "first-packet offloads every flow on its first packet"));
    }
    return absl::OkStatus();
  }
  if (p.packets == 0 && p.bytes == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the threshold mode needs packets or bytes (or both) above 0"));
  }
  if (p.window_ms != 0 &&
      (p.window_ms < kMinOffloadWindowMs || p.window_ms > kMaxOffloadWindowMs)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".window_ms: ", p.window_ms, " is outside ", kMinOffloadWindowMs, "..",
                     kMaxOffloadWindowMs, " (0: ", kDefaultOffloadWindowMs, ")"));
  }
  return absl::OkStatus();
}

std::string FormatOffload(const OffloadPolicy& p) {
  if (p.mode == OffloadMode::kFirstPacket) return "first-packet";
  std::string what;
  if (p.packets != 0) absl::StrAppend(&what, p.packets, " packets");
  if (p.bytes != 0) absl::StrAppend(&what, what.empty() ? "" : " or ", p.bytes, " bytes");
  return absl::StrCat("threshold: ", what, " in ", OffloadWindowMs(p), " ms");
}

}  // namespace shortcut::model
