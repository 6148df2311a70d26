// The host's desired state (BuildHostState) kept up to date one VM or VPC at
// a time, for HostProgrammer.
//
// Why: every change on a host (a VM coming online) used to rebuild the whole
// state (4 flows per VM) and diff all of it with what the switch holds, so
// VM online latency grew with the VMs already there (5.6 ms median at 1,000
// VMs). Update() builds only the flows of the VMs and VPCs that differ from
// the previous rules and names the flow keys that changed, so that the
// reconciler compares only those (SwitchReconciler::SyncChanged). What is
// left in proportion to the VMs on the host is comparing the rules
// themselves (one hash lookup per VM), not their flows.
//
// After Update(rules), state() equals BuildHostState(rules). When two parts
// make the same flow key (a VM listed twice, two VMs on one port with one
// MAC and IP), BuildHostState keeps the later one; rather than track that
// order, Update() rebuilds the whole state while keys collide and reports
// that everything may have changed.
//
// Thread-safety: a value; one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "src/openflow/match.h"
#include "src/pipeline/pipeline.h"
#include "src/reconcile/state.h"

namespace shortcut::pipeline {

class HostStateBuilder {
 public:
  // Brings state() to BuildHostState(rules). Returns the keys of the flows
  // that may differ from the previous state() (added, removed or changed;
  // possibly repeated), or nullopt when the state was rebuilt whole (the
  // first time, and while keys collide): then anything may differ.
  std::optional<std::vector<reconcile::FlowKey>> Update(const HostRules& rules);

  const reconcile::SwitchState& state() const { return state_; }

 private:
  // What a part's flows depend on, as map keys.
  struct VpcPart {
    HostVpc vpc;
    uint32_t cluster_id = 0;
    friend bool operator==(const VpcPart&, const VpcPart&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const VpcPart& p) {
      return H::combine(std::move(h), p.vpc.vni, p.vpc.router_mac, p.cluster_id);
    }
  };
  struct VmPart {
    HostVm vm;
    of::MacAddr router_mac{};
    uint32_t cluster_id = 0;  // In the cookie.
    friend bool operator==(const VmPart&, const VmPart&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const VmPart& p) {
      return H::combine(std::move(h), p.vm.vni, p.vm.ipv4, p.vm.mac, p.vm.ofport, p.router_mac,
                        p.cluster_id);
    }
  };

  // Rebuilds everything; always returns nullopt (Update's result).
  std::nullopt_t Rebuild(const HostRules& rules);
  void SetGroup(const HostRules& rules);

  reconcile::SwitchState state_;
  // The parts in state_, each with the pass of Update that last saw it.
  absl::flat_hash_map<VpcPart, uint64_t> vpcs_;
  absl::flat_hash_map<VmPart, uint64_t> vms_;
  uint64_t pass_ = 0;
  bool built_ = false;      // state_ was built once.
  bool colliding_ = false;  // Some parts of state_ share flow keys.
  bool base_ = false;       // state_ holds BaseFlows() (rules with a VPC).
};

}  // namespace shortcut::pipeline
