// The gateway's state as the gRPC API's responses (GetStats, ListEndpoints,
// ListHosts), built from a Gateway's const accessors.
//
// An endpoint is online when its port is bound (BindPort reported an ofport
// for its host and iface-id) and its host's programmer holds what it was
// last asked for. On a host this gateway is not designated for, nothing is
// asked of the programmer, so there online means bound (the designated
// gateway confirms the rules).
//
// Listings and the pending count walk the endpoints: O(endpoints).
//
// Thread-safety: none; call on the Gateway's executor.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "shortcut/gateway/v1/gateway.pb.h"
#include "src/gateway/gateway.h"

namespace shortcut::gateway {

bool EndpointOnline(const Gateway& gateway, const EndpointView& endpoint);

// What the Gateway and its DB know: vpcs, endpoints, hosts,
// hosts_connected, endpoints_pending. The forwarding counters are left at 0
// for their owner to fill.
v1::GetStatsResponse StatsOf(const Gateway& gateway);

// Filters are optional (empty: all); an unknown VPC or host is NotFound.
// Sorted by key.
absl::StatusOr<v1::ListEndpointsResponse> ListEndpointsOf(const Gateway& gateway,
                                                          const std::string& vpc,
                                                          const std::string& host);

// The cluster's hosts, sorted by name.
v1::ListHostsResponse ListHostsOf(const Gateway& gateway);

}  // namespace shortcut::gateway
