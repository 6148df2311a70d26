// shortcut-gatewayd's configuration file: JSON of the form
//   {"listen": "unix:/abs/gw.sock",
//    "cluster": <a SetClusterRequest in protobuf's JSON mapping>,
//    "log_level": "info"}                       (optional)
// `cluster` is applied at start, as a SetCluster call would be.
//
// Loading checks everything that can be checked without running anything:
// JSON syntax, unknown or missing fields, field types, the listen address,
// and the cluster as SetCluster validates it. Errors are InvalidArgument
// naming the field ("listen", "cluster.members[0].underlay_ip").
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "shortcut/gateway/v1/gateway.pb.h"
#include "spdlog/common.h"

namespace shortcut::gateway {

struct DaemonConfig {
  std::string listen;  // unix:/abs/path or HOST:PORT (see server.h).
  v1::SetClusterRequest cluster;
  spdlog::level::level_enum log_level = spdlog::level::info;
};

absl::StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& json);
// The file at `path`; messages start with the path.
absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path);

}  // namespace shortcut::gateway
