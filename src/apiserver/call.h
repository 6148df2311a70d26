// Running an API call's work on a daemon's executor from a gRPC thread.
//
// gRPC runs synchronous handlers on threads of its own, while each daemon's
// state lives on one asio executor and is not thread-safe. RunOnExecutor
// co_spawns the call's coroutine there (created on the executor: make_work
// is called there and must own its inputs) and blocks the gRPC thread on its
// result: up to the client's deadline, or `default_deadline_ms` when the
// client set none, looking every 50 ms whether the call was cancelled.
// Past the deadline the call is DEADLINE_EXCEEDED, but its work, already
// running, may still complete: the promise and the admission ticket are
// held by the completion, so the work stays counted until it ends.
//
// absl::Status codes become gRPC codes one to one (ToGrpcStatus).
//
// Thread-safety: RunOnExecutor from any thread but the executor's own
// (it would wait on itself).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <algorithm>
#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "src/apiserver/admission.h"
#include "src/common/clock.h"

namespace shortcut::apiserver {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The answer to a call refused by an Admission: RESOURCE_EXHAUSTED naming
// the daemon, what is full and the setting that bounds it.
grpc::Status Refused(const char* daemon, const char* what, const Admission& admission,
                     const char* setting);

// A client stream (a bulk load) whose reads ended without a batch marked
// `last`. gRPC ends the reads alike whether the client finished the stream
// or it broke (a message over max_message_bytes, a client gone): only the
// mark tells a whole stream from a cut one. `outcome`: "applied",
// "written".
grpc::Status StreamCutShort(const char* outcome);

struct CallOptions {
  Millis default_deadline_ms = 30000;
  const char* daemon = "";  // "gateway", "manager": named in the messages.
};

template <typename T, typename MakeWork>
grpc::Status RunOnExecutor(const asio::any_io_executor& ex, grpc::ServerContext* context,
                           const CallOptions& options, Admission::Ticket ticket, MakeWork make_work,
                           T* out) {
  auto done = std::make_shared<std::promise<absl::StatusOr<T>>>();
  std::future<absl::StatusOr<T>> result = done->get_future();
  asio::co_spawn(ex, std::move(make_work),
                 [done, ticket = std::move(ticket)](std::exception_ptr e, absl::StatusOr<T> r) {
                   if (e) r = absl::InternalError("the call ended with an exception");
                   done->set_value(std::move(r));
                 });
  using Clock = std::chrono::system_clock;
  Clock::time_point deadline = context->deadline();
  if (deadline == Clock::time_point::max()) {
    deadline = Clock::now() + std::chrono::milliseconds(options.default_deadline_ms);
  }
  // Waited for in slices, so that a cancelled call (client gone, server
  // shutting down) gives its thread back early.
  for (;;) {
    Clock::time_point slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(50));
    if (result.wait_until(slice) == std::future_status::ready) break;
    if (context->IsCancelled()) {
      return grpc::Status(
          grpc::StatusCode::CANCELLED,
          absl::StrCat("the call was cancelled; the ", options.daemon, " may still complete it"));
    }
    if (Clock::now() >= deadline) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          absl::StrCat("the ", options.daemon,
                                       " did not complete the call in time; it may still do so"));
    }
  }
  std::optional<absl::StatusOr<T>> r;
  try {
    r.emplace(result.get());
  } catch (const std::future_error&) {
    // The executor was destroyed with the work still queued.
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("the ", options.daemon, " is stopping"));
  }
  if (!r->ok()) return ToGrpcStatus(r->status());
  if (out != nullptr) *out = std::move(**r);
  return grpc::Status::OK;
}

}  // namespace shortcut::apiserver
