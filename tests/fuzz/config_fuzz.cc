// libFuzzer target for the configuration the programs read from outside:
// shortcut-managerd's and shortcut-gatewayd's JSON config files, and
// shortcut-cni's input (the CNI_* environment and the network
// configuration on stdin). Every input must parse or give a clear error
// (INVALID_ARGUMENT, or the CNI error code, with a message), never crash;
// what parses must hold what the daemons rely on.
//
// Input: [which] [text]. which % 3: 0 managerd's config, 1 gatewayd's, 2
// shortcut-cni: "KEY=VALUE" lines of environment up to an empty line, then
// stdin.
//
// Seeds: tests/fuzz/corpus/config/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "absl/strings/str_split.h"
#include "src/cni/request.h"
#include "src/gateway/api_convert.h"
#include "src/gateway/config.h"
#include "src/manager/config.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "config_fuzz: %s\n", what.c_str());
  std::abort();
}

void CheckInvalid(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  if (s.code() != absl::StatusCode::kInvalidArgument) Fail(std::string(what) + ": " + s.ToString());
  if (s.message().empty()) Fail(std::string(what) + ": an error without a message");
}

void Manager(const std::string& text) {
  auto config = shortcut::manager::ParseManagerConfig(text, "fuzzhost");
  CheckInvalid(config.status(), "managerd config");
  if (!config.ok()) return;
  if (config->listen.empty() || config->nb.empty() || config->name.empty() ||
      config->advertise.empty()) {
    Fail("managerd config accepted without listen, nb, name or advertise");
  }
  if (!shortcut::manager::CheckListen("listen", config->listen).ok()) {
    Fail("managerd config accepted an invalid listen address");
  }
  if (!shortcut::manager::CheckManagerName("name", config->name).ok()) {
    Fail("managerd config accepted an invalid name");
  }
}

void Gateway(const std::string& text) {
  auto config = shortcut::gateway::ParseDaemonConfig(text);
  CheckInvalid(config.status(), "gatewayd config");
  if (!config.ok()) return;
  if (config->listen.empty()) Fail("gatewayd config accepted without listen");
  if (config->cluster) {
    // Checked at load time as SetCluster checks it: applying it must not
    // be refused later for its syntax.
    auto cluster = shortcut::gateway::ClusterFromProto(*config->cluster);
    if (!cluster.ok())
      Fail("gatewayd config: cluster accepted, then refused: " + cluster.status().ToString());
    absl::Status s = shortcut::gateway::CheckClusterConfig(*cluster);
    if (!s.ok()) Fail("gatewayd config: cluster accepted, then refused: " + s.ToString());
  }
}

void Cni(std::string_view text) {
  std::map<std::string, std::string> env;
  size_t end = text.find("\n\n");
  std::string_view env_text = end == std::string_view::npos ? text : text.substr(0, end);
  std::string_view stdin_text = end == std::string_view::npos ? "" : text.substr(end + 2);
  for (absl::string_view line : absl::StrSplit(absl::string_view(env_text.data(), env_text.size()),
                                               '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    env[kv.first] = kv.second;
  }
  auto parsed = shortcut::cni::ParseRequest(env, stdin_text, "fuzzhost");
  if (const auto* error = std::get_if<shortcut::cni::Error>(&parsed)) {
    if (error->msg.empty()) Fail("CNI error without a message");
    if (static_cast<uint32_t>(error->code) == 0) Fail("CNI error without a code");
    return;
  }
  const auto& request = std::get<shortcut::cni::CniRequest>(parsed);
  if (request.command == shortcut::cni::Command::kVersion) return;
  if (request.container_id.empty() || request.ifname.empty()) {
    Fail("CNI request accepted without a container id or ifname");
  }
  if (request.conf.manager.empty() || request.conf.vpc.empty() || request.conf.network.empty()) {
    Fail("CNI request accepted without manager, vpc or network");
  }
  std::string key = shortcut::cni::EndpointKey(request);
  std::string ifname = shortcut::cni::HostIfname(key);
  if (ifname.empty() || ifname.size() > 15) Fail("host interface name out of bounds: " + ifname);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      Manager(text);
      break;
    case 1:
      Gateway(text);
      break;
    case 2:
      Cni(text);
      break;
  }
  return 0;
}
