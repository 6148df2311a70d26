// Small helpers shared by the codec files (see codec_internal.h).
#include "absl/strings/str_cat.h"
#include "src/openflow/codec_internal.h"

namespace shortcut::of::internal {

absl::Status Annotate(const absl::Status& st, std::string_view what) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(AV(what), ": ", st.message()));
}

absl::Status Truncated(const ByteReader& r, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AV(what), ": truncated at byte ", r.position()));
}

absl::Status PatchLength(ByteWriter& w, size_t start, size_t offset, std::string_view what) {
  size_t len = w.size() - start;
  if (len > 0xffff) {
    return Invalid(what, "encoded length ", len, " exceeds 65535 bytes");
  }
  w.PatchU16(start + offset, static_cast<uint16_t>(len));
  return absl::OkStatus();
}

}  // namespace shortcut::of::internal
