#include "src/manager/northbound.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/common/clock_timer.h"
#include "src/manager/views.h"

namespace shortcut::manager {

struct Northbound::Hub {
  std::unique_ptr<NbStore::Subscription> subscription;
  const NbStore* store = nullptr;
  bool stopped = false;
  // Endpoint key → timers of calls waiting for it to go online; a change
  // of the endpoint cancels them (the wake-up), and each re-checks.
  absl::flat_hash_map<std::string, std::vector<ClockTimer*>> online_waiters;
  struct Watcher {
    std::string vpc, host;
    EventSink sink;
  };
  std::map<uint64_t, Watcher> watchers;
  uint64_t next_watcher = 1;

  void Dispatch(const std::vector<NbChange>& changes) {
    const NbState& state = store->state();
    for (const NbChange& change : changes) {
      if (change.table != NbTable::kEndpoint) continue;
      if (auto it = online_waiters.find(change.key); it != online_waiters.end()) {
        for (ClockTimer* t : it->second) t->Cancel();
      }
      if (watchers.empty()) continue;
      const EndpointRow* now = state.FindEndpoint(change.key);
      const EndpointRow* old = std::get_if<EndpointRow>(&change.old);
      v1::EndpointEvent event;
      switch (change.kind) {
        case NbChangeKind::kInsert:
          if (now == nullptr) continue;
          event.set_kind(v1::EndpointEvent::CREATED);
          *event.mutable_endpoint() = EndpointView(*now);
          break;
        case NbChangeKind::kModify:
          if (now == nullptr) continue;
          event.set_kind(v1::EndpointEvent::UPDATED);
          *event.mutable_endpoint() = EndpointView(*now);
          break;
        case NbChangeKind::kDelete:
          if (old == nullptr) continue;
          event.set_kind(v1::EndpointEvent::DELETED);
          *event.mutable_endpoint() = EndpointView(*old);
          break;
      }
      for (auto& [id, w] : watchers) {
        // A move out of a watched host is seen there too (as UPDATED).
        bool match = (now != nullptr && EndpointMatches(now->endpoint, w.vpc, w.host)) ||
                     (old != nullptr && EndpointMatches(old->endpoint, w.vpc, w.host));
        if (match) w.sink(event);
      }
    }
  }
};

// The pump: every change the store reports, to waiters and watchers. It
// holds the hub, so a Northbound gone before the executor leaves nothing
// dangling; it ends at the first wake-up after the Northbound is gone.
asio::awaitable<void> Northbound::Pump(std::shared_ptr<Hub> hub) {
  while (!hub->stopped) {
    co_await hub->subscription->Wait();
    if (hub->stopped) break;
    std::vector<NbChange> changes = hub->subscription->Take();
    if (changes.empty()) {
      // A stopped store's Wait returns at once: do not spin on it. (Changes
      // that cancelled out also land here; a pause costs nothing then.)
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      continue;
    }
    hub->Dispatch(changes);
  }
}

Northbound::Northbound(asio::any_io_executor ex, NbStore* store, Options options)
    : ex_(std::move(ex)), store_(store), options_(options), hub_(std::make_shared<Hub>()) {
  hub_->store = store;
}

Northbound::~Northbound() {
  hub_->stopped = true;
  hub_->watchers.clear();
  for (auto& [key, timers] : hub_->online_waiters) {
    for (ClockTimer* t : timers) t->Cancel();
  }
}

void Northbound::Start() {
  if (hub_->subscription != nullptr) return;
  hub_->subscription = store_->Subscribe();
  asio::co_spawn(ex_, Pump(hub_), asio::detached);
}

absl::Status Northbound::Writable() const {
  return role_ == nullptr ? absl::OkStatus() : role_->CheckWritable(store_->state());
}

asio::awaitable<absl::Status> Northbound::Commit(NbTxn txn) {
  // Checked again here: the role may have changed while the call waited.
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  absl::Status s = co_await store_->Commit(std::move(txn));
  co_return s;
}

asio::awaitable<absl::StatusOr<v1::ManagerStatus>> Northbound::GetManagerStatus() {
  v1::ManagerStatus out;
  const ActiveManager& a = store_->state().active_manager;
  if (role_ != nullptr) {
    out.set_name(role_->name());
    out.set_address(role_->address());
    out.set_role(role_->active() ? v1::MANAGER_ROLE_ACTIVE : v1::MANAGER_ROLE_STANDBY);
    out.set_role_since_ms(role_->since_ms());
  } else {
    out.set_role(v1::MANAGER_ROLE_ACTIVE);
  }
  out.set_active_name(a.name);
  out.set_active_address(a.address);
  out.set_active_since_ms(a.since_ms);
  NbStore::ServerInfo server = store_->server();
  out.set_store_server(server.target);
  out.set_store_leader(server.leader);
  out.set_store_clustered(server.clustered);
  co_return out;
}

void Northbound::ObserveOnline(const std::string& key,
                               std::chrono::steady_clock::time_point started, bool was_online) {
  const EndpointRow* e = store_->state().FindEndpoint(key);
  if (!online_hook_ || was_online || e == nullptr || e->status != EndpointStatus::kOnline) return;
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  online_hook_(took.count());
}

asio::awaitable<void> Northbound::WaitOnline(std::string key, Millis deadline) {
  ClockTimer timer(ex_, *options_.clock);
  std::shared_ptr<Hub> hub = hub_;
  for (;;) {
    const EndpointRow* e = store_->state().FindEndpoint(key);
    if (e == nullptr || e->status == EndpointStatus::kOnline) break;
    if (hub->stopped || options_.clock->NowMs() >= deadline) break;
    timer.ExpiresAt(deadline);
    hub->online_waiters[key].push_back(&timer);
    co_await timer.Wait();
    auto it = hub->online_waiters.find(key);
    if (it != hub->online_waiters.end()) {
      std::erase(it->second, &timer);
      if (it->second.empty()) hub->online_waiters.erase(it);
    }
  }
}

// ---- Hosts. ----

asio::awaitable<absl::StatusOr<v1::Host>> Northbound::RegisterHost(HostRow host) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto checked = CheckRegisterHost(store_->state(), std::move(host));
  if (!checked.ok()) co_return checked.status();
  std::string name = checked->value.host.name;
  if (!checked->unchanged) {
    NbTxn txn;
    txn.InsertHost(std::move(checked->value));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  const NbState& state = store_->state();
  auto it = state.hosts.find(name);
  if (it == state.hosts.end()) co_return absl::UnavailableError("host " + name + " went away");
  co_return HostView(state, it->second);
}

asio::awaitable<absl::Status> Northbound::UnregisterHost(std::string name) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  if (absl::Status s = CheckUnregisterHost(store_->state(), name); !s.ok()) co_return s;
  NbTxn txn;
  txn.DeleteHost(name);
  co_return co_await Commit(std::move(txn));
}

