#include "src/pipeline/text_util.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/common/fatal.h"
#include "src/openflow/text.h"

namespace shortcut::pipeline::internal {

std::string Ip(uint32_t a) {
  return absl::StrFormat("%d.%d.%d.%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

std::string Mac(const of::MacAddr& m) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::string Hex(uint64_t v) { return absl::StrFormat("%#x", v); }

of::FlowMod Flow(const std::string& text, of::FlowModCommand command) {
  auto mod = of::ParseFlow(text, command);
  if (!mod.ok()) {
    Fatal(absl::StrCat("generated flow does not parse: ", text, ": ", mod.status().ToString()));
  }
  return *std::move(mod);
}

reconcile::FlowEntry Entry(uint64_t cookie, const std::string& text) {
  return reconcile::FlowFromMod(Flow(absl::StrCat("cookie=", Hex(cookie), ",", text)));
}

}  // namespace shortcut::pipeline::internal
