#include "src/cni/request.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/model/address.h"

namespace shortcut::cni {
namespace {

Error Bad(ErrorCode code, std::string msg, std::string details = "") {
  return Error{code, std::move(msg), std::move(details)};
}

std::optional<Command> ParseCommand(const std::string& text) {
  if (text == "ADD") return Command::kAdd;
  if (text == "DEL") return Command::kDel;
  if (text == "CHECK") return Command::kCheck;
  if (text == "VERSION") return Command::kVersion;
  return std::nullopt;
}

// A string field; absent: `fallback`.
std::variant<std::string, Error> StringField(const nlohmann::json& conf, const char* name,
                                             std::string fallback) {
  auto it = conf.find(name);
  if (it == conf.end() || it->is_null()) return fallback;
  if (!it->is_string()) {
    return Bad(ErrorCode::kInvalidConfig,
               absl::StrCat("network configuration: ", name, " must be a string"));
  }
  return it->get<std::string>();
}

std::variant<uint32_t, Error> UintField(const nlohmann::json& conf, const char* name,
                                        uint32_t fallback, uint32_t max) {
  auto it = conf.find(name);
  if (it == conf.end() || it->is_null()) return fallback;
  if (!it->is_number_unsigned() || it->get<uint64_t>() > max) {
    return Bad(ErrorCode::kInvalidConfig,
               absl::StrCat("network configuration: ", name, " must be an integer in 0..", max));
  }
  return static_cast<uint32_t>(it->get<uint64_t>());
}

// CNI_ARGS: "K1=V1;K2=V2".
std::map<std::string, std::string> ParseArgs(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

bool ValidIfname(const std::string& name) {
  return !name.empty() && name.size() <= 15 && name != "." && name != ".." &&
         std::none_of(name.begin(), name.end(),
                      [](char c) { return c == '/' || c == ':' || c <= ' ' || c == 0x7f; });
}

}  // namespace

const std::vector<std::string>& SupportedVersions() {
  static const std::vector<std::string> versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
  return versions;
}

std::variant<CniRequest, Error> ParseRequest(const std::map<std::string, std::string>& env,
                                             std::string_view stdin_text,
                                             const std::string& hostname) {
  auto get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  CniRequest req;
  std::string command = get("CNI_COMMAND");
  auto parsed_command = ParseCommand(command);
  if (!parsed_command) {
    return Bad(ErrorCode::kInvalidEnvironment,
               command.empty()
                   ? "CNI_COMMAND is not set"
                   : absl::StrCat("CNI_COMMAND '", command, "' is not ADD, DEL, CHECK or VERSION"));
  }
  req.command = *parsed_command;
  if (req.command == Command::kVersion) return req;

  req.container_id = get("CNI_CONTAINERID");
  req.netns = get("CNI_NETNS");
  req.ifname = get("CNI_IFNAME");
  if (req.container_id.empty())
    return Bad(ErrorCode::kInvalidEnvironment, "CNI_CONTAINERID is not set");
  if (req.ifname.empty()) return Bad(ErrorCode::kInvalidEnvironment, "CNI_IFNAME is not set");
  if (!ValidIfname(req.ifname)) {
    return Bad(ErrorCode::kInvalidEnvironment,
               absl::StrCat("CNI_IFNAME '", req.ifname, "' is not an interface name"));
  }
  if (req.command != Command::kDel && req.netns.empty()) {
    return Bad(ErrorCode::kInvalidEnvironment, "CNI_NETNS is not set");
  }

  nlohmann::json conf = nlohmann::json::parse(stdin_text, nullptr, /*allow_exceptions=*/false);
  if (conf.is_discarded() || !conf.is_object()) {
    return Bad(ErrorCode::kDecodeFailure,
               "the network configuration on stdin is not a JSON object");
  }
  NetConf& n = req.conf;
  auto take = [&](const char* name, std::string& into, bool required) -> std::optional<Error> {
    auto v = StringField(conf, name, into);
    if (auto* e = std::get_if<Error>(&v)) return *e;
    into = std::get<std::string>(v);
    if (required && into.empty()) {
      return Bad(ErrorCode::kInvalidConfig,
                 absl::StrCat("network configuration: ", name, " is required"));
    }
    return std::nullopt;
  };
  n.host = hostname;
  for (auto [name, into, required] :
       {std::tuple<const char*, std::string*, bool>{"cniVersion", &n.cni_version, true},
        {"name", &n.name, true},
        {"manager", &n.manager, true},
        {"vpc", &n.vpc, true},
        {"network", &n.network, true},
        {"host", &n.host, true},
        {"bridge", &n.bridge, true},
        {"ovsdb", &n.ovsdb, false}}) {
    if (auto e = take(name, *into, required)) return *e;
  }
  const auto& versions = SupportedVersions();
  if (std::find(versions.begin(), versions.end(), n.cni_version) == versions.end()) {
    return Bad(ErrorCode::kIncompatibleVersion,
               absl::StrCat("cniVersion ", n.cni_version, " is not supported"),
               "supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0");
  }
  if (req.command == Command::kCheck && (n.cni_version == "0.3.0" || n.cni_version == "0.3.1")) {
    return Bad(ErrorCode::kIncompatibleVersion,
               absl::StrCat("CHECK needs cniVersion 0.4.0 or later, not ", n.cni_version));
  }
  auto mtu = UintField(conf, "mtu", 0, 65535);
  if (auto* e = std::get_if<Error>(&mtu)) return *e;
  n.mtu = std::get<uint32_t>(mtu);
  if (n.mtu != 0 && n.mtu < 68) {
    return Bad(ErrorCode::kInvalidConfig, "network configuration: mtu must be 0 or at least 68");
  }
  auto timeout = UintField(conf, "online_timeout_ms", 10000, 600000);
  if (auto* e = std::get_if<Error>(&timeout)) return *e;
  n.online_timeout_ms = std::get<uint32_t>(timeout);
  std::string tls_cert, tls_key, tls_ca, tls_server_name;
  for (auto [name, into] : {std::pair<const char*, std::string*>{"tls_cert", &tls_cert},
                            {"tls_key", &tls_key},
                            {"tls_ca", &tls_ca},
                            {"tls_server_name", &tls_server_name}}) {
    if (auto e = take(name, *into, false)) return *e;
  }
  if (!tls_cert.empty() || !tls_key.empty() || !tls_ca.empty() || !tls_server_name.empty()) {
    if (tls_cert.empty() || tls_key.empty() || tls_ca.empty()) {
      return Bad(ErrorCode::kInvalidConfig,
                 "network configuration: TLS needs all of tls_cert, tls_key and tls_ca");
    }
    auto tls = tls::LoadGrpcTls(tls::TlsFiles(tls_cert, tls_key, tls_ca, tls_server_name),
                                "network configuration: tls");
    if (!tls.ok()) return Bad(ErrorCode::kInvalidConfig, std::string(tls.status().message()));
    n.tls = *std::move(tls);
  }
  if (auto it = conf.find("tx_checksum_offload"); it != conf.end()) {
    if (!it->is_boolean()) {
      return Bad(ErrorCode::kInvalidConfig,
                 "network configuration: tx_checksum_offload must be true or false");
    }
    n.tx_checksum_offload = it->get<bool>();
  }
  if (auto it = conf.find("prevResult"); it != conf.end() && !it->is_null()) {
    if (!it->is_object()) {
      return Bad(ErrorCode::kDecodeFailure, "network configuration: prevResult is not an object");
    }
    n.prev_result = *it;
  }

  // A static address: runtimeConfig.ips, else CNI_ARGS IP=.
  std::string ip;
  if (auto rc = conf.find("runtimeConfig"); rc != conf.end() && rc->is_object()) {
    if (auto ips = rc->find("ips"); ips != rc->end() && ips->is_array() && !ips->empty()) {
      if (!(*ips)[0].is_string()) {
        return Bad(ErrorCode::kInvalidConfig, "runtimeConfig.ips[0] is not a string");
      }
      ip = (*ips)[0].get<std::string>();
    }
  }
  if (ip.empty()) {
    auto args = ParseArgs(get("CNI_ARGS"));
    if (auto it = args.find("IP"); it != args.end()) ip = it->second;
  }
  if (!ip.empty()) {
    std::string addr = ip.substr(0, ip.find('/'));  // "a.b.c.d/len" accepted.
    auto parsed = model::ParseIpv4(addr);
    if (!parsed) {
      return Bad(ErrorCode::kInvalidConfig,
                 absl::StrCat("static address '", ip, "' is not an IPv4 address"));
    }
    n.static_ipv4 = model::FormatIpv4(*parsed);
  }
  if (EndpointKey(req).size() > 255) {
    return Bad(ErrorCode::kInvalidEnvironment,
               "network name, container id and interface name are too long for an endpoint key "
               "(255 bytes)");
  }
  return req;
}

std::string EndpointKey(const CniRequest& request) {
  return absl::StrCat("cni:", request.conf.name, ":", request.container_id, ":", request.ifname);
}

std::string HostIfname(const std::string& endpoint_key) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : endpoint_key) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char text[16];
  std::snprintf(text, sizeof text, "sc%012llx",
                static_cast<unsigned long long>(hash & 0xffffffffffffull));
  return text;
}

}  // namespace shortcut::cni
