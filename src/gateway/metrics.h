// shortcut-gatewayd's Prometheus metrics (its config's `metrics` address):
// what GetStats shows, as counters (shortcut_gateway_*_total) and gauges,
// the gateway's identity as shortcut_gateway_info{instance_id, cluster_id},
// per host whether it is connected, designated to this gateway, the rules
// desired on it and its gateway tunnels forwarding (labels host=), and the
// histogram of direct-path setup times (packet-in to both barriers).
//
// The values are read at every scrape from the same functions GetStats and
// ListHosts answer from, so the two never disagree.
//
// Thread-safety: Add() before serving; the collectors run on the
// scraper's thread, which must be the one owning the gateway (the daemon's
// io_context); the histogram is updated from the forwarder on that thread.
#pragma once

#include <functional>

#include "shortcut/gateway/v1/gateway.pb.h"
#include "src/metrics/metrics.h"

namespace shortcut::gateway {

struct GatewayMetrics {
  std::function<v1::GetStatsResponse()> stats;
  std::function<v1::ListHostsResponse()> hosts;
  // Registers the families and collectors; returns the setup-time
  // histogram for the forwarder's hook.
  metrics::Histogram& Add(metrics::Registry& registry) const;
};

}  // namespace shortcut::gateway
