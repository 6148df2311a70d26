// A byte stream to a switch, hiding whether it is a Unix socket, a TCP
// socket, or TLS over TCP (ssl: targets: asio::ssl::stream, its handshake
// done in Connect(), with the SSL settings of ssl.h).
//
// Connection and OvsdbClient read and write through this interface only.
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
#include "src/ofconn/ssl.h"
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

// An unconnected stream for `target`. An ssl: target uses the process-wide
// SSL context (ssl.h): FailedPrecondition when none is set.
absl::StatusOr<std::shared_ptr<Stream>> MakeStream(const asio::any_io_executor& ex,
                                                   const Target& target);
// The same with an explicit context for ssl: targets (null: the default).
absl::StatusOr<std::shared_ptr<Stream>> MakeStream(const asio::any_io_executor& ex,
                                                   const Target& target,
                                                   std::shared_ptr<asio::ssl::context> ssl);

}  // namespace shortcut::ofconn
