#include "src/ofconn/connection.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/common/hex.h"
#include "src/ofconn/ssl.h"
#include "src/ofconn/target.h"
#include "src/openflow/codec.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/support/co_assert.h"

// Messages passed to co_await'ed calls are named locals: g++ 12 destroys a
// braced temporary inside a co_await expression twice.

namespace shortcut::ofconn {
namespace {

using ::shortcut::testing::OfpPeer;
using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::Settle;
using ::shortcut::testing::WaitUntil;
using ::testing::HasSubstr;
using ConnPtr = std::shared_ptr<Connection>;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

Connection::Options TestOptions() {
  Connection::Options o;
  o.connect_timeout = 5000;
  o.probe_interval = 0;
  return o;
}

asio::awaitable<absl::StatusOr<ConnPtr>> ConnectTo(const OfpPeer& peer,
                                                   Connection::Options options = TestOptions()) {
  auto target = ParseTarget(peer.target());
  if (!target.ok()) co_return target.status();
  co_return co_await Connection::Connect(co_await asio::this_coro::executor, *target, options);
}

// Frames the peer received of a given type.
std::vector<of::Bytes> RawOfType(const OfpPeer& peer, of::MsgType type) {
  std::vector<of::Bytes> out;
  for (const auto& f : peer.raw_received()) {
    if (f[1] == static_cast<uint8_t>(type)) out.push_back(f);
  }
  return out;
}

class ConnectionTest : public ::testing::Test {
 protected:
  std::shared_ptr<OfpPeer> StartPeer(OfpPeer::Options options = {}) {
    auto peer = OfpPeer::Start(io_.get_executor(), std::move(options));
    EXPECT_TRUE(peer.ok()) << peer.status();
    return peer.ok() ? *peer : nullptr;
  }
  void Run(std::function<asio::awaitable<void>()> test) { RunCoroutine(io_, std::move(test)); }