asio::awaitable<absl::StatusOr<v1::Host>> Northbound::GetHost(std::string name) {
  const NbState& state = store_->state();
  auto it = state.hosts.find(name);
  if (it == state.hosts.end()) co_return absl::NotFoundError("name: no host '" + name + "'");
  co_return HostView(state, it->second);
}

asio::awaitable<absl::StatusOr<v1::ListHostsResponse>> Northbound::ListHosts(int32_t size,
                                                                             std::string after) {
  const NbState& state = store_->state();
  std::vector<std::string> keys;
  keys.reserve(state.hosts.size());
  for (const auto& [name, row] : state.hosts) keys.push_back(name);
  std::sort(keys.begin(), keys.end());
  Page page = TakePage(keys, after, size);
  v1::ListHostsResponse out;
  for (const std::string& k : page.keys) *out.add_hosts() = HostView(state, state.hosts.at(k));
  out.set_next_page_token(page.next_token);
  co_return out;
}

// ---- Gateways. ----

asio::awaitable<absl::StatusOr<v1::Gateway>> Northbound::RegisterGateway(GatewayRow gateway) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto checked = CheckRegisterGateway(store_->state(), std::move(gateway));
  if (!checked.ok()) co_return checked.status();
  std::string name = checked->value.name;
  if (!checked->unchanged) {
    NbTxn txn;
    txn.InsertGateway(std::move(checked->value));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  const NbState& state = store_->state();
  auto it = state.gateways.find(name);
  if (it == state.gateways.end())
    co_return absl::UnavailableError("gateway " + name + " went away");
  co_return GatewayView(it->second);
}

