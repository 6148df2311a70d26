#include "src/ctl/switch_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "src/ctl/switch_cmd.h"

namespace shortcut::ctl {
namespace {

using ::testing::HasSubstr;

constexpr char kFile[] = R"(# a comment
meter meter=1,pktps,burst,bands=type=drop,rate=100,burst_size=10

group group_id=5,type=select,bucket=weight:1,actions=output:2   # trailing comment
flow table=0,priority=100,in_port=1,actions=goto_table:10
flow table=10,priority=10,ip,nw_dst=10.0.0.0/24,actions=group:5
)";

TEST(SwitchFileTest, ParsesObjectsWithLineNumbers) {
  auto state = ParseSwitchFile(kFile);
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->meter_count(), 1u);
  ASSERT_NE(state->FindMeter(1), nullptr);
  EXPECT_EQ(state->FindMeter(1)->origin, 2);
  EXPECT_EQ(state->FindMeter(1)->flags, of::kMeterPktps | of::kMeterBurst);
  ASSERT_EQ(state->group_count(), 1u);
  ASSERT_NE(state->FindGroup(5), nullptr);
  EXPECT_EQ(state->FindGroup(5)->origin, 4);
  EXPECT_EQ(state->FindGroup(5)->type, of::GroupType::kSelect);
  ASSERT_EQ(state->flow_count(), 2u);
  reconcile::FlowKey key{10, 10, {}};
  key.match.Set(of::Field::kEthType, 0x0800);
  key.match.SetMasked(of::Field::kIpv4Dst, 0x0a000000, 0xffffff00);
  const reconcile::FlowEntry* flow = state->FindFlow(key);
  ASSERT_NE(flow, nullptr);
  EXPECT_EQ(flow->origin, 6);
  ASSERT_EQ(flow->instructions.apply_actions.size(), 1u);
  EXPECT_EQ(std::get<of::ActionGroup>(flow->instructions.apply_actions[0]).group_id, 5u);
}

TEST(SwitchFileTest, FormatThenParseIsIdentity) {
  auto state = ParseSwitchFile(kFile);
  ASSERT_TRUE(state.ok()) << state.status();
  std::string text = FormatSwitchFile(*state);
  // Stable order: meters, groups, then flows by table.
  EXPECT_EQ(text.find("meter "), 0u) << text;
  EXPECT_LT(text.find("group "), text.find("flow table=0,"));
  EXPECT_LT(text.find("flow table=0,"), text.find("flow table=10,"));
  auto again = ParseSwitchFile(text);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  EXPECT_TRUE(again->SameAs(*state));
  EXPECT_EQ(FormatSwitchFile(*again), text);
}

TEST(SwitchFileTest, MalformedLineNamesTheLine) {
  auto file = ParseSwitchFile(
      "flow priority=1,actions=drop\nflow priority=2,nw_dstt=1,actions=drop\n", "x.sw");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(), HasSubstr("x.sw:line 2:"));
}

TEST(SwitchFileTest, RejectsUnknownKeywordAndMissingSpec) {
  auto a = ParseSwitchFile("\n\nflows priority=1,actions=drop\n");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("line 3: unknown keyword 'flows'"));
  auto b = ParseSwitchFile("group\n");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("line 1"));
}

TEST(SwitchFileTest, RejectsDuplicates) {
  auto flows = ParseSwitchFile(
      "flow table=1,priority=5,ip,nw_dst=10.0.0.1,actions=drop\n"
      "flow table=1,priority=5,nw_dst=10.0.0.1,ip,actions=output:1\n");
  ASSERT_FALSE(flows.ok());
  EXPECT_THAT(flows.status().message(), HasSubstr("line 2: flow duplicates line 1"));
  auto groups = ParseSwitchFile(
      "group group_id=1,type=all,bucket=output:1\ngroup group_id=1,type=all,bucket=output:2\n");
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(groups.status().message(), HasSubstr("group 1 already defined at line 1"));
  auto meters = ParseSwitchFile(
      "meter meter=3,kbps,bands=type=drop,rate=1\nmeter meter=3,kbps,bands=type=drop,rate=2\n");
  ASSERT_FALSE(meters.ok());
  EXPECT_THAT(meters.status().message(), HasSubstr("meter 3 already defined at line 1"));
}

TEST(CookieMaskTest, Parses) {
  EXPECT_EQ(*ParseCookieMask("0x5c00/0xff00"), std::make_pair(uint64_t{0x5c00}, uint64_t{0xff00}));
  EXPECT_EQ(*ParseCookieMask("7"), std::make_pair(uint64_t{7}, ~uint64_t{0}));
  // Bits outside the mask are dropped from the value.
  EXPECT_EQ(ParseCookieMask("0x1ff/0xf0")->first, 0xf0u);
  EXPECT_FALSE(ParseCookieMask("0x").ok());
  EXPECT_FALSE(ParseCookieMask("abc").ok());
  EXPECT_FALSE(ParseCookieMask("1/zz").ok());
}

}  // namespace
}  // namespace shortcut::ctl

namespace shortcut::ctl {
namespace {

// A file large enough to be cut into pieces (over 1 MiB per thread).
std::string BigFile(int flows) {
  std::string text = "meter meter=1,kbps,bands=type=drop,rate=10\n";
  for (int i = 0; i < flows; ++i) {
    absl::StrAppend(&text, "flow table=20,priority=100,ip,nw_dst=10.", (i >> 16) & 255, ".",
                    (i >> 8) & 255, ".", i & 255, ",actions=output:", i % 7 + 1, "\n");
  }
  return text;
}

TEST(SwitchFileParallelTest, SameStateAsSequential) {
  std::string text = BigFile(60000);
  auto one = ParseSwitchFile(text, "", 1);
  auto two = ParseSwitchFile(text, "", 2);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->flow_count(), 60000u);
  EXPECT_TRUE(one->SameAs(*two));
  // Origins are the file's line numbers in both.
  for (const auto& [key, flow] : two->flows()) {
    ASSERT_EQ(one->FindFlow(key)->origin, flow.origin);
  }
}

TEST(SwitchFileParallelTest, SameFirstErrorAsSequential) {
  std::string text = BigFile(60000);
  // A bad line late in the file, and a duplicate of line 2 near the end.
  size_t late = text.size() * 9 / 10;
  late = text.find('\n', late) + 1;
  text.insert(late, "flow table=20,priority=100,nw_dst=bogus,actions=drop\n");
  auto one = ParseSwitchFile(text, "f", 1);
  auto two = ParseSwitchFile(text, "f", 2);
  ASSERT_FALSE(one.ok());
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(one.status(), two.status());

  std::string dup = BigFile(60000);
  dup += "flow table=20,priority=100,ip,nw_dst=10.0.0.0,actions=drop\n";
  auto d1 = ParseSwitchFile(dup, "f", 1);
  auto d2 = ParseSwitchFile(dup, "f", 2);
  ASSERT_FALSE(d1.ok());
  EXPECT_THAT(d1.status().message(), HasSubstr("line 60002: flow duplicates line 2"));
  EXPECT_EQ(d1.status(), d2.status());
}

}  // namespace
}  // namespace shortcut::ctl
