#include "src/gateway/offload_stats.h"

#include <map>

#include "src/model/offload_proto.h"

namespace shortcut::gateway {

void FillOffloadStats(const Gateway& gateway, const Forwarder& forwarder,
                      v1::GetStatsResponse& stats) {
  const absl::flat_hash_map<uint32_t, uint64_t> counting = forwarder.CountingPerVni();
  uint64_t total = 0;
  for (const auto& [vni, n] : counting) total += n;
  stats.set_flows_counting(total);

  std::map<std::string, v1::GetStatsResponse::VpcOffload> vpcs;
  gateway.db().ForEachVpc([&](const VpcView& v) {
    v1::GetStatsResponse::VpcOffload& out = vpcs[std::string(v.id)];
    out.set_vpc(std::string(v.id));
    out.set_vni(v.vni);
    std::optional<model::OffloadPolicy> p = gateway.OffloadOf(v.vni);
    *out.mutable_offload() =
        model::OffloadToProto<v1::OffloadPolicy>(p.value_or(model::OffloadPolicy{}));
    if (auto it = forwarder.vpc_counters().find(v.vni); it != forwarder.vpc_counters().end()) {
      out.set_direct_setups(it->second.setups);
      out.set_threshold_offloads(it->second.threshold_offloads);
    }
    if (auto it = counting.find(v.vni); it != counting.end()) out.set_gateway_flows(it->second);
  });
  for (auto& [id, v] : vpcs) *stats.add_vpc_offload() = std::move(v);

  std::map<model::Ipv4, std::string> names;
  for (const Host& h : gateway.cluster().hosts) {
    if (auto ip = model::ParseIpv4(h.underlay_ipv4)) names[*ip] = h.name;
  }
  std::map<std::string, v1::GetStatsResponse::HostBudget> hosts;
  const PathBudget& budget = forwarder.budget();
  for (model::Ipv4 ip : budget.Hosts()) {
    std::optional<PathBudget::HostView> view = budget.View(ip);
    auto name = names.find(ip);
    if (!view || name == names.end()) continue;
    v1::GetStatsResponse::HostBudget& out = hosts[name->second];
    out.set_host(name->second);
    out.set_budget(view->budget);
    out.set_limit(view->limit);
    out.set_direct_paths(view->own);
    out.set_others(view->others);
    out.set_stale(view->stale);
    out.set_evicted(view->evicted);
    out.set_refused(view->refused);
  }
  for (auto& [name, h] : hosts) *stats.add_host_budgets() = std::move(h);
}

}  // namespace shortcut::gateway
