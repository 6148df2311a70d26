// shortcutctl's global TLS options for its gRPC calls (the manager's API
// and `gateway`): --cert, --key, --ca (env SHORTCUT_TLS_CERT, _KEY, _CA)
// turn on mutual TLS; --server-name (env SHORTCUT_TLS_SERVER_NAME) is the
// name the server's certificate must carry (default: gRPC's, the host of
// HOST:PORT or "localhost" for unix:). See src/tls/tls.h.
//
// Thread-safety: values.
#pragma once

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "src/tls/tls.h"

namespace shortcut::ctl {

struct ClientTlsOptions {
  std::string cert, key, ca, server_name;
};

inline void AddClientTlsOptions(CLI::App& app, ClientTlsOptions& o) {
  app.add_option("--cert", o.cert, "PEM certificate for TLS to the server (env SHORTCUT_TLS_CERT)")
      ->envname("SHORTCUT_TLS_CERT");
  app.add_option("--key", o.key, "PEM private key of --cert (env SHORTCUT_TLS_KEY)")
      ->envname("SHORTCUT_TLS_KEY");
  app.add_option("--ca", o.ca,
                 "PEM CA certificate the server's certificate must be signed by "
                 "(env SHORTCUT_TLS_CA)")
      ->envname("SHORTCUT_TLS_CA");
  app.add_option("--server-name", o.server_name,
                 "name the server's certificate must carry (env SHORTCUT_TLS_SERVER_NAME)")
      ->envname("SHORTCUT_TLS_SERVER_NAME");
}

// Nullopt when none of cert, key and ca is given (insecure); an error
// (InvalidArgument) when only some are, or a file is unusable.
inline absl::StatusOr<std::optional<tls::GrpcTls>> LoadClientTls(const ClientTlsOptions& o) {
  if (o.cert.empty() && o.key.empty() && o.ca.empty()) {
    if (!o.server_name.empty()) {
      return absl::InvalidArgumentError("--server-name needs --cert, --key and --ca");
    }
    return std::nullopt;
  }
  if (o.cert.empty() || o.key.empty() || o.ca.empty()) {
    return absl::InvalidArgumentError("TLS needs all of --cert, --key and --ca");
  }
  auto tls = tls::LoadGrpcTls(tls::TlsFiles(o.cert, o.key, o.ca, o.server_name), "tls");
  if (!tls.ok()) return tls.status();
  return std::optional<tls::GrpcTls>(*std::move(tls));
}

}  // namespace shortcut::ctl