  ManualClock clock_;  // For the tests on a manual clock; outlives io_.
  asio::io_context io_;
};

TEST_F(ConnectionTest, HelloAndFeaturesOverUnix) {
  auto peer = StartPeer({.datapath_id = 0x1234'5678'9abc'def0});
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    EXPECT_TRUE(conn->is_open());
    EXPECT_EQ(conn->datapath_id(), 0x1234'5678'9abc'def0u);
    EXPECT_EQ(conn->features().n_tables, 254);
    // Our HELLO offers exactly OpenFlow 1.3, in a version bitmap.
    auto hellos = RawOfType(*peer, of::MsgType::kHello);
    CO_ASSERT_TRUE(hellos.size() == 1);
    EXPECT_EQ(ToHex(hellos[0]), "04000010000000010001000800000010");
    EXPECT_EQ(RawOfType(*peer, of::MsgType::kFeaturesRequest).size(), 1u);
    conn->Close();
    EXPECT_FALSE(conn->is_open());
    EXPECT_EQ((co_await conn->WaitClosed()).code(), absl::StatusCode::kCancelled);
    peer->Stop();
  });
}

TEST_F(ConnectionTest, HelloAndFeaturesOverTcp) {
  auto peer = StartPeer({.tcp = true, .datapath_id = 42});
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    EXPECT_EQ(conn->datapath_id(), 42u);
    EXPECT_EQ(conn->target().kind, Target::Kind::kTcp);
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, PeerOfferingNewerVersionsToo) {
  auto peer = StartPeer({.hello_version = of::kVersion15, .hello_versions = {1, 4, 5, 6}});
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    EXPECT_TRUE(conn->is_open());
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, PeerWithoutOpenFlow13FailsCleanly) {
  // With a bitmap (OpenFlow 1.0 and 1.4), and without one (header says 1.0).
  for (auto versions : {std::vector<uint8_t>{1, 5}, std::vector<uint8_t>{}}) {
    auto peer = StartPeer({.hello_version = 1, .hello_versions = versions});
    Run([&]() -> asio::awaitable<void> {
      auto conn = co_await ConnectTo(*peer);
      CO_ASSERT_TRUE(!conn.ok());
      EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(Msg(conn.status()), HasSubstr("does not support OpenFlow 1.3"));
      EXPECT_THAT(Msg(conn.status()), HasSubstr("0x1"));
      // The peer is told why, with OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE.
      CO_ASSERT_TRUE(
          co_await WaitUntil([&] { return !RawOfType(*peer, of::MsgType::kError).empty(); }));
      of::Bytes error = RawOfType(*peer, of::MsgType::kError)[0];
      EXPECT_EQ(error[0], 1);  // In the version the peer speaks.
      EXPECT_EQ(ToHex(std::span(error).subspan(8, 4)), "00000000");
      std::string text(error.begin() + 12, error.end());
      EXPECT_THAT(text, HasSubstr("We support version 0x04"));
      peer->Stop();
    });
    io_.restart();
  }
}

TEST_F(ConnectionTest, ConnectRefusedIsUnavailable) {
  Run([&]() -> asio::awaitable<void> {
    auto conn =
        co_await Connection::Connect(co_await asio::this_coro::executor,
                                     *ParseTarget("unix:/nonexistent/ofp.sock"), TestOptions());
    CO_ASSERT_TRUE(!conn.ok());
    EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(conn.status()), HasSubstr("unix:/nonexistent/ofp.sock"));
  });
}

// ssl: with a handshake is tested in ssl_test.cc.
TEST_F(ConnectionTest, SslWithoutSettingsIsRefused) {
  SetDefaultSslContext(nullptr);
  Run([&]() -> asio::awaitable<void> {
    auto conn = co_await Connection::Connect(co_await asio::this_coro::executor,
                                             *ParseTarget("ssl:127.0.0.1:6653"), TestOptions());
    CO_ASSERT_TRUE(!conn.ok());
    EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(Msg(conn.status()), HasSubstr("ssl:127.0.0.1:6653: no SSL settings"));
  });
}

TEST_F(ConnectionTest, SilentPeerDuringHandshakeTimesOut) {
  auto peer = StartPeer();
  peer->SetSilent(true);  // Sends HELLO, never answers FEATURES_REQUEST.
  Run([&]() -> asio::awaitable<void> {
    Connection::Options o = TestOptions();
    o.connect_timeout = 50;
    auto conn = co_await ConnectTo(*peer, o);
    CO_ASSERT_TRUE(!conn.ok());
    EXPECT_EQ(conn.status().code(), absl::StatusCode::kDeadlineExceeded);
    peer->Stop();
  });
}

TEST_F(ConnectionTest, CallsAnsweredOutOfOrderReachTheirCallers) {
  auto peer = StartPeer();
  std::vector<of::Message> requests;
  peer->SetHandler([&](const of::Message& m) {
    requests.push_back(m);
    return std::vector<of::Message>{};
  });
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    constexpr int kCalls = 5;
    std::vector<std::optional<absl::StatusOr<of::Message>>> results(kCalls);
    for (int i = 0; i < kCalls; ++i) {
      asio::co_spawn(
          io_,
          [&, i]() -> asio::awaitable<void> {
            of::Message request{
                .body = of::RoleRequest{.role = of::kRoleEqual, .generation_id = 100u + i}};
            results[i] = co_await conn->Call(std::move(request), 5000);
          },
          asio::detached);
    }
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return requests.size() == kCalls; }));
    // Answer last to first, each reply carrying its request's generation id.
    for (int i = kCalls - 1; i >= 0; --i) {
      const auto& req = std::get<of::RoleRequest>(requests[i].body);
      peer->Send(of::Message{
          .xid = requests[i].xid,
          .body = of::RoleReply{.role = of::kRoleEqual, .generation_id = req.generation_id}});
    }
    CO_ASSERT_TRUE(co_await WaitUntil([&] {
      for (const auto& r : results)
        if (!r) return false;
      return true;
    }));
    for (int i = 0; i < kCalls; ++i) {
      CO_ASSERT_TRUE(results[i]->ok());
      const auto* reply = std::get_if<of::RoleReply>(&(**results[i]).body);
      CO_ASSERT_TRUE(reply != nullptr);
      EXPECT_EQ(reply->generation_id, 100u + i);
    }
    conn->Close();
    peer->Stop();
  });
}

