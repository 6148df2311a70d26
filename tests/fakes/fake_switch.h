// A simulated OpenFlow 1.3 switch that speaks real OpenFlow (of::Encode /
// of::Decode) over a Unix socket or 127.0.0.1, for tests and scale benchmarks.
//
// It behaves like Open vSwitch where the reconciler depends on it:
//  - HELLO (sent on accept), FEATURES, GET_CONFIG, ROLE, ECHO, BARRIER;
//  - a flow table keyed by (table, priority, match) with ADD (replaces),
//    MODIFY / MODIFY_STRICT (instructions only: cookie, timeouts and flags
//    are kept, as OVS does), DELETE / DELETE_STRICT, cookie masks; out_port
//    and out_group filters are ignored; a flow naming a missing group or
//    meter is rejected (OFPBAC_BAD_OUT_GROUP, OFPMMFC_INVALID_METER);
//  - groups: ADD of an existing id fails with OFPGMFC_GROUP_EXISTS, MODIFY
//    of a missing one with OFPGMFC_UNKNOWN_GROUP, DELETE of a missing one is
//    a no-op; deleting a group deletes the flows that use it;
//  - meters likewise (METER_EXISTS, UNKNOWN_METER), not allowed in bundles
//    (OFPBFC_MSG_UNSUP); deleting a meter deletes the flows that use it;
//  - ONF bundles on OF1.3: OPEN/ADD/CLOSE/COMMIT/DISCARD; COMMIT applies
//    the messages in order with an undo log and, if one fails, reverts all,
//    sends OFPT_ERROR with that message's xid, then fails the commit with
//    OFPBFC_MSG_FAILED; an injected error "at add" is sent when the
//    BUNDLE_ADD arrives and the message is left out of the bundle, as OVS
//    does for messages it cannot decode;
//  - flow stats, group desc, meter config, port desc dumps, split into parts
//    of Options::entries_per_reply entries with OFPMPF_REPLY_MORE.
// Requests are answered in order; replies to one read are written in one go.
//
// Thread-safety: none. All methods and the sessions run on the executor given
// at construction (one thread).
#pragma once

#include <asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/openflow/message.h"

namespace shortcut::fakes {

class FakeSwitch {
 public:
  struct Options {
    uint64_t datapath_id = 0x5c;
    uint8_t n_tables = 254;
    // Entries per multipart reply part; small values exercise continuation.
    size_t entries_per_reply = 200;
  };

  struct Counters {
    uint64_t connections = 0;
    uint64_t messages = 0;   // Messages received.
    uint64_t flow_mods = 0;  // Received, direct or in a BUNDLE_ADD.
    uint64_t group_mods = 0;
    uint64_t meter_mods = 0;
    uint64_t bundle_adds = 0;
    uint64_t bundle_commits = 0;   // Successful commits.
    uint64_t bundle_failures = 0;  // Failed commits.
    uint64_t barriers = 0;
    uint64_t multipart_requests = 0;
    uint64_t multipart_parts = 0;  // Reply parts sent.
    uint64_t errors_sent = 0;
  };

  enum class RejectAt { kApply, kBundleAdd };

  FakeSwitch(asio::any_io_executor ex, Options options);
  explicit FakeSwitch(asio::any_io_executor ex) : FakeSwitch(std::move(ex), Options{}) {}
  ~FakeSwitch();  // Closes the listener and every session.
  FakeSwitch(const FakeSwitch&) = delete;
  FakeSwitch& operator=(const FakeSwitch&) = delete;

  // Starts listening; returns the target to connect to ("tcp:127.0.0.1:PORT"
  // or "unix:PATH"). Call once.
  absl::StatusOr<std::string> ListenTcp();
  absl::StatusOr<std::string> ListenUnix(const std::string& path);

  // Closes every session (tables kept): the controller sees a disconnect.
  void DropConnections();
  // A restart of the switch: sessions closed and tables emptied.
  void Restart();

  // The `nth` flow_mod received from now on (1 = the next one) fails with
  // `error`: when applied (in a bundle: at commit), or when its BUNDLE_ADD
  // arrives. Direct flow_mods fail when received either way.
  void RejectFlowMod(uint64_t nth, of::Error error, RejectAt at = RejectAt::kApply);

  // Changes made as if by another controller; errors as the switch would send.
  absl::Status Apply(const of::FlowMod& mod);
  absl::Status Apply(const of::GroupMod& mod);
  absl::Status Apply(const of::MeterMod& mod);

  // Counts traffic on the flows of `table` with exactly `match` (any
  // priority), as if it had matched them; returns how many flows.
  size_t AddTraffic(uint8_t table, const of::Match& match, uint64_t packets, uint64_t bytes);

  size_t flow_count() const;
  size_t group_count() const;
  size_t meter_count() const;
  // Contents in a stable order (flows by table, priority, then insertion).
  std::vector<of::FlowStats> Flows() const;
  std::vector<of::GroupDesc> Groups() const;
  std::vector<of::MeterConfig> Meters() const;

  const Counters& counters() const;
  void ResetCounters();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Well-known errors, as Open vSwitch sends them in OpenFlow 1.3.
of::Error OfError(uint16_t type, uint16_t code);
of::Error BadOutPortError();       // OFPBAC_BAD_OUT_PORT (2,4).
of::Error GroupExistsError();      // OFPGMFC_GROUP_EXISTS (6,0).
of::Error BundleMsgFailedError();  // ONF OFPBFC_MSG_FAILED (2313).

}  // namespace shortcut::fakes
