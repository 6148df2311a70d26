// A blocking HTTP/1.1 GET over TCP to 127.0.0.1, for tests of the metrics
// endpoints.
//
// Thread-safety: each call is independent.
#pragma once

#include <cstdint>
#include <string>

namespace shortcut::testing {

// GET `path` from 127.0.0.1:port; the body of a 200 answer, "" otherwise.
std::string HttpGetBody(uint16_t port, const std::string& path = "/metrics");

}  // namespace shortcut::testing
