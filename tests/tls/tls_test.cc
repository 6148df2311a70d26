// TLS settings: the config blocks of managerd, gatewayd and shortcut-cni
// (every error names its field), and gRPC mutual TLS end to end over a
// Unix socket: a server with tls::ServerCredentials answers gRPC's health
// check to a client with a certificate of its CA and the right server name,
// and refuses one without a certificate or with one of another CA.
#include "src/tls/tls.h"

#include <grpcpp/client_context.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <variant>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/cni/request.h"
#include "src/gateway/config.h"
#include "src/manager/config.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace shortcut::tls {
namespace {

using ::shortcut::testing::TempDir;
using ::shortcut::testing::TestPki;
using ::testing::HasSubstr;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    for (const char* name : {"server", "client"}) ASSERT_TRUE(pki_.Issue(name)) << pki_.error();
    ASSERT_TRUE(other_.ok()) << other_.error();
    ASSERT_TRUE(other_.Issue("client")) << other_.error();
  }
  // {"cert": ..., "key": ..., "ca": ...} of NAME in `pki`.
  nlohmann::json Block(const TestPki& pki, const std::string& name) {
    return {{"cert", pki.cert(name)}, {"key", pki.key(name)}, {"ca", pki.ca()}};
  }
  nlohmann::json SslBlock(const std::string& name) {
    return {
        {"private_key", pki_.key(name)}, {"certificate", pki_.cert(name)}, {"ca_cert", pki_.ca()}};
  }
  GrpcTls Load(const TestPki& pki, const std::string& name, const std::string& server_name = "") {
    auto tls = LoadGrpcTls(TlsFiles(pki.cert(name), pki.key(name), pki.ca(), server_name), "tls");
    EXPECT_TRUE(tls.ok()) << tls.status();
    return tls.ok() ? *tls : GrpcTls{};
  }

  TempDir dir_{"shortcut-tls"};
  TempDir other_dir_{"shortcut-tls-other"};
  TestPki pki_{dir_.path()};
  TestPki other_{other_dir_.path(), "other-ca"};
};

TEST_F(TlsTest, TlsBlockErrorsNameTheField) {
  auto ok = ParseTlsJson(Block(pki_, "server"), "tls", false);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(ok->cert_pem, HasSubstr("BEGIN CERTIFICATE"));

  nlohmann::json missing = Block(pki_, "server");
  missing.erase("ca");
  EXPECT_THAT(std::string(ParseTlsJson(missing, "tls", false).status().message()),
              HasSubstr("tls: ca is missing"));

  nlohmann::json unreadable = Block(pki_, "server");
  unreadable["key"] = dir_.File("absent.pem");
  auto s = ParseTlsJson(unreadable, "tls", false);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("tls.key: "));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("absent.pem: cannot read"));

  nlohmann::json named = Block(pki_, "server");
  named["server_name"] = "managerd";
  EXPECT_THAT(std::string(ParseTlsJson(named, "tls", false).status().message()),
              HasSubstr("unknown field 'server_name'"));
  auto client = ParseTlsJson(named, "tls", true);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->server_name, "managerd");

  nlohmann::json mismatch = Block(pki_, "server");
  mismatch["key"] = pki_.key("client");
  EXPECT_THAT(std::string(ParseTlsJson(mismatch, "tls", false).status().message()),
              HasSubstr("tls: private key: " + pki_.key("client") + ": key values mismatch"));
}

TEST_F(TlsTest, ManagerConfig) {
  nlohmann::json config = {{"listen", "unix:/run/m.sock"},
                           {"nb", "ssl:127.0.0.1:6641"},
                           {"tls", Block(pki_, "server")},
                           {"ssl", SslBlock("client")}};
  auto parsed = manager::ParseManagerConfig(config.dump(), "m1");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->tls.has_value());
  EXPECT_EQ(parsed->tls->cert, pki_.cert("server"));
  ASSERT_TRUE(parsed->ssl.has_value());
  EXPECT_EQ(parsed->ssl->ca_cert, pki_.ca());

  config.erase("ssl");
  auto no_ssl = manager::ParseManagerConfig(config.dump(), "m1");
  ASSERT_FALSE(no_ssl.ok());
  EXPECT_THAT(std::string(no_ssl.status().message()),
              HasSubstr("nb: 'ssl:127.0.0.1:6641' needs the \"ssl\" block"));

  config["nb"] = "unix:/run/nb.sock";
  config["tls"]["cert"] = dir_.File("absent.pem");
  auto bad = manager::ParseManagerConfig(config.dump(), "m1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("tls.cert: "));

  auto plain = manager::ParseManagerConfig(R"({"listen": "unix:/m.sock", "nb": "unix:/nb"})", "m");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tls.has_value());
  EXPECT_FALSE(plain->ssl.has_value());
}

