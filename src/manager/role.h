// ManagerRole: who this managerd is and whether it is the active one.
// Several managerd may serve the same database; the one whose store holds
// the database lock (store.h) is ACTIVE: it drives the gateways and is the
// only one that writes. The others are STANDBY: they keep their replica,
// answer reads from it, and refuse writes with UNAVAILABLE naming the
// active manager as the database's NB_Global says (so that a client moves
// on to it).
//
// The daemon sets the role as the lock comes and goes; the Northbound reads
// it. A Northbound without a role (tests, tools) writes freely.
//
// Thread-safety: none; on the store's executor.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

class ManagerRole {
 public:
  // `address`: the API address others should dial (config's advertise).
  // Times are wall clock, ms since the epoch (shown to people).
  ManagerRole(std::string name, std::string address, int64_t now_ms)
      : name_(std::move(name)), address_(std::move(address)), since_ms_(now_ms) {}

  const std::string& name() const { return name_; }
  const std::string& address() const { return address_; }
  bool active() const { return active_; }
  int64_t since_ms() const { return since_ms_; }  // When the role last changed.

  void Set(bool active, int64_t now_ms) {
    if (active == active_) return;
    active_ = active;
    since_ms_ = now_ms;
  }

  // OK when active; otherwise Unavailable naming the active manager.
  absl::Status CheckWritable(const NbState& state) const;

 private:
  std::string name_;
  std::string address_;
  bool active_ = false;
  int64_t since_ms_ = 0;
};

}  // namespace shortcut::manager
