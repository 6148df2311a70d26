#include "src/pipeline/host_state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/common/fatal.h"

namespace shortcut::pipeline {
namespace {

using VpcIndex = absl::flat_hash_map<uint32_t, const HostVpc*>;

// The VPC of each VNI; the later one when a VNI is listed twice, as in
// BuildHostState.
VpcIndex IndexVpcs(const HostRules& rules) {
  VpcIndex by_vni;
  by_vni.reserve(rules.vpcs.size());
  for (const HostVpc& vpc : rules.vpcs) by_vni[vpc.vni] = &vpc;
  return by_vni;
}

const of::MacAddr& RouterMacOf(const VpcIndex& by_vni, const HostVm& vm) {
  auto vpc = by_vni.find(vm.vni);
  if (vpc == by_vni.end()) Fatal(absl::StrCat("VM of VNI ", vm.vni, " without its VPC"));
  return vpc->second->router_mac;
}

}  // namespace

std::optional<std::vector<reconcile::FlowKey>> HostStateBuilder::Update(const HostRules& rules) {
  if (!built_ || colliding_) return Rebuild(rules);

  // Mark the parts still wanted; collect the new ones.
  ++pass_;
  const VpcIndex by_vni = IndexVpcs(rules);
  std::vector<VpcPart> new_vpcs;
  std::vector<VmPart> new_vms;
  for (const HostVpc& vpc : rules.vpcs) {
    VpcPart part{vpc, rules.cluster_id};
    auto [it, inserted] = vpcs_.try_emplace(part, pass_);
    if (inserted) {
      new_vpcs.push_back(part);
    } else if (it->second == pass_) {
      return Rebuild(rules);  // Listed twice: its keys collide.
    } else {
      it->second = pass_;
    }
  }
  for (const HostVm& vm : rules.vms) {
    VmPart part{vm, RouterMacOf(by_vni, vm), rules.cluster_id};
    auto [it, inserted] = vms_.try_emplace(part, pass_);
    if (inserted) {
      new_vms.push_back(part);
    } else if (it->second == pass_) {
      return Rebuild(rules);
    } else {
      it->second = pass_;
    }
  }

  // Take out the flows of the parts no longer wanted. No two parts share a
  // key here (colliding_ is false), so a removed key was this part's alone.
  std::vector<reconcile::FlowKey> changed;
  auto remove = [&](std::vector<reconcile::FlowEntry> flows) {
    for (reconcile::FlowEntry& f : flows) {
      state_.RemoveFlow(f.key);
      changed.push_back(std::move(f.key));
    }
  };
  for (auto it = vpcs_.begin(); it != vpcs_.end();) {
    if (it->second == pass_) {
      ++it;
      continue;
    }
    remove(VpcFlows(it->first.vpc, it->first.cluster_id));
    vpcs_.erase(it++);
  }
  for (auto it = vms_.begin(); it != vms_.end();) {
    if (it->second == pass_) {
      ++it;
      continue;
    }
    remove(VmFlows(it->first.vm, it->first.router_mac, it->first.cluster_id));
    vms_.erase(it++);
  }

  // Put in the new parts' flows; a key already there is a collision.
  auto add = [&](std::vector<reconcile::FlowEntry> flows) {
    for (reconcile::FlowEntry& f : flows) {
      if (state_.FindFlow(f.key) != nullptr) return false;
      changed.push_back(f.key);
      state_.AddFlow(std::move(f));
    }
    return true;
  };
  for (const VpcPart& p : new_vpcs) {
    if (!add(VpcFlows(p.vpc, p.cluster_id))) return Rebuild(rules);
  }
  for (const VmPart& p : new_vms) {
    if (!add(VmFlows(p.vm, p.router_mac, p.cluster_id))) return Rebuild(rules);
  }
  // The shared drops come with the first VPC and go with the last (as in
  // BuildHostState); their keys are no part's.
  const bool want_base = !rules.vpcs.empty();
  if (want_base && !base_) {
    if (!add(BaseFlows())) return Rebuild(rules);
  } else if (!want_base && base_) {
    remove(BaseFlows());
  }
  base_ = want_base;
  SetGroup(rules);
  return changed;
}

std::nullopt_t HostStateBuilder::Rebuild(const HostRules& rules) {
  // As BuildHostState, noting the parts and whether keys collide.
  state_ = reconcile::SwitchState();
  vpcs_.clear();
  vms_.clear();
  ++pass_;
  built_ = true;
  colliding_ = false;
  auto put = [&](std::vector<reconcile::FlowEntry> flows) {
    for (reconcile::FlowEntry& f : flows) {
      if (state_.FindFlow(f.key) != nullptr) colliding_ = true;
      state_.AddFlow(std::move(f));
    }
  };
  state_.ReserveFlows(2 + 3 * rules.vpcs.size() + 4 * rules.vms.size());
  base_ = !rules.vpcs.empty();
  if (base_) put(BaseFlows());
  const VpcIndex by_vni = IndexVpcs(rules);
  for (const HostVpc& vpc : rules.vpcs) {
    VpcPart part{vpc, rules.cluster_id};
    vpcs_[part] = pass_;
    put(VpcFlows(vpc, rules.cluster_id));
  }
  for (const HostVm& vm : rules.vms) {
    VmPart part{vm, RouterMacOf(by_vni, vm), rules.cluster_id};
    vms_[part] = pass_;
    put(VmFlows(vm, part.router_mac, rules.cluster_id));
  }
  SetGroup(rules);
  return std::nullopt;
}

void HostStateBuilder::SetGroup(const HostRules& rules) {
  std::vector<uint32_t> ids;
  for (const auto& [id, group] : state_.groups()) ids.push_back(id);
  for (uint32_t id : ids) state_.RemoveGroup(id);
  if (std::optional<reconcile::GroupEntry> group = GatewayGroup(rules)) state_.AddGroup(*group);
}

}  // namespace shortcut::pipeline
