// `shortcutctl host init|show|watch|reset` as library calls: preparing a
// host's Open vSwitch for Shortcut through its OVSDB server (see
// src/host/host_config.h for what init creates).
//
// init, show and reset connect, read the database once, act, and return;
// every wait is bounded by `timeout_ms`. watch keeps a ReplicaSession, so it
// survives restarts of ovsdb-server and reports each change once.
//
// Thread-safety: calls are independent; safe from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/host/host_config.h"

namespace shortcut::ctl {

struct HostOptions {
  std::string db;  // unix:/abs/path/db.sock or tcp:IP[:PORT] (default port 6640).
  std::string bridge = "br-int";
  Millis timeout_ms = 10000;
  bool json = false;
  // init: return once ovs-vswitchd has applied the change (cur_cfg).
  bool wait = true;
};

// Appends what changed, one line each, or that nothing had to.
absl::Status RunHostInit(const HostOptions& options, const host::HostInitParams& params,
                         std::string* output);
absl::Status RunHostShow(const HostOptions& options, std::string* output);
// external_ids:iface-id → ofport of the interfaces that have both.
absl::StatusOr<std::map<std::string, uint32_t>> ReadIfacePorts(const HostOptions& options);
absl::Status RunHostReset(const HostOptions& options, std::string* output);

struct WatchLimits {
  size_t max_events = 0;   // 0: no limit.
  Millis duration_ms = 0;  // 0: until stopped by a signal (SIGINT, SIGTERM).
};
// Calls `emit` with one line (text or JSON) per interface event: first the
// interfaces present, then changes as they happen. Returns when `emit`
// returns false, at a limit, or on SIGINT/SIGTERM.
absl::Status RunHostWatch(const HostOptions& options, const WatchLimits& limits,
                          const std::function<bool(const std::string&)>& emit);

}  // namespace shortcut::ctl
