// GetStats' offload policy and host budget parts (the daemon's stats hook):
// per VPC, flows given direct paths and flows the gateway carries; per host
// with a budget, this gateway's share and what it holds.
//
// Thread-safety: the gateway's executor.
#pragma once

#include "shortcut/gateway/v1/gateway.pb.h"
#include "src/gateway/forwarder.h"
#include "src/gateway/gateway.h"

namespace shortcut::gateway {

void FillOffloadStats(const Gateway& gateway, const Forwarder& forwarder,
                      v1::GetStatsResponse& stats);

}  // namespace shortcut::gateway
