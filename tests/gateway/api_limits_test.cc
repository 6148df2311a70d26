// The gateway API under a flood: admission (max_calls, max_streams), gRPC's
// own bounds (message size) and malformed bytes, over a real gRPC server.
// The executor is held busy so that calls pile up as they would behind a
// long load; what is admitted and refused is then exact.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/service_fixture.h"
#include "tests/support/poll.h"

namespace shortcut::gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr size_t kMaxCalls = 8;

class ApiLimitsTest : public ServiceFixture {
 protected:
  GatewayService::Options ServiceOptions() override {
    GatewayService::Options o;
    o.max_calls = kMaxCalls;
    o.max_streams = 1;
    return o;
  }
  apiserver::ApiLimits ServerLimits() override {
    apiserver::ApiLimits l;
    l.max_message_bytes = 1 << 20;
    return l;
  }

  // Holds the executor until Release(): the work of admitted calls waits.
  void Hold() {
    std::shared_future<void> gate = gate_.get_future().share();
    std::promise<void> holding;
    asio::post(io_, [gate, &holding] {
      holding.set_value();
      gate.wait();
    });
    holding.get_future().wait();
  }
  void Release() { gate_.set_value(); }

  // A channel of its own (its own connection), as another client's.
  std::shared_ptr<grpc::Channel> OtherClient(int i) {
    grpc::ChannelArguments args;
    args.SetInt("shortcut.test_client", i);
    return grpc::CreateCustomChannel(server_->address(), grpc::InsecureChannelCredentials(), args);
  }

  std::promise<void> gate_;
};

struct PendingCall {
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetStatsResponse>> reader;
};

TEST_F(ApiLimitsTest, AFloodBehindABusyExecutorIsAdmittedUpToMaxCallsAndTheRestRefused) {
  constexpr int kClients = 25;
  constexpr int kCallsPerClient = 8;
  constexpr size_t kCalls = kClients * kCallsPerClient;
  Hold();
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<v1::Gateway::Stub>> stubs;
  std::vector<std::unique_ptr<PendingCall>> calls;
  for (int c = 0; c < kClients; ++c) {
    stubs.push_back(v1::Gateway::NewStub(OtherClient(c)));
    for (int i = 0; i < kCallsPerClient; ++i) {
      auto call = std::make_unique<PendingCall>();
      call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      call->reader = stubs.back()->AsyncGetStats(&call->context, v1::GetStatsRequest(), &cq);
      call->reader->Finish(&call->response, &call->status, call.get());
      calls.push_back(std::move(call));
    }
  }
  // Every call beyond the first kMaxCalls is answered while the executor
  // is still held: refusing costs it nothing.
  std::map<grpc::StatusCode, size_t> codes;
  std::string message;
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
  for (size_t done = 0; done < kCalls - kMaxCalls; ++done) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT)
        << "only " << done << " calls answered while the executor was busy";
    auto* call = static_cast<PendingCall*>(tag);
    ++codes[call->status.error_code()];
    if (!call->status.ok()) message = call->status.error_message();
  }
  EXPECT_EQ(codes[grpc::StatusCode::RESOURCE_EXHAUSTED], kCalls - kMaxCalls);
  EXPECT_EQ(message,
            "gateway busy: calls at their limit of 8 (api_limits.max_calls); "
            "retry with backoff");
  EXPECT_EQ(service_->api_counters().calls_in_flight, kMaxCalls);

  Release();
  codes.clear();
  for (size_t done = 0; done < kMaxCalls; ++done) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT);
    auto* call = static_cast<PendingCall*>(tag);
    ++codes[call->status.error_code()];
    EXPECT_EQ(call->response.packet_ins(), 42u);  // The stats hook ran.
  }
  EXPECT_EQ(codes[grpc::StatusCode::OK], kMaxCalls);
  cq.Shutdown();

  v1::GetStatsResponse stats = Stats();
  EXPECT_EQ(stats.api_calls_refused(), kCalls - kMaxCalls);
  EXPECT_EQ(stats.api_calls_in_flight(), 1u);  // This very call.
}

