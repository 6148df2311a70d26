#include "src/ovsdb/jsonrpc.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ovsdb/ops.h"

namespace shortcut::ovsdb {
namespace {

using ::testing::HasSubstr;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Every value framed from `chunks` fed one by one; fails the test on error.
std::vector<Json> FrameAll(JsonFramer& framer, const std::vector<std::string>& chunks) {
  std::vector<Json> out;
  for (const auto& c : chunks) {
    framer.Append(c);
    while (true) {
      auto next = framer.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      out.push_back(**next);
    }
  }
  return out;
}

TEST(JsonFramerTest, SplitsConcatenatedObjects) {
  JsonFramer f;
  auto v = FrameAll(f, {R"({"a":1}{"b":[2,3]} [4]  {"c":{}})"});
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0], Json::parse(R"({"a":1})"));
  EXPECT_EQ(v[1], Json::parse(R"({"b":[2,3]})"));
  EXPECT_EQ(v[2], Json::parse("[4]"));
  EXPECT_EQ(v[3], Json::parse(R"({"c":{}})"));
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(JsonFramerTest, ValueSplitAcrossEveryByte) {
  std::string text = R"({"id":7,"method":"echo","params":["x}{\"y",{"k":"]"}]}{"id":8})";
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  JsonFramer f;
  auto v = FrameAll(f, bytes);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["params"][0], "x}{\"y");
  EXPECT_EQ(v[0]["params"][1]["k"], "]");
  EXPECT_EQ(v[1]["id"], 8);
}

TEST(JsonFramerTest, IncompleteValueWaitsForMore) {
  JsonFramer f;
  f.Append(R"({"a":"\)");
  auto next = f.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  f.Append(R"("}"})");
  next = f.Next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((**next)["a"], "\"}");
}

TEST(JsonFramerTest, EscapedBackslashBeforeQuoteEndsString) {
  JsonFramer f;
  auto v = FrameAll(f, {R"({"a":"x\\"}{"b":1})"});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["a"], "x\\");
}

TEST(JsonFramerTest, GarbageAtTopLevelIsStickyError) {
  JsonFramer f;
  f.Append("{\"a\":1} hello");
  auto first = f.Next();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  auto second = f.Next();
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(Msg(second.status()), HasSubstr("expected '{' or '['"));
  f.Append("{}");
  EXPECT_FALSE(f.Next().ok());
}

TEST(JsonFramerTest, InvalidJsonInsideBracesIsError) {
  JsonFramer f;
  f.Append("{\"a\":tru}");
  auto next = f.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_THAT(Msg(next.status()), HasSubstr("invalid JSON"));
}

TEST(JsonFramerTest, MismatchedBracketsAreError) {
  JsonFramer f;
  f.Append("{\"a\":1]");
  EXPECT_FALSE(f.Next().ok());
}

TEST(JsonFramerTest, OversizedMessageIsError) {
  JsonFramer f(16);
  f.Append(R"({"a":"0123456789abcdef"})");
  auto next = f.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_THAT(Msg(next.status()), HasSubstr("exceeds 16 bytes"));
}

TEST(JsonFramerTest, DeepNestingIsError) {
  JsonFramer f;
  f.Append(std::string(kMaxJsonDepth + 1, '['));
  auto next = f.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_THAT(Msg(next.status()), HasSubstr("nesting"));
}

TEST(JsonFramerTest, InvalidUtf8IsError) {
  JsonFramer f;
  f.Append("{\"a\":\"\xff\"}");
  EXPECT_FALSE(f.Next().ok());
}

TEST(MessageTest, ParsesTheFourKinds) {
  auto req = ParseMessage(Json::parse(R"({"id":1,"method":"echo","params":[1]})"));
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->type, Message::Type::kRequest);
  EXPECT_EQ(req->method, "echo");
  EXPECT_EQ(req->id, 1);

  auto note = ParseMessage(Json::parse(R"({"id":null,"method":"update","params":["m",{}]})"));
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->type, Message::Type::kNotification);

  auto reply = ParseMessage(Json::parse(R"({"id":"x","result":{"a":1},"error":null})"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->type, Message::Type::kReply);
  EXPECT_EQ(reply->result["a"], 1);

  auto error = ParseMessage(Json::parse(R"({"id":3,"result":null,"error":"unknown method"})"));
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(error->type, Message::Type::kError);
  EXPECT_EQ(DescribeError(error->error), "unknown method");
}

TEST(MessageTest, RejectsMalformed) {
  for (const char* text :
       {R"([1])", R"({"method":1,"params":[]})", R"({"method":"x"})",
        R"({"method":"x","params":{}})", R"({"id":1})", R"({"result":1,"error":null})"}) {
    EXPECT_FALSE(ParseMessage(Json::parse(text)).ok()) << text;
  }
}

TEST(MessageTest, RoundTrips) {
  for (const Message& m :
       {Message::Request("transact", Json::array({"db"}), Json(5)),
        Message::Notification("cancel", Json::array({5})), Message::Reply(Json::object(), Json(5)),
        Message::Error(Json{{"error", "e"}, {"details", "d"}}, Json(5))}) {
    auto again = ParseMessage(Json::parse(Serialize(m)));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->type, m.type);
    EXPECT_EQ(ToJson(*again), ToJson(m));
  }
  EXPECT_EQ(DescribeError(Json{{"error", "e"}, {"details", "d"}}), "e: d");
}

TEST(MessageTest, SerializeReplacesInvalidUtf8) {
  Json j = std::string("a\xff");
  EXPECT_EQ(Serialize(j).substr(0, 2), "\"a");
}

TEST(OpsTest, BuildsRfc7047Operations) {
  EXPECT_EQ(
      op::Insert("Bridge", Json{{"name", "br0"}}, "b"),
      Json::parse(R"({"op":"insert","table":"Bridge","row":{"name":"br0"},"uuid-name":"b"})"));
  Json where = Json::array({Cond("name", "==", "br0")});
  EXPECT_EQ(
      op::Select("Bridge", where, {"name"}),
      Json::parse(
          R"({"op":"select","table":"Bridge","where":[["name","==","br0"]],"columns":["name"]})"));
  EXPECT_EQ(op::Mutate("T", Json::array(), {Mutation("n", "+=", 1)}),
            Json::parse(R"({"op":"mutate","table":"T","where":[],"mutations":[["n","+=",1]]})"));
  EXPECT_EQ(
      op::Wait("T", Json::array(), {"n"}, "==", {Json{{"n", 1}}}, 0),
      Json::parse(
          R"({"op":"wait","table":"T","where":[],"columns":["n"],"until":"==","rows":[{"n":1}],"timeout":0})"));
  EXPECT_EQ(op::Commit(false), Json::parse(R"({"op":"commit","durable":false})"));
  EXPECT_EQ(op::Comment("hi"), Json::parse(R"({"op":"comment","comment":"hi"})"));
  EXPECT_EQ(OvsSet({Uuid("u")}), Json::parse(R"(["set",[["uuid","u"]]])"));
  EXPECT_EQ(OvsMap({{"k", "v"}}), Json::parse(R"(["map",[["k","v"]]])"));
  EXPECT_EQ(DescribeOp(op::Insert("Bridge", Json::object())), "insert into Bridge");
  EXPECT_EQ(DescribeOp(op::Abort()), "abort");
}

}  // namespace
}  // namespace shortcut::ovsdb
