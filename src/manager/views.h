// The northbound API's resources as the state shows them: rows of an
// NbState turned into shortcut.manager.v1 messages, with their output-only
// fields computed (a host's endpoints and clusters, a cluster's members,
// VPCs, capacity and load, a VPC's networks and endpoint count), and the
// paging of lists (opaque tokens, stable under inserts, keys sorted).
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "shortcut/manager/v1/manager.pb.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

v1::Host HostView(const NbState& state, const HostRow& row);
v1::Gateway GatewayView(const GatewayRow& row);
v1::Cluster ClusterView(const NbState& state, uint32_t id);
v1::Network NetworkView(const NetworkRow& row);
v1::Vpc VpcView(const NbState& state, const VpcRow& row);
v1::Endpoint EndpointView(const EndpointRow& row);

// A page token is the last key of the page before, base64 (web-safe), so
// a list continues after it whatever was inserted or deleted meanwhile.
std::string PageToken(const std::string& last_key);
// Empty: from the start. InvalidArgument naming page_token otherwise.
absl::StatusOr<std::string> ParsePageToken(const std::string& token);

// Up to `size` keys of `sorted` after `after` (empty: from the start), and
// the next page's token (empty at the end).
struct Page {
  std::vector<std::string> keys;
  std::string next_token;
};
Page TakePage(const std::vector<std::string>& sorted, const std::string& after, int32_t size);

// Endpoint keys, sorted, with filters (empty: any), one page: merged from
// the per-VPC (or per-host) indexes, so a page costs about its size, not
// the number of endpoints.
Page EndpointPage(const NbState& state, const std::string& vpc, const std::string& host,
                  const std::string& after, int32_t size);

// Whether an endpoint passes WatchEndpoints/ListEndpoints filters.
bool EndpointMatches(const model::Endpoint& e, const std::string& vpc, const std::string& host);

// Cluster ids sort as numbers; their token is the decimal id.
std::string ClusterKey(uint32_t id);

}  // namespace shortcut::manager
