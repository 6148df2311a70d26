#include "src/cni/system_ops.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "src/common/subprocess.h"

namespace shortcut::cni {
namespace {

constexpr int kCommandTimeoutMs = 20000;

absl::Status Run(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                 std::string* out = nullptr) {
  RunOptions options;
  options.stdin_data = stdin_data;
  options.timeout_ms = kCommandTimeoutMs;
  RunResult r = RunProcess(argv, options);
  if (out != nullptr) *out = r.out;
  if (r.ok()) return absl::OkStatus();
  std::string err(absl::StripAsciiWhitespace(r.err));
  return absl::InternalError(absl::StrCat(
      absl::StrJoin(argv, " "), ": ",
      r.exit_code == -1 ? "could not start" : absl::StrCat("exit ", r.exit_code), ": ", err));
}

bool NoSuchDevice(const absl::Status& s) {
  return s.message().find("Cannot find device") != std::string_view::npos ||
         s.message().find("does not exist") != std::string_view::npos;
}

}  // namespace

absl::Status SystemLinks::Create(const LinkSpec& spec) {
  // The peer is made directly in the container's namespace under its final
  // name: nothing named CNI_IFNAME ever appears on the host.
  std::vector<std::string> add = {"ip", "link", "add", spec.host_ifname};
  if (spec.mtu != 0) add.insert(add.end(), {"mtu", std::to_string(spec.mtu)});
  add.insert(add.end(), {"type", "veth", "peer", "name", spec.ifname, "address", spec.mac});
  if (spec.mtu != 0) add.insert(add.end(), {"mtu", std::to_string(spec.mtu)});
  add.insert(add.end(), {"netns", spec.netns});
  if (absl::Status s = Run(add); !s.ok()) return s;
  if (absl::Status s = Run({"ip", "link", "set", spec.host_ifname, "up"}); !s.ok()) return s;
  std::string batch = absl::StrCat("link set ", spec.ifname, " up\n", "addr add ", spec.address,
                                   " dev ", spec.ifname, "\n");
  if (!spec.gateway.empty()) {
    absl::StrAppend(&batch, "route add default via ", spec.gateway, " dev ", spec.ifname, "\n");
  }
  const std::string net = "--net=" + spec.netns;
  if (absl::Status s = Run({"nsenter", net, "ip", "-batch", "-"}, batch); !s.ok()) return s;
  if (!spec.tx_checksum_offload) {
    if (absl::Status s = Run({"nsenter", net, "ethtool", "-K", spec.ifname, "tx", "off"});
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status SystemLinks::Delete(const std::string& host_ifname) {
  // Deleting one end deletes the pair; a namespace already gone took both.
  absl::Status s = Run({"ip", "link", "del", host_ifname});
  if (!s.ok() && NoSuchDevice(s)) return absl::OkStatus();
  return s;
}

absl::StatusOr<ContainerLink> SystemLinks::Inspect(const std::string& netns,
                                                   const std::string& ifname) {
  std::string out;
  absl::Status s =
      Run({"nsenter", "--net=" + netns, "ip", "-j", "addr", "show", "dev", ifname}, "", &out);
  if (!s.ok()) return NoSuchDevice(s) ? absl::NotFoundError(s.message()) : s;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array() || j.size() != 1 || !j[0].is_object()) {
    return absl::InternalError("ip -j addr show: unexpected output: " + out);
  }
  ContainerLink link;
  link.mac = j[0].value("address", "");
  if (auto info = j[0].find("addr_info"); info != j[0].end() && info->is_array()) {
    for (const nlohmann::json& a : *info) {
      if (a.value("family", "") != "inet") continue;
      link.ipv4.push_back(absl::StrCat(a.value("local", ""), "/", a.value("prefixlen", 0)));
    }
  }
  return link;
}

std::string VsctlQuote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<std::string> OvsVsctlSwitch::Vsctl() const {
  std::vector<std::string> argv = {"ovs-vsctl", "--timeout=10"};
  if (!ovsdb_.empty()) argv.push_back("--db=" + ovsdb_);
  return argv;
}

absl::Status OvsVsctlSwitch::AddPort(const std::string& bridge, const std::string& port,
                                     const std::string& iface_id, const std::string& mac) {
  std::vector<std::string> argv = Vsctl();
  argv.insert(argv.end(), {"--", "--may-exist", "add-port", bridge, port, "--", "set", "Interface",
                           port, "external_ids:iface-id=" + VsctlQuote(iface_id),
                           "external_ids:attached-mac=" + VsctlQuote(mac)});
  return Run(argv);
}

absl::Status OvsVsctlSwitch::DeletePort(const std::string& bridge, const std::string& port) {
  std::vector<std::string> argv = Vsctl();
  argv.insert(argv.end(), {"--if-exists", "del-port", bridge, port});
  return Run(argv);
}

absl::StatusOr<std::string> OvsVsctlSwitch::PortIfaceId(const std::string& port) {
  std::vector<std::string> argv = Vsctl();
  argv.insert(argv.end(), {"--format=json", "--columns=external_ids", "find", "Interface",
                           "name=" + VsctlQuote(port)});
  std::string out;
  if (absl::Status s = Run(argv, "", &out); !s.ok()) return s;
  // {"data": [[["map", [["iface-id", "..."], ...]]]], "headings": [...]}
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array()) {
    return absl::InternalError("ovs-vsctl find: unexpected output: " + out);
  }
  if (j["data"].empty()) return absl::NotFoundError("no interface " + port + " on the switch");
  const nlohmann::json& map = j["data"][0][0];
  if (map.is_array() && map.size() == 2 && map[1].is_array()) {
    for (const nlohmann::json& kv : map[1]) {
      if (kv.is_array() && kv.size() == 2 && kv[0] == "iface-id" && kv[1].is_string()) {
        return kv[1].get<std::string>();
      }
    }
  }
  return std::string();
}

}  // namespace shortcut::cni
