#include "src/manager/cluster_mgmt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shortcut::manager::cluster {

// ---- health -----------------------------------------------------------------

void RecordHealth(HealthTable& table, const std::vector<HealthSample>& samples) {
  std::vector<const HealthSample*> sorted;
  sorted.reserve(samples.size());
  for (const HealthSample& s : samples) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(), [](const HealthSample* a, const HealthSample* b) {
    return a->at_ms < b->at_ms;
  });
  for (const HealthSample* s : sorted) {
    auto [it, inserted] = table.try_emplace(s->gateway);
    GatewayHealth& h = it->second;
    if (inserted) {
      h.first_seen_ms = s->at_ms;
    } else if (s->at_ms < h.last_sample_ms) {
      continue;  // Late: what came after it is what counts.
    }
    h.last_sample_ms = s->at_ms;
    if (s->ok) {
      h.last_ok_ms = s->at_ms;
      h.consecutive_failures = 0;
      if (!h.ok_since_ms) h.ok_since_ms = s->at_ms;
    } else {
      h.consecutive_failures += 1;
      h.ok_since_ms.reset();
    }
  }
}

bool IsFailed(const GatewayHealth& h, int64_t now_ms, uint32_t deadline_ms) {
  int64_t since = h.last_ok_ms.value_or(h.first_seen_ms);
  return now_ms - since > static_cast<int64_t>(deadline_ms);
}

std::vector<std::string> DetectFailedGateways(const HealthTable& table, int64_t now_ms,
                                              uint32_t deadline_ms) {
  std::vector<std::string> out;
  for (const auto& [name, h] : table) {
    if (IsFailed(h, now_ms, deadline_ms)) out.push_back(name);
  }
  return out;  // The table is ordered by name.
}

std::vector<std::string> DetectFailedGateways(const std::vector<HealthSample>& samples,
                                              int64_t now_ms, uint32_t deadline_ms) {
  HealthTable table;
  RecordHealth(table, samples);
  return DetectFailedGateways(table, now_ms, deadline_ms);
}

// ---- loads ------------------------------------------------------------------

namespace {

double Ratio(uint64_t load, uint64_t live) {
  if (live == 0) return load == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return static_cast<double>(load) / static_cast<double>(live);
}

bool IsLive(const GatewayRow& gw, const std::set<std::string>& failed) {
  return gw.state != GatewayState::kDown && gw.role != GatewayRole::kDraining &&
         !failed.contains(gw.name);
}

uint64_t VpcEndpoints(const NbState& state, const std::string& vpc) {
  auto it = state.endpoints_by_vpc.find(vpc);
  return it == state.endpoints_by_vpc.end() ? 0 : it->second.size();
}

double OverloadClear(const Settings& s) {
  return (1.0 - kHysteresis) * static_cast<double>(s.overload_vms_per_gateway);
}

}  // namespace

std::vector<ClusterLoad> ClusterLoads(const NbState& state, const std::set<std::string>& failed) {
  std::map<uint32_t, ClusterLoad> by_id;
  for (const auto& [id, row] : state.clusters) by_id[id].id = id;
  for (const auto& [name, gw] : state.gateways) {
    auto it = by_id.find(gw.cluster_id);
    if (gw.cluster_id == 0 || it == by_id.end()) continue;
    it->second.members += 1;
    if (!IsLive(gw, failed)) continue;
    it->second.live_members += 1;
    it->second.capacity += gw.capacity;
  }
  for (const auto& [id, vpc] : state.vpcs) {
    // A VPC moving counts where it goes.
    auto it = by_id.find(vpc.moving_to != 0 ? vpc.moving_to : vpc.cluster_id);
    if (it == by_id.end()) continue;
    it->second.vpcs += 1;
    it->second.load += VpcEndpoints(state, id);
  }
  std::vector<ClusterLoad> out;
  out.reserve(by_id.size());
  for (auto& [id, c] : by_id) {
    c.vms_per_live_gateway = Ratio(c.load, c.live_members);
    out.push_back(c);
  }
  return out;
}

