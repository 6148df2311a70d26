#include "src/ofconn/target.h"

#include <sys/un.h>

#include <asio/ip/address.hpp>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace shortcut::ofconn {
namespace {

// This abseil build keeps its own string_view type.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad OpenFlow target \"", AV(text), "\": ", AV(why)));
}

absl::StatusOr<uint16_t> ParsePort(std::string_view text, std::string_view port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) {
    return Bad(text, absl::StrCat("port \"", AV(port), "\" is not a number"));
  }
  if (value == 0 || value > 65535) {
    return Bad(text, absl::StrCat("port ", AV(port), " is outside 1..65535"));
  }
  return static_cast<uint16_t>(value);
}

// "IP[:PORT]" or "[IPv6][:PORT]".
absl::Status ParseHostPort(std::string_view text, std::string_view rest, Target& t) {
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Bad(text, "missing ']' after IPv6 address");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(text, "expected ':PORT' after ']'");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return Bad(text, "an IPv6 address must be written in brackets, as [IPv6]:PORT");
    }
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      has_port = true;
    }
  }
  if (host.empty()) return Bad(text, "missing IP address");
  std::error_code ec;
  asio::ip::address addr = asio::ip::make_address(std::string(host), ec);
  if (ec) return Bad(text, absl::StrCat("\"", AV(host), "\" is not an IP address"));
  bool bracketed = rest.front() == '[';
  if (addr.is_v6() != bracketed) {
    return Bad(text, bracketed ? "brackets are only for IPv6 addresses"
                               : "an IPv6 address must be written in brackets");
  }
  t.host = addr.to_string();
  if (has_port) {
    auto p = ParsePort(text, port);
    if (!p.ok()) return p.status();
    t.port = *p;
  }
  return absl::OkStatus();
}

}  // namespace

std::string Target::ToString() const {
  switch (kind) {
    case Kind::kUnix:
      return absl::StrCat("unix:", path);
    case Kind::kTcp:
    case Kind::kSsl: {
      bool v6 = host.find(':') != std::string::npos;
      return absl::StrCat(kind == Kind::kTcp ? "tcp:" : "ssl:", v6 ? "[" : "", host, v6 ? "]" : "",
                          ":", port);
    }
  }
  return "?";
}

absl::StatusOr<Target> ParseTarget(std::string_view text) {
  Target t;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Bad(text, "expected unix:PATH, tcp:IP[:PORT] or ssl:IP[:PORT]");
  }
  std::string_view scheme = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  if (scheme == "unix") {
    if (rest.empty()) return Bad(text, "missing socket path");
    if (rest.front() != '/') {
      return Bad(text, "the socket path must be absolute (start with '/')");
    }
    if (rest.size() >= sizeof(sockaddr_un::sun_path)) {
      return Bad(text, absl::StrCat("the socket path is longer than ",
                                    sizeof(sockaddr_un::sun_path) - 1, " bytes"));
    }
    t.kind = Target::Kind::kUnix;
    t.path = std::string(rest);
    return t;
  }
  if (scheme == "tcp" || scheme == "ssl") {
    t.kind = scheme == "tcp" ? Target::Kind::kTcp : Target::Kind::kSsl;
    if (rest.empty()) return Bad(text, "missing IP address");
    absl::Status s = ParseHostPort(text, rest, t);
    if (!s.ok()) return s;
    return t;
  }
  return Bad(text, absl::StrCat("unknown scheme \"", AV(scheme), "\" (expected unix, tcp or ssl)"));
}

}  // namespace shortcut::ofconn
