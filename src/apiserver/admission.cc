#include "src/apiserver/admission.h"

namespace shortcut::apiserver {

Admission::Admission(size_t limit) : state_(std::make_shared<State>(limit)) {}

Admission::Ticket Admission::TryAdmit() {
  size_t n = state_->in_flight.load(std::memory_order_relaxed);
  do {
    if (n >= state_->limit) {
      state_->refused.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
  } while (!state_->in_flight.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
  state_->admitted.fetch_add(1, std::memory_order_relaxed);
  // The pointer is only there to make the ticket non-null; the deleter
  // holds the state alive for as long as the ticket lives.
  return Ticket(state_.get(), [state = state_](void*) {
    state->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  });
}

}  // namespace shortcut::apiserver
