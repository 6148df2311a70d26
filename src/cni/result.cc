#include "src/cni/result.h"

#include "absl/strings/str_cat.h"

namespace shortcut::cni {

nlohmann::json ResultJson(const Attachment& a, const std::string& cni_version) {
  nlohmann::json host = {{"name", a.host_ifname}};
  if (!a.host_mac.empty()) host["mac"] = a.host_mac;
  nlohmann::json container = {
      {"name", a.container_ifname}, {"mac", a.container_mac}, {"sandbox", a.netns}};
  nlohmann::json ip = {{"address", absl::StrCat(a.ipv4, "/", a.prefix_length)}, {"interface", 1}};
  nlohmann::json routes = nlohmann::json::array();
  if (!a.gateway.empty()) {
    ip["gateway"] = a.gateway;
    routes.push_back({{"dst", "0.0.0.0/0"}, {"gw", a.gateway}});
  }
  if (cni_version != "1.0.0") ip["version"] = "4";
  return {{"cniVersion", cni_version},
          {"interfaces", nlohmann::json::array({host, container})},
          {"ips", nlohmann::json::array({ip})},
          {"routes", routes},
          {"dns", nlohmann::json::object()}};
}

nlohmann::json VersionJson() {
  return {{"cniVersion", std::string(kCniVersion)}, {"supportedVersions", SupportedVersions()}};
}

nlohmann::json ErrorJson(const Error& error, const std::string& cni_version) {
  nlohmann::json out = {
      {"cniVersion", cni_version.empty() ? std::string(kCniVersion) : cni_version},
      {"code", static_cast<uint32_t>(error.code)},
      {"msg", error.msg}};
  if (!error.details.empty()) out["details"] = error.details;
  return out;
}

std::string PrevResultAddress(const nlohmann::json& prev_result, const std::string& ifname) {
  auto interfaces = prev_result.find("interfaces");
  auto ips = prev_result.find("ips");
  if (ips == prev_result.end() || !ips->is_array()) return "";
  for (const nlohmann::json& ip : *ips) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) continue;
    // The entry of the container's interface (its index in "interfaces").
    if (auto i = ip.find("interface"); i != ip.end() && i->is_number_unsigned() &&
                                       interfaces != prev_result.end() && interfaces->is_array()) {
      size_t index = i->get<size_t>();
      if (index >= interfaces->size()) continue;
      const nlohmann::json& itf = (*interfaces)[index];
      if (!itf.is_object() || itf.value("name", "") != ifname) continue;
    }
    return ip["address"].get<std::string>();
  }
  return "";
}

}  // namespace shortcut::cni