asio::awaitable<absl::Status> Northbound::UnregisterGateway(std::string name) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  if (absl::Status s = CheckUnregisterGateway(store_->state(), name); !s.ok()) co_return s;
  NbTxn txn;
  txn.DeleteGateway(name);
  co_return co_await Commit(std::move(txn));
}

asio::awaitable<absl::StatusOr<v1::Gateway>> Northbound::GetGateway(std::string name) {
  const NbState& state = store_->state();
  auto it = state.gateways.find(name);
  if (it == state.gateways.end()) co_return absl::NotFoundError("name: no gateway '" + name + "'");
  co_return GatewayView(it->second);
}

asio::awaitable<absl::StatusOr<v1::ListGatewaysResponse>> Northbound::ListGateways(
    int32_t size, std::string after) {
  const NbState& state = store_->state();
  std::vector<std::string> keys;
  keys.reserve(state.gateways.size());
  for (const auto& [name, row] : state.gateways) keys.push_back(name);
  std::sort(keys.begin(), keys.end());
  Page page = TakePage(keys, after, size);
  v1::ListGatewaysResponse out;
  for (const std::string& k : page.keys) *out.add_gateways() = GatewayView(state.gateways.at(k));
  out.set_next_page_token(page.next_token);
  co_return out;
}

// ---- Clusters. ----

asio::awaitable<absl::StatusOr<v1::Cluster>> Northbound::CreateCluster(ClusterInput cluster) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto checked = CheckCreateCluster(store_->state(), std::move(cluster));
  if (!checked.ok()) co_return checked.status();
  uint32_t id = checked->value.id;
  if (!checked->unchanged) {
    NbTxn txn;
    ClusterRow row;
    row.id = id;
    txn.InsertCluster(row);
    // A new cluster serves no VPC yet: its members have nothing to load
    // and serve at once.
    for (const std::string& m : checked->value.members) {
      GatewayRow gw = store_->state().gateways.at(m);
      gw.cluster_id = id;
      gw.role = GatewayRole::kServing;
      txn.SetGatewayMembership(std::move(gw));
    }
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  co_return ClusterView(store_->state(), id);
}

asio::awaitable<absl::Status> Northbound::DeleteCluster(uint32_t id) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  const NbState& state = store_->state();
  if (absl::Status s = CheckDeleteCluster(state, id); !s.ok()) co_return s;
  NbTxn txn;
  // Its members become spare, in the same transaction.
  if (auto it = state.gateways_by_cluster.find(id); it != state.gateways_by_cluster.end()) {
    for (const std::string& m : it->second) {
      GatewayRow gw = state.gateways.at(m);
      gw.cluster_id = 0;
      gw.role = GatewayRole::kJoining;
      txn.SetGatewayMembership(std::move(gw));
    }
  }
  txn.DeleteCluster(id);
  co_return co_await Commit(std::move(txn));
}

asio::awaitable<absl::StatusOr<v1::Cluster>> Northbound::GetCluster(uint32_t id) {
  const NbState& state = store_->state();
  if (!state.clusters.contains(id))
    co_return absl::NotFoundError(absl::StrCat("id: no cluster ", id));
  co_return ClusterView(state, id);
}

asio::awaitable<absl::StatusOr<v1::ListClustersResponse>> Northbound::ListClusters(
    int32_t size, std::string after) {
  const NbState& state = store_->state();
  std::vector<std::string> keys;
  for (const auto& [id, row] : state.clusters) keys.push_back(ClusterKey(id));  // Sorted already.
  Page page = TakePage(keys, after, size);
  v1::ListClustersResponse out;
  for (const std::string& k : page.keys) {
    *out.add_clusters() = ClusterView(state, static_cast<uint32_t>(std::stoul(k)));
  }
  out.set_next_page_token(page.next_token);
  co_return out;
}

