#include "src/manager/config.h"

#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "src/apiserver/limits.h"
#include "src/ofconn/target.h"

namespace shortcut::manager {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// (Not a StatusOr<json>: json converts implicitly to nearly anything.)
absl::Status ParseJson(const std::string& text, nlohmann::json* out) {
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

}  // namespace

absl::Status CheckListen(const std::string& field, const std::string& listen) {
  constexpr std::string_view kUnix = "unix:";
  if (listen.starts_with(kUnix)) {
    std::string path = listen.substr(kUnix.size());
    if (path.empty() || path[0] != '/') {
      return Invalid(absl::StrCat(field, ": '", listen, "': a unix socket path must be absolute"));
    }
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Invalid(absl::StrCat(field, ": '", listen, "': path too long"));
    }
    return absl::OkStatus();
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size() ||
      listen.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Invalid(absl::StrCat(field, ": '", listen, "' is neither unix:/abs/path nor HOST:PORT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseServerList(const std::string& field,
                                                         const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    std::string entry(part);
    if (entry.empty()) return Invalid(absl::StrCat(field, ": empty entry in '", list, "'"));
    auto target = ofconn::ParseTarget(entry);
    if (!target.ok()) {
      return Invalid(absl::StrCat(field, ": '", entry, "': ", target.status().message()));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

absl::Status CheckManagerName(const std::string& field, const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return Invalid(absl::StrCat(field, ": '", name, "' must be 1 to 64 characters"));
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return Invalid(
          absl::StrCat(field, ": '", name, "' may hold only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ManagerConfig> ParseManagerConfig(const std::string& text) {
  char host[256] = {};
  std::string name = gethostname(host, sizeof(host) - 1) == 0 ? host : "";
  return ParseManagerConfig(text, name.empty() ? "managerd" : name);
}

absl::StatusOr<ManagerConfig> ParseManagerConfig(const std::string& text,
                                                 const std::string& default_name) {
  nlohmann::json json;
  if (absl::Status s = ParseJson(text, &json); !s.ok()) return s;
  if (!json.is_object()) return Invalid("the configuration must be a JSON object");
  for (const auto& [key, value] : json.items()) {
    if (key != "listen" && key != "nb" && key != "health_interval_ms" && key != "log_level" &&
        key != "name" && key != "advertise" && key != "metrics" && key != "tls" && key != "ssl" &&
        key != "api_limits") {
      return Invalid(absl::StrCat("unknown field '", key,
                                  "' (known: listen, nb, health_interval_ms, name, advertise, "
                                  "metrics, log_level, tls, ssl, api_limits)"));
    }
  }
  ManagerConfig config;
  auto listen = json.find("listen");
  if (listen == json.end()) return Invalid("listen is missing (e.g. \"unix:/run/managerd.sock\")");
  if (!listen->is_string()) return Invalid("listen: must be a string");
  config.listen = listen->get<std::string>();
  if (absl::Status s = CheckListen("listen", config.listen); !s.ok()) return s;

  auto nb = json.find("nb");
  if (nb == json.end()) return Invalid("nb is missing (e.g. \"unix:/run/nb.sock\")");
  if (!nb->is_string()) return Invalid("nb: must be a string (comma-separated targets)");
  auto servers = ParseServerList("nb", nb->get<std::string>());
  if (!servers.ok()) return servers.status();
  config.nb = std::move(*servers);

  if (auto it = json.find("health_interval_ms"); it != json.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() < 50 || it->get<uint64_t>() > 60000) {
      return Invalid("health_interval_ms: must be an integer from 50 to 60000");
    }
    config.health_interval_ms = it->get<uint32_t>();
  }
  config.name = default_name;
  if (auto it = json.find("name"); it != json.end()) {
    if (!it->is_string()) return Invalid("name: must be a string");
    config.name = it->get<std::string>();
    if (absl::Status s = CheckManagerName("name", config.name); !s.ok()) return s;
  } else if (absl::Status s = CheckManagerName("name", config.name); !s.ok()) {
    return Invalid(absl::StrCat("name is not given and the hostname will not do (", s.message(),
                                "): set \"name\""));
  }
  config.advertise = config.listen;
  if (auto it = json.find("metrics"); it != json.end()) {
    if (!it->is_string()) return Invalid("metrics: must be a string (IP:PORT)");
    config.metrics = it->get<std::string>();
    size_t colon = config.metrics.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == config.metrics.size()) {
      return Invalid("metrics: '" + config.metrics + "' is not IP:PORT (e.g. \"127.0.0.1:9102\")");
    }
  }
  if (auto it = json.find("advertise"); it != json.end()) {
    if (!it->is_string()) return Invalid("advertise: must be a string");
    config.advertise = it->get<std::string>();
    if (absl::Status s = CheckListen("advertise", config.advertise); !s.ok()) return s;
  }
  if (auto it = json.find("log_level"); it != json.end()) {
    if (!it->is_string()) return Invalid("log_level: must be a string");
    std::string level = it->get<std::string>();
    auto parsed = spdlog::level::from_str(level);
    // from_str answers "off" for anything it does not know.
    if (parsed == spdlog::level::off && level != "off") {
      return Invalid(absl::StrCat("log_level: '", level,
                                  "' (known: trace, debug, info, warning, error, critical, off)"));
    }
    config.log_level = parsed;
  }
  if (auto it = json.find("tls"); it != json.end()) {
    auto tls = tls::ParseTlsJson(*it, "tls", /*allow_server_name=*/true);
    if (!tls.ok()) return tls.status();
    config.tls = *std::move(tls);
  }
  if (auto it = json.find("ssl"); it != json.end()) {
    auto ssl = tls::ParseSslJson(*it, "ssl");
    if (!ssl.ok()) return ssl.status();
    config.ssl = *std::move(ssl);
  }
  if (auto it = json.find("api_limits"); it != json.end()) {
    auto limits = apiserver::ParseApiLimitsJson(*it, "api_limits");
    if (!limits.ok()) return limits.status();
    config.api_limits = *limits;
  }
  for (const std::string& target : config.nb) {
    if (target.starts_with("ssl:") && !config.ssl) {
      return Invalid(absl::StrCat("nb: '", target,
                                  "' needs the \"ssl\" block (private_key, certificate, ca_cert)"));
    }
  }
  return config;
}

absl::StatusOr<ManagerConfig> LoadManagerConfig(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::stringstream text;
  text << file.rdbuf();
  auto config = ParseManagerConfig(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace shortcut::manager