// ---- detectors --------------------------------------------------------------

std::set<uint32_t> DetectOverloadedClusters(const std::vector<ClusterLoad>& loads,
                                            const Settings& settings,
                                            const std::set<uint32_t>& previously) {
  std::set<uint32_t> out;
  if (settings.overload_vms_per_gateway == 0) return out;
  const double on = static_cast<double>(settings.overload_vms_per_gateway);
  const double off = OverloadClear(settings);
  for (const ClusterLoad& c : loads) {
    double r = c.vms_per_live_gateway;
    if (r > on || (previously.contains(c.id) && r > off)) out.insert(c.id);
  }
  return out;
}

std::set<uint32_t> DetectUnderloadedClusters(const std::vector<ClusterLoad>& loads,
                                             const Settings& settings,
                                             const std::set<uint32_t>& previously) {
  std::set<uint32_t> out;
  if (settings.underload_vms_per_gateway == 0) return out;
  const double on = static_cast<double>(settings.underload_vms_per_gateway);
  const double off = (1.0 + kHysteresis) * on;
  for (const ClusterLoad& c : loads) {
    if (c.live_members == 0) continue;
    double r = c.vms_per_live_gateway;
    if (r < on || (previously.contains(c.id) && r < off)) out.insert(c.id);
  }
  return out;
}

// ---- create_cluster_set -------------------------------------------------------

namespace {
uint64_t CeilDiv(uint64_t a, uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }
}  // namespace

uint32_t ClusterCountFor(const ClusterSetSizing& s) {
  if (s.gateways == 0) return 0;
  uint64_t wanted = std::max<uint64_t>(
      {1, CeilDiv(s.expected_vpcs, s.vpcs_per_cluster), CeilDiv(s.hosts, s.hosts_per_cluster)});
  uint64_t most = std::max<uint64_t>(1, s.gateways / std::max<uint32_t>(1, s.min_members));
  return static_cast<uint32_t>(std::min<uint64_t>({wanted, most, 65535}));
}

absl::StatusOr<std::map<uint32_t, std::vector<std::string>>> CreateClusterSet(
    const std::vector<std::string>& gateways, uint32_t n_clusters, ClusterSetSizing sizing) {
  std::vector<std::string> names = gateways;
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return absl::InvalidArgumentError("gw_total_set: an empty gateway name");
    if (i > 0 && names[i] == names[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("gw_total_set: gateway ", names[i], " named twice"));
    }
  }
  sizing.gateways = names.size();
  uint32_t n = n_clusters != 0 ? n_clusters : ClusterCountFor(sizing);
  if (n > names.size() || n > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("n_clusters: ", n, " clusters for ", names.size(), " gateways"));
  }
  std::map<uint32_t, std::vector<std::string>> out;
  if (n == 0) return out;
  size_t base = names.size() / n, extra = names.size() % n, next = 0;
  for (uint32_t c = 0; c < n; ++c) {
    size_t size = base + (c < extra ? 1 : 0);
    auto& members = out[c + 1];
    members.assign(names.begin() + next, names.begin() + next + size);
    next += size;
  }
  return out;
}

// ---- create_cluster / del_cluster / is_cluster_empty --------------------------

absl::StatusOr<NewCluster> CreateCluster(const NbState& state,
                                         const std::vector<std::string>& gw_set) {
  NewCluster out;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < gw_set.size(); ++i) {
    const std::string field = absl::StrCat("gw_set[", i, "]");
    auto it = state.gateways.find(gw_set[i]);
    if (it == state.gateways.end()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": no gateway ", gw_set[i]));
    }
    if (!seen.insert(gw_set[i]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": gateway ", gw_set[i], " named twice"));
    }
    if (it->second.cluster_id != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": gateway ", gw_set[i], " is a member of cluster ", it->second.cluster_id));
    }
    out.members.push_back(gw_set[i]);
  }
  std::sort(out.members.begin(), out.members.end());
  uint32_t id = 1;
  for (const auto& [used, row] : state.clusters) {  // Ordered: the first gap.
    if (used != id) break;
    ++id;
  }
  if (id > 65535) return absl::ResourceExhaustedError("cluster id: all 65535 ids are in use");
  out.id = id;
  return out;
}

