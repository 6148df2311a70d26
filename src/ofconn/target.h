// Where to reach a switch: the connection targets `ovs-ofctl` accepts.
//
//   unix:PATH        a Unix domain socket; PATH must be absolute
//   tcp:IP[:PORT]    IPv4 literal, or [IPv6] literal in brackets; port 6653 by default
//   ssl:IP[:PORT]    TLS over TCP, with the SSL settings of ssl.h
//
// Host names are not resolved: a target names an address, so connecting never
// waits on DNS. ToString() prints the canonical spelling (default port
// written out), which is what logs and error messages show.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shortcut::ofconn {

inline constexpr uint16_t kDefaultOpenFlowPort = 6653;

struct Target {
  enum class Kind { kUnix, kTcp, kSsl };
  Kind kind = Kind::kUnix;
  std::string path;  // kUnix: absolute socket path.
  std::string host;  // kTcp, kSsl: IP literal without brackets ("127.0.0.1", "::1").
  uint16_t port = kDefaultOpenFlowPort;  // kTcp, kSsl.

  std::string ToString() const;
  friend bool operator==(const Target&, const Target&) = default;
};

// Errors are InvalidArgument and quote the offending text.
absl::StatusOr<Target> ParseTarget(std::string_view text);

}  // namespace shortcut::ofconn
