// ApiLimits: how much of a daemon one API may take, whoever calls it.
//
// A daemon's gRPC API is bounded on every axis a flood of clients can push:
//   max_calls            calls admitted at once (from admission until the
//                        daemon's executor has finished their work); beyond,
//                        RESOURCE_EXHAUSTED naming the setting;
//   max_streams          client streams (bulk loads) read at once: each holds
//                        its whole content in memory until applied;
//   max_watchers         server streams (WatchEndpoints) at once: each holds
//                        a gRPC thread for as long as it lasts;
//   max_threads          gRPC's threads for synchronous handlers; must exceed
//                        max_calls + max_streams + max_watchers, so that the
//                        calls beyond the bounds above still find a thread to
//                        be refused on with a message (beyond max_threads
//                        gRPC itself refuses, with RESOURCE_EXHAUSTED);
//   max_streams_per_connection  HTTP/2 streams one connection may open;
//   max_message_bytes    one request message; larger ones are refused by
//                        gRPC with RESOURCE_EXHAUSTED before being parsed;
//   memory_bytes         gRPC's resource quota for its buffers;
//   idle_connection_ms   a connection with no call for this long is closed
//                        (clients reconnect by themselves).
// In a config file: "api_limits": {"max_calls": 128, ...}, every field
// optional.
//
// Pure functions; thread-safe.
#pragma once

#include <grpcpp/server_builder.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace shortcut::apiserver {

struct ApiLimits {
  uint64_t max_calls = 128;
  uint64_t max_streams = 4;
  uint64_t max_watchers = 64;
  uint64_t max_threads = 256;
  uint64_t max_streams_per_connection = 100;
  uint64_t max_message_bytes = 64u << 20;
  uint64_t memory_bytes = 512ull << 20;
  uint64_t idle_connection_ms = 300000;
};

// InvalidArgument naming `field`.<setting> when a bound is out of range or
// the thread pool cannot hold the other bounds.
absl::Status CheckApiLimits(const ApiLimits& limits, const std::string& field);

// The JSON object at `field`, over `defaults`; unknown fields and wrong
// types are InvalidArgument naming them.
absl::StatusOr<ApiLimits> ParseApiLimitsJson(const nlohmann::json& block, const std::string& field,
                                             ApiLimits defaults = {});

// Sets gRPC's share of the limits on a server being built (threads,
// memory, streams per connection, message size, idle connections).
void ApplyApiLimits(const ApiLimits& limits, grpc::ServerBuilder& builder);

}  // namespace shortcut::apiserver
