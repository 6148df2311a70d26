#include "src/apiserver/limits.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::apiserver {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ApiLimits> Parse(const char* text) {
  return ParseApiLimitsJson(nlohmann::json::parse(text), "api_limits");
}

TEST(ApiLimitsTest, DefaultsHoldTheirOwnRule) {
  EXPECT_TRUE(CheckApiLimits(ApiLimits{}, "api_limits").ok());
}

TEST(ApiLimitsTest, FieldsGivenReplaceTheDefaultsOthersStay) {
  auto l = Parse(R"({"max_calls": 10, "max_threads": 100, "memory_bytes": 33554432})");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->max_calls, 10u);
  EXPECT_EQ(l->max_threads, 100u);
  EXPECT_EQ(l->memory_bytes, 32u << 20);
  EXPECT_EQ(l->max_streams, 4u);  // The default.
  EXPECT_EQ(l->max_message_bytes, 64u << 20);
}

TEST(ApiLimitsTest, ErrorsNameTheField) {
  auto unknown = Parse(R"({"max_call": 10})");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("api_limits: unknown field 'max_call' (known: max_calls,"));

  auto zero = Parse(R"({"max_calls": 0})");
  EXPECT_THAT(zero.status().message(),
              HasSubstr("api_limits.max_calls: must be a whole number in 1..100000"));
  EXPECT_THAT(Parse(R"({"max_calls": -3})").status().message(), HasSubstr("max_calls"));
  EXPECT_THAT(Parse(R"({"max_calls": 1.5})").status().message(), HasSubstr("max_calls"));
  EXPECT_THAT(Parse(R"({"max_calls": "12"})").status().message(), HasSubstr("max_calls"));
  EXPECT_THAT(Parse(R"({"memory_bytes": 1000})").status().message(),
              HasSubstr("api_limits.memory_bytes: must be a whole number in 16777216.."));
  EXPECT_THAT(Parse(R"({"max_message_bytes": 4294967296})").status().message(),
              HasSubstr("api_limits.max_message_bytes"));
  EXPECT_THAT(Parse("[1]").status().message(), HasSubstr("api_limits: must be an object"));
}

TEST(ApiLimitsTest, ThreadsMustLeaveRoomToRefuse) {
  // 128 + 4 + 64 = 196 threads can be held by admitted work; a 197th is
  // needed to answer a refused call.
  auto tight = Parse(R"({"max_threads": 196})");
  EXPECT_THAT(tight.status().message(),
              HasSubstr("api_limits.max_threads: 196 must exceed max_calls + max_streams + "
                        "max_watchers (196)"));
  EXPECT_TRUE(Parse(R"({"max_threads": 197})").ok());
  EXPECT_TRUE(Parse(R"({"max_threads": 20, "max_calls": 10, "max_watchers": 5})").ok());
}

}  // namespace
}  // namespace shortcut::apiserver
