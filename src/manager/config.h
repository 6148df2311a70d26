// shortcut-managerd's configuration file: JSON of the form
//   {"listen": "unix:/abs/managerd.sock",        (or HOST:PORT)
//    "nb": "unix:/abs/nb.sock,tcp:10.0.0.2:6641", (the Shortcut_Northbound
//                                                  servers: one, or a Raft
//                                                  cluster's, comma-separated)
//    "health_interval_ms": 500,                   (optional: how often each
//                                                  gateway is asked for its stats)
//    "name": "m1",                                (optional: this manager's name
//                                                  among the managers of the
//                                                  database; default: hostname)
//    "advertise": "unix:/abs/managerd.sock",      (optional: the API address
//                                                  others should use to reach
//                                                  it; default: listen)
//    "metrics": "127.0.0.1:9102",                 (optional: Prometheus' scrape
//                                                  endpoint, GET /metrics)
//    "log_level": "info",                         (optional)
//    "tls": {"cert": PATH, "key": PATH, "ca": PATH, (optional: mutual TLS for the
//            "server_name": NAME},                 API and toward gateways; see
//                                                  src/tls/tls.h. Toward a gateway
//                                                  the name checked is server_name,
//                                                  else the gateway's own name)
//    "ssl": {"private_key": PATH, "certificate": PATH,
//            "ca_cert": PATH},                    (optional: for ssl: nb targets)
//    "api_limits": {"max_calls": 128, ...}}       (optional: bounds on the API
//                                                  whoever calls it; see
//                                                  src/apiserver/limits.h)
// Loading checks everything that can be checked without running anything:
// JSON syntax, unknown or missing fields, types, the listen address and the
// database targets, the TLS files (readable PEM, key matching certificate),
// and that ssl: nb targets have an "ssl" block. Errors are InvalidArgument naming the field.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "spdlog/common.h"
#include "src/apiserver/limits.h"
#include "src/ofconn/ssl.h"
#include "src/tls/tls.h"

namespace shortcut::manager {

struct ManagerConfig {
  std::string listen;           // unix:/abs/path or HOST:PORT.
  std::vector<std::string> nb;  // OVSDB targets (unix:/abs, tcp:IP:PORT, ssl:IP:PORT).
  uint32_t health_interval_ms = 500;
  std::string name;       // Never empty after parsing.
  std::string advertise;  // Never empty after parsing.
  std::string metrics;    // IP:PORT of the metrics endpoint; empty: none.
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::optional<tls::GrpcTls> tls;      // Nullopt: insecure gRPC.
  std::optional<ofconn::SslFiles> ssl;  // For ssl: nb targets.
  apiserver::ApiLimits api_limits;      // Defaults when the file has none.
};

// "unix:/abs/path" or "HOST:PORT"; InvalidArgument naming `field` otherwise.
absl::Status CheckListen(const std::string& field, const std::string& listen);
// A comma-separated list of OVSDB targets, each parsed as ofconn::ParseTarget
// does; InvalidArgument naming `field` and the bad entry.
absl::StatusOr<std::vector<std::string>> ParseServerList(const std::string& field,
                                                         const std::string& list);

// A manager's name: 1 to 64 of [A-Za-z0-9._-]; InvalidArgument naming `field`.
absl::Status CheckManagerName(const std::string& field, const std::string& name);

// `default_name`: the name when the file gives none (the hostname).
absl::StatusOr<ManagerConfig> ParseManagerConfig(const std::string& text,
                                                 const std::string& default_name);
absl::StatusOr<ManagerConfig> ParseManagerConfig(const std::string& text);
// Reads and parses a file; errors start with its path.
absl::StatusOr<ManagerConfig> LoadManagerConfig(const std::string& path);

}  // namespace shortcut::manager