TEST_F(ApiLimitsTest, AStreamBeyondMaxStreamsIsRefusedAndChangesNothing) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  grpc::ClientContext first_context;
  v1::AddVpcResponse first_response;
  auto first = stub_->AddVpc(&first_context, &first_response);
  ASSERT_TRUE(first->Write(VpcItem(Vpc("vpc1", 100, "10.1.0.0/16"))));
  ASSERT_TRUE(shortcut::testing::PollUntil(
      [&] { return service_->api_counters().streams_in_flight == 1; }));

  grpc::Status second = AddVpc({VpcItem(Vpc("vpc2", 200, "10.2.0.0/16")),
                                Batch({Ep("ep21", "10.2.0.21", "host1", "vpc2")})});
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(second.error_message(),
            "gateway busy: streams at their limit of 1 (api_limits.max_streams); retry with "
            "backoff");

  v1::AddVpcRequest last = Batch({Ep("ep11", "10.1.0.11", "host1")});
  last.mutable_endpoints()->set_last(true);
  ASSERT_TRUE(first->Write(last));
  first->WritesDone();
  grpc::Status finished = first->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_THAT(Keys(), UnorderedElementsAre("ep11"));  // Nothing of vpc2.
  EXPECT_EQ(Stats().api_streams_refused(), 1u);

  // The first stream's ticket went with it.
  grpc::Status again = AddVpc({VpcItem(Vpc("vpc2", 200, "10.2.0.0/16")),
                               Batch({Ep("ep21", "10.2.0.21", "host1", "vpc2")})});
  EXPECT_TRUE(again.ok()) << again.error_message();
  EXPECT_THAT(Keys(), UnorderedElementsAre("ep11", "ep21"));
}

TEST_F(ApiLimitsTest, AMessageAboveMaxMessageBytesIsRefusedBeforeItIsParsed) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  std::vector<v1::Endpoint> endpoints;
  for (int i = 1; i <= 20000; ++i) {
    endpoints.push_back(Ep("ep" + std::to_string(i),
                           "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                           "host1"));
  }
  v1::AddVpcRequest big = Batch(endpoints);
  ASSERT_GT(big.ByteSizeLong(), 1u << 20);

  grpc::Status refused = AddVpc({VpcItem(Vpc("vpc1", 100, "10.1.0.0/16")), big});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("larger than max"));
  EXPECT_TRUE(Keys().empty());

  // The same endpoints in batches under the bound load.
  std::vector<v1::AddVpcRequest> messages = {VpcItem(Vpc("vpc1", 100, "10.1.0.0/16"))};
  for (size_t i = 0; i < endpoints.size(); i += 1000) {
    messages.push_back(Batch(std::vector<v1::Endpoint>(
        endpoints.begin() + i, endpoints.begin() + std::min(endpoints.size(), i + 1000))));
  }
  grpc::Status loaded = AddVpc(messages);
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_EQ(Keys().size(), 20000u);
}

TEST_F(ApiLimitsTest, AStreamWithoutItsLastBatchWasCutShortAndAppliesNothing) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  grpc::Status cut =
      AddVpc({VpcItem(Vpc("vpc1", 100, "10.1.0.0/16")), Batch({Ep("ep11", "10.1.0.11", "host1")})},
             nullptr, /*end=*/false);
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(cut.error_message(),
            "the stream ended without a batch marked last: it may have been cut short, so "
            "nothing of it is applied");
  EXPECT_TRUE(Keys().empty());
  EXPECT_EQ(Flows("host1"), 0u);

  v1::AddVpcRequest last = Batch({Ep("ep11", "10.1.0.11", "host1")});
  last.mutable_endpoints()->set_last(true);
  grpc::Status after = AddVpc(
      {VpcItem(Vpc("vpc1", 100, "10.1.0.0/16")), last, Batch({Ep("ep12", "10.1.0.12", "host1")})},
      nullptr, /*end=*/false);
  EXPECT_EQ(after.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(after.error_message(), "AddVpcRequest[2]: a message after the batch marked last");
  EXPECT_TRUE(Keys().empty());
}

TEST_F(ApiLimitsTest, BytesThatAreNoRequestGetAnErrorAndTheServerServesOn) {
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue cq;
  for (const std::string& bytes :
       {std::string("\xff\xff\xff\xff\x0f", 5), std::string("\x0a\x80\x80\x80\x80\x10", 6),
        std::string(1000, '\xfe')}) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = generic.PrepareUnaryCall(&context, "/shortcut.gateway.v1.Gateway/UpdateEndpoint",
                                           request, &cq);
    reader->StartCall();
    grpc::Status status;
    reader->Finish(&response, &status, nullptr);
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    // gRPC's own answer to a request that does not parse.
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
  }
  cq.Shutdown();
  EXPECT_TRUE(Keys().empty());
  EXPECT_TRUE(SetCluster(Cluster()).ok());
}

}  // namespace
}  // namespace shortcut::gateway::testing
