// libFuzzer target for the OVSDB JSON-RPC framer and message parser: any
// byte stream must frame and parse or fail cleanly, framing must not depend
// on how the stream is split into reads, and every message that parses must
// serialize and parse again to the same message.
//
// Seeds: tests/fuzz/corpus/ovsdb_jsonrpc/ (JSON-RPC streams as OVSDB sends them).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "src/ovsdb/jsonrpc.h"

namespace {

using shortcut::ovsdb::Json;
using shortcut::ovsdb::JsonFramer;

// Frames `in` fed in pieces of `chunk` bytes (0: all at once); the values
// and whether framing ended in an error.
std::vector<Json> Frame(std::string_view in, size_t chunk, bool* failed) {
  JsonFramer framer(4096);
  std::vector<Json> out;
  *failed = false;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t n = chunk == 0 ? in.size() : std::min(chunk, in.size() - pos);
    framer.Append(in.substr(pos, n));
    pos += n;
    while (true) {
      auto next = framer.Next();
      if (!next.ok()) {
        *failed = true;
        return out;
      }
      if (!next->has_value()) break;
      out.push_back(std::move(**next));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = data[0] % 17 + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool failed_whole = false, failed_chunked = false;
  std::vector<Json> whole = Frame(in, 0, &failed_whole);
  std::vector<Json> chunked = Frame(in, chunk, &failed_chunked);
  if (whole != chunked || failed_whole != failed_chunked) {
    std::fprintf(stderr, "framing depends on read boundaries (chunk %zu)\n", chunk);
    std::abort();
  }
  for (const Json& value : whole) {
    auto msg = shortcut::ovsdb::ParseMessage(value);
    (void)shortcut::ovsdb::DescribeError(value);
    if (!msg.ok()) continue;
    std::string text = shortcut::ovsdb::Serialize(*msg);
    Json again = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (again.is_discarded() || !shortcut::ovsdb::ParseMessage(again).ok()) {
      std::fprintf(stderr, "re-parse failed: %s\n", text.c_str());
      std::abort();
    }
  }
  return 0;
}
