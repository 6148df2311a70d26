// model::OffloadPolicy to and from the APIs' OffloadPolicy messages. The
// gateway's (shortcut.gateway.v1) and the manager's (shortcut.manager.v1)
// spell it alike (mode: 0 unspecified and 1 first-packet, 2 threshold), so
// one template serves both; header-only, so the model library needs no
// protobuf.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "src/model/offload.h"

namespace shortcut::model {

// The message as it reads, unchecked (for display); an unknown mode reads
// as first-packet.
template <typename Proto>
OffloadPolicy OffloadOfProto(const Proto& p) {
  OffloadPolicy out;
  if (static_cast<int>(p.mode()) == 2) out.mode = OffloadMode::kThreshold;
  out.packets = p.packets();
  out.bytes = p.bytes();
  out.window_ms = p.window_ms();
  return out;
}

// Checked: an unknown mode, then ValidateOffload; errors name `field`.
template <typename Proto>
absl::StatusOr<OffloadPolicy> OffloadFromProto(const Proto& p, const std::string& field) {
  const int mode = static_cast<int>(p.mode());
  if (mode < 0 || mode > 2) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".mode: unknown value ", mode));
  }
  OffloadPolicy out = OffloadOfProto(p);
  if (absl::Status s = ValidateOffload(out, field); !s.ok()) return s;
  return out;
}

template <typename Proto>
Proto OffloadToProto(const OffloadPolicy& p) {
  Proto out;
  out.set_mode(static_cast<decltype(out.mode())>(p.mode == OffloadMode::kThreshold ? 2 : 1));
  out.set_packets(p.packets);
  out.set_bytes(p.bytes);
  out.set_window_ms(p.window_ms);
  return out;
}

}  // namespace shortcut::model
