#include "src/manager/role.h"

#include "absl/strings/str_cat.h"

namespace shortcut::manager {

absl::Status ManagerRole::CheckWritable(const NbState& state) const {
  if (active_) return absl::OkStatus();
  const ActiveManager& a = state.active_manager;
  if (a.name.empty() || a.name == name_) {
    return absl::UnavailableError(
        absl::StrCat("this manager (", name_, ") is standby; no active manager is known yet"));
  }
  return absl::UnavailableError(absl::StrCat(
      "this manager (", name_, ") is standby; the active one is ", a.name, " at ", a.address));
}

}  // namespace shortcut::manager
