// Sends flow_mods to one switch in batches, each confirmed by one barrier:
// the direct paths the forwarding module installs on a host, and the
// incremental changes of the gateway's own bridge. Under load many callers'
// flow_mods share a write and a barrier, so the cost per flow_mod is its
// encoding, not a round trip.
//
// Send() queues the caller's flow_mods into the open batch and returns when
// the barrier sent after that batch came back: OK, or the switch's error
// about one of the caller's flow_mods (errors are tracked by xid, so each
// caller gets its own), or Unavailable if the connection went. One batch is
// in flight at a time; calls made meanwhile form the next one. No separate
// task: the first waiting caller whose batch is not sent flushes it.
//
// Thread-safety: none; one executor. The owner outlives every Send().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "src/common/clock.h"
#include "src/ofconn/connection.h"
#include "src/ofconn/signal.h"
#include "src/openflow/message.h"

namespace shortcut::gateway {

class FlowBatcher {
 public:
  struct Counters {
    uint64_t batches = 0;    // Barriers that confirmed a batch.
    uint64_t flow_mods = 0;  // Confirmed without error.
    uint64_t rejected = 0;   // Flow_mods the switch rejected.
    uint64_t lost = 0;       // Flow_mods whose batch failed (connection, timeout).
    uint64_t largest_batch = 0;
  };

  FlowBatcher(asio::any_io_executor ex, Millis barrier_timeout);

  asio::awaitable<absl::Status> Send(std::shared_ptr<ofconn::Connection> conn,
                                     std::vector<of::FlowMod> mods);

  const Counters& counters() const { return counters_; }

 private:
  struct Batch {
    std::shared_ptr<ofconn::Connection> conn;
    of::Bytes bytes;
    size_t mods = 0;
    absl::flat_hash_map<uint32_t, size_t> owner;  // xid → caller index.
    std::vector<absl::Status> results;            // Per caller.
    bool sending = false;
    bool done = false;
  };

  asio::awaitable<void> Flush();

  Millis timeout_;
  // Batches in order; the last one collects unless it is being sent.
  std::deque<std::shared_ptr<Batch>> queue_;
  bool flushing_ = false;
  ofconn::Signal flushed_;
  Counters counters_;
};

}  // namespace shortcut::gateway
