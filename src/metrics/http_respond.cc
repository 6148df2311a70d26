#include "src/metrics/http_respond.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace shortcut::metrics {

std::string HttpAnswer(int code, const char* reason, std::string_view type, std::string_view body) {
  std::string out =
      absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", std::string(type),
                   "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n");
  out.append(body);
  return out;
}

std::string Respond(std::string_view head, const std::function<std::string()>& body) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t space = line.find(' ', at);
    parts.push_back(line.substr(at, space == std::string_view::npos ? space : space - at));
    if (space == std::string_view::npos) break;
    at = space + 1;
  }
  if (parts.size() != 3 || !parts[2].starts_with("HTTP/1.") || parts[1].empty() ||
      parts[1][0] != '/') {
    return HttpAnswer(400, "Bad Request", "text/plain", "malformed request line\n");
  }
  if (parts[0] != "GET" && parts[0] != "HEAD") {
    return HttpAnswer(405, "Method Not Allowed", "text/plain", "only GET /metrics\n");
  }
  std::string_view path = parts[1].substr(0, parts[1].find('?'));
  if (path != "/metrics") return HttpAnswer(404, "Not Found", "text/plain", "only GET /metrics\n");
  std::string text = body();
  std::string out = HttpAnswer(200, "OK", "text/plain; version=0.0.4; charset=utf-8", text);
  if (parts[0] == "HEAD") out.resize(out.size() - text.size());
  return out;
}

}  // namespace shortcut::metrics
