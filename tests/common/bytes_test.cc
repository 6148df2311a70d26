#include "src/common/bytes.h"

#include <gtest/gtest.h>

namespace shortcut {
namespace {

TEST(ByteReaderTest, ReadsBigEndian) {
  const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  ByteReader r(data);
  EXPECT_EQ(r.U8(), 0x01);
  EXPECT_EQ(r.U16(), 0x0203);
  EXPECT_EQ(r.U32(), 0x04050607u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, FailsStickyOnOverread) {
  const uint8_t data[] = {0xaa, 0xbb, 0xcc};
  ByteReader r(data);
  EXPECT_EQ(r.U32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0u);  // Stays failed even though a byte would fit.
  EXPECT_FALSE(r.Need(1, "x").ok());
}

TEST(ByteReaderTest, SubReaderIsBounded) {
  const uint8_t data[] = {1, 2, 3, 4, 5};
  ByteReader r(data);
  ByteReader sub = r.Sub(2);
  EXPECT_EQ(sub.U16(), 0x0102);
  EXPECT_EQ(sub.U8(), 0);
  EXPECT_FALSE(sub.ok());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.U8(), 3);
  ByteReader too_long = r.Sub(10);
  EXPECT_FALSE(too_long.ok());
  EXPECT_FALSE(r.ok());
}

TEST(ByteReaderTest, NeedNamesWhatIsTruncated) {
  const uint8_t data[] = {1};
  ByteReader r(data);
  absl::Status s = r.Need(4, "ofp_header");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ofp_header"), std::string_view::npos);
}

TEST(ByteWriterTest, WritesAndPatches) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.U8(4);
  w.U16(0);
  w.U32(0xdeadbeef);
  w.PatchU16(1, 0x1234);
  w.PadTo(0, 8);
  EXPECT_EQ(out, (std::vector<uint8_t>{4, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0}));
}

}  // namespace
}  // namespace shortcut