namespace {

v1::RebalanceResponse PlanView(const cluster::RebalancePlan& plan, bool applied) {
  v1::RebalanceResponse out;
  for (const cluster::Action& a : plan.actions) {
    v1::RebalanceAction* x = out.add_actions();
    if (const auto* add = std::get_if<cluster::AddGatewayToCluster>(&a)) {
      x->set_kind(v1::RebalanceAction::ADD_GATEWAY);
      x->set_gateway(add->gateway);
      x->set_to_cluster(add->cluster);
      x->set_reason(cluster::ReasonName(add->reason));
      x->set_detail(add->detail);
    } else if (const auto* rm = std::get_if<cluster::RemoveGatewayFromCluster>(&a)) {
      x->set_kind(v1::RebalanceAction::REMOVE_GATEWAY);
      x->set_gateway(rm->gateway);
      x->set_from_cluster(rm->cluster);
      x->set_reason(cluster::ReasonName(rm->reason));
      x->set_detail(rm->detail);
    } else if (const auto* mv = std::get_if<cluster::MoveVpc>(&a)) {
      x->set_kind(v1::RebalanceAction::MOVE_VPC);
      x->set_vpc(mv->vpc);
      x->set_from_cluster(mv->from);
      x->set_to_cluster(mv->to);
      x->set_reason(cluster::ReasonName(cluster::Reason::kOverload));
      x->set_detail(mv->detail);
    } else if (const auto* leave = std::get_if<cluster::LeaveBuckets>(&a)) {
      x->set_kind(v1::RebalanceAction::LEAVE_BUCKETS);
      x->set_gateway(leave->gateway);
      x->set_from_cluster(leave->cluster);
      x->set_reason(cluster::ReasonName(cluster::Reason::kFailed));
      x->set_detail(leave->detail);
    } else if (const auto* join = std::get_if<cluster::JoinBuckets>(&a)) {
      x->set_kind(v1::RebalanceAction::JOIN_BUCKETS);
      x->set_gateway(join->gateway);
      x->set_to_cluster(join->cluster);
      x->set_reason(cluster::ReasonName(cluster::Reason::kLoaded));
      x->set_detail(join->detail);
    }
  }
  out.set_text(cluster::FormatPlan(plan));
  out.set_applied(applied);
  return out;
}

}  // namespace

asio::awaitable<absl::StatusOr<v1::Cluster>> Northbound::AddClusterMember(uint32_t cluster,
                                                                          std::string gateway) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  absl::StatusOr<bool> unchanged = CheckAddClusterMember(store_->state(), cluster, gateway);
  if (!unchanged.ok()) co_return unchanged.status();
  if (!*unchanged) {
    const NbState& state = store_->state();
    NbTxn txn;
    txn.SetGatewayMembership(cluster::AsAddedMember(state, state.gateways.at(gateway), cluster));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  co_return ClusterView(store_->state(), cluster);
}

asio::awaitable<absl::StatusOr<v1::Cluster>> Northbound::RemoveClusterMember(uint32_t cluster,
                                                                             std::string gateway) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  absl::StatusOr<bool> unchanged = CheckRemoveClusterMember(store_->state(), cluster, gateway);
  if (!unchanged.ok()) co_return unchanged.status();
  if (!*unchanged) {
    const NbState& state = store_->state();
    NbTxn txn;
    txn.SetGatewayMembership(cluster::AsRemovedMember(state, state.gateways.at(gateway)));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  co_return ClusterView(store_->state(), cluster);
}

asio::awaitable<absl::StatusOr<v1::RebalanceResponse>> Northbound::Rebalance(bool dry_run) {
  // Cluster management runs on the active manager only.
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  if (controller_ == nullptr) {
    co_return absl::UnavailableError("cluster management does not run on this manager");
  }
  absl::StatusOr<cluster::RebalancePlan> plan = co_await controller_->Rebalance(dry_run);
  if (!plan.ok()) co_return plan.status();
  co_return PlanView(*plan, !dry_run);
}

// ---- VPCs and networks. ----

asio::awaitable<absl::StatusOr<v1::Vpc>> Northbound::CreateVpc(VpcInput vpc) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto checked = CheckCreateVpc(store_->state(), std::move(vpc));
  if (!checked.ok()) co_return checked.status();
  std::string id = checked->value.vpc.vpc.id;
  if (!checked->unchanged) {
    NbTxn txn;  // The VPC and its networks, all or nothing.
    txn.InsertVpc(std::move(checked->value.vpc));
    for (NetworkRow& n : checked->value.networks) txn.InsertNetwork(std::move(n));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  const NbState& state = store_->state();
  auto it = state.vpcs.find(id);
  if (it == state.vpcs.end()) co_return absl::UnavailableError("VPC " + id + " went away");
  co_return VpcView(state, it->second);
}

