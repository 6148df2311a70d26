// TLS settings shared by the daemons and the clients.
//
// gRPC (the managers' and gateways' APIs) runs mutual TLS when given a
// GrpcTls: a server presents its certificate and requires a client
// certificate signed by its CA (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_
// CERTIFICATE_AND_VERIFY); a client presents its certificate and checks the
// server's against its CA and against a name: `server_name` when given,
// else gRPC's default (the host of HOST:PORT; "localhost" for unix:).
// Certificates made by `ovs-pki -u req+sign NAME` carry NAME as their CN and
// subjectAltName DNS:NAME, so `server_name` is the name the server's
// certificate was made for. Without a GrpcTls, channels and servers are
// insecure (the default).
//
// Config blocks (JSON), the same in every config that has them:
//   "tls": {"cert": PATH, "key": PATH, "ca": PATH,
//           "server_name": NAME}                    (gRPC; server_name: clients only)
//   "ssl": {"private_key": PATH, "certificate": PATH,
//           "ca_cert": PATH}                        (OpenFlow/OVSDB ssl: targets,
//                                                    as `ovs-vsctl set-ssl`)
// Two blocks because Open vSwitch's PKI (`ovs-pki`) has two CAs: switches'
// certificates are signed by switchca and controllers' by controllerca, so a
// daemon verifies switches against another CA than its gRPC peers.
//
// Loading reads and checks the files at once (readable PEM, the key matching
// the certificate), so a bad file is a configuration error.
//
// Thread-safety: values and pure functions (file reads aside).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"
#include "src/ofconn/ssl.h"

namespace grpc {
class Channel;
class ChannelArguments;
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace shortcut::tls {

struct GrpcTls {
  std::string cert;         // PEM file: this end's certificate.
  std::string key;          // PEM file: its private key.
  std::string ca;           // PEM file: the CA the peer's certificate must be signed by.
  std::string server_name;  // Clients: the name the server's certificate must carry.
  // The files' contents, filled by LoadGrpcTls.
  std::string cert_pem, key_pem, ca_pem;
};

// A GrpcTls naming files (not loaded yet).
GrpcTls TlsFiles(std::string cert, std::string key, std::string ca, std::string server_name = "");

// Reads and checks the three files. InvalidArgument starting with `field`
// ("tls.cert: /etc/x.pem: cannot read: No such file or directory").
absl::StatusOr<GrpcTls> LoadGrpcTls(GrpcTls tls, std::string_view field);

// Server credentials: mutual TLS with `tls`, insecure without.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const std::optional<GrpcTls>& tls);
// Channel credentials: mutual TLS with `tls`, insecure without.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<GrpcTls>& tls);
// Sets the name the server's certificate must carry: tls->server_name, or
// `default_name` when that is empty; nothing when both are (or no TLS).
void SetServerName(const std::optional<GrpcTls>& tls, const std::string& default_name,
                   grpc::ChannelArguments& args);
// A channel to `address` (unix:/abs/path, HOST:PORT, or tcp:HOST:PORT).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const std::optional<GrpcTls>& tls,
                                           grpc::ChannelArguments args,
                                           const std::string& default_server_name = "");

// The config blocks above, parsed and loaded; `field` names the block in
// errors. `allow_server_name`: whether "server_name" is known (clients).
absl::StatusOr<GrpcTls> ParseTlsJson(const nlohmann::json& block, std::string_view field,
                                     bool allow_server_name);
absl::StatusOr<ofconn::SslFiles> ParseSslJson(const nlohmann::json& block, std::string_view field);

}  // namespace shortcut::tls
