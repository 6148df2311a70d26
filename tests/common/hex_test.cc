#include "src/common/hex.h"

#include <gtest/gtest.h>

namespace shortcut {
namespace {

TEST(HexTest, RoundTrip) {
  std::vector<uint8_t> b = {0x00, 0x0a, 0xff, 0x10};
  EXPECT_EQ(ToHex(b), "000aff10");
  EXPECT_EQ(*FromHex("000aff10"), b);
  EXPECT_EQ(*FromHex("0x00 0a:FF-10"), b);
}

TEST(HexTest, RejectsBadInput) {
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
}

}  // namespace
}  // namespace shortcut