of::Message PortPart(uint32_t port, bool more) {
  return of::Message{
      .body = of::MultipartReply{.flags = static_cast<uint16_t>(more ? of::kMultipartReplyMore : 0),
                                 .body = std::vector<of::PortDesc>{of::PortDesc{
                                     .port_no = port, .name = "p" + std::to_string(port)}}}};
}

TEST_F(ConnectionTest, MultipartReplyIsCollectedAcrossParts) {
  auto peer = StartPeer();
  peer->SetHandler([&](const of::Message& m) {
    if (!std::holds_alternative<of::MultipartRequest>(m.body)) return std::vector<of::Message>{};
    return std::vector<of::Message>{PortPart(1, true), PortPart(2, true), PortPart(3, false)};
  });
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    for (int round = 0; round < 2; ++round) {  // Nothing is left over after the first.
      of::Message request{.body = of::MultipartRequest{.body = of::PortDescRequest{}}};
      CO_ASSERT_OK_AND_ASSIGN(std::vector<of::Message> parts,
                              co_await conn->CallMultipart(std::move(request), 5000));
      CO_ASSERT_TRUE(parts.size() == 3);
      for (uint32_t i = 0; i < 3; ++i) {
        const auto& rep = std::get<of::MultipartReply>(parts[i].body);
        EXPECT_EQ(std::get<std::vector<of::PortDesc>>(rep.body).at(0).port_no, i + 1);
      }
    }
    of::Message multipart{.body = of::MultipartRequest{.body = of::PortDescRequest{}}};
    auto misuse = co_await conn->Call(std::move(multipart), 5000);
    EXPECT_EQ(misuse.status().code(), absl::StatusCode::kInvalidArgument);
    conn->Close();
    peer->Stop();
  });
}

constexpr uint16_t kBadAction = 2;   // OFPET_BAD_ACTION
constexpr uint16_t kBadOutPort = 4;  // OFPBAC_BAD_OUT_PORT

of::Message FlowModWithCookie(uint64_t cookie) {
  of::FlowMod fm;
  fm.cookie = cookie;
  return of::Message{.body = fm};
}

// Answers flow_mods whose cookie is 2 with OFPBAC_BAD_OUT_PORT.
std::vector<of::Message> RejectCookie2(const of::Message& m) {
  const auto* fm = std::get_if<of::FlowMod>(&m.body);
  if (fm == nullptr || fm->cookie != 2) return {};
  return {of::Message{.body = of::Error{.type = kBadAction, .code = kBadOutPort, .data = {1, 2}}}};
}

