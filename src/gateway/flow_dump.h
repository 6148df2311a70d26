// One flow dump over an OpenFlow connection (a multipart flow-stats request
// and every part of its reply), for the forwarder's reads of counters: the
// gateway bridge's counting flows and hosts' direct paths.
//
// Thread-safety: the connection's executor.
#pragma once

#include <asio/awaitable.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/ofconn/connection.h"
#include "src/openflow/message.h"

namespace shortcut::gateway {

asio::awaitable<absl::StatusOr<std::vector<of::FlowStats>>> DumpFlows(ofconn::Connection& conn,
                                                                      of::FlowStatsRequest request,
                                                                      Millis timeout);

}  // namespace shortcut::gateway
