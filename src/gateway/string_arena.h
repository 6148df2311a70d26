// The gateway DB's string store: keys and iface ids, each a length byte and
// its bytes, addressed by a uint32 offset.
//
// Memory: blocks of 4 MB (two huge pages, from AllocateLarge) that are
// never moved, so growing copies nothing and there is never a second copy
// of the store (a doubling vector held both, old and new, at its largest
// step: ~200 MB more at the peak of a 10M load with distinct iface ids). A
// string never straddles two blocks: one that does not fit in the rest of
// the current block starts the next one, and the skipped bytes are counted
// as padding (at most 256 per 4 MB).
//
// Ownership: the arena owns its blocks. Thread-safety: none (the DB's
// owner thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace shortcut::gateway {

class StringArena {
 public:
  static constexpr uint32_t kBlockShift = 22;  // 4 MB.
  static constexpr size_t kBlock = size_t{1} << kBlockShift;
  static constexpr size_t kMaxString = 255;  // One length byte.
  // Offsets are uint32: the arena ends before this.
  static constexpr size_t kMaxEnd = 0xfffffff0u;

  // Where the next string goes; Rollback(mark) drops every string appended
  // since.
  struct Mark {
    size_t end = 0;
    size_t padding = 0;
  };

  // REQUIRES: s.size() <= kMaxString and Fits(s.size()).
  uint32_t Append(std::string_view s);
  bool Fits(size_t bytes) const { return end_ + bytes + 1 + kMaxString < kMaxEnd; }
  // REQUIRES: `ref` came from Append and was not rolled back.
  std::string_view Get(uint32_t ref) const {
    const char* p = blocks_[ref >> kBlockShift].get() + (ref & (kBlock - 1));
    return std::string_view(p + 1, static_cast<uint8_t>(*p));
  }
  // The `len` bytes of the string at `ref`, without reading its length byte
  // (the caller keeps the length).
  std::string_view Get(uint32_t ref, size_t len) const {
    return std::string_view(blocks_[ref >> kBlockShift].get() + (ref & (kBlock - 1)) + 1, len);
  }
  Mark mark() const { return Mark{end_, padding_}; }
  void Rollback(Mark m) {
    end_ = m.end;
    padding_ = m.padding;
  }
  // Bytes of strings appended (length bytes included), padding excluded.
  size_t size() const { return end_ - padding_; }
  // Bytes allocated.
  size_t capacity() const { return blocks_.size() * kBlock; }
  void swap(StringArena& other) noexcept {
    blocks_.swap(other.blocks_);
    std::swap(end_, other.end_);
    std::swap(padding_, other.padding_);
  }

 private:
  struct Free {
    void operator()(char* p) const;
  };
  std::vector<std::unique_ptr<char[], Free>> blocks_;
  size_t end_ = 0;
  size_t padding_ = 0;
};

}  // namespace shortcut::gateway
