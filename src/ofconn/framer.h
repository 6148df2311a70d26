// Splits a byte stream into OpenFlow messages by the length in their header.
//
// The reader appends what it receives (Prepare + Commit) and takes whole
// messages with Next(). A header whose length is below the 8-byte header is a
// framing error: nothing after it can be trusted, so the connection must be
// closed. (The 16-bit length field cannot exceed of::kMaxMessageLen.) The
// buffer grows to hold one maximal message and is reused; memory stays
// bounded whatever the peer sends.
//
// Thread-safety: none; a Framer belongs to one reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace shortcut::ofconn {

class Framer {
 public:
  explicit Framer(size_t initial_capacity = 128 * 1024);

  // Free space to read into: at least `min_free` bytes (and at least enough
  // for the rest of the message being received).
  std::span<uint8_t> Prepare(size_t min_free = 16 * 1024);
  // `n` bytes were written at the start of the last Prepare() span.
  void Commit(size_t n) { end_ += n; }

  // The next complete message (header included), valid until the next
  // Prepare(); nullopt if more bytes are needed; an error for a bad length.
  absl::StatusOr<std::optional<std::span<const uint8_t>>> Next();

  size_t buffered() const { return end_ - begin_; }
  // Describes a partial message left in the buffer, for "closed mid-message"
  // errors; empty if the buffer ends on a message boundary.
  std::string DescribePartial() const;

 private:
  std::vector<uint8_t> buf_;
  size_t begin_ = 0;  // First unconsumed byte.
  size_t end_ = 0;    // One past the last received byte.
};

}  // namespace shortcut::ofconn
