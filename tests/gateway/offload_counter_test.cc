// OffloadCounter: the threshold policy's judgement over reads of the
// counting flows' counters. Expected crossings are worked out by hand.
#include "src/gateway/offload_counter.h"

#include "gtest/gtest.h"
#include "src/model/offload.h"

namespace shortcut::gateway {
namespace {

using Key = OffloadCounter::Key;
constexpr uint32_t kVni = 5;
const Key kA{0xac1f0101, kVni, 0x0a000002};
const Key kB{0xac1f0101, kVni, 0x0a000003};

OffloadCounter::PolicyOf Policy(uint64_t packets, uint64_t bytes, uint32_t window_ms) {
  return [=](uint32_t vni) -> std::optional<model::OffloadPolicy> {
    if (vni != kVni) return std::nullopt;
    return model::OffloadPolicy{model::OffloadMode::kThreshold, packets, bytes, window_ms};
  };
}

TEST(OffloadCounterTest, AFlowCrossesWhenItCarriesMoreThanThePacketsWithinTheWindow) {
  OffloadCounter c;
  auto policy = Policy(10, 0, 1000);
  c.Track(kA, 0x0a000001, 0);
  // Counters at 250: 5, 500: 8, 1250: 12, 1500: 20.
  EXPECT_TRUE(c.EndRead(c.BeginRead(), {{kA, 5, 500}}, 250, policy).empty());
  EXPECT_TRUE(c.EndRead(c.BeginRead(), {{kA, 8, 800}}, 500, policy).empty());
  // At 1250 the baseline is the newest sample at least 1000 ms old: 250's 5;
  // 12 - 5 = 7 packets in the window: not more than 10.
  EXPECT_TRUE(c.EndRead(c.BeginRead(), {{kA, 12, 1200}}, 1250, policy).empty());
  // At 1500 the baseline is 500's 8: 20 - 8 = 12 > 10.
  auto crossed = c.EndRead(c.BeginRead(), {{kA, 20, 2000}}, 1500, policy);
  ASSERT_EQ(crossed.size(), 1u);
  EXPECT_EQ(crossed[0].key, kA);
  EXPECT_EQ(crossed[0].src_ip, 0x0a000001u);
  // Counting starts afresh: 5 more packets are not enough.
  EXPECT_TRUE(c.EndRead(c.BeginRead(), {{kA, 25, 2500}}, 1750, policy).empty());
  EXPECT_TRUE(c.Tracked(kA));
}

TEST(OffloadCounterTest, ExactlyTheThresholdDoesNotCrossAndBytesCountToo) {
  OffloadCounter c;
  c.Track(kA, 1, 0);
  c.Track(kB, 1, 0);
  auto crossed =
      c.EndRead(c.BeginRead(), {{kA, 10, 100}, {kB, 2, 100001}}, 100, Policy(10, 100000, 1000));
  ASSERT_EQ(crossed.size(), 1u);  // A: 10 packets, not more; B: 100001 bytes.
  EXPECT_EQ(crossed[0].key, kB);
}

TEST(OffloadCounterTest, AFlowTheReadNoLongerFindsIsForgottenUnlessTrackedSinceItBegan) {
  OffloadCounter c;
  c.Track(kA, 1, 0);
  const uint64_t begun = c.BeginRead();
  c.Track(kB, 1, 10);  // Its counting flow may not be on the switch yet.
  EXPECT_TRUE(c.EndRead(begun, {}, 20, Policy(10, 0, 1000)).empty());
  EXPECT_FALSE(c.Tracked(kA));  // Idled out (or never added): a packet-in starts it again.
  EXPECT_TRUE(c.Tracked(kB));
  EXPECT_EQ(c.size(), 1u);
}

TEST(OffloadCounterTest, AVpcThatLeftTheThresholdPolicyCrossesAtOnceAndAGoneOneNever) {
  OffloadCounter c;
  c.Track(kA, 1, 0);
  auto first_packet = [](uint32_t) -> std::optional<model::OffloadPolicy> {
    return model::OffloadPolicy{};
  };
  EXPECT_EQ(c.EndRead(c.BeginRead(), {{kA, 1, 64}}, 10, first_packet).size(), 1u);
  auto gone = [](uint32_t) -> std::optional<model::OffloadPolicy> { return std::nullopt; };
  EXPECT_TRUE(c.EndRead(c.BeginRead(), {{kA, 1000, 64000}}, 20, gone).empty());
}

TEST(OffloadCounterTest, ForgettingByDestinationOrVpc) {
  OffloadCounter c;
  c.Track(kA, 1, 0);
  c.Track(kB, 1, 0);
  c.Track(Key{1, 99, kA.dst_ipv4}, 1, 0);
  EXPECT_EQ(c.PerVni().at(kVni), 2u);
  c.ForgetDst(kVni, kA.dst_ipv4);
  EXPECT_FALSE(c.Tracked(kA));
  EXPECT_TRUE(c.Tracked(Key{1, 99, kA.dst_ipv4}));
  c.ForgetVpc(kVni);
  EXPECT_FALSE(c.Tracked(kB));
  EXPECT_EQ(c.size(), 1u);
}

TEST(OffloadPolicyTest, ValidationNamesTheFieldAndTheRule) {
  using model::OffloadMode;
  using model::OffloadPolicy;
  EXPECT_TRUE(model::ValidateOffload({}, "offload").ok());
  EXPECT_TRUE(model::ValidateOffload({OffloadMode::kThreshold, 10, 0, 0}, "offload").ok());
  EXPECT_TRUE(model::ValidateOffload({OffloadMode::kThreshold, 0, 5000, 100}, "offload").ok());
  absl::Status s = model::ValidateOffload({OffloadMode::kThreshold, 0, 0, 0}, "vpc.offload");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "vpc.offload: the threshold mode needs packets or bytes (or both) above 0");
  s = model::ValidateOffload({OffloadMode::kThreshold, 1, 0, 99}, "offload");
  EXPECT_EQ(s.message(), "offload.window_ms: 99 is outside 100..600000 (0: 1000)");
  s = model::ValidateOffload({OffloadMode::kFirstPacket, 3, 0, 0}, "offload");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(model::FormatOffload({OffloadMode::kThreshold, 10, 100000, 0}),
            "threshold: 10 packets or 100000 bytes in 1000 ms");
  EXPECT_EQ(model::ParseOffloadMode("threshold"), OffloadMode::kThreshold);
  EXPECT_FALSE(model::ParseOffloadMode("sometimes").has_value());
}

}  // namespace
}  // namespace shortcut::gateway
