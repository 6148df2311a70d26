// Admission: how many API calls, streams or watchers a daemon takes on at
// once.
//
// Both daemons run the work of their API calls on the one executor that
// also serves their switches (packet-ins, reconnects, programming). Without
// a bound, a flood of calls queues on that executor without limit: every
// call queued delays the packet path and holds a gRPC thread and its
// request's memory. An Admission counts what is in flight -- a call from its
// admission until the executor has finished its work, even when the client
// gave up before -- and refuses beyond its limit, so a refused call costs
// the executor nothing.
//
// Ownership: tickets share the counters with the Admission, so a ticket may
// outlive it (work still queued on an executor being torn down).
// Thread-safety: every method from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shortcut::apiserver {

class Admission {
 public:
  // What is in flight is counted until the last copy of its ticket is gone.
  using Ticket = std::shared_ptr<void>;

  explicit Admission(size_t limit);

  // A ticket, or null when `limit` are in flight (counted as refused).
  Ticket TryAdmit();

  size_t limit() const { return state_->limit; }
  size_t in_flight() const { return state_->in_flight.load(std::memory_order_relaxed); }
  uint64_t admitted() const { return state_->admitted.load(std::memory_order_relaxed); }
  uint64_t refused() const { return state_->refused.load(std::memory_order_relaxed); }

 private:
  struct State {
    explicit State(size_t l) : limit(l) {}
    const size_t limit;
    std::atomic<size_t> in_flight{0};
    std::atomic<uint64_t> admitted{0};
    std::atomic<uint64_t> refused{0};
  };
  std::shared_ptr<State> state_;
};

}  // namespace shortcut::apiserver