TEST_F(ConnectionTest, ErrorReplyFailsTheCallAndKeepsTheError) {
  auto peer = StartPeer();
  peer->SetHandler(RejectCookie2);
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    auto reply = co_await conn->Call(FlowModWithCookie(2), 5000);
    CO_ASSERT_TRUE(!reply.ok());
    EXPECT_THAT(Msg(reply.status()), HasSubstr("OFPT_FLOW_MOD"));
    std::optional<of::Error> error = ErrorFromStatus(reply.status());
    CO_ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->type, kBadAction);
    EXPECT_EQ(error->code, kBadOutPort);
    EXPECT_EQ(error->data, (of::Bytes{1, 2}));
    EXPECT_EQ(conn->stats().errors_received, 1u);
    EXPECT_TRUE(conn->is_open());
    EXPECT_FALSE(ErrorFromStatus(absl::InternalError("x")).has_value());
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, TrackedErrorsAreKeptUntilTakenAndPrunedByBarrier) {
  auto peer = StartPeer();
  peer->SetHandler(RejectCookie2);
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    uint32_t ok_xid = conn->NextXid();
    uint32_t bad_xid = conn->NextXid();
    conn->Track(ok_xid);
    conn->Track(bad_xid);
    of::Message ok = FlowModWithCookie(1);
    ok.xid = ok_xid;
    of::Message bad = FlowModWithCookie(2);
    bad.xid = bad_xid;
    CO_ASSERT_TRUE((co_await conn->Send(ok)).ok());
    CO_ASSERT_TRUE((co_await conn->Send(bad)).ok());
    // An untracked failure goes to Receive().
    CO_ASSERT_OK_AND_ASSIGN(uint32_t untracked_xid, co_await conn->Send(FlowModWithCookie(2)));
    CO_ASSERT_TRUE((co_await conn->Barrier(5000)).ok());

    auto errors = conn->TakeTrackedErrors();
    CO_ASSERT_TRUE(errors.size() == 1);
    EXPECT_EQ(errors[0].first, bad_xid);
    EXPECT_EQ(errors[0].second.code, kBadOutPort);
    EXPECT_TRUE(conn->TakeTrackedErrors().empty());

    CO_ASSERT_OK_AND_ASSIGN(of::Message async, co_await conn->Receive());
    EXPECT_EQ(async.xid, untracked_xid);
    EXPECT_TRUE(std::holds_alternative<of::Error>(async.body));

    // The barrier reply forgot bad_xid: a late error for it is now unmatched.
    of::Error late_error;
    late_error.type = kBadAction;
    peer->Send(of::Message{.xid = bad_xid, .body = late_error});
    CO_ASSERT_OK_AND_ASSIGN(of::Message late, co_await conn->Receive());
    EXPECT_EQ(late.xid, bad_xid);
    EXPECT_TRUE(conn->TakeTrackedErrors().empty());
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, AsyncMessagesGoToReceiveAndTheQueueIsBounded) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    Connection::Options o = TestOptions();
    o.max_async_queue = 4;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer, o));
    for (uint32_t i = 1; i <= 10; ++i) {
      of::PortStatus ps;
      ps.desc.port_no = i;
      peer->Send(of::Message{.xid = 0, .body = ps});
    }
    // The barrier reply comes after the ten messages, so all were routed.
    CO_ASSERT_TRUE((co_await conn->Barrier(5000)).ok());
    EXPECT_EQ(conn->stats().async_dropped, 6u);
    for (uint32_t i = 7; i <= 10; ++i) {
      CO_ASSERT_OK_AND_ASSIGN(of::Message m, co_await conn->Receive());
      EXPECT_EQ(std::get<of::PortStatus>(m.body).desc.port_no, i);
    }
    conn->Close();
    auto after = co_await conn->Receive();
    EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
    peer->Stop();
  });
}

TEST_F(ConnectionTest, ReceiveAllTakesWhatIsQueuedInOrderUpToItsMax) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer, TestOptions()));
    for (uint32_t i = 1; i <= 10; ++i) {
      of::PortStatus ps;
      ps.desc.port_no = i;
      peer->Send(of::Message{.xid = 0, .body = ps});
    }
    CO_ASSERT_TRUE((co_await conn->Barrier(5000)).ok());  // All ten routed.
    std::vector<uint32_t> got;
    std::vector<size_t> sizes;
    for (size_t max : {size_t{3}, size_t{0}, size_t{100}}) {
      CO_ASSERT_OK_AND_ASSIGN(std::vector<of::Message> ms, co_await conn->ReceiveAll(max));
      sizes.push_back(ms.size());
      for (const of::Message& m : ms) got.push_back(std::get<of::PortStatus>(m.body).desc.port_no);
    }
    // At most 3; 0 counts as 1; then the other six, and never more than queued.
    EXPECT_EQ(sizes, (std::vector<size_t>{3, 1, 6}));
    EXPECT_EQ(got, (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    conn->Close();
    auto after = co_await conn->ReceiveAll(10);
    EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
    peer->Stop();
  });
}

