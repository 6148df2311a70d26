// Bounds-checked big-endian byte reader and writer for wire codecs.
//
// ByteReader never reads past the span it was given: every getter checks the
// remaining length and, once a read fails, the reader stays failed and every
// later read returns zero. Callers check ok() (or the Status from Need())
// once after a group of reads instead of after each one. ByteWriter appends
// to a caller-owned std::vector<uint8_t>.
//
// Thread-safety: none; a reader or writer belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace shortcut {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

  // Fails the reader (and returns an error naming `what`) unless n bytes remain.
  absl::Status Need(size_t n, std::string_view what) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return absl::InvalidArgumentError(std::string(what) + ": truncated (need " +
                                        std::to_string(n) + " bytes, have " +
                                        std::to_string(ok_ ? data_.size() - pos_ : 0) + ")");
    }
    return absl::OkStatus();
  }

  uint8_t U8() { return static_cast<uint8_t>(Get(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Get(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Get(4)); }
  uint64_t U64() { return Get(8); }

  // Copies n bytes into out; zero-fills and fails if fewer remain.
  void Bytes(uint8_t* out, size_t n) {
    if (!Check(n)) {
      std::memset(out, 0, n);
      return;
    }
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
  }
  // A view of the next n bytes (empty and failed if fewer remain).
  std::span<const uint8_t> Span(size_t n) {
    if (!Check(n)) return {};
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  void Skip(size_t n) {
    if (Check(n)) pos_ += n;
  }
  // A sub-reader over the next n bytes; this reader moves past them.
  ByteReader Sub(size_t n) {
    if (!Check(n)) {
      ByteReader r({});
      r.ok_ = false;
      return r;
    }
    ByteReader r(data_.subspan(pos_, n));
    pos_ += n;
    return r;
  }

 private:
  bool Check(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  uint64_t Get(size_t n) {
    if (!Check(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += n;
    return v;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  size_t size() const { return out_.size(); }
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) { Put(v, 2); }
  void U32(uint32_t v) { Put(v, 4); }
  void U64(uint64_t v) { Put(v, 8); }
  void Bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  // Pads with zeros to a multiple of `align` bytes counted from `start`.
  void PadTo(size_t start, size_t align) {
    size_t len = out_.size() - start;
    Zeros((align - len % align) % align);
  }
  // Overwrites a big-endian 16-bit value at `offset` (for length fields).
  void PatchU16(size_t offset, uint16_t v) {
    out_[offset] = static_cast<uint8_t>(v >> 8);
    out_[offset + 1] = static_cast<uint8_t>(v);
  }

 private:
  void Put(uint64_t v, size_t n) {
    for (size_t i = n; i > 0; --i) out_.push_back(static_cast<uint8_t>(v >> ((i - 1) * 8)));
  }
  std::vector<uint8_t>& out_;
};

}  // namespace shortcut