asio::awaitable<absl::StatusOr<uint64_t>> Northbound::DeleteVpc(std::string id) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  const NbState& state = store_->state();
  if (absl::Status s = CheckVpcExists(state, "id", id); !s.ok()) co_return s;
  NbTxn txn;
  uint64_t endpoints = 0;
  if (auto it = state.endpoints_by_vpc.find(id); it != state.endpoints_by_vpc.end()) {
    for (const std::string& key : it->second) txn.DeleteEndpoint(key);
    endpoints = it->second.size();
  }
  for (auto it = state.networks.lower_bound({id, ""});
       it != state.networks.end() && it->first.first == id; ++it) {
    txn.DeleteNetwork(id, it->first.second);
  }
  txn.DeleteVpc(id);
  absl::Status s = co_await Commit(std::move(txn));
  if (!s.ok()) co_return s;
  co_return endpoints;
}

asio::awaitable<absl::StatusOr<v1::Vpc>> Northbound::WriteVpc(
    std::string id, absl::StatusOr<std::optional<VpcRow>> row) {
  if (!row.ok()) co_return row.status();
  if (row->has_value()) {
    NbTxn txn;
    txn.UpdateVpc(std::move(**row));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  const NbState& state = store_->state();
  auto it = state.vpcs.find(id);
  if (it == state.vpcs.end()) co_return absl::UnavailableError("VPC " + id + " went away");
  co_return VpcView(state, it->second);
}

asio::awaitable<absl::StatusOr<v1::Vpc>> Northbound::MoveVpc(std::string id, uint32_t cluster_id) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto row = CheckMoveVpc(store_->state(), id, cluster_id);
  co_return co_await WriteVpc(std::move(id), std::move(row));
}

asio::awaitable<absl::StatusOr<v1::Vpc>> Northbound::UpdateVpc(std::string id,
                                                               model::OffloadPolicy offload) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto row = CheckUpdateVpc(store_->state(), id, offload);
  co_return co_await WriteVpc(std::move(id), std::move(row));
}

asio::awaitable<absl::StatusOr<v1::Vpc>> Northbound::GetVpc(std::string id) {
  const NbState& state = store_->state();
  auto it = state.vpcs.find(id);
  if (it == state.vpcs.end()) co_return absl::NotFoundError("id: no VPC '" + id + "'");
  co_return VpcView(state, it->second);
}

asio::awaitable<absl::StatusOr<v1::ListVpcsResponse>> Northbound::ListVpcs(int32_t size,
                                                                           std::string after,
                                                                           uint32_t cluster_id) {
  const NbState& state = store_->state();
  std::vector<std::string> keys;
  for (const auto& [id, row] : state.vpcs) {
    if (cluster_id == 0 || row.cluster_id == cluster_id) keys.push_back(id);
  }
  std::sort(keys.begin(), keys.end());
  Page page = TakePage(keys, after, size);
  v1::ListVpcsResponse out;
  for (const std::string& k : page.keys) *out.add_vpcs() = VpcView(state, state.vpcs.at(k));
  out.set_next_page_token(page.next_token);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::Network>> Northbound::CreateNetwork(NetworkRow network) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto checked = CheckCreateNetwork(store_->state(), std::move(network));
  if (!checked.ok()) co_return checked.status();
  NetworkKey key{checked->value.vpc, checked->value.network.id};
  if (!checked->unchanged) {
    NbTxn txn;
    txn.InsertNetwork(std::move(checked->value));
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  const NbState& state = store_->state();
  auto it = state.networks.find(key);
  if (it == state.networks.end()) co_return absl::UnavailableError("the network went away");
  co_return NetworkView(it->second);
}

asio::awaitable<absl::StatusOr<uint64_t>> Northbound::DeleteNetwork(std::string vpc,
                                                                    std::string id) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  const NbState& state = store_->state();
  if (absl::Status s = CheckNetworkExists(state, vpc, id); !s.ok()) co_return s;
  NbTxn txn;
  uint64_t endpoints = 0;
  if (auto it = state.endpoints_by_vpc.find(vpc); it != state.endpoints_by_vpc.end()) {
    for (const std::string& key : it->second) {
      const EndpointRow* e = state.FindEndpoint(key);
      if (e == nullptr || e->endpoint.network != id) continue;
      txn.DeleteEndpoint(key);
      ++endpoints;
    }
  }
  txn.DeleteNetwork(vpc, id);
  absl::Status s = co_await Commit(std::move(txn));
  if (!s.ok()) co_return s;
  co_return endpoints;
}