TEST_F(ConnectionTest, ClientAnswersEchoRequests) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    peer->Send(of::Message{.xid = 0x77, .body = of::EchoRequest{.data = {9, 8, 7}}});
    CO_ASSERT_TRUE(co_await WaitUntil([&] {
      for (const auto& m : peer->received()) {
        if (m.xid == 0x77 && std::holds_alternative<of::EchoReply>(m.body)) return true;
      }
      return false;
    }));
    for (const auto& m : peer->received()) {
      if (const auto* r = std::get_if<of::EchoReply>(&m.body)) {
        EXPECT_EQ(r->data, (of::Bytes{9, 8, 7}));
      }
    }
    EXPECT_EQ(conn->stats().echo_requests_answered, 1u);
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, IdlePeerIsProbedAndStaysConnected) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    Connection::Options o = TestOptions();
    o.probe_interval = 20;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer, o));
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return conn->stats().echo_round_trips >= 2; }));
    EXPECT_TRUE(conn->is_open());
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, SilentPeerIsDetectedAndPendingCallsFail) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    Connection::Options o = TestOptions();
    o.probe_interval = 50;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer, o));
    peer->SetSilent(true);
    std::optional<absl::Status> barrier;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { barrier = co_await conn->Barrier(60'000); },
        asio::detached);
    absl::Status why = co_await conn->WaitClosed();
    EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(why), HasSubstr("inactivity probe unanswered"));
    EXPECT_FALSE(conn->is_open());
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return barrier.has_value(); }));
    EXPECT_EQ(barrier->code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(*barrier), HasSubstr("OFPT_BARRIER_REQUEST"));
    EXPECT_THAT(Msg(*barrier), HasSubstr("inactivity probe"));
    EXPECT_GE(conn->stats().echo_probes_sent, 1u);
    of::Message barrier_request{.body = of::BarrierRequest{}};
    auto send = co_await conn->Send(std::move(barrier_request));
    EXPECT_EQ(send.status().code(), absl::StatusCode::kUnavailable);
    peer->Stop();
  });
}

TEST_F(ConnectionTest, CallTimesOutNamingTheRequest) {
  auto peer = StartPeer();  // No handler: GET_CONFIG_REQUEST goes unanswered.
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    of::Message request{.body = of::GetConfigRequest{}};
    auto reply = co_await conn->Call(std::move(request), 30);
    CO_ASSERT_TRUE(!reply.ok());
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(Msg(reply.status()), HasSubstr("OFPT_GET_CONFIG_REQUEST"));
    EXPECT_TRUE(conn->is_open());
    EXPECT_TRUE((co_await conn->Barrier(5000)).ok());
    conn->Close();
    peer->Stop();
  });
}

// The deadlines on a ManualClock: each fires exactly when the clock passes
// it, never before, whatever the real time (the peer's I/O is real).
asio::awaitable<absl::StatusOr<ConnPtr>> ConnectOn(const OfpPeer& peer, Connection::Options o,
                                                   const Clock& clock) {
  co_return co_await Connection::Connect(co_await asio::this_coro::executor,
                                         *ParseTarget(peer.target()), o, clock);
}

TEST_F(ConnectionTest, KeepaliveOnAManualClockProbesAndClosesOnTime) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    ManualClock& clock = clock_;
    clock.Set(100'000);
    Connection::Options o = TestOptions();
    o.probe_interval = 5000;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectOn(*peer, o, clock));
    clock.Advance(4999);
    co_await Settle();
    // A barrier's round trip: had a probe been queued, it went out before.
    CO_ASSERT_TRUE((co_await conn->Barrier(5000)).ok());
    EXPECT_EQ(conn->stats().echo_probes_sent, 0u);
    EXPECT_TRUE(RawOfType(*peer, of::MsgType::kEchoRequest).empty());

    // The barrier's reply was activity at 104,999: the probe is due 5 s later.
    clock.Advance(4999);
    co_await Settle();
    EXPECT_EQ(conn->stats().echo_probes_sent, 0u);
    clock.Advance(1);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return conn->stats().echo_round_trips == 1; }));
    EXPECT_EQ(RawOfType(*peer, of::MsgType::kEchoRequest).size(), 1u);

    // Silent from now (its echo reply at 109,999 was the last word): a probe at
    // 114,999, the connection closed at 119,999 and not a millisecond before.
    peer->SetSilent(true);
    clock.Advance(5000);
    co_await Settle();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return conn->stats().echo_probes_sent == 2; }));
    clock.Advance(4999);
    co_await Settle();
    EXPECT_TRUE(conn->is_open());
    clock.Advance(1);
    absl::Status why = co_await conn->WaitClosed();
    EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(Msg(why),
              "nothing received from the switch for 10000 ms, inactivity probe unanswered");
    peer->Stop();
  });
}

