// libFuzzer target for the OpenFlow decoder: any input must decode or fail
// cleanly (ASan/UBSan catch over-reads), and whatever decodes must encode
// and decode again to an equal Message.
//
// Seeds: tests/fuzz/corpus/openflow/ (one binary message per file).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "src/openflow/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  // Exercise the piece decoders on the raw input too.
  {
    shortcut::ByteReader r(in);
    (void)shortcut::of::DecodeMatch(r);
    shortcut::ByteReader a(in);
    (void)shortcut::of::DecodeActions(a, size);
    shortcut::ByteReader i(in);
    (void)shortcut::of::DecodeInstructions(i, size);
  }
  absl::StatusOr<shortcut::of::Message> msg = shortcut::of::Decode(in);
  if (!msg.ok()) return 0;
  absl::StatusOr<shortcut::of::Bytes> bytes = shortcut::of::Encode(*msg);
  if (!bytes.ok()) {
    std::fprintf(stderr, "re-encode failed: %s\n", std::string(bytes.status().message()).c_str());
    std::abort();
  }
  absl::StatusOr<shortcut::of::Message> again = shortcut::of::Decode(*bytes);
  if (!again.ok()) {
    std::fprintf(stderr, "re-decode failed: %s\n", std::string(again.status().message()).c_str());
    std::abort();
  }
  if (!(*again == *msg)) {
    std::fprintf(stderr, "round trip changed the message\n");
    std::abort();
  }
  return 0;
}
