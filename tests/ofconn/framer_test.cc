#include "src/ofconn/framer.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::ofconn {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Msg(uint8_t type, uint16_t len, uint8_t fill) {
  std::vector<uint8_t> m(len < 8 ? 8 : len, fill);
  m[0] = 4;
  m[1] = type;
  m[2] = static_cast<uint8_t>(len >> 8);
  m[3] = static_cast<uint8_t>(len);
  return m;
}

void Feed(Framer& f, const std::vector<uint8_t>& bytes) {
  auto space = f.Prepare(bytes.size());
  ASSERT_GE(space.size(), bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  f.Commit(bytes.size());
}

TEST(Framer, ReassemblesMessagesFedByteByByte) {
  Framer f;
  std::vector<uint8_t> stream = Msg(2, 12, 0xaa);
  auto second = Msg(3, 8, 0);
  stream.insert(stream.end(), second.begin(), second.end());
  std::vector<std::vector<uint8_t>> got;
  for (uint8_t b : stream) {
    Feed(f, {b});
    while (true) {
      auto next = f.Next();
      ASSERT_TRUE(next.ok()) << next.status();
      if (!next->has_value()) break;
      got.emplace_back((*next)->begin(), (*next)->end());
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Msg(2, 12, 0xaa));
  EXPECT_EQ(got[1], second);
  EXPECT_EQ(f.buffered(), 0u);
  EXPECT_EQ(f.DescribePartial(), "");
}

TEST(Framer, HoldsAMaximalMessage) {
  Framer f(1024);
  auto big = Msg(10, 65535, 0x5a);
  size_t fed = 0;
  while (fed < big.size()) {
    auto space = f.Prepare();
    size_t n = std::min(space.size(), std::min<size_t>(big.size() - fed, 4000));
    std::memcpy(space.data(), big.data() + fed, n);
    f.Commit(n);
    fed += n;
    auto next = f.Next();
    ASSERT_TRUE(next.ok());
    if (fed < big.size()) {
      EXPECT_FALSE(next->has_value());
    } else {
      ASSERT_TRUE(next->has_value());
      EXPECT_EQ((*next)->size(), 65535u);
    }
  }
}

TEST(Framer, LengthBelowHeaderIsAnError) {
  Framer f;
  Feed(f, Msg(10, 4, 0));
  auto next = f.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_THAT(std::string(next.status().message()), HasSubstr("length 4"));
  EXPECT_THAT(std::string(next.status().message()), HasSubstr("8-byte header"));
}

TEST(Framer, DescribesPartialMessage) {
  Framer f;
  auto m = Msg(10, 100, 1);
  m.resize(20);
  Feed(f, m);
  auto next = f.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(f.DescribePartial(), "20 of the 100 bytes of an OpenFlow message");
}

}  // namespace
}  // namespace shortcut::ofconn