TEST_F(ConnectionTest, CallDeadlineAndHandshakeDeadlineOnAManualClock) {
  auto peer = StartPeer();  // No handler: GET_CONFIG_REQUEST goes unanswered.
  auto silent = StartPeer();
  silent->SetSilent(true);  // HELLO, then nothing.
  Run([&]() -> asio::awaitable<void> {
    ManualClock& clock = clock_;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectOn(*peer, TestOptions(), clock));
    std::optional<absl::StatusOr<of::Message>> reply;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          of::Message request{.body = of::GetConfigRequest{}};
          reply = co_await conn->Call(std::move(request), 30'000);
        },
        asio::detached);
    CO_ASSERT_TRUE(co_await WaitUntil(
        [&] { return !RawOfType(*peer, of::MsgType::kGetConfigRequest).empty(); }));
    clock.Advance(29'999);
    co_await Settle();
    EXPECT_FALSE(reply.has_value());
    clock.Advance(1);
    co_await Settle();
    CO_ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(Msg(reply->status()), HasSubstr("within 30000 ms"));
    EXPECT_TRUE(conn->is_open());
    conn->Close();

    Connection::Options o = TestOptions();
    o.connect_timeout = 10'000;
    std::optional<absl::StatusOr<ConnPtr>> handshake;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { handshake = co_await ConnectOn(*silent, o, clock); },
        asio::detached);
    CO_ASSERT_TRUE(co_await WaitUntil(
        [&] { return !RawOfType(*silent, of::MsgType::kFeaturesRequest).empty(); }));
    clock.Advance(9'999);
    co_await Settle();
    EXPECT_FALSE(handshake.has_value());
    clock.Advance(1);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return handshake.has_value(); }));
    EXPECT_EQ(handshake->status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(Msg(handshake->status()), HasSubstr("not complete within 10000 ms"));
    peer->Stop();
    silent->Stop();
  });
}

TEST_F(ConnectionTest, CloseFailsPendingCalls) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    std::optional<absl::StatusOr<of::Message>> reply;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          of::Message request{.body = of::GetConfigRequest{}};
          reply = co_await conn->Call(std::move(request), 60'000);
        },
        asio::detached);
    CO_ASSERT_TRUE(co_await WaitUntil([&] {
      return !peer->received().empty() &&
             std::holds_alternative<of::GetConfigRequest>(peer->received().back().body);
    }));
    conn->Close();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return reply.has_value(); }));
    EXPECT_EQ(reply->status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(reply->status()), HasSubstr("OFPT_GET_CONFIG_REQUEST"));
    EXPECT_THAT(Msg(reply->status()), HasSubstr("closed by the local side"));
    peer->Stop();
  });
}

TEST_F(ConnectionTest, PeerClosingIsReported) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    peer->CloseClients();
    absl::Status why = co_await conn->WaitClosed();
    EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(why), HasSubstr("closed the connection"));
    peer->Stop();
  });
}

TEST_F(ConnectionTest, LengthBelowHeaderClosesTheConnection) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    peer->SendRaw(of::Bytes{0x04, 0x0a, 0x00, 0x04, 0, 0, 0, 1});
    absl::Status why = co_await conn->WaitClosed();
    EXPECT_EQ(why.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Msg(why), HasSubstr("length 4"));
    peer->Stop();
  });
}

TEST_F(ConnectionTest, TruncatedMessageAtCloseIsReported) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    uint64_t before = conn->stats().bytes_received;
    // A header announcing 65535 bytes, then nothing more.
    peer->SendRaw(of::Bytes{0x04, 0x0a, 0xff, 0xff, 0, 0, 0, 1, 0xaa, 0xbb});
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return conn->stats().bytes_received > before; }));
    peer->CloseClients();
    absl::Status why = co_await conn->WaitClosed();
    EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(Msg(why), HasSubstr("10 of the 65535 bytes"));
    peer->Stop();
  });
}

