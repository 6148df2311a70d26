#include "src/apiserver/limits.h"

#include <grpcpp/resource_quota.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shortcut::apiserver {
namespace {

struct Bound {
  const char* name;
  uint64_t ApiLimits::*member;
  uint64_t min;
  uint64_t max;
};

// Ranges wide enough for any real deployment, narrow enough that a typo
// (a missing unit, a stray digit) is caught; every max fits an int, as gRPC
// takes them.
constexpr Bound kBounds[] = {
    {"max_calls", &ApiLimits::max_calls, 1, 100000},
    {"max_streams", &ApiLimits::max_streams, 1, 1000},
    {"max_watchers", &ApiLimits::max_watchers, 0, 100000},
    {"max_threads", &ApiLimits::max_threads, 4, 200000},
    {"max_streams_per_connection", &ApiLimits::max_streams_per_connection, 1, 100000},
    {"max_message_bytes", &ApiLimits::max_message_bytes, 1024, 1u << 30},
    {"memory_bytes", &ApiLimits::memory_bytes, 16ull << 20, 1ull << 40},
    {"idle_connection_ms", &ApiLimits::idle_connection_ms, 1000, 86400000},
};

absl::Status Invalid(const std::string& field, const std::string& name, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ".", name, ": ", what));
}

}  // namespace

absl::Status CheckApiLimits(const ApiLimits& limits, const std::string& field) {
  for (const Bound& b : kBounds) {
    uint64_t v = limits.*b.member;
    if (v < b.min || v > b.max) {
      return Invalid(field, b.name, absl::StrCat(v, " is not in ", b.min, "..", b.max));
    }
  }
  uint64_t held = limits.max_calls + limits.max_streams + limits.max_watchers;
  if (limits.max_threads <= held) {
    return Invalid(
        field, "max_threads",
        absl::StrCat(limits.max_threads, " must exceed max_calls + max_streams + max_watchers (",
                     held, "), so that calls beyond them can be refused with a message"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ApiLimits> ParseApiLimitsJson(const nlohmann::json& block, const std::string& field,
                                             ApiLimits defaults) {
  if (!block.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be an object such as {\"max_calls\": 128}"));
  }
  ApiLimits limits = defaults;
  for (const auto& [key, value] : block.items()) {
    const Bound* bound = nullptr;
    for (const Bound& b : kBounds) {
      if (key == b.name) bound = &b;
    }
    if (bound == nullptr) {
      std::vector<std::string> names;
      for (const Bound& b : kBounds) names.push_back(b.name);
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": unknown field '", key, "' (known: ", absl::StrJoin(names, ", "), ")"));
    }
    if (!value.is_number_unsigned() || value.get<uint64_t>() < bound->min ||
        value.get<uint64_t>() > bound->max) {
      return Invalid(field, key,
                     absl::StrCat("must be a whole number in ", bound->min, "..", bound->max));
    }
    limits.*bound->member = value.get<uint64_t>();
  }
  if (absl::Status s = CheckApiLimits(limits, field); !s.ok()) return s;
  return limits;
}

void ApplyApiLimits(const ApiLimits& limits, grpc::ServerBuilder& builder) {
  grpc::ResourceQuota quota("shortcut-api");
  quota.SetMaxThreads(static_cast<int>(limits.max_threads));
  quota.Resize(limits.memory_bytes);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(limits.max_streams_per_connection));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(limits.idle_connection_ms));
  // A synchronous server's idle threads wake this often (10 s by default);
  // shutting down waits for the slowest to notice, so a daemon stopping
  // after a burst of calls would take up to that long.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 1000);
}

}  // namespace shortcut::apiserver
