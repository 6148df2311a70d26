#include "src/gateway/string_arena.h"

#include <cstring>

#include "src/gateway/gateway_db.h"

namespace shortcut::gateway {

void StringArena::Free::operator()(char* p) const { FreeLarge(p, kBlock); }

uint32_t StringArena::Append(std::string_view s) {
  const size_t need = 1 + s.size();
  const size_t used = end_ & (kBlock - 1);
  if (used != 0 && used + need > kBlock) {
    padding_ += kBlock - used;
    end_ += kBlock - used;
  }
  if ((end_ >> kBlockShift) == blocks_.size()) {
    blocks_.emplace_back(static_cast<char*>(AllocateLarge(kBlock)));
  }
  char* p = blocks_[end_ >> kBlockShift].get() + (end_ & (kBlock - 1));
  p[0] = static_cast<char>(s.size());
  if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
  const auto ref = static_cast<uint32_t>(end_);
  end_ += need;
  return ref;
}

}  // namespace shortcut::gateway
