#include "src/tls/tls.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shortcut::tls {
namespace {

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", std::string(what)));
}

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view field) {
  if (path.empty()) return Invalid(field, "no file given");
  std::ifstream f(path, std::ios::binary);
  if (!f) return Invalid(field, absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  std::stringstream text;
  text << f.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return Invalid(field, absl::StrCat(path, ": not a PEM file"));
  }
  return text.str();
}

// The block's string fields; unknown or non-string ones are errors.
absl::Status CheckFields(const nlohmann::json& block, std::string_view field,
                         const std::vector<std::string>& known) {
  if (!block.is_object()) return Invalid(field, "must be an object");
  for (const auto& [key, value] : block.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto& k : known) absl::StrAppend(&list, list.empty() ? "" : ", ", k);
      return Invalid(field, absl::StrCat("unknown field '", key, "' (known: ", list, ")"));
    }
    if (!value.is_string()) return Invalid(field, absl::StrCat(key, ": must be a string"));
  }
  return absl::OkStatus();
}

std::string Get(const nlohmann::json& block, const std::string& key) {
  auto it = block.find(key);
  return it == block.end() ? "" : it->get<std::string>();
}

}  // namespace

GrpcTls TlsFiles(std::string cert, std::string key, std::string ca, std::string server_name) {
  GrpcTls tls;
  tls.cert = std::move(cert);
  tls.key = std::move(key);
  tls.ca = std::move(ca);
  tls.server_name = std::move(server_name);
  return tls;
}

absl::StatusOr<GrpcTls> LoadGrpcTls(GrpcTls tls, std::string_view field) {
  std::string f(field);
  auto cert = ReadPem(tls.cert, f + ".cert");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(tls.key, f + ".key");
  if (!key.ok()) return key.status();
  auto ca = ReadPem(tls.ca, f + ".ca");
  if (!ca.ok()) return ca.status();
  // OpenSSL's own check that the key is the certificate's (gRPC would only
  // say so when a peer connects).
  auto ctx =
      ofconn::MakeSslContext({.private_key = tls.key, .certificate = tls.cert, .ca_cert = tls.ca});
  if (!ctx.ok()) return Invalid(field, std::string(ctx.status().message()));
  tls.cert_pem = *std::move(cert);
  tls.key_pem = *std::move(key);
  tls.ca_pem = *std::move(ca);
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const std::optional<GrpcTls>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls->ca_pem;
  options.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<GrpcTls>& tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls->ca_pem;
  options.pem_private_key = tls->key_pem;
  options.pem_cert_chain = tls->cert_pem;
  return grpc::SslCredentials(options);
}

void SetServerName(const std::optional<GrpcTls>& tls, const std::string& default_name,
                   grpc::ChannelArguments& args) {
  if (!tls) return;
  const std::string& name = tls->server_name.empty() ? default_name : tls->server_name;
  if (!name.empty()) args.SetSslTargetNameOverride(name);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const std::optional<GrpcTls>& tls,
                                           grpc::ChannelArguments args,
                                           const std::string& default_server_name) {
  std::string target = address;
  if (target.starts_with("tcp:")) target = target.substr(4);
  SetServerName(tls, default_server_name, args);
  return grpc::CreateCustomChannel(target, ChannelCredentials(tls), args);
}

absl::StatusOr<GrpcTls> ParseTlsJson(const nlohmann::json& block, std::string_view field,
                                     bool allow_server_name) {
  std::vector<std::string> known = {"cert", "key", "ca"};
  if (allow_server_name) known.push_back("server_name");
  if (absl::Status s = CheckFields(block, field, known); !s.ok()) return s;
  for (const char* key : {"cert", "key", "ca"}) {
    if (!block.contains(key)) return Invalid(field, absl::StrCat(key, " is missing"));
  }
  return LoadGrpcTls(
      TlsFiles(Get(block, "cert"), Get(block, "key"), Get(block, "ca"), Get(block, "server_name")),
      field);
}

absl::StatusOr<ofconn::SslFiles> ParseSslJson(const nlohmann::json& block, std::string_view field) {
  if (absl::Status s = CheckFields(block, field, {"private_key", "certificate", "ca_cert"});
      !s.ok()) {
    return s;
  }
  for (const char* key : {"private_key", "certificate", "ca_cert"}) {
    if (!block.contains(key)) return Invalid(field, absl::StrCat(key, " is missing"));
  }
  ofconn::SslFiles files{.private_key = Get(block, "private_key"),
                         .certificate = Get(block, "certificate"),
                         .ca_cert = Get(block, "ca_cert")};
  auto ctx = ofconn::MakeSslContext(files);
  if (!ctx.ok()) return Invalid(field, std::string(ctx.status().message()));
  return files;
}

}  // namespace shortcut::tls
