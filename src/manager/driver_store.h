// DriverStore: what the gateway driver needs of the state of record: the
// replica (NbState), the changes since its last look, and one write per
// round of what it observed (gateways' state, endpoints' status).
// NbStoreDriverStore (nb_store_driver_store.h) is the one over NbStore;
// tests may use an in-memory one.
//
// Thread-safety: none; one executor.
#pragma once

#include <asio/awaitable.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

// Driver-owned columns of a gateway row.
struct GatewayObservation {
  std::string name;
  GatewayState state = GatewayState::kUnknown;
  std::string instance_id;
  std::string detail;
  friend bool operator==(const GatewayObservation&, const GatewayObservation&) = default;
};

struct DriverWrites {
  std::vector<GatewayObservation> gateways;
  std::vector<std::pair<std::string, EndpointStatus>> endpoints;
  bool empty() const { return gateways.empty() && endpoints.empty(); }
};

class DriverStore {
 public:
  virtual ~DriverStore() = default;
  virtual const NbState& state() const = 0;
  // Until a change is pending (possibly spuriously).
  virtual asio::awaitable<void> WaitChanges() = 0;
  virtual std::vector<NbChange> TakeChanges() = 0;
  // One transaction. Rows that no longer exist are skipped.
  virtual asio::awaitable<absl::Status> Write(DriverWrites writes) = 0;
};

}  // namespace shortcut::manager
