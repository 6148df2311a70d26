// shortcut-gatewayd's configuration file: JSON of the form
//   {"listen": "unix:/abs/gw.sock",
//    "cluster": <a SetClusterRequest in protobuf's JSON mapping>,
//    "bridge": {"openflow": "unix:/abs/br-int.mgmt",   (optional: the gateway's
//               "ovsdb": "unix:/abs/db.sock",         own OVS, its data plane)
//               "packet_in_rate": 10000},             (packet-ins per second)
//    "direct_idle_timeout": 60,                 (optional, seconds)
//    "direct_path_budget": {"paths": 1000,      (optional: hosts' default
//                           "action": "evict",   budget of direct paths, 0:
//                           "scan_ms": 1000},    none; evict or refuse beyond
//                                                it; how often hosts are read)
//    "metrics": "127.0.0.1:9101",               (optional: Prometheus' scrape
//                                                endpoint, GET /metrics)
//    "log_level": "info",                       (optional)
//    "tls": {"cert": PATH, "key": PATH,         (optional: mutual TLS for the
//            "ca": PATH},                        API; see src/tls/tls.h)
//    "ssl": {"private_key": PATH,               (optional: for ssl: targets of
//            "certificate": PATH,                hosts and the bridge, as
//            "ca_cert": PATH},                   `ovs-vsctl set-ssl`)
//    "api_limits": {"max_calls": 128, ...}}     (optional: bounds on the API
//                                                whoever calls it; see
//                                                src/apiserver/limits.h)
// `cluster` (optional) is applied at start, as a SetCluster call would be;
// without it the gateway waits for its cluster over the API (what
// shortcut-managerd sends). Without `bridge` the gateway programs hosts but
// forwards nothing itself.
//
// Loading checks everything that can be checked without running anything:
// JSON syntax, unknown or missing fields, field types, the listen address,
// the cluster as SetCluster validates it, and the TLS files (readable PEM,
// key matching certificate). Errors are InvalidArgument
// naming the field ("listen", "cluster.members[0].underlay_ip").
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "shortcut/gateway/v1/gateway.pb.h"
#include "spdlog/common.h"
#include "src/apiserver/limits.h"
#include "src/ofconn/ssl.h"
#include "src/tls/tls.h"

namespace shortcut::gateway {

struct BridgeConfig {
  std::string openflow;  // Its OpenFlow target (the bridge's management socket, say).
  std::string ovsdb;     // Its OVSDB target; empty: tunnel ports toward hosts not managed.
  uint32_t packet_in_rate = 10000;
};

struct DaemonConfig {
  std::string listen;                            // unix:/abs/path or HOST:PORT (see server.h).
  std::optional<v1::SetClusterRequest> cluster;  // Nullopt: set over the API.
  std::optional<BridgeConfig> bridge;
  uint16_t direct_idle_timeout_s = 60;
  uint32_t direct_path_budget = 0;
  bool budget_refuse = false;  // False: evict the least recently used.
  uint32_t budget_scan_ms = 1000;
  std::string metrics;  // IP:PORT of the metrics endpoint; empty: none.
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::optional<tls::GrpcTls> tls;      // Nullopt: insecure gRPC.
  std::optional<ofconn::SslFiles> ssl;  // For ssl: targets.
  apiserver::ApiLimits api_limits;      // Defaults when the file has none.
};

absl::StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& json);
// The file at `path`; messages start with the path.
absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path);

}  // namespace shortcut::gateway
