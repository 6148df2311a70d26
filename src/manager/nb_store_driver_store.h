// The gateway driver's DriverStore over the real NbStore: a subscription
// for the changes, and one NbTxn per Write.
//
// Thread-safety: none; the store's executor.
#pragma once

#include <memory>

#include "src/manager/driver_store.h"
#include "src/manager/store.h"

namespace shortcut::manager {

class NbStoreDriverStore final : public DriverStore {
 public:
  explicit NbStoreDriverStore(NbStore& store) : store_(store), sub_(store.Subscribe()) {}

  const NbState& state() const override { return store_.state(); }
  asio::awaitable<void> WaitChanges() override { co_await sub_->Wait(); }
  std::vector<NbChange> TakeChanges() override { return sub_->Take(); }

  asio::awaitable<absl::Status> Write(DriverWrites writes) override {
    NbTxn txn;
    const NbState& s = store_.state();
    for (const GatewayObservation& o : writes.gateways) {
      auto it = s.gateways.find(o.name);
      if (it == s.gateways.end()) continue;
      // Only the driver's columns: cluster management writes the others.
      GatewayRow row;
      row.name = o.name;
      row.state = o.state;
      row.instance_id = o.instance_id;
      row.detail = o.detail;
      txn.SetGatewayObserved(std::move(row));
    }
    for (auto& [key, status] : writes.endpoints) {
      if (s.FindEndpoint(key) == nullptr) continue;
      txn.SetEndpointStatus(key, status);
    }
    if (txn.empty()) co_return absl::OkStatus();
    co_return co_await store_.Commit(std::move(txn));
  }

 private:
  NbStore& store_;
  std::unique_ptr<NbStore::Subscription> sub_;
};

}  // namespace shortcut::manager
