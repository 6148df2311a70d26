// OpenFlow 1.3 wire codec: Message <-> bytes.
//
// Decoding is total: any input, truncated, oversized or hostile, yields either
// a Message or an InvalidArgument status that says what is wrong and where
// (Unimplemented for well-formed messages Shortcut does not model, see Decode);
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
// Malformed input gives InvalidArgument. A well-framed message that Shortcut
// does not model (another message type, multipart type or experimenter
// message) gives Unimplemented naming it, so that a connection can log and
// skip it instead of treating the peer as broken.
absl::StatusOr<Message> Decode(std::span<const uint8_t> data);

// Appends an ONF bundle-add message (OFPT_EXPERIMENTER, experimenter
// 0x4f4e4600, exp_type 2301) for `bundle_id` and `flags` that carries `inner`,
// encoded in the same pass with its xid replaced by `xid` (Open vSwitch
// requires the inner and outer xids to be equal). Equivalent to encoding a
// Message{kVersion13, xid, BundleAdd{bundle_id, flags, Encode(inner)}} but
// without the intermediate buffer. `inner` must be an OpenFlow 1.3 message.
// On error `out` is left as it was.
absl::Status EncodeBundleAdd(uint32_t xid, uint32_t bundle_id, uint16_t flags, const Message& inner,
                             Bytes& out);

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
