// The metrics endpoint's HTTP answers, without I/O (MetricsServer in
// http_server.h sends them; the fuzz target feeds Respond() any bytes).
//
// Thread-safety: pure functions (Respond calls `body`).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace shortcut::metrics {

// A whole HTTP/1.1 response, Connection: close.
std::string HttpAnswer(int code, const char* reason, std::string_view type, std::string_view body);
// The answer to one request head (up to its blank line): 200 with `body()`
// for GET (or HEAD, without the body) of /metrics (a query is ignored),
// 405 for another method, 404 for another path, 400 for a malformed
// request line.
std::string Respond(std::string_view head, const std::function<std::string()>& body);

}  // namespace shortcut::metrics
