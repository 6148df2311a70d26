#include "src/gateway/config.h"

#include <google/protobuf/util/json_util.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "src/apiserver/limits.h"
#include "src/gateway/api_convert.h"
#include "src/gateway/gateway.h"
#include "src/gateway/server.h"

namespace shortcut::gateway {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// (Not a StatusOr<json>: json converts implicitly to nearly anything.)
absl::Status ParseJson(const std::string& text, nlohmann::json* out) {
  // The throwing parser, caught here, because its message says where.
  try {
    *out = nlohmann::json::parse(text);
    return absl::OkStatus();
  } catch (const nlohmann::json::exception& e) {
    // A syntax error (parse_error), or a number too large for a double
    // ("number overflow parsing '1e999'", out_of_range): both are the
    // file's fault.
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, ...": the tag is noise.
    if (size_t end = what.find("] "); what.starts_with("[json.") && end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return Invalid("not valid JSON: " + what);
  }
}

absl::StatusOr<v1::SetClusterRequest> ParseCluster(const nlohmann::json& json) {
  if (!json.is_object()) return Invalid("cluster: must be an object (a SetClusterRequest)");
  v1::SetClusterRequest cluster;
  auto parsed = google::protobuf::util::JsonStringToMessage(json.dump(), &cluster);
  if (!parsed.ok()) return Invalid(absl::StrCat("cluster: ", std::string(parsed.message())));
  // What SetCluster would refuse, refused now: the same checks.
  auto config = ClusterFromProto(cluster);
  if (!config.ok()) return Invalid(absl::StrCat("cluster.", config.status().message()));
  absl::Status valid = CheckClusterConfig(*config);
  if (!valid.ok()) return Invalid(absl::StrCat("cluster.", valid.message()));
  return cluster;
}

absl::StatusOr<BridgeConfig> ParseBridge(const nlohmann::json& json) {
  if (!json.is_object()) return Invalid("bridge: must be an object");
  BridgeConfig b;
  for (const auto& [key, value] : json.items()) {
    if (key == "openflow" || key == "ovsdb") {
      if (!value.is_string()) return Invalid(absl::StrCat("bridge.", key, ": must be a string"));
      std::string target = value.get<std::string>();
      if (!ofconn::ParseTarget(target).ok()) {
        return Invalid(absl::StrCat("bridge.", key, ": '", target,
                                    "' is not a target (unix:/abs/path or tcp:IP:PORT)"));
      }
      (key == "openflow" ? b.openflow : b.ovsdb) = target;
    } else if (key == "packet_in_rate") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() < 1 ||
          value.get<uint64_t>() > 10000000) {
        return Invalid(
            "bridge.packet_in_rate: must be a number of packets per second in 1..10000000");
      }
      b.packet_in_rate = value.get<uint32_t>();
    } else {
      return Invalid(absl::StrCat("bridge: unknown field '", key,
                                  "' (known: openflow, ovsdb, packet_in_rate)"));
    }
  }
  if (b.openflow.empty()) return Invalid("bridge.openflow is missing");
  return b;
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& text) {
  nlohmann::json document;
  if (absl::Status s = ParseJson(text, &document); !s.ok()) return s;
  const nlohmann::json* json = &document;
  if (!json->is_object()) return Invalid("the configuration must be a JSON object");
  for (const auto& [key, value] : json->items()) {
    if (key != "listen" && key != "cluster" && key != "log_level" && key != "bridge" &&
        key != "direct_idle_timeout" && key != "metrics" && key != "tls" && key != "ssl" &&
        key != "direct_path_budget" && key != "api_limits") {
      return Invalid(absl::StrCat("unknown field '", key,
                                  "' (known: listen, cluster, bridge, direct_idle_timeout, "
                                  "direct_path_budget, metrics, log_level, tls, ssl, api_limits)"));
    }
  }
  DaemonConfig config;
  auto listen = json->find("listen");
  if (listen == json->end()) return Invalid("listen is missing (e.g. \"unix:/run/gw.sock\")");
  if (!listen->is_string()) return Invalid("listen: must be a string");
  config.listen = listen->get<std::string>();
  if (absl::Status s = CheckListenAddress(config.listen); !s.ok()) return s;

  if (auto cluster = json->find("cluster"); cluster != json->end()) {
    auto parsed = ParseCluster(*cluster);
    if (!parsed.ok()) return parsed.status();
    config.cluster = std::move(*parsed);
  }

  if (auto bridge = json->find("bridge"); bridge != json->end()) {
    auto parsed_bridge = ParseBridge(*bridge);
    if (!parsed_bridge.ok()) return parsed_bridge.status();
    config.bridge = *parsed_bridge;
  }
  if (auto idle = json->find("direct_idle_timeout"); idle != json->end()) {
    if (!idle->is_number_unsigned() || idle->get<uint64_t>() < 1 || idle->get<uint64_t>() > 65535) {
      return Invalid("direct_idle_timeout: must be a number of seconds in 1..65535");
    }
    config.direct_idle_timeout_s = idle->get<uint16_t>();
  }
  if (auto budget = json->find("direct_path_budget"); budget != json->end()) {
    if (!budget->is_object()) {
      return Invalid("direct_path_budget: must be an object {\"paths\": N, \"action\": ...}");
    }
    for (const auto& [key, value] : budget->items()) {
      if (key == "paths") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() > 10000000) {
          return Invalid("direct_path_budget.paths: must be a number in 0..10000000 (0: none)");
        }
        config.direct_path_budget = value.get<uint32_t>();
      } else if (key == "action") {
        if (!value.is_string() || (value != "evict" && value != "refuse")) {
          return Invalid("direct_path_budget.action: must be \"evict\" or \"refuse\"");
        }
        config.budget_refuse = value == "refuse";
      } else if (key == "scan_ms") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() < 50 ||
            value.get<uint64_t>() > 600000) {
          return Invalid("direct_path_budget.scan_ms: must be a number of ms in 50..600000");
        }
        config.budget_scan_ms = value.get<uint32_t>();
      } else {
        return Invalid(absl::StrCat("direct_path_budget: unknown field '", key,
                                    "' (known: paths, action, scan_ms)"));
      }
    }
  }
  if (auto metrics = json->find("metrics"); metrics != json->end()) {
    if (!metrics->is_string()) return Invalid("metrics: must be a string (IP:PORT)");
    config.metrics = metrics->get<std::string>();
    size_t colon = config.metrics.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == config.metrics.size()) {
      return Invalid("metrics: '" + config.metrics + "' is not IP:PORT (e.g. \"127.0.0.1:9101\")");
    }
  }
  if (auto level = json->find("log_level"); level != json->end()) {
    if (!level->is_string()) return Invalid("log_level: must be a string");
    std::string name = level->get<std::string>();
    config.log_level = spdlog::level::from_str(name);
    // from_str maps anything it does not know to "off"; only "off" may be off.
    if (config.log_level == spdlog::level::off && name != "off") {
      return Invalid(absl::StrCat("log_level: '", name,
                                  "' is not one of trace, debug, info, warning, error, "
                                  "critical, off"));
    }
  }
  if (auto it = json->find("tls"); it != json->end()) {
    auto tls = tls::ParseTlsJson(*it, "tls", /*allow_server_name=*/false);
    if (!tls.ok()) return tls.status();
    config.tls = *std::move(tls);
  }
  if (auto it = json->find("ssl"); it != json->end()) {
    auto ssl = tls::ParseSslJson(*it, "ssl");
    if (!ssl.ok()) return ssl.status();
    config.ssl = *std::move(ssl);
  }
  if (auto it = json->find("api_limits"); it != json->end()) {
    auto limits = apiserver::ParseApiLimitsJson(*it, "api_limits");
    if (!limits.ok()) return limits.status();
    config.api_limits = *limits;
  }
  if (config.bridge && !config.ssl) {
    for (const std::string* target : {&config.bridge->openflow, &config.bridge->ovsdb}) {
      if (target->starts_with("ssl:")) {
        return Invalid(absl::StrCat(
            "bridge: '", *target, "' needs the \"ssl\" block (private_key, certificate, ca_cert)"));
      }
    }
  }
  return config;
}

absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::stringstream text;
  text << file.rdbuf();
  auto config = ParseDaemonConfig(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace shortcut::gateway
