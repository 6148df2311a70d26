// Runs one command's coroutine on a private io_context on the calling
// thread, until it finishes. Commands bound every wait inside by their
// timeout, so this returns.
//
// Thread-safety: each call has its own io_context.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <optional>

#include "absl/status/status.h"

namespace shortcut::ctl {

template <typename Body>
absl::Status RunOnContext(Body body) {
  asio::io_context io;
  std::optional<absl::Status> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await body(io.get_executor()); },
      asio::detached);
  io.run();
  return result.value_or(absl::InternalError("command did not complete"));
}

}  // namespace shortcut::ctl