asio::awaitable<absl::StatusOr<v1::Network>> Northbound::GetNetwork(std::string vpc,
                                                                    std::string id) {
  const NbState& state = store_->state();
  if (absl::Status s = CheckNetworkExists(state, vpc, id); !s.ok()) co_return s;
  NetworkKey key{vpc, id};
  co_return NetworkView(state.networks.at(key));
}

asio::awaitable<absl::StatusOr<v1::ListNetworksResponse>> Northbound::ListNetworks(
    std::string vpc, int32_t size, std::string after) {
  const NbState& state = store_->state();
  if (absl::Status s = CheckVpcExists(state, "vpc", vpc); !s.ok()) co_return s;
  std::vector<std::string> keys;
  for (auto it = state.networks.lower_bound({vpc, ""});
       it != state.networks.end() && it->first.first == vpc; ++it) {
    keys.push_back(it->first.second);
  }
  Page page = TakePage(keys, after, size);
  v1::ListNetworksResponse out;
  for (const std::string& k : page.keys) {
    NetworkKey key{vpc, k};
    *out.add_networks() = NetworkView(state.networks.at(key));
  }
  out.set_next_page_token(page.next_token);
  co_return out;
}

// ---- Endpoints. ----

asio::awaitable<absl::StatusOr<v1::Endpoint>> Northbound::CreateEndpoint(EndpointRow endpoint,
                                                                         Millis wait) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  // The wait counts from the call's start: the commit is part of it.
  const Millis deadline = options_.clock->NowMs() + wait;
  const auto started = std::chrono::steady_clock::now();  // For the histogram.
  if (absl::Status s =
          AllocateAddresses(store_->state(), in_flight_, "endpoint", endpoint.endpoint);
      !s.ok()) {
    co_return s;
  }
  auto checked = CheckCreateEndpoint(store_->state(), std::move(endpoint));
  if (!checked.ok()) co_return checked.status();
  std::string key = checked->value.endpoint.key;
  if (!checked->unchanged) {
    NbTxn txn;
    checked->value.status = EndpointStatus::kPending;
    const model::Endpoint reserved = checked->value.endpoint;
    in_flight_.Add(reserved);
    txn.InsertEndpoint(std::move(checked->value));
    absl::Status s = co_await Commit(std::move(txn));
    in_flight_.Remove(reserved);
    if (!s.ok()) co_return s;
  }
  // A retry waits too: it is how a caller whose first call timed out learns
  // that the endpoint came online.
  const bool was_online = checked->unchanged && store_->state().FindEndpoint(key) != nullptr &&
                          store_->state().FindEndpoint(key)->status == EndpointStatus::kOnline;
  co_await WaitOnline(key, deadline);
  ObserveOnline(key, started, was_online);
  const EndpointRow* e = store_->state().FindEndpoint(key);
  if (e == nullptr) co_return absl::UnavailableError("endpoint " + key + " was deleted meanwhile");
  co_return EndpointView(*e);
}

asio::awaitable<absl::StatusOr<v1::Endpoint>> Northbound::UpdateEndpoint(EndpointPatch patch,
                                                                         Millis wait) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  const Millis deadline = options_.clock->NowMs() + wait;
  const auto started = std::chrono::steady_clock::now();
  auto checked = CheckUpdateEndpoint(store_->state(), patch);
  if (!checked.ok()) co_return checked.status();
  bool moved = checked->value.moved;
  if (!checked->unchanged) {
    NbTxn txn;
    std::string key = checked->value.row.endpoint.key;
    txn.UpdateEndpoint(std::move(checked->value.row));
    // The driver resets the status on a move as well; writing it with the
    // move means no reader ever sees the new host with the old status.
    if (moved) txn.SetEndpointStatus(key, EndpointStatus::kPending);
    absl::Status s = co_await Commit(std::move(txn));
    if (!s.ok()) co_return s;
  }
  if (moved) {
    co_await WaitOnline(patch.key, deadline);
    ObserveOnline(patch.key, started, false);
  }
  const EndpointRow* e = store_->state().FindEndpoint(patch.key);
  if (e == nullptr) {
    co_return absl::UnavailableError("endpoint " + patch.key + " was deleted meanwhile");
  }
  co_return EndpointView(*e);
}

