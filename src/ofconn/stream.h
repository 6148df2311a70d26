// A byte stream to a switch, hiding whether it is a Unix or TCP socket.
//
// Connection reads and writes through this interface only, so a TLS stream
// (asio::ssl::stream over a TCP socket, with its handshake done in Connect())
// can be added as one more implementation without touching Connection.
// Errors are returned as std::error_code; nothing throws.
//
// Thread-safety: none; a Stream is used from its executor only. Close() may
// be called while a read and a write are in flight (they complete with
// operation_aborted).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <cstddef>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/status/statusor.h"
#include "src/ofconn/target.h"

namespace shortcut::ofconn {

class Stream {
 public:
  virtual ~Stream() = default;
  // Connects to the target given at creation.
  virtual asio::awaitable<std::error_code> Connect() = 0;
  virtual asio::awaitable<std::pair<std::error_code, size_t>> ReadSome(
      asio::mutable_buffer buf) = 0;
  // Writes all of `buf` (or fails).
  virtual asio::awaitable<std::pair<std::error_code, size_t>> Write(asio::const_buffer buf) = 0;
  virtual void Close() = 0;
};

// An unconnected stream for `target`; Unimplemented for ssl: targets.
absl::StatusOr<std::shared_ptr<Stream>> MakeStream(const asio::any_io_executor& ex,
                                                   const Target& target);

}  // namespace shortcut::ofconn
