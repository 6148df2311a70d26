#include "src/ofconn/ssl.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <asio/ssl/context.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace shortcut::ofconn {
namespace {

std::mutex default_mu;
std::shared_ptr<asio::ssl::context> default_context;  // Guarded by default_mu.

// The file must be readable and hold PEM; the message names it.
absl::Status CheckPemFile(const std::string& what, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": no file given"));
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", path, ": cannot read: ", std::strerror(errno)));
  }
  std::stringstream text;
  text << f.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", path, ": not a PEM file"));
  }
  return absl::OkStatus();
}

absl::Status SslError(const std::string& what, const std::string& path, std::error_code ec) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", path, ": ", ec.message()));
}

}  // namespace

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeSslContext(const SslFiles& files) {
  if (absl::Status s = CheckPemFile("private key", files.private_key); !s.ok()) return s;
  if (absl::Status s = CheckPemFile("certificate", files.certificate); !s.ok()) return s;
  if (absl::Status s = CheckPemFile("CA certificate", files.ca_cert); !s.ok()) return s;
  std::shared_ptr<asio::ssl::context> ctx;
  try {  // The constructor is asio's only throwing call here.
    ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot make a TLS context: ", e.what()));
  }
  std::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (ec) return absl::InternalError("TLS options: " + ec.message());
  if (ctx->use_certificate_chain_file(files.certificate, ec); ec) {
    return SslError("certificate", files.certificate, ec);
  }
  if (ctx->use_private_key_file(files.private_key, asio::ssl::context::pem, ec); ec) {
    return SslError("private key", files.private_key, ec);
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("private key: ", files.private_key,
                                                   ": does not match the certificate ",
                                                   files.certificate));
  }
  if (ctx->load_verify_file(files.ca_cert, ec); ec) {
    return SslError("CA certificate", files.ca_cert, ec);
  }
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return absl::InternalError("TLS verify mode: " + ec.message());
  return ctx;
}

void SetDefaultSslContext(std::shared_ptr<asio::ssl::context> context) {
  std::lock_guard lock(default_mu);
  default_context = std::move(context);
}

std::shared_ptr<asio::ssl::context> DefaultSslContext() {
  std::lock_guard lock(default_mu);
  return default_context;
}

}  // namespace shortcut::ofconn
