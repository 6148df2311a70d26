// The cluster controller's ControllerStore over the real NbStore: one
// NbTxn per write, touching only the cluster and role columns of gateways,
// or the cluster and move columns of VPCs.
//
// Thread-safety: none; the store's executor.
#pragma once

#include <utility>
#include <vector>

#include "src/manager/cluster_controller.h"
#include "src/manager/store.h"

namespace shortcut::manager {

class NbStoreControllerStore final : public ControllerStore {
 public:
  explicit NbStoreControllerStore(NbStore& store) : store_(store) {}

  const NbState& state() const override { return store_.state(); }

  asio::awaitable<absl::Status> WriteMembership(std::vector<GatewayRow> rows) override {
    NbTxn txn;
    for (GatewayRow& r : rows) {
      if (store_.state().gateways.contains(r.name)) txn.SetGatewayMembership(std::move(r));
    }
    if (txn.empty()) co_return absl::OkStatus();
    co_return co_await store_.Commit(std::move(txn));
  }

  asio::awaitable<absl::Status> WriteVpcMoves(std::vector<VpcRow> rows) override {
    NbTxn txn;
    for (VpcRow& r : rows) {
      auto now = store_.state().vpcs.find(r.vpc.id);
      if (now == store_.state().vpcs.end()) continue;
      VpcRow row = now->second;  // Only the move's columns change.
      row.cluster_id = r.cluster_id;
      row.moving_to = r.moving_to;
      row.move_phase = r.move_phase;
      txn.UpdateVpc(std::move(row));
    }
    if (txn.empty()) co_return absl::OkStatus();
    co_return co_await store_.Commit(std::move(txn));
  }

 private:
  NbStore& store_;
};

}  // namespace shortcut::manager
