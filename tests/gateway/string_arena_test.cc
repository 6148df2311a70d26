// The gateway DB's string store: strings never straddle a block, padding is
// counted apart from the strings, rollback drops exactly what came after
// its mark, and every string reads back as written across blocks.
#include "src/gateway/string_arena.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shortcut::gateway {
namespace {

std::string Nth(size_t i) {
  // 200..255 bytes, distinct content per string.
  return std::string(200 + i % 56, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

TEST(StringArenaTest, StringsReadBackAcrossBlocksAndNeverStraddleOne) {
  StringArena arena;
  std::vector<uint32_t> refs;
  std::vector<std::string> want;
  size_t bytes = 0;
  // About 2.5 blocks of 4 MB.
  for (size_t i = 0; bytes < 5 * StringArena::kBlock / 2; ++i) {
    want.push_back(Nth(i).substr(0, StringArena::kMaxString));
    refs.push_back(arena.Append(want.back()));
    bytes += 1 + want.back().size();
  }
  EXPECT_EQ(arena.capacity(), 3 * StringArena::kBlock);
  EXPECT_EQ(arena.size(), bytes);  // Padding is not counted as strings.
  for (size_t i = 0; i < refs.size(); ++i) {
    ASSERT_EQ(arena.Get(refs[i]), want[i]) << i;
    ASSERT_EQ(arena.Get(refs[i], want[i].size()), want[i]) << i;
    const size_t first = refs[i] / StringArena::kBlock;
    const size_t last = (refs[i] + want[i].size()) / StringArena::kBlock;
    ASSERT_EQ(first, last) << "string " << i << " at " << refs[i] << " straddles a block";
  }
  // The empty string is one length byte.
  uint32_t empty = arena.Append("");
  EXPECT_EQ(arena.Get(empty), "");
  EXPECT_EQ(arena.size(), bytes + 1);
}

TEST(StringArenaTest, RollbackDropsWhatCameAfterItsMark) {
  StringArena arena;
  uint32_t kept = arena.Append("kept");
  StringArena::Mark m = arena.mark();
  // Enough to cross into a second block (and pad the first).
  for (size_t i = 0; i < StringArena::kBlock / 200 + 10; ++i) arena.Append(Nth(i).substr(0, 199));
  EXPECT_EQ(arena.capacity(), 2 * StringArena::kBlock);
  arena.Rollback(m);
  EXPECT_EQ(arena.size(), 5u);
  EXPECT_EQ(arena.Get(kept), "kept");
  // The next string takes the place of the first one rolled back.
  EXPECT_EQ(arena.Append("next"), m.end);
  EXPECT_EQ(arena.Get(m.end), "next");
}

TEST(StringArenaTest, SwapExchangesContents) {
  StringArena a, b;
  uint32_t ra = a.Append("in a");
  a.swap(b);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.capacity(), 0u);
  EXPECT_EQ(b.Get(ra), "in a");
}

}  // namespace
}  // namespace shortcut::gateway
