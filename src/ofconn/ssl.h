// TLS for ssl: targets (OpenFlow and OVSDB), as Open vSwitch runs it: each
// end presents a certificate and verifies the peer's against a CA
// certificate (`ovs-vsctl set-ssl PRIVKEY CERT CACERT`, `ovsdb-server
// --private-key --certificate --ca-cert`). No name is checked: as in Open
// vSwitch, a certificate signed by the CA is the credential.
//
// The SSL settings are process-wide, as Open vSwitch's stream-ssl keeps
// them: a daemon sets them once at start (SetDefaultSslContext), before any
// connection is made, and every ssl: target of the process uses them.
// MakeStream (stream.h) takes an explicit context too (tests).
//
// Errors are absl::Status; nothing throws.
//
// Thread-safety: SetDefaultSslContext/DefaultSslContext are thread-safe; a
// context is not changed after it is made, and OpenSSL lets many
// connections of many threads share it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace asio::ssl {
class context;
}

namespace shortcut::ofconn {

// PEM files, named as `ovs-vsctl set-ssl` and ovsdb-server name them.
struct SslFiles {
  std::string private_key;  // This end's private key.
  std::string certificate;  // This end's certificate (may hold its chain).
  std::string ca_cert;      // The CA certificate peers' certificates must be signed by.
  friend bool operator==(const SslFiles&, const SslFiles&) = default;
};

// A TLS 1.2+ context presenting `files`' certificate and requiring a peer
// certificate signed by `files.ca_cert`. InvalidArgument naming the file
// that cannot be read or used (not PEM, key not matching the certificate).
absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeSslContext(const SslFiles& files);

// The process-wide context for ssl: targets; null until set.
void SetDefaultSslContext(std::shared_ptr<asio::ssl::context> context);
std::shared_ptr<asio::ssl::context> DefaultSslContext();

}  // namespace shortcut::ofconn