asio::awaitable<absl::Status> Northbound::DeleteEndpoint(std::string key) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  if (absl::Status s = CheckEndpointExists(store_->state(), "key", key); !s.ok()) co_return s;
  NbTxn txn;
  txn.DeleteEndpoint(key);
  co_return co_await Commit(std::move(txn));
}

asio::awaitable<absl::StatusOr<v1::Endpoint>> Northbound::GetEndpoint(std::string key) {
  const EndpointRow* e = store_->state().FindEndpoint(key);
  if (e == nullptr) co_return absl::NotFoundError("key: no endpoint '" + key + "'");
  co_return EndpointView(*e);
}

asio::awaitable<absl::StatusOr<v1::ListEndpointsResponse>> Northbound::ListEndpoints(
    std::string vpc, std::string host, int32_t size, std::string after) {
  const NbState& state = store_->state();
  Page page = EndpointPage(state, vpc, host, after, size);
  v1::ListEndpointsResponse out;
  for (const std::string& k : page.keys)
    *out.add_endpoints() = EndpointView(*state.FindEndpoint(k));
  out.set_next_page_token(page.next_token);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::CreateEndpointsResponse>> Northbound::CreateEndpoints(
    std::vector<EndpointRow> endpoints) {
  if (absl::Status s = Writable(); !s.ok()) co_return s;
  auto checked = CheckCreateEndpoints(store_->state(), std::move(endpoints));
  if (!checked.ok()) co_return checked.status();
  std::vector<EndpointRow>& create = checked->create;
  const size_t chunk = std::max<size_t>(1, options_.max_txn_endpoints);
  for (size_t begin = 0; begin < create.size(); begin += chunk) {
    size_t end = std::min(create.size(), begin + chunk);
    NbTxn txn;
    for (size_t i = begin; i < end; ++i) txn.InsertEndpoint(create[i]);
    absl::Status s = co_await Commit(std::move(txn));
    if (s.ok()) continue;
    // Take back what the earlier transactions wrote, so the call leaves
    // nothing behind; a failure here is logged (the keys are the caller's:
    // a retry of the stream completes or a delete removes them).
    for (size_t undo = 0; undo < begin; undo += chunk) {
      NbTxn back;
      for (size_t i = undo; i < std::min(begin, undo + chunk); ++i) {
        back.DeleteEndpoint(create[i].endpoint.key);
      }
      absl::Status u = co_await Commit(std::move(back));
      if (!u.ok()) spdlog::warn("CreateEndpoints: undoing a partial load failed: {}", u.ToString());
    }
    co_return s;
  }
  v1::CreateEndpointsResponse out;
  out.set_created(create.size());
  out.set_unchanged(checked->unchanged);
  co_return out;
}

uint64_t Northbound::AddWatcher(std::string vpc, std::string host, bool initial, EventSink sink) {
  const NbState& state = store_->state();
  if (initial) {
    std::string after;
    for (;;) {
      Page page = EndpointPage(state, vpc, host, after, kMaxPageSize);
      for (const std::string& k : page.keys) {
        v1::EndpointEvent event;
        event.set_kind(v1::EndpointEvent::EXISTING);
        *event.mutable_endpoint() = EndpointView(*state.FindEndpoint(k));
        sink(std::move(event));
      }
      if (page.next_token.empty()) break;
      after = page.keys.back();
    }
  }
  uint64_t id = hub_->next_watcher++;
  hub_->watchers[id] = Hub::Watcher{std::move(vpc), std::move(host), std::move(sink)};
  return id;
}

void Northbound::RemoveWatcher(uint64_t id) { hub_->watchers.erase(id); }

size_t Northbound::watchers() const { return hub_->watchers.size(); }

}  // namespace shortcut::manager