TEST_F(ConnectionTest, SlowPeerBlocksSendersInsteadOfGrowingTheQueue) {
  auto peer = StartPeer({.record = false});
  constexpr size_t kBound = 128 * 1024;
  constexpr int kMessages = 20'000;  // 20 MB: far beyond socket buffers plus the bound.
  Run([&]() -> asio::awaitable<void> {
    Connection::Options o = TestOptions();
    o.max_queued_bytes = kBound;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer, o));
    peer->SetReading(false);
    int sent = 0;
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          for (; sent < kMessages; ++sent) {
            of::PacketOut po;
            po.data = of::Bytes(1000, 0x55);
            of::Message msg{.body = po};
            auto r = co_await conn->Send(std::move(msg));
            if (!r.ok()) break;
          }
          done = true;
        },
        asio::detached);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return conn->send_waiters() > 0; }));
    EXPECT_LE(conn->queued_bytes(), kBound);
    EXPECT_LT(sent, kMessages);
    EXPECT_FALSE(done);

    peer->SetReading(true);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return done; }));
    EXPECT_EQ(sent, kMessages);
    CO_ASSERT_TRUE((co_await conn->Barrier(10'000)).ok());
    // HELLO, FEATURES_REQUEST, the packet-outs and the barrier.
    EXPECT_EQ(peer->messages_received(), kMessages + 3u);
    EXPECT_LE(conn->stats().max_queued_bytes_seen, kBound);
    conn->Close();
    peer->Stop();
  });
}

TEST_F(ConnectionTest, SendEncodedRejectsPartialMessages) {
  auto peer = StartPeer();
  Run([&]() -> asio::awaitable<void> {
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer));
    of::Bytes partial = {0x04, 0x14, 0x00, 0x10, 0, 0, 0, 1};  // Announces 16 bytes.
    auto bad = co_await conn->SendEncoded(partial);
    EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
    // Two barriers in one buffer, xids chosen by the caller.
    of::Bytes two;
    for (uint32_t xid : {0x1001u, 0x1002u}) {
      auto b = of::Encode(of::Message{.xid = xid, .body = of::BarrierRequest{}});
      CO_ASSERT_TRUE(b.ok());
      two.insert(two.end(), b->begin(), b->end());
    }
    CO_ASSERT_TRUE((co_await conn->SendEncoded(two)).ok());
    // Their replies match no call, so they are delivered to Receive().
    for (uint32_t xid : {0x1001u, 0x1002u}) {
      CO_ASSERT_OK_AND_ASSIGN(of::Message m, co_await conn->Receive());
      EXPECT_EQ(m.xid, xid);
      EXPECT_TRUE(std::holds_alternative<of::BarrierReply>(m.body));
    }
    conn->Close();
    peer->Stop();
  });
}

// A long stream of small messages, through a send queue far smaller than
// the stream (so Send() waits on it again and again), arrives whole and in
// order before the barrier's reply. The rate is measured by
// bench/ofconn_bench.cc.
TEST_F(ConnectionTest, ManySmallMessagesThenBarrier) {
  auto peer = StartPeer({.record = false});
  constexpr int kMessages = 20'000;
  Run([&]() -> asio::awaitable<void> {
    Connection::Options o = TestOptions();
    o.max_queued_bytes = 64 << 10;
    CO_ASSERT_OK_AND_ASSIGN(ConnPtr conn, co_await ConnectTo(*peer, o));
    for (int i = 0; i < kMessages; ++i) {
      auto r = co_await conn->Send(FlowModWithCookie(i));
      CO_ASSERT_TRUE(r.ok());
    }
    CO_ASSERT_TRUE((co_await conn->Barrier(60'000)).ok());
    EXPECT_EQ(peer->messages_received(), kMessages + 3u);
    EXPECT_LE(conn->stats().max_queued_bytes_seen, size_t{64 << 10});
    conn->Close();
    peer->Stop();
  });
}

}  // namespace
}  // namespace shortcut::ofconn
