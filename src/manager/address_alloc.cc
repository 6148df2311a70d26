#include "src/manager/address_alloc.h"

#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"

namespace shortcut::manager {

void InFlightAddresses::Add(const model::Endpoint& e) {
  ipv4.emplace(e.vpc, e.ipv4);
  mac.emplace(e.vpc, e.mac);
}

void InFlightAddresses::Remove(const model::Endpoint& e) {
  ipv4.erase({e.vpc, e.ipv4});
  mac.erase({e.vpc, e.mac});
}

std::string MacForIpv4(model::Ipv4 ip) {
  char text[18];
  std::snprintf(text, sizeof text, "0a:58:%02x:%02x:%02x:%02x", (ip >> 24) & 0xff,
                (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
  return text;
}

absl::Status AllocateAddresses(const NbState& state, const InFlightAddresses& in_flight,
                               std::string_view field, model::Endpoint& e) {
  if (!e.ipv4.empty() && !e.mac.empty()) return absl::OkStatus();
  if (const EndpointRow* have = state.FindEndpoint(e.key)) {
    // A retry: the first call's addresses (anything else that differs is
    // reported by the creation's check).
    if (e.ipv4.empty()) e.ipv4 = have->endpoint.ipv4;
    if (e.mac.empty()) e.mac = have->endpoint.mac;
    return absl::OkStatus();
  }
  auto ip_free = [&](const std::string& ip) {
    return state.EndpointWithIpv4(e.vpc, ip) == nullptr && !in_flight.ipv4.contains({e.vpc, ip});
  };
  auto mac_free = [&](const std::string& mac) {
    return state.EndpointWithMac(e.vpc, mac) == nullptr && !in_flight.mac.contains({e.vpc, mac});
  };
  if (!e.ipv4.empty()) {
    // Only the MAC to find; a malformed address is the creation's check's.
    if (auto ip = model::ParseIpv4(e.ipv4)) e.mac = MacForIpv4(*ip);
    return absl::OkStatus();
  }
  auto net = state.networks.find({e.vpc, e.network});
  if (net == state.networks.end()) return absl::OkStatus();
  auto cidr = model::ParseIpv4Cidr(net->second.network.ipv4_cidr);
  if (!cidr) return absl::OkStatus();
  const uint64_t size = uint64_t{1} << (32 - cidr->length);
  uint64_t first = 0, last = size - 1;
  if (cidr->length <= 30) {
    first = 2;        // Not the network address, nor the router's.
    last = size - 2;  // Not the broadcast address.
  }
  for (uint64_t offset = first; offset <= last; ++offset) {
    model::Ipv4 ip = cidr->prefix + static_cast<model::Ipv4>(offset);
    std::string text = model::FormatIpv4(ip);
    if (!ip_free(text)) continue;
    std::string mac = e.mac.empty() ? MacForIpv4(ip) : e.mac;
    if (e.mac.empty() && !mac_free(mac)) continue;
    e.ipv4 = std::move(text);
    e.mac = std::move(mac);
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(absl::StrCat(std::string(field), ".ipv4: network ", e.network,
                                                   " (", net->second.network.ipv4_cidr, ") of VPC ",
                                                   e.vpc, " has no free address left"));
}

}  // namespace shortcut::manager
