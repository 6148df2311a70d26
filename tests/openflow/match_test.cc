#include "src/openflow/match.h"

#include <gtest/gtest.h>

#include "absl/hash/hash.h"

namespace shortcut::of {
namespace {

TEST(MatchTest, FullMaskIsExact) {
  Match a, b;
  a.SetMasked(Field::kIpv4Dst, 0x0a000001, 0xffffffff);
  b.Set(Field::kIpv4Dst, 0x0a000001);
  EXPECT_EQ(a, b);
  EXPECT_EQ(absl::HashOf(a), absl::HashOf(b));
  EXPECT_FALSE(a.Find(Field::kIpv4Dst)->masked);
}

TEST(MatchTest, ZeroMaskRemovesField) {
  Match m;
  m.Set(Field::kIpv4Dst, 1);
  m.SetMasked(Field::kIpv4Dst, 1, 0);
  EXPECT_TRUE(m.empty());
}

TEST(MatchTest, ValueIsClearedOutsideMask) {
  Match a, b;
  a.SetMasked(Field::kIpv4Dst, 0x0a0000ff, 0xffffff00);
  b.SetMasked(Field::kIpv4Dst, 0x0a000000, 0xffffff00);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Find(Field::kIpv4Dst)->ValueU64(), 0x0a000000u);
}

TEST(MatchTest, KeepsCanonicalOrderWhateverTheInsertionOrder) {
  Match a, b;
  a.Set(Field::kIpv4Dst, 5);
  a.Set(Field::kEthType, 0x0800);
  a.Set(Field::kInPort, 3);
  b.Set(Field::kInPort, 3);
  b.Set(Field::kEthType, 0x0800);
  b.Set(Field::kIpv4Dst, 5);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.fields()[0].field, Field::kInPort);
  EXPECT_EQ(a.fields()[1].field, Field::kEthType);
}

TEST(MatchTest, ValueIsTruncatedToWidth) {
  Match m;
  m.Set(Field::kIpProto, 0x1234);
  EXPECT_EQ(m.Find(Field::kIpProto)->ValueU64(), 0x34u);
}

TEST(MatchTest, FieldLookups) {
  EXPECT_EQ(FieldByName("nw_dst"), Field::kIpv4Dst);
  EXPECT_EQ(FieldByName("ip_dst"), Field::kIpv4Dst);
  EXPECT_EQ(FieldByName("tun_id"), Field::kTunnelId);
  EXPECT_EQ(FieldByName("reg7"), Field::kReg7);
  EXPECT_FALSE(FieldByName("bogus").has_value());
  EXPECT_EQ(FieldByOxm(kOxmClassNxm1, 32), Field::kTunIpv4Dst);
  EXPECT_EQ(FieldByOxm(kOxmClassOpenflowBasic, 38), Field::kTunnelId);
  EXPECT_EQ(RegField(15), Field::kReg15);
}

}  // namespace
}  // namespace shortcut::of
