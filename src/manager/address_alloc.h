// Dynamic addresses: an endpoint created without an IPv4 address or a MAC
// (CreateEndpoint with `ipv4` or `mac` empty) gets them from the management
// plane, as OVN's `dynamic` addresses do, so that an orchestrator (the CNI
// plugin, say) need not keep an address pool of its own.
//
//   - IPv4: the lowest free address of the endpoint's network, skipping the
//     network address, the first address (by convention the VPC router
//     address that VMs use as their default route; Shortcut answers ARP for
//     every address with the router MAC, so any address would do, but
//     keeping it free keeps the convention) and the broadcast address.
//     /31 and /32 networks give every address.
//   - MAC: 0a:58 followed by the four bytes of the IPv4 address (locally
//     administered, unicast; the convention of ovn-kubernetes), unique in
//     the VPC because the IPv4 address is; an address whose MAC someone
//     else took explicitly is skipped.
//   - A retry of a creation (same key) takes the addresses the first call
//     got, so that it is idempotent like every other create.
//
// "Free" means: used by no endpoint of the VPC in the state and not being
// written by a creation in flight (`in_flight`: the caller reserves what it
// is about to commit, since the state shows a write only after its commit).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "src/manager/nb.h"
#include "src/model/address.h"
#include "src/model/types.h"

namespace shortcut::manager {

// Addresses of creations not yet committed: (vpc, address text).
struct InFlightAddresses {
  absl::flat_hash_set<std::pair<std::string, std::string>> ipv4;
  absl::flat_hash_set<std::pair<std::string, std::string>> mac;
  void Add(const model::Endpoint& e);
  void Remove(const model::Endpoint& e);
};

// "0a:58:" + the address's bytes.
std::string MacForIpv4(model::Ipv4 ip);

// Fills `e.ipv4` and `e.mac` where empty (both set: nothing to do). Errors
// name `field`'s sub-fields: RESOURCE_EXHAUSTED when the network has no free
// address left. A VPC or network that does not exist is left to the
// creation's own checks (they name it): the fields stay empty.
absl::Status AllocateAddresses(const NbState& state, const InFlightAddresses& in_flight,
                               std::string_view field, model::Endpoint& e);

}  // namespace shortcut::manager
