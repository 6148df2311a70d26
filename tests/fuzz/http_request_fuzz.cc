// libFuzzer target for the metrics endpoint's request handling: any bytes
// as a request head must get a well-formed HTTP/1.1 answer (a status line,
// a Content-Length equal to the body's size) without reading out of bounds,
// and the body function is called only for GET or HEAD of /metrics.
//
// Seeds: tests/fuzz/corpus/http_request/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "src/metrics/http_respond.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view head(reinterpret_cast<const char*>(data), size);
  bool called = false;
  std::string out = shortcut::metrics::Respond(head, [&] {
    called = true;
    return std::string("m 1\n");
  });
  if (!out.starts_with("HTTP/1.1 ")) std::abort();
  size_t blank = out.find("\r\n\r\n");
  if (blank == std::string::npos) std::abort();
  size_t cl = out.find("Content-Length: ");
  if (cl == std::string::npos || cl > blank) std::abort();
  size_t length = std::strtoul(out.c_str() + cl + 16, nullptr, 10);
  bool head_only = head.starts_with("HEAD ");
  if (!head_only && out.size() - blank - 4 != length) std::abort();
  if (called != out.starts_with("HTTP/1.1 200")) std::abort();
  return 0;
}