TEST_F(TlsTest, GatewayConfig) {
  nlohmann::json config = {
      {"listen", "unix:/run/gw.sock"}, {"tls", Block(pki_, "server")}, {"ssl", SslBlock("server")}};
  auto parsed = gateway::ParseDaemonConfig(config.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->tls.has_value());
  ASSERT_TRUE(parsed->ssl.has_value());
  EXPECT_EQ(parsed->ssl->private_key, pki_.key("server"));

  config["ssl"]["certificate"] = dir_.File("absent.pem");
  auto bad = gateway::ParseDaemonConfig(config.dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("ssl: certificate: "));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("absent.pem: cannot read"));
}

TEST_F(TlsTest, CniConfig) {
  std::map<std::string, std::string> env = {{"CNI_COMMAND", "DEL"},
                                            {"CNI_CONTAINERID", "c1"},
                                            {"CNI_IFNAME", "eth0"},
                                            {"CNI_PATH", "/usr/lib/cni"}};
  nlohmann::json conf = {{"cniVersion", "1.0.0"},
                         {"name", "blue"},
                         {"type", "shortcut-cni"},
                         {"manager", "unix:/m.sock"},
                         {"vpc", "blue"},
                         {"network", "web"},
                         {"tls_cert", pki_.cert("client")},
                         {"tls_key", pki_.key("client")},
                         {"tls_ca", pki_.ca()},
                         {"tls_server_name", "managerd"}};
  auto ok = cni::ParseRequest(env, conf.dump(), "host1");
  ASSERT_TRUE(std::holds_alternative<cni::CniRequest>(ok));
  const auto& tls = std::get<cni::CniRequest>(ok).conf.tls;
  ASSERT_TRUE(tls.has_value());
  EXPECT_EQ(tls->server_name, "managerd");

  conf["tls_ca"] = dir_.File("absent.pem");
  auto bad = cni::ParseRequest(env, conf.dump(), "host1");
  ASSERT_TRUE(std::holds_alternative<cni::Error>(bad));
  EXPECT_EQ(std::get<cni::Error>(bad).code, cni::ErrorCode::kInvalidConfig);
  EXPECT_THAT(std::get<cni::Error>(bad).msg, HasSubstr("absent.pem: cannot read"));

  conf.erase("tls_ca");
  auto partial = cni::ParseRequest(env, conf.dump(), "host1");
  ASSERT_TRUE(std::holds_alternative<cni::Error>(partial));
  EXPECT_EQ(std::get<cni::Error>(partial).code, cni::ErrorCode::kInvalidConfig);
}

// gRPC's health service, answering SERVING.
class Health final : public grpc::health::v1::Health::Service {
  grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest*,
                     grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
};

// The health check's answer through a channel with `tls` (nullopt: insecure).
grpc::Status Check(const std::string& address, const std::optional<GrpcTls>& tls) {
  auto stub = grpc::health::v1::Health::NewStub(MakeChannel(address, tls, {}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response);
}

TEST_F(TlsTest, GrpcMutualTls) {
  Health health;
  grpc::ServerBuilder builder;
  std::string address = "unix:" + dir_.File("server.sock");
  builder.AddListeningPort(address, ServerCredentials(Load(pki_, "server")));
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  grpc::Status s = Check(address, Load(pki_, "client", "server"));
  EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();

  // No client certificate: refused.
  s = Check(address, std::nullopt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // A client certificate of another CA: refused.
  GrpcTls intruder = Load(other_, "client", "server");
  intruder.ca = pki_.ca();
  intruder.ca_pem = Load(pki_, "client").ca_pem;  // It would trust the server.
  s = Check(address, intruder);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // The server's certificate does not carry the expected name.
  s = Check(address, Load(pki_, "client", "managerd"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace shortcut::tls
