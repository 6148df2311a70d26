#include "src/ofconn/framer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "src/openflow/constants.h"

namespace shortcut::ofconn {
namespace {

size_t LengthAt(const uint8_t* p) { return (size_t{p[2]} << 8) | p[3]; }

}  // namespace

Framer::Framer(size_t initial_capacity) : buf_(std::max(initial_capacity, of::kMaxMessageLen)) {}

std::span<uint8_t> Framer::Prepare(size_t min_free) {
  if (begin_ == end_) begin_ = end_ = 0;
  size_t need = min_free;
  if (end_ - begin_ >= of::kHeaderLen) {
    size_t len = LengthAt(buf_.data() + begin_);
    if (len > end_ - begin_) need = std::max(need, len - (end_ - begin_));
  }
  if (buf_.size() - end_ < need) {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < need) buf_.resize(end_ + need);
  }
  return std::span<uint8_t>(buf_.data() + end_, buf_.size() - end_);
}

absl::StatusOr<std::optional<std::span<const uint8_t>>> Framer::Next() {
  size_t have = end_ - begin_;
  if (have < of::kHeaderLen) return std::nullopt;
  const uint8_t* p = buf_.data() + begin_;
  size_t len = LengthAt(p);
  if (len < of::kHeaderLen) {
    return absl::InvalidArgumentError(absl::StrCat("OpenFlow message (version 0x", absl::Hex(p[0]),
                                                   ", type ", p[1], ") declares length ", len,
                                                   ", shorter than the 8-byte header"));
  }
  if (have < len) return std::nullopt;
  begin_ += len;
  return std::span<const uint8_t>(p, len);
}

std::string Framer::DescribePartial() const {
  size_t have = end_ - begin_;
  if (have == 0) return "";
  if (have < of::kHeaderLen) return absl::StrCat(have, " bytes of an OpenFlow header");
  return absl::StrCat(have, " of the ", LengthAt(buf_.data() + begin_),
                      " bytes of an OpenFlow message");
}

}  // namespace shortcut::ofconn