bool IsClusterEmpty(const NbState& state, uint32_t cluster_id) {
  for (const auto& [id, vpc] : state.vpcs) {
    if (vpc.cluster_id == cluster_id) return false;
  }
  return true;
}

GatewayRow AsAddedMember(const NbState& state, GatewayRow gw, uint32_t cluster_id) {
  gw.cluster_id = cluster_id;
  gw.role = IsClusterEmpty(state, cluster_id) ? GatewayRole::kServing : GatewayRole::kJoining;
  return gw;
}

GatewayRow AsRemovedMember(const NbState& state, GatewayRow gw) {
  if (IsClusterEmpty(state, gw.cluster_id)) {
    gw.cluster_id = 0;
    gw.role = GatewayRole::kJoining;
  } else {
    gw.role = GatewayRole::kDraining;
  }
  return gw;
}

absl::StatusOr<std::vector<std::string>> DelCluster(const NbState& state, uint32_t cluster_id) {
  if (!state.clusters.contains(cluster_id)) {
    return absl::NotFoundError(absl::StrCat("cluster_key: no cluster ", cluster_id));
  }
  if (!IsClusterEmpty(state, cluster_id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster_key: cluster ", cluster_id, " still serves VPCs; move them first"));
  }
  std::vector<std::string> members;
  for (const auto& [name, gw] : state.gateways) {
    if (gw.cluster_id == cluster_id) members.push_back(name);
  }
  std::sort(members.begin(), members.end());
  return members;
}

// ---- vpc_set_map_to_cluster --------------------------------------------------

namespace {
__int128 Remaining(const ClusterLoad& c) {
  return static_cast<__int128>(c.capacity) - static_cast<__int128>(c.load);
}
}  // namespace

std::optional<uint32_t> PickClusterWithMostRoom(const std::vector<ClusterLoad>& loads) {
  const ClusterLoad* best = nullptr;
  for (const ClusterLoad& c : loads) {
    if (c.live_members == 0) continue;
    if (best == nullptr || Remaining(c) > Remaining(*best) ||
        (Remaining(c) == Remaining(*best) && c.id < best->id)) {
      best = &c;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

absl::StatusOr<std::map<std::string, uint32_t>> VpcSetMapToCluster(
    const std::map<std::string, uint64_t>& vpc_endpoints, std::vector<ClusterLoad> loads) {
  std::map<std::string, uint32_t> out;
  if (vpc_endpoints.empty()) return out;
  std::vector<std::pair<uint64_t, const std::string*>> order;
  order.reserve(vpc_endpoints.size());
  for (const auto& [id, n] : vpc_endpoints) order.emplace_back(n, &id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  // The rule of PickClusterWithMostRoom, kept in a heap so that 10,000 VPCs
  // over 100 clusters do not scan every cluster each time.
  auto worse = [&](size_t a, size_t b) {  // True when a has less room than b.
    __int128 ra = Remaining(loads[a]), rb = Remaining(loads[b]);
    return ra != rb ? ra < rb : loads[a].id > loads[b].id;
  };
  std::vector<size_t> heap;
  for (size_t i = 0; i < loads.size(); ++i) {
    if (loads[i].live_members > 0) heap.push_back(i);
  }
  if (heap.empty()) {
    return absl::FailedPreconditionError(
        "cluster_set: no cluster with a live member to place the VPCs on");
  }
  std::make_heap(heap.begin(), heap.end(), worse);
  for (const auto& [n, id] : order) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    ClusterLoad& c = loads[heap.back()];
    out[*id] = c.id;
    c.load += n;
    c.vpcs += 1;
    c.vms_per_live_gateway = Ratio(c.load, c.live_members);
    std::push_heap(heap.begin(), heap.end(), worse);
  }
  return out;
}

// ---- the planner ---------------------------------------------------------------

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kFailed:
      return "failed";
    case Reason::kUnderload:
      return "underload";
    case Reason::kOverload:
      return "overload";
    case Reason::kBelowMinMembers:
      return "below minimum members";
    case Reason::kNewGateway:
      return "new gateway";
    case Reason::kLoaded:
      return "loaded";
  }
  return "?";
}

namespace {

struct VpcLoad {
  uint64_t endpoints = 0;
  std::string id;
};

struct WorkCluster {
  uint32_t id = 0;
  uint64_t members = 0;  // Every member left (failed ones removed).
  std::vector<const GatewayRow*> live;
  uint64_t capacity = 0;
  uint64_t load = 0;
  std::vector<VpcLoad> vpcs;  // Ascending by endpoints, then id.
  size_t next_small = 0;      // The smallest VPC not yet looked at.
  bool touched = false;       // An action of this plan involves it.
  double ratio() const { return Ratio(load, live.size()); }
  ClusterLoad AsLoad() const {
    return ClusterLoad{id, members, live.size(), capacity, load, vpcs.size(), ratio()};
  }
};

class Planner {
 public:
  Planner(const NbState& state, const HealthTable& health, const Settings& settings, int64_t now_ms,
          const RebalanceHistory& history)
      : state_(state), health_(health), s_(settings), now_(now_ms), history_(history) {
    for (const std::string& name : DetectFailedGateways(health, now_ms, s_.health_deadline_ms)) {
      if (state.gateways.contains(name)) {
        failed_.insert(name);
        plan_.failed.push_back(name);
      }
    }
    for (const auto& [id, row] : state.clusters) clusters_[id].id = id;
    std::vector<const GatewayRow*> gws;
    gws.reserve(state.gateways.size());
    for (const auto& [name, gw] : state.gateways) gws.push_back(&gw);
    std::sort(gws.begin(), gws.end(),
              [](const GatewayRow* a, const GatewayRow* b) { return a->name < b->name; });
    for (const GatewayRow* gw : gws) {
      if (gw->cluster_id == 0) {
        if (IsSpare(*gw)) spares_.push_back(gw);
        continue;
      }
      auto it = clusters_.find(gw->cluster_id);
      if (it == clusters_.end()) continue;
      it->second.members += 1;
      if (!IsLive(*gw, failed_)) continue;
      it->second.live.push_back(gw);
      it->second.capacity += gw->capacity;
    }
    // Larger spares first: one of them relieves more.
    std::stable_sort(spares_.begin(), spares_.end(), [](const GatewayRow* a, const GatewayRow* b) {
      return a->capacity > b->capacity;
    });
    for (const auto& [id, vpc] : state.vpcs) {
      // A VPC moving counts where it goes, and is not moved again meanwhile.
      auto it = clusters_.find(vpc.moving_to != 0 ? vpc.moving_to : vpc.cluster_id);
      if (it == clusters_.end()) continue;
      uint64_t n = VpcEndpoints(state, id);
      it->second.load += n;
      if (vpc.moving_to == 0) it->second.vpcs.push_back({n, id});
    }
    for (auto& [id, c] : clusters_) {
      std::sort(c.vpcs.begin(), c.vpcs.end(), [](const VpcLoad& a, const VpcLoad& b) {
        return a.endpoints != b.endpoints ? a.endpoints < b.endpoints : a.id < b.id;
      });
    }
  }

  // 0. Loaded, healthy joining members take traffic.
  void JoinLoaded() {
    for (const auto& [id, c] : clusters_) {
      for (const GatewayRow* gw : c.live) {
        if (gw->role != GatewayRole::kJoining || gw->state != GatewayState::kReady) continue;
        auto h = health_.find(gw->name);
        if (h == health_.end() || !h->second.ok_since_ms) continue;
        int64_t healthy = now_ - *h->second.ok_since_ms;
        if (healthy < static_cast<int64_t>(s_.health_deadline_ms)) continue;
        plan_.actions.push_back(JoinBuckets{
            gw->name, id, absl::StrCat("ready, every health check answered for ", healthy, " ms")});
      }
    }
  }

  // 1. Failed serving members leave the buckets, whatever the hold-down and
  // the minimum. They stay members: not live, so the repair of step 2 sees
  // the cluster as it is.
  void RemoveFailed(const std::optional<std::string>& only = std::nullopt) {
    std::vector<const GatewayRow*> gws;
    for (const std::string& name : failed_) {
      if (only && *only != name) continue;
      const GatewayRow& gw = state_.gateways.at(name);
      if (gw.cluster_id != 0 && gw.role == GatewayRole::kServing &&
          clusters_.contains(gw.cluster_id)) {
        gws.push_back(&gw);
      }
    }
    for (const GatewayRow* gw : gws) {
      WorkCluster& c = clusters_.at(gw->cluster_id);
      c.touched = true;
      const GatewayHealth& h = health_.at(gw->name);
      int64_t since = h.last_ok_ms.value_or(h.first_seen_ms);
      plan_.actions.push_back(
          LeaveBuckets{gw->name, c.id,
                       absl::StrCat(h.last_ok_ms ? "no ok answer for " : "never answered ok in ",
                                    now_ - since, " ms (deadline ", s_.health_deadline_ms, " ms), ",
                                    h.consecutive_failures, " failures in a row")});
    }
  }

  // 2. Repairs: clusters in use with fewer live members than the minimum.
  void RefillBelowMinimum(const std::optional<uint32_t>& only = std::nullopt) {
    for (auto& [id, c] : clusters_) {
      if (only && *only != id) continue;
      if (c.vpcs.empty() && c.members == 0) continue;  // Unused: nothing to serve.
      while (c.live.size() < s_.min_cluster_members && !spares_.empty()) {
        AddSpare(c, Reason::kBelowMinMembers,
                 absl::StrCat(c.live.size(), " live members, minimum ", s_.min_cluster_members));
      }
    }
  }

  // 3. Overloaded clusters: spares first, then their smallest VPCs move.
  void RelieveOverload() {
    std::vector<ClusterLoad> loads = Loads();
    plan_.overloaded = DetectOverloadedClusters(loads, s_, history_.overloaded);
    std::vector<WorkCluster*> order;
    for (uint32_t id : plan_.overloaded) order.push_back(&clusters_.at(id));
    std::stable_sort(order.begin(), order.end(), [](const WorkCluster* a, const WorkCluster* b) {
      return a->ratio() > b->ratio();
    });
    const double clear = OverloadClear(s_);
    for (WorkCluster* c : order) {
      if (HeldDown(history_.cluster_action_ms, c->id)) continue;
      while (c->ratio() > clear && !spares_.empty()) {
        AddSpare(*c, Reason::kOverload, OverloadDetail(*c));
      }
      while (c->ratio() > clear && c->next_small < c->vpcs.size()) {
        const VpcLoad& v = c->vpcs[c->next_small++];
        if (v.endpoints == 0 || HeldDown(history_.vpc_action_ms, v.id)) continue;
        WorkCluster* to = RoomFor(*c, v.endpoints, clear);
        if (to == nullptr) break;  // No room for the smallest: none for larger ones.
        std::string detail = OverloadDetail(*c);
        c->load -= v.endpoints;
        to->load += v.endpoints;
        c->touched = to->touched = true;
        plan_.actions.push_back(MoveVpc{v.id, c->id, to->id, v.endpoints, std::move(detail)});
      }
    }
  }

  // 4. Underloaded clusters give back one member each.
  void ReleaseUnderload() {
    plan_.underloaded = DetectUnderloadedClusters(Loads(), s_, history_.underloaded);
    const double clear = OverloadClear(s_);
    for (uint32_t id : plan_.underloaded) {
      WorkCluster& c = clusters_.at(id);
      if (c.touched || HeldDown(history_.cluster_action_ms, id)) continue;
      if (c.live.size() <= s_.min_cluster_members) continue;
      auto victim = std::min_element(
          c.live.begin(), c.live.end(), [](const GatewayRow* a, const GatewayRow* b) {
            return a->capacity != b->capacity ? a->capacity < b->capacity : a->name > b->name;
          });
      const GatewayRow* gw = *victim;
      if (HeldDown(history_.gateway_action_ms, gw->name)) continue;
      double after = Ratio(c.load, c.live.size() - 1);
      if (s_.overload_vms_per_gateway != 0 && after > clear) continue;
      if (c.capacity - gw->capacity < c.load) continue;
      std::string detail =
          absl::StrFormat("%.1f VMs per live gateway < %d; %.1f after, %d members left", c.ratio(),
                          s_.underload_vms_per_gateway, after, c.live.size() - 1);
      c.live.erase(victim);
      c.capacity -= gw->capacity;
      c.members -= 1;
      c.touched = true;
      plan_.actions.push_back(
          RemoveGatewayFromCluster{gw->name, id, Reason::kUnderload, std::move(detail)});
    }
  }

  // update_cluster_set for a live spare: where it helps most.
  void PlaceSpare(const std::string& name) {
    auto it = std::find_if(spares_.begin(), spares_.end(),
                           [&](const GatewayRow* g) { return g->name == name; });
    if (it == spares_.end()) return;
    WorkCluster* below = nullptr;
    WorkCluster* busiest = nullptr;
    for (auto& [id, c] : clusters_) {
      if (c.vpcs.empty() && c.members == 0) continue;
      if (c.live.size() < s_.min_cluster_members &&
          (below == nullptr || c.live.size() < below->live.size())) {
        below = &c;
      }
      if (busiest == nullptr || c.ratio() > busiest->ratio()) busiest = &c;
    }
    if (below != nullptr) {
      AddSpare(*below, Reason::kBelowMinMembers,
               absl::StrCat(below->live.size(), " live members, minimum ", s_.min_cluster_members),
               it);
      return;
    }
    if (busiest == nullptr) return;
    // Not where it would make the cluster underloaded: it would be given back.
    double after = Ratio(busiest->load, busiest->live.size() + 1);
    if (s_.underload_vms_per_gateway != 0 &&
        after < (1.0 + kHysteresis) * static_cast<double>(s_.underload_vms_per_gateway)) {
      return;
    }
    AddSpare(
        *busiest, Reason::kNewGateway,
        absl::StrFormat("the most loaded cluster, %.1f VMs per live gateway", busiest->ratio()),
        it);
  }

  bool IsFailedMember(const std::string& name) const {
    auto it = state_.gateways.find(name);
    return it != state_.gateways.end() && it->second.cluster_id != 0 && failed_.contains(name);
  }

  RebalancePlan Take() { return std::move(plan_); }

 private:
  bool HeldDown(const auto& times, const auto& key) const {
    auto it = times.find(key);
    return it != times.end() && now_ - it->second < static_cast<int64_t>(s_.hold_down_ms);
  }

  bool IsSpare(const GatewayRow& gw) const {
    if (gw.state == GatewayState::kDown || failed_.contains(gw.name)) return false;
    auto h = health_.find(gw.name);
    if (h == health_.end() || !h->second.last_ok_ms) return false;
    if (now_ - *h->second.last_ok_ms > static_cast<int64_t>(s_.health_deadline_ms)) return false;
    return !HeldDown(history_.gateway_action_ms, gw.name);
  }

  void AddSpare(WorkCluster& c, Reason reason, std::string detail,
                std::optional<std::vector<const GatewayRow*>::iterator> which = std::nullopt) {
    auto it = which.value_or(spares_.begin());
    const GatewayRow* gw = *it;
    spares_.erase(it);
    c.live.push_back(gw);
    c.capacity += gw->capacity;
    c.members += 1;
    c.touched = true;
    plan_.actions.push_back(AddGatewayToCluster{gw->name, c.id, reason, std::move(detail)});
  }

  std::string OverloadDetail(const WorkCluster& c) const {
    return absl::StrFormat("%.1f VMs per live gateway > %d (aim: at most %.1f)", c.ratio(),
                           s_.overload_vms_per_gateway, OverloadClear(s_));
  }

  // The cluster with the most remaining capacity (vpc_map_to_cluster's
  // rule) among those that can take `endpoints` and stay inside the band.
  WorkCluster* RoomFor(const WorkCluster& from, uint64_t endpoints, double clear) {
    WorkCluster* best = nullptr;
    auto remaining = [](const WorkCluster& c) {
      return static_cast<__int128>(c.capacity) - static_cast<__int128>(c.load);
    };
    for (auto& [id, c] : clusters_) {
      if (id == from.id || c.live.empty() || plan_.overloaded.contains(id)) continue;
      if (HeldDown(history_.cluster_action_ms, id)) continue;
      if (Ratio(c.load + endpoints, c.live.size()) > clear) continue;
      if (c.capacity < c.load + endpoints) continue;
      if (best == nullptr || remaining(c) > remaining(*best)) best = &c;  // Ids ascend.
    }
    return best;
  }

  std::vector<ClusterLoad> Loads() const {
    std::vector<ClusterLoad> out;
    out.reserve(clusters_.size());
    for (const auto& [id, c] : clusters_) out.push_back(c.AsLoad());
    return out;
  }

  const NbState& state_;
  const HealthTable& health_;
  const Settings& s_;
  const int64_t now_;
  const RebalanceHistory& history_;
  std::set<std::string> failed_;
  std::map<uint32_t, WorkCluster> clusters_;
  std::vector<const GatewayRow*> spares_;
  RebalancePlan plan_;
};

}  // namespace

RebalancePlan PlanRebalance(const NbState& state, const HealthTable& health,
                            const Settings& settings, int64_t now_ms,
                            const RebalanceHistory& history) {
  Planner p(state, health, settings, now_ms, history);
  p.JoinLoaded();
  p.RemoveFailed();
  p.RefillBelowMinimum();
  p.RelieveOverload();
  p.ReleaseUnderload();
  return p.Take();
}

RebalancePlan UpdateClusterSet(const NbState& state, const HealthTable& health,
                               const Settings& settings, int64_t now_ms,
                               const RebalanceHistory& history, const std::string& gw_key) {
  Planner p(state, health, settings, now_ms, history);
  auto it = state.gateways.find(gw_key);
  if (it != state.gateways.end()) {
    if (p.IsFailedMember(gw_key)) {
      p.RemoveFailed(gw_key);
      p.RefillBelowMinimum(it->second.cluster_id);
    } else if (it->second.cluster_id == 0) {
      p.PlaceSpare(gw_key);
    }
  }
  return p.Take();
}

void RecordPlan(RebalanceHistory& history, const RebalancePlan& plan, int64_t now_ms) {
  for (const Action& a : plan.actions) {
    if (const auto* add = std::get_if<AddGatewayToCluster>(&a)) {
      history.cluster_action_ms[add->cluster] = now_ms;
      history.gateway_action_ms[add->gateway] = now_ms;
    } else if (const auto* rm = std::get_if<RemoveGatewayFromCluster>(&a)) {
      history.cluster_action_ms[rm->cluster] = now_ms;
      history.gateway_action_ms[rm->gateway] = now_ms;
    } else if (const auto* mv = std::get_if<MoveVpc>(&a)) {
      history.cluster_action_ms[mv->from] = now_ms;
      history.cluster_action_ms[mv->to] = now_ms;
      history.vpc_action_ms[mv->vpc] = now_ms;
    }
  }
  history.overloaded = plan.overloaded;
  history.underloaded = plan.underloaded;
}

NbState ProjectPlan(NbState state, const RebalancePlan& plan) {
  auto set_cluster = [&](const std::string& name, uint32_t to) {
    auto it = state.gateways.find(name);
    if (it == state.gateways.end()) return;
    uint32_t from = it->second.cluster_id;
    if (from != 0) {
      auto idx = state.gateways_by_cluster.find(from);
      if (idx != state.gateways_by_cluster.end()) {
        idx->second.erase(name);
        if (idx->second.empty()) state.gateways_by_cluster.erase(idx);
      }
    }
    it->second.cluster_id = to;
    it->second.role = GatewayRole::kJoining;
    if (to != 0) state.gateways_by_cluster[to].insert(name);
  };
  auto set_role = [&](const std::string& name, GatewayRole role) {
    auto it = state.gateways.find(name);
    if (it != state.gateways.end()) it->second.role = role;
  };
  for (const Action& a : plan.actions) {
    if (const auto* add = std::get_if<AddGatewayToCluster>(&a)) {
      set_cluster(add->gateway, add->cluster);
    } else if (const auto* rm = std::get_if<RemoveGatewayFromCluster>(&a)) {
      set_cluster(rm->gateway, 0);
    } else if (const auto* mv = std::get_if<MoveVpc>(&a)) {
      auto it = state.vpcs.find(mv->vpc);
      if (it != state.vpcs.end()) it->second.cluster_id = mv->to;
    } else if (const auto* leave = std::get_if<LeaveBuckets>(&a)) {
      set_role(leave->gateway, GatewayRole::kJoining);
    } else if (const auto* join = std::get_if<JoinBuckets>(&a)) {
      set_role(join->gateway, GatewayRole::kServing);
    }
  }
  return state;
}

std::string FormatPlan(const RebalancePlan& plan) {
  if (plan.actions.empty()) return "no action\n";
  std::string out;
  for (const Action& a : plan.actions) {
    if (const auto* add = std::get_if<AddGatewayToCluster>(&a)) {
      absl::StrAppend(&out, "add gateway ", add->gateway, " to cluster ", add->cluster, ": ",
                      ReasonName(add->reason), " (", add->detail, ")\n");
    } else if (const auto* rm = std::get_if<RemoveGatewayFromCluster>(&a)) {
      absl::StrAppend(&out, "remove gateway ", rm->gateway, " from cluster ", rm->cluster, ": ",
                      ReasonName(rm->reason), " (", rm->detail, ")\n");
    } else if (const auto* mv = std::get_if<MoveVpc>(&a)) {
      absl::StrAppend(&out, "move vpc ", mv->vpc, " (", mv->endpoints, " endpoints) from cluster ",
                      mv->from, " to cluster ", mv->to, ": overload (", mv->detail, ")\n");
    } else if (const auto* leave = std::get_if<LeaveBuckets>(&a)) {
      absl::StrAppend(&out, "take gateway ", leave->gateway, " out of cluster ", leave->cluster,
                      "'s buckets: failed (", leave->detail, ")\n");
    } else if (const auto* join = std::get_if<JoinBuckets>(&a)) {
      absl::StrAppend(&out, "put gateway ", join->gateway, " in cluster ", join->cluster,
                      "'s buckets: loaded (", join->detail, ")\n");
    }
  }
  return out;
}

}  // namespace shortcut::manager::cluster
