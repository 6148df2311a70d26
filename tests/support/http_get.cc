#include "tests/support/http_get.h"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace shortcut::testing {

std::string HttpGetBody(uint16_t port, const std::string& path) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  asio::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return "";
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
  asio::write(s, asio::buffer(request), ec);
  if (ec) return "";
  std::string out;
  asio::read(s, asio::dynamic_buffer(out), ec);  // Until the server closes.
  size_t body = out.find("\r\n\r\n");
  if (!out.starts_with("HTTP/1.1 200 ") || body == std::string::npos) return "";
  return out.substr(body + 4);
}

}  // namespace shortcut::testing
