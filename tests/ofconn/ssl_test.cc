// ssl: targets: the TLS context (ssl.h) and the TLS stream (stream.h) over
// loopback against a TLS server made here with asio::ssl, with certificates
// made by the test (tests/support/test_pki.h). The peer's view (the client
// certificate the server received, its subject) is read from OpenSSL on the
// server side, not from the stream under test.
#include "src/ofconn/ssl.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ofconn/stream.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace shortcut::ofconn {
namespace {

using ::shortcut::testing::TempDir;
using ::shortcut::testing::TestPki;
using ::testing::HasSubstr;

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

class SslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    ASSERT_TRUE(pki_.Issue("switch")) << pki_.error();
    ASSERT_TRUE(pki_.Issue("controller")) << pki_.error();
    ASSERT_TRUE(other_.ok()) << other_.error();
    ASSERT_TRUE(other_.Issue("intruder")) << other_.error();
  }
  SslFiles Files(const TestPki& pki, const std::string& name) {
    return {.private_key = pki.key(name), .certificate = pki.cert(name), .ca_cert = pki.ca()};
  }

  TempDir dir_{"shortcut-ssl"};
  TempDir other_dir_{"shortcut-ssl-other"};
  TestPki pki_{dir_.path()};
  TestPki other_{other_dir_.path(), "other-ca"};
};

TEST_F(SslTest, ContextRejectsUnusableFiles) {
  SslFiles missing = Files(pki_, "switch");
  missing.certificate = dir_.File("nope.pem");
  auto s = MakeSslContext(missing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("nope.pem: cannot read"));

  testing::WriteFile(dir_.File("junk.pem"), "not a certificate\n");
  SslFiles junk = Files(pki_, "switch");
  junk.ca_cert = dir_.File("junk.pem");
  s = MakeSslContext(junk);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("junk.pem: not a PEM file"));

  SslFiles mismatch = Files(pki_, "switch");
  mismatch.private_key = pki_.key("controller");
  s = MakeSslContext(mismatch);
  ASSERT_FALSE(s.ok());
  // OpenSSL's own words: "key values mismatch".
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("private key: " + pki_.key("controller")));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("mismatch"));

  EXPECT_TRUE(MakeSslContext(Files(pki_, "switch")).ok());
}

TEST_F(SslTest, SslTargetWithoutSettingsIsRefused) {
  asio::io_context io;
  SetDefaultSslContext(nullptr);
  auto target = ParseTarget("ssl:127.0.0.1:6653");
  ASSERT_TRUE(target.ok());
  auto stream = MakeStream(io.get_executor(), *target);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kFailedPrecondition);
}

// What the server side saw of one connection.
struct ServerView {
  bool handshake_ok = false;
  std::string peer_subject;  // The client certificate's subject, as OpenSSL reads it.
  std::string received;
};

// One TLS connection: the client (the stream under test) writes "hello" and
// reads the echo back; the server (plain asio::ssl) checks the client's
// certificate against its own CA.
struct Outcome {
  std::error_code client_connect;
  std::string client_read;
  ServerView server;
};

Outcome RunOnce(const SslFiles& server_files, const SslFiles& client_files) {
  Outcome out;
  asio::io_context io;
  auto server_ctx = MakeSslContext(server_files);
  auto client_ctx = MakeSslContext(client_files);
  EXPECT_TRUE(server_ctx.ok() && client_ctx.ok());
  if (!server_ctx.ok() || !client_ctx.ok()) return out;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acceptor.local_endpoint().port();
  int done = 0;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::ssl::stream<asio::ip::tcp::socket> s(io.get_executor(), **server_ctx);
        auto [aec] = co_await acceptor.async_accept(s.lowest_layer(), kTuple);
        if (!aec) {
          auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::server, kTuple);
          out.server.handshake_ok = !hec;
          if (!hec) {
            if (X509* peer = SSL_get1_peer_certificate(s.native_handle())) {
              char buf[256] = {};
              X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof buf - 1);
              out.server.peer_subject = buf;
              X509_free(peer);
            }
            char data[64];
            auto [rec, n] = co_await s.async_read_some(asio::buffer(data), kTuple);
            if (!rec) {
              out.server.received.assign(data, n);
              co_await asio::async_write(s, asio::buffer(data, n), kTuple);
            }
          }
        }
        ++done;
      },
      asio::detached);

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto target = ParseTarget("ssl:127.0.0.1:" + std::to_string(port));
        auto stream = MakeStream(io.get_executor(), *target, *client_ctx);
        if (stream.ok()) {
          out.client_connect = co_await (*stream)->Connect();
          if (!out.client_connect) {
            std::string hello = "hello";
            co_await (*stream)->Write(asio::buffer(hello));
            char data[64];
            auto [ec, n] = co_await (*stream)->ReadSome(asio::buffer(data));
            if (!ec) out.client_read.assign(data, n);
          }
          (*stream)->Close();
        }
        ++done;
        if (done < 2) acceptor.close();  // A failed client: stop the server's wait.
      },
      asio::detached);

  // Bounded: the test fails rather than hangs.
  asio::steady_timer deadline(io, std::chrono::seconds(20));
  deadline.async_wait([&](std::error_code ec) {
    if (!ec) io.stop();
  });
  while (done < 2 && !io.stopped()) io.run_one();
  EXPECT_EQ(done, 2) << "the connection did not finish within 20 s";
  return out;
}

TEST_F(SslTest, HandshakeWithCertificatesOfOneCa) {
  Outcome out = RunOnce(Files(pki_, "switch"), Files(pki_, "controller"));
  EXPECT_FALSE(out.client_connect) << out.client_connect.message();
  EXPECT_TRUE(out.server.handshake_ok);
  EXPECT_THAT(out.server.peer_subject, HasSubstr("CN=controller"));
  EXPECT_EQ(out.server.received, "hello");
  EXPECT_EQ(out.client_read, "hello");
}

TEST_F(SslTest, ClientRefusesServerOfAnotherCa) {
  // The server's certificate comes from another CA than the client trusts.
  SslFiles server = Files(other_, "intruder");
  server.ca_cert = pki_.ca();  // It would accept the client.
  Outcome out = RunOnce(server, Files(pki_, "controller"));
  EXPECT_TRUE(out.client_connect);
  EXPECT_TRUE(out.client_read.empty());
  EXPECT_TRUE(out.server.received.empty());
}

TEST_F(SslTest, ServerRefusesClientOfAnotherCa) {
  SslFiles client = Files(other_, "intruder");
  client.ca_cert = pki_.ca();  // It would accept the server.
  Outcome out = RunOnce(Files(pki_, "switch"), client);
  EXPECT_FALSE(out.server.handshake_ok);
  EXPECT_TRUE(out.server.received.empty());
  EXPECT_TRUE(out.client_read.empty());
}

}  // namespace
}  // namespace shortcut::ofconn
