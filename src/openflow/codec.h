// OpenFlow 1.3 wire codec: Message <-> bytes.
//
// Decoding is total: any input, truncated, oversized or hostile, yields either
// a Message or an InvalidArgument status that says what is wrong and where;
// it never reads outside the given span (fuzzed by tests/fuzz). Encoding
// fails only for values that cannot be represented (a message over 65535
// bytes, a field that is not maskable given a mask, ...).
//
// Thread-safety: stateless functions, safe from any thread.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/bytes.h"
#include "src/openflow/message.h"

namespace shortcut::of {

struct Header {
  uint8_t version = 0;
  uint8_t type = 0;  // A MsgType value; kept raw so unknown types can be reported.
  uint16_t length = 0;
  uint32_t xid = 0;
};

// Reads the 8-byte ofp_header at the start of `data` (which may hold more).
// Fails if fewer than 8 bytes are given or length < 8.
absl::StatusOr<Header> DecodeHeader(std::span<const uint8_t> data);

// Appends the encoding of `msg` to `out`. On error `out` is left as it was.
absl::Status Encode(const Message& msg, Bytes& out);
absl::StatusOr<Bytes> Encode(const Message& msg);

// Decodes one complete message; `data` must be exactly header.length bytes.
absl::StatusOr<Message> Decode(std::span<const uint8_t> data);

// Pieces shared with other encoders (packet-in match, group buckets, ...).
// EncodeMatch writes a whole ofp_match (type OFPMT_OXM, length, OXM TLVs,
// padding to 8 bytes); DecodeMatch reads one, padding included.
absl::Status EncodeMatch(const Match& match, ByteWriter& w);
absl::StatusOr<Match> DecodeMatch(ByteReader& r);
// Action lists and instruction lists: `len` is the byte length to consume.
absl::Status EncodeActions(const ActionList& actions, ByteWriter& w);
absl::StatusOr<ActionList> DecodeActions(ByteReader& r, size_t len);
absl::Status EncodeInstructions(const Instructions& ins, ByteWriter& w);
absl::StatusOr<Instructions> DecodeInstructions(ByteReader& r, size_t len);

}  // namespace shortcut::of
