// shortcut-cni's output: the CNI result of ADD, VERSION's answer and the
// error object, in the JSON the specification gives for the request's
// cniVersion (0.3.x and 0.4.0 carry "version": "4" in each IP entry).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "src/cni/request.h"

namespace shortcut::cni {

// What ADD made, and what CHECK compares.
struct Attachment {
  std::string host_ifname;       // The veth's end on the host (on the bridge).
  std::string host_mac;          // May be empty.
  std::string container_ifname;  // CNI_IFNAME.
  std::string container_mac;
  std::string netns;          // CNI_NETNS.
  std::string ipv4;           // The endpoint's address.
  uint8_t prefix_length = 0;  // Its network's.
  std::string gateway;        // The network's first address (VPC router by convention).
};

nlohmann::json ResultJson(const Attachment& a, const std::string& cni_version);
nlohmann::json VersionJson();
nlohmann::json ErrorJson(const Error& error, const std::string& cni_version);

// The container interface's address in a previous result (prevResult of
// CHECK): "a.b.c.d/len", empty if it has none.
std::string PrevResultAddress(const nlohmann::json& prev_result, const std::string& ifname);

}  // namespace shortcut::cni
