#include "src/manager/driver.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace shortcut::manager {
namespace {

bool Gone(const absl::Status& s) { return s.ok() || s.code() == absl::StatusCode::kNotFound; }

const char* StateName(GatewayState s) {
  switch (s) {
    case GatewayState::kUnknown:
      return "unknown";
    case GatewayState::kLoading:
      return "loading";
    case GatewayState::kReady:
      return "ready";
    case GatewayState::kDown:
      return "down";
  }
  return "?";
}

// The VPC of a network row's key "vpc/id" (ids may hold '/': the state says
// which split names a network).
std::string VpcOfNetworkKey(const NbState& state, const std::string& key) {
  for (size_t slash = key.find('/'); slash != std::string::npos; slash = key.find('/', slash + 1)) {
    if (state.networks.contains({key.substr(0, slash), key.substr(slash + 1)})) {
      return key.substr(0, slash);
    }
  }
  size_t slash = key.find('/');
  return slash == std::string::npos ? key : key.substr(0, slash);
}

// Same VPC except for networks removed: returns them, or nullopt.
std::optional<std::vector<std::string>> NetworksRemoved(const gwv1::Vpc& sent,
                                                        const gwv1::Vpc& desired) {
  if (sent.id() != desired.id() || sent.vni() != desired.vni() ||
      sent.router_mac() != desired.router_mac()) {
    return std::nullopt;
  }
  std::map<std::string, std::string> want;
  for (const gwv1::Network& n : desired.networks()) want[n.id()] = n.SerializeAsString();
  std::vector<std::string> removed;
  size_t kept = 0;
  for (const gwv1::Network& n : sent.networks()) {
    auto it = want.find(n.id());
    if (it == want.end()) {
      removed.push_back(n.id());
    } else if (it->second != n.SerializeAsString()) {
      return std::nullopt;
    } else {
      ++kept;
    }
  }
  if (kept != want.size()) return std::nullopt;  // A network added.
  return removed;
}

}  // namespace

uint64_t Fingerprint(const google::protobuf::Message& message) {
  return absl::HashOf(message.SerializeAsString());
}

GatewayDriver::GatewayDriver(asio::any_io_executor ex, DriverStore& store,
                             GatewayClientFactory factory, Timers& timers, Options options)
    : ex_(std::move(ex)),
      store_(store),
      factory_(std::move(factory)),
      timers_(timers),
      options_(options),
      writer_wake_(ex_),
      poller_wake_(ex_) {}

GatewayDriver::~GatewayDriver() {
  Stop();
  *alive_ = false;
}

void GatewayDriver::Start() {
  if (started_) return;
  started_ = true;
  for (const auto& [key, row] : store_.state().endpoints) {
    if (row.status == EndpointStatus::kPending) AddPending(key, row.endpoint.host);
  }
  SyncGateways();
  asio::co_spawn(ex_, RunMain(alive_), asio::detached);
  asio::co_spawn(ex_, RunPoller(), asio::detached);
  asio::co_spawn(ex_, RunWriter(), asio::detached);
}

void GatewayDriver::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [name, g] : gws_) {
    g->stop = true;
    g->wake.Notify();
  }
  writer_wake_.Notify();
  poller_wake_.Notify();
}

std::optional<GatewayDriver::View> GatewayDriver::view(const std::string& gateway) const {
  auto it = gws_.find(gateway);
  if (it == gws_.end()) return std::nullopt;
  const Gw& g = *it->second;
  View v;
  v.state = g.obs.state;
  v.instance_id = g.obs.instance_id;
  v.detail = g.obs.detail;
  v.full_loads = g.full_loads;
  v.loaded = g.loaded;
  v.settled = g.loaded && g.obs.state == GatewayState::kReady && !g.HasDirty() && g.refused.empty();
  return v;
}

bool GatewayDriver::settled() const {
  for (const auto& [name, g] : gws_) {
    if (!view(name)->settled) return false;
  }
  return queued_status_.empty() && queued_gateways_.empty() && !writing_;
}

// ---- Membership and changes. ----

void GatewayDriver::SyncGateways() {
  if (stopped_) return;
  const NbState& s = store_.state();
  for (auto it = gws_.begin(); it != gws_.end();) {
    auto row = s.gateways.find(it->first);
    bool keep = row != s.gateways.end() && row->second.cluster_id != 0 &&
                row->second.cluster_id == it->second->cluster &&
                row->second.grpc_address == it->second->address;
    if (keep) {
      ++it;
      continue;
    }
    it->second->stop = true;
    // A member that became a spare is unloaded (it was drained first:
    // cluster management takes it out of the buckets before this).
    it->second->unload = row != s.gateways.end() && row->second.cluster_id == 0;
    it->second->wake.Notify();
    if (row != s.gateways.end() && row->second.cluster_id == 0) {
      GatewayObservation o{it->first, GatewayState::kUnknown, "",
                           "not a member of a cluster: not driven"};
      queued_gateways_[it->first] = o;
      writer_wake_.Notify();
    }
    it = gws_.erase(it);
  }
  for (const auto& [name, row] : s.gateways) {
    if (row.cluster_id == 0 || gws_.contains(name)) continue;
    auto g = std::make_shared<Gw>(ex_);
    g->name = name;
    g->address = row.grpc_address;
    g->cluster = row.cluster_id;
    g->client = factory_(name, row.grpc_address);
    g->obs.name = name;
    // What the row says until this driver observes otherwise: a write is
    // made only on a change.
    g->obs.state = row.state;
    g->obs.instance_id = row.instance_id;
    g->obs.detail = row.detail;
    gws_[name] = g;
    asio::co_spawn(ex_, RunGateway(g), asio::detached);
  }
}

uint32_t GatewayDriver::ClusterOfVpc(const std::string& vpc) const {
  auto it = store_.state().vpcs.find(vpc);
  return it == store_.state().vpcs.end() ? 0 : it->second.cluster_id;
}

bool GatewayDriver::Holds(const std::string& vpc, uint32_t cluster) const {
  auto it = store_.state().vpcs.find(vpc);
  return it != store_.state().vpcs.end() && HeldBy(it->second, cluster);
}

bool GatewayDriver::VpcExists(const std::string& vpc) const {
  return store_.state().vpcs.contains(vpc);
}

void GatewayDriver::AddClustersOfVpc(const std::string& vpc, std::set<uint32_t>& out) const {
  auto it = store_.state().vpcs.find(vpc);
  if (it == store_.state().vpcs.end()) return;
  if (it->second.cluster_id != 0) out.insert(it->second.cluster_id);
  if (it->second.moving_to != 0) out.insert(it->second.moving_to);
}

void GatewayDriver::MarkEndpoint(const std::string& key, uint32_t cluster) {
  if (cluster == 0) return;
  for (auto& [name, g] : gws_) {
    if (g->cluster != cluster) continue;
    g->dirty_endpoints.insert(key);
    g->wake.Notify();
  }
}

void GatewayDriver::Dispatch(const std::vector<NbChange>& changes) {
  const NbState& s = store_.state();
  auto all = [this](auto&& mark) {
    for (auto& [name, g] : gws_) {
      mark(*g);
      g->wake.Notify();
    }
  };
  bool membership = false;
  for (const NbChange& c : changes) {
    switch (c.table) {
      case NbTable::kHost:
        all([](Gw& g) { g.cluster_dirty = true; });
        break;
      case NbTable::kGateway: {
        const GatewayRow* old = std::get_if<GatewayRow>(&c.old);
        auto now = s.gateways.find(c.key);
        const GatewayRow* cur = now == s.gateways.end() ? nullptr : &now->second;
        auto shape = [](const GatewayRow* r) {
          return r == nullptr
                     ? std::string()
                     : absl::StrCat(r->cluster_id, "|", r->underlay_ipv4, "|", r->tunnel_ofport,
                                    "|", r->grpc_address, "|", static_cast<int>(r->role));
        };
        if (shape(old) == shape(cur)) break;  // Only the columns this driver writes.
        membership = true;
        for (uint32_t cluster : {old ? old->cluster_id : 0u, cur ? cur->cluster_id : 0u}) {
          if (cluster == 0) continue;
          for (auto& [name, g] : gws_) {
            if (g->cluster != cluster) continue;
            g->cluster_dirty = true;
            g->wake.Notify();
          }
        }
        break;
      }
      case NbTable::kVpc:
        all([&c](Gw& g) { g.dirty_vpcs.insert(c.key); });
        break;
      case NbTable::kNetwork: {
        const NetworkRow* old = std::get_if<NetworkRow>(&c.old);
        std::string vpc = old ? old->vpc : VpcOfNetworkKey(s, c.key);
        all([&vpc](Gw& g) { g.dirty_vpcs.insert(vpc); });
        break;
      }
      case NbTable::kEndpoint: {
        const EndpointRow* old = std::get_if<EndpointRow>(&c.old);
        const EndpointRow* cur = s.FindEndpoint(c.key);
        if (old && cur && old->endpoint == cur->endpoint && old->status == cur->status) break;
        bool content = !(old && cur && old->endpoint == cur->endpoint);
        if (content) {
          // Every cluster holding its VPC (both during a move), old and new.
          std::set<uint32_t> clusters;
          if (old) AddClustersOfVpc(old->endpoint.vpc, clusters);
          if (cur) AddClustersOfVpc(cur->endpoint.vpc, clusters);
          for (uint32_t cluster : clusters) MarkEndpoint(c.key, cluster);
        }
        if (cur == nullptr) {
          ErasePending(c.key);
          queued_status_.erase(c.key);
          break;
        }
        bool moved = old && (old->endpoint.host != cur->endpoint.host ||
                             old->endpoint.iface_id != cur->endpoint.iface_id);
        if (moved && cur->status == EndpointStatus::kOnline) {
          // Online on the old host says nothing of the new one.
          QueueStatus(c.key, EndpointStatus::kPending);
        }
        if (cur->status == EndpointStatus::kPending || moved) {
          AddPending(c.key, cur->endpoint.host);
          poller_wake_.Notify();
        } else {
          ErasePending(c.key);
        }
        break;
      }
      case NbTable::kCluster:
        membership = true;
        break;
      case NbTable::kGlobal:
        break;
    }
  }
  if (membership) SyncGateways();
}

asio::awaitable<void> GatewayDriver::RunMain(std::shared_ptr<bool> alive) {
  int empty = 0;
  while (*alive && !stopped_) {
    co_await store_.WaitChanges();
    if (!*alive || stopped_) break;
    std::vector<NbChange> changes = store_.TakeChanges();
    if (!changes.empty()) {
      empty = 0;
      Dispatch(changes);
      continue;
    }
    // A change that came to nothing is normal; a wait that keeps returning
    // with nothing (a stopped store) must not spin.
    if (++empty >= 3) {
      ofconn::Signal never(ex_);
      co_await timers_.WaitUntil(never, timers_.Now() + options_.backoff_min);
    }
  }
}

// ---- Writes back to the store. ----

void GatewayDriver::Observe(Gw& g, GatewayState state, std::string detail) {
  GatewayObservation o{g.name, state, g.instance, std::move(detail)};
  if (o == g.obs) return;
  if (o.state != g.obs.state) {
    spdlog::info("gateway {}: {} → {}{}{}", g.name, StateName(g.obs.state), StateName(o.state),
                 o.detail.empty() ? "" : ": ", o.detail);
  }
  g.obs = o;
  if (g.stop) return;
  queued_gateways_[g.name] = std::move(o);
  writer_wake_.Notify();
}

void GatewayDriver::QueueStatus(const std::string& key, EndpointStatus status) {
  queued_status_[key] = status;
  writer_wake_.Notify();
}

void GatewayDriver::AddPending(const std::string& key, const std::string& host) {
  auto [it, inserted] = pending_.try_emplace(key, host);
  if (!inserted && it->second != host) {
    ErasePending(key);
    it = pending_.try_emplace(key, host).first;
  }
  pending_by_host_[host].insert(key);
}

void GatewayDriver::ErasePending(const std::string& key) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  auto by_host = pending_by_host_.find(it->second);
  if (by_host != pending_by_host_.end()) {
    by_host->second.erase(key);
    if (by_host->second.empty()) pending_by_host_.erase(by_host);
  }
  pending_.erase(it);
}

void GatewayDriver::ConfirmOnline(const std::string& key, uint64_t fingerprint) {
  const EndpointRow* row = store_.state().FindEndpoint(key);
  if (row == nullptr || !pending_.contains(key)) return;
  // An answer about content that has changed since is no answer.
  if (Fingerprint(EndpointToProto(row->endpoint)) != fingerprint) return;
  ErasePending(key);
  QueueStatus(key, EndpointStatus::kOnline);
}

asio::awaitable<void> GatewayDriver::RunWriter() {
  ++loops_;
  Millis backoff = options_.backoff_min;
  while (!stopped_) {
    if (queued_status_.empty() && queued_gateways_.empty()) {
      co_await writer_wake_.Wait();
      continue;
    }
    DriverWrites w;
    for (auto& [name, o] : queued_gateways_) w.gateways.push_back(o);
    for (auto& [key, status] : queued_status_) w.endpoints.emplace_back(key, status);
    auto gateways = std::move(queued_gateways_);
    auto statuses = std::move(queued_status_);
    queued_gateways_.clear();
    queued_status_.clear();
    writing_ = true;
    absl::Status s = co_await store_.Write(std::move(w));
    writing_ = false;
    if (s.ok()) {
      backoff = options_.backoff_min;
      continue;
    }
    spdlog::warn("gateway driver: writing to the store failed: {}", std::string(s.message()));
    // Newer observations win over the ones that failed.
    for (auto& [name, o] : gateways) queued_gateways_.try_emplace(name, std::move(o));
    for (auto& [key, st] : statuses) {
      if (store_.state().FindEndpoint(key) != nullptr) queued_status_.try_emplace(key, st);
    }
    Millis until = timers_.Now() + backoff;
    backoff = std::min(backoff * 2, options_.backoff_max);
    while (!stopped_ && timers_.Now() < until) co_await timers_.WaitUntil(writer_wake_, until);
  }
  --loops_;
}

// ---- Endpoint status polls. ----

asio::awaitable<void> GatewayDriver::RunPoller() {
  ++loops_;
  struct Done {
    int& n;
    ~Done() { --n; }
  } done{loops_};
  while (!stopped_) {
    Millis until = timers_.Now() + options_.poll_interval;
    while (!stopped_ && timers_.Now() < until) co_await timers_.WaitUntil(poller_wake_, until);
    if (stopped_ || pending_.empty()) continue;
    const NbState& s = store_.state();
    // Hosts with pending endpoints, and their clusters.
    std::map<std::string, std::set<uint32_t>> hosts;
    for (const auto& [host, keys] : pending_by_host_) {
      // A host without an OVSDB target: no gateway can learn its ports, so
      // its endpoints cannot come online, and listing them (every endpoint
      // of the host, each round) would only load the gateway and this loop.
      auto h = s.hosts.find(host);
      if (h == s.hosts.end() || h->second.host.ovsdb_target.empty()) continue;
      for (const std::string& key : keys) {
        const EndpointRow* row = s.FindEndpoint(key);
        if (row == nullptr) continue;
        uint32_t cluster = ClusterOfVpc(row->endpoint.vpc);
        if (cluster != 0) hosts[host].insert(cluster);
      }
    }
    // At most poll_hosts, starting after the last one polled.
    std::vector<std::pair<std::string, std::set<uint32_t>>> round;
    auto start = hosts.upper_bound(poll_cursor_);
    for (auto it = start; it != hosts.end() && round.size() < options_.poll_hosts; ++it) {
      round.emplace_back(*it);
    }
    for (auto it = hosts.begin(); it != start && round.size() < options_.poll_hosts; ++it) {
      round.emplace_back(*it);
    }
    for (auto& [host, clusters] : round) {
      poll_cursor_ = host;
      for (uint32_t cluster : clusters) {
        std::vector<GwPtr> members;
        for (auto& [name, g] : gws_) {
          if (g->cluster == cluster && g->loaded && g->obs.state == GatewayState::kReady) {
            members.push_back(g);
          }
        }
        for (GwPtr& g : members) {
          if (g->stop) continue;
          std::string h = host;
          std::string all;
          auto listed = co_await g->client->ListEndpoints(all, h);
          if (stopped_) co_return;
          if (!listed.ok()) continue;  // Its own loop notices a lost gateway.
          for (const ListedEndpoint& e : *listed) {
            if (e.online) ConfirmOnline(e.endpoint.key(), Fingerprint(e.endpoint));
          }
        }
      }
    }
  }
}

// ---- One gateway. ----

asio::awaitable<void> GatewayDriver::Sleep(Gw& g, Millis until) {
  while (!g.stop && timers_.Now() < until) co_await timers_.WaitUntil(g.wake, until);
}

absl::Status GatewayDriver::Settle(Gw& g, const std::string& item, const absl::Status& s) {
  if (s.ok()) {
    g.refused.erase(item);
    return s;
  }
  if (IsTransportFailure(s)) return s;
  spdlog::warn("gateway {} refused {}: {}", g.name, item, std::string(s.message()));
  g.refused[item] = std::string(s.message());
  return absl::OkStatus();
}

asio::awaitable<void> GatewayDriver::RunGateway(GwPtr gp) {
  Gw& g = *gp;
  g.running = true;
  ++loops_;
  Millis backoff = options_.backoff_min;
  Millis next_health = timers_.Now() + options_.health_interval;
  bool verify = false;  // After a failure: GetStats before anything is resent.
  auto down = [&](const absl::Status& s) -> asio::awaitable<void> {
    Observe(g, GatewayState::kDown, std::string(s.message()));
    verify = true;
    co_await Sleep(g, timers_.Now() + backoff);
    backoff = std::min(backoff * 2, options_.backoff_max);
  };
  while (!g.stop && !stopped_) {
    if (!g.loaded) {
      absl::Status s = co_await FullLoad(g);
      if (g.stop) break;
      if (!s.ok()) {
        co_await down(s);
        continue;
      }
      verify = false;
      backoff = options_.backoff_min;
      next_health = timers_.Now() + options_.health_interval;
      continue;
    }
    if (verify || g.stats_soon || timers_.Now() >= next_health) {
      g.stats_soon = false;
      const uint64_t acks = g.acks;  // Acknowledged before this call.
      auto stats = co_await g.client->GetStats();
      if (g.stop) break;
      if (!stats.ok()) {
        co_await down(stats.status());
        continue;
      }
      verify = false;
      backoff = options_.backoff_min;
      next_health = timers_.Now() + options_.health_interval;
      bool restarted = stats->instance_id != g.instance;
      bool drifted = stats->instance_id.empty() && !g.HasDirty() &&
                     (stats->vpcs != g.vpcs.size() || stats->endpoints != g.endpoints.size());
      if (restarted || drifted) {
        spdlog::info("gateway {}: {}: full reload", g.name,
                     restarted ? "new instance " + stats->instance_id : "content drifted");
        g.loaded = false;
        continue;
      }
      if (ObserveLoaded(g, *stats)) {
        g.bridge_synced = std::max(g.bridge_synced, acks);
      } else {
        // Asked again soon: joining its cluster's buckets (and a move's
        // next step) waits for this.
        next_health = timers_.Now() + std::min<Millis>(options_.health_interval, 100);
      }
      // Refused items are tried again once per health check.
      for (auto& [item, message] : g.refused) {
        if (item == "cluster") g.cluster_dirty = true;
        if (item.starts_with("vpc ")) g.dirty_vpcs.insert(item.substr(4));
        if (item.starts_with("endpoint ")) g.dirty_endpoints.insert(item.substr(9));
      }
      continue;
    }
    if (g.HasDirty()) {
      absl::Status s = co_await ApplyDirty(g);
      if (g.stop) break;
      if (!s.ok()) co_await down(s);
      continue;
    }
    // Until a change or the next health check.
    co_await timers_.WaitUntil(g.wake, next_health);
  }
  if (g.unload && !stopped_) co_await Unload(g);
  g.running = false;
  --loops_;
}

asio::awaitable<void> GatewayDriver::Unload(Gw& g) {
  // Every VPC it was sent, and any other it lists endpoints of.
  std::set<std::string> vpcs;
  for (const auto& [id, v] : g.vpcs) vpcs.insert(id);
  std::string all;
  std::string any_host;
  auto listed = co_await g.client->ListEndpoints(all, any_host);
  if (listed.ok()) {
    for (const ListedEndpoint& e : *listed) vpcs.insert(e.endpoint.vpc());
  }
  absl::Status failed = listed.status();
  auto row = store_.state().gateways.find(g.name);
  uint32_t now_in = row == store_.state().gateways.end() ? 0 : row->second.cluster_id;
  for (const std::string& id : vpcs) {
    if (stopped_) co_return;
    // Already a member again: what its new cluster holds stays.
    if (Holds(id, now_in)) continue;
    std::string vpc = id;
    // Other members (or another cluster) serve it still: the direct paths
    // toward its endpoints stay valid.
    absl::Status s = co_await g.client->DeleteVpc(vpc, VpcExists(id));
    if (!Gone(s) && failed.ok()) failed = s;
  }
  ++unloads_;
  if (failed.ok()) {
    spdlog::info("gateway {}: left its cluster, {} vpc(s) unloaded", g.name, vpcs.size());
    co_return;
  }
  // A spare keeping stale VPCs does no harm (it is in no bucket); the full
  // load of its next cluster deletes those it should not hold.
  spdlog::warn("gateway {}: left its cluster but not unloaded: {}", g.name,
               std::string(failed.message()));
  GatewayObservation o{g.name, GatewayState::kUnknown, "",
                       absl::StrCat("not a member of a cluster; not unloaded: ", failed.message())};
  queued_gateways_[g.name] = o;
  writer_wake_.Notify();
}

bool GatewayDriver::ClusterSettled(uint32_t cluster) const {
  const NbState& s = store_.state();
  for (const auto& [name, g] : gws_) {
    if (g->cluster != cluster || g->obs.state == GatewayState::kDown) continue;
    auto row = s.gateways.find(name);
    if (row != s.gateways.end() && row->second.role == GatewayRole::kDraining) continue;
    if (!g->loaded || g->cluster_dirty || g->refused.contains("cluster")) return false;
  }
  return true;
}

bool GatewayDriver::VpcSettled(uint32_t cluster, const std::string& vpc) const {
  const NbState& s = store_.state();
  auto row = s.vpcs.find(vpc);
  if (row == s.vpcs.end() || !HeldBy(row->second, cluster)) return false;
  const bool standby = StandbyIn(row->second, cluster);
  size_t confirmed = 0;
  for (const auto& [name, g] : gws_) {
    if (g->cluster != cluster) continue;
    auto gw = s.gateways.find(name);
    if (gw == s.gateways.end() || gw->second.role != GatewayRole::kServing) continue;
    // A serving member that does not answer holds the step until cluster
    // management takes it out of the buckets: the hosts it is designated
    // for would otherwise keep the old cluster's rules, then lose them.
    if (g->obs.state == GatewayState::kDown || !g->loaded || g->dirty_vpcs.contains(vpc) ||
        g->refused.contains("vpc " + vpc)) {
      return false;
    }
    auto sent = g->vpcs.find(vpc);
    if (sent == g->vpcs.end() || sent->second.vpc.standby() != standby) return false;
    if (sent->second.acked > g->bridge_synced) return false;  // Its bridge not confirmed since.
    ++confirmed;
  }
  return confirmed > 0;
}

bool GatewayDriver::ObserveLoaded(Gw& g, const GatewayStats& stats) {
  // Loaded means its own bridge forwards every endpoint too (confirmed by
  // its barrier): only then may it take traffic (cluster management joins
  // READY members to the buckets). A gateway without a bridge has no flows.
  if (!stats.bridge_in_sync && stats.bridge_flows > 0) {
    Observe(
        g, GatewayState::kLoading,
        absl::StrCat("loaded; its bridge does not hold its ", stats.bridge_flows, " flows yet"));
    return false;
  }
  if (g.refused.empty()) {
    Observe(g, GatewayState::kReady, "");
  } else {
    Observe(g, GatewayState::kReady,
            absl::StrCat(g.refused.size(), " change(s) refused; ", g.refused.begin()->first, ": ",
                         g.refused.begin()->second));
  }
  return true;
}

asio::awaitable<absl::Status> GatewayDriver::FullLoad(Gw& g) {
  auto stats = co_await g.client->GetStats();
  if (!stats.ok()) co_return stats.status();
  // The instance the store names, in our cluster: loaded by a manager
  // before this one (active before it, or this one before it lost the
  // lock). Verified against what it lists rather than reloaded, so a
  // manager taking over changes nothing on gateways and hosts.
  const bool adopt = !stats->instance_id.empty() && stats->instance_id == g.obs.instance_id &&
                     stats->cluster_id == g.cluster;
  g.instance = stats->instance_id;
  if (adopt) {
    spdlog::info("gateway {}: instance {} already loaded: verifying what it holds", g.name,
                 g.instance);
  } else {
    Observe(g, GatewayState::kLoading, "");
  }
  g.sent_cluster.clear();
  g.vpcs.clear();
  g.endpoints.clear();
  g.refused.clear();
  // Everything is sent from the state as it is now; changes from here on
  // mark items again and are compared with what was sent.
  g.cluster_dirty = false;
  g.dirty_vpcs.clear();
  g.dirty_endpoints.clear();
  absl::Status s = co_await ApplyCluster(g);
  if (!s.ok()) co_return s;
  // What it holds: endpoints by VPC, each as serialized.
  std::vector<ListedEndpoint> listed;
  std::map<std::string, std::vector<gwv1::Endpoint>> held;
  if (adopt || stats->vpcs > 0) {
    std::string all;
    std::string any_host;
    auto got = co_await g.client->ListEndpoints(all, any_host);
    if (!got.ok()) co_return got.status();
    listed = *std::move(got);
    if (adopt) {
      for (const ListedEndpoint& e : listed) {
        held[e.endpoint.vpc()].push_back(e.endpoint);
      }
    }
  }
  for (const std::string& id : VpcsOfCluster(store_.state(), g.cluster)) {
    if (g.stop) co_return absl::OkStatus();
    if (g.vpcs.contains(id)) continue;
    std::optional<VpcContent> content = DesiredVpc(store_.state(), id, g.cluster);
    if (!content) continue;
    auto shared = std::make_shared<const VpcContent>(std::move(*content));
    if (auto it = held.find(id); adopt && it != held.end()) {
      // Held (it lists endpoints of it): taken as sent as it is; only the
      // endpoints that differ go, one by one. (A VPC without endpoints
      // cannot be told from an absent one by listing: it goes through
      // LoadVpc, whose AddVpc is refused if held.)
      AdoptVpc(g, *shared, it->second);
      continue;
    }
    absl::Status loaded = co_await LoadVpc(g, shared);
    absl::Status settled = Settle(g, "vpc " + id, loaded);
    if (!settled.ok()) co_return settled;
    if (loaded.ok()) RecordVpc(g, *shared);
  }
  if (stats->vpcs > 0) {
    absl::Status stale = co_await RemoveStaleVpcs(g, listed);
    if (!stale.ok()) co_return stale;
  }
  // Everything sent: the gateway may now take off its hosts what it does
  // not hold (until this, a restarted one leaves their rules in place).
  absl::Status complete = co_await g.client->CompleteLoad();
  if (!complete.ok()) co_return complete;
  g.loaded = true;
  ++g.full_loads;
  const uint64_t acks = g.acks;
  auto after = co_await g.client->GetStats();
  if (!after.ok()) co_return after.status();
  if (ObserveLoaded(g, *after)) g.bridge_synced = std::max(g.bridge_synced, acks);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> GatewayDriver::RemoveStaleVpcs(
    Gw& g, const std::vector<ListedEndpoint>& listed) {
  // What the gateway held before this load: VPCs it lists endpoints of and
  // which it should not hold. (A stale VPC without endpoints cannot be
  // named through the gateway API and stays.)
  std::set<std::string> stale;
  for (const ListedEndpoint& e : listed) {
    if (!g.vpcs.contains(e.endpoint.vpc())) stale.insert(e.endpoint.vpc());
  }
  for (const std::string& id : stale) {
    if (Holds(id, g.cluster)) continue;  // Became desired meanwhile: a dirty item.
    std::string vpc = id;
    absl::Status s = co_await g.client->DeleteVpc(vpc, VpcExists(id));
    if (!Gone(s)) {
      if (IsTransportFailure(s)) co_return s;
      spdlog::warn("gateway {}: stale vpc {} not deleted: {}", g.name, id,
                   std::string(s.message()));
    }
  }
  // Stale endpoints inside desired VPCs (a gateway that kept an older copy).
  for (const ListedEndpoint& e : listed) {
    if (g.vpcs.contains(e.endpoint.vpc()) && !g.endpoints.contains(e.endpoint.key())) {
      g.dirty_endpoints.insert(e.endpoint.key());
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> GatewayDriver::LoadVpc(Gw& g,
                                                     std::shared_ptr<const VpcContent> content) {
  absl::Status s = co_await g.client->AddVpc(content, options_.batch);
  if (s.code() != absl::StatusCode::kAlreadyExists) co_return s;
  // Held already: an earlier attempt whose answer was lost, or a gateway
  // that kept its state. Identical endpoints count as done; anything else
  // is replaced.
  std::string vpc = content->vpc.id();
  std::string any_host;
  auto listed = co_await g.client->ListEndpoints(vpc, any_host);
  if (!listed.ok() && IsTransportFailure(listed.status())) co_return listed.status();
  if (listed.ok() && listed->size() == content->endpoints.size()) {
    std::map<std::string, std::string> have;
    for (const ListedEndpoint& e : *listed) have[e.endpoint.key()] = e.endpoint.SerializeAsString();
    bool same = true;
    for (const gwv1::Endpoint& e : content->endpoints) {
      auto it = have.find(e.key());
      if (it == have.end() || it->second != e.SerializeAsString()) {
        same = false;
        break;
      }
    }
    if (same) co_return absl::OkStatus();
  }
  absl::Status deleted = co_await g.client->DeleteVpc(vpc, false);
  if (!Gone(deleted)) co_return deleted;
  co_return co_await g.client->AddVpc(content, options_.batch);
}

void GatewayDriver::RecordVpc(Gw& g, const VpcContent& content) {
  SentVpc& sent = g.vpcs[content.vpc.id()];
  sent.vpc = content.vpc;
  sent.acked = ++g.acks;
  for (const gwv1::Endpoint& e : content.endpoints) {
    g.endpoints[e.key()] = SentEndpoint{e.vpc(), e.network(), Fingerprint(e)};
    sent.keys.insert(e.key());
  }
}

void GatewayDriver::AdoptVpc(Gw& g, const VpcContent& desired,
                             const std::vector<gwv1::Endpoint>& held) {
  SentVpc& sent = g.vpcs[desired.vpc.id()];
  sent.vpc = desired.vpc;
  sent.acked = ++g.acks;
  // Listing endpoints does not tell whether the gateway holds a moving VPC
  // as standby or serves it (the previous manager may have stopped between
  // a move's step in the store and its call): the step is sent again (the
  // same value is a no-op for the gateway).
  auto row = store_.state().vpcs.find(desired.vpc.id());
  if (row != store_.state().vpcs.end() && row->second.moving_to != 0) {
    sent.vpc.set_standby(!desired.vpc.standby());
    g.dirty_vpcs.insert(desired.vpc.id());
  }
  for (const gwv1::Endpoint& e : held) {
    g.endpoints[e.key()] = SentEndpoint{e.vpc(), e.network(), Fingerprint(e)};
    sent.keys.insert(e.key());
    // Compared with the desired one (or deleted) by ApplyEndpoint.
    g.dirty_endpoints.insert(e.key());
  }
  for (const gwv1::Endpoint& e : desired.endpoints) {
    auto it = g.endpoints.find(e.key());
    if (it == g.endpoints.end() || it->second.fingerprint != Fingerprint(e)) {
      g.dirty_endpoints.insert(e.key());
    } else {
      g.dirty_endpoints.erase(e.key());
    }
  }
}

void GatewayDriver::ForgetVpc(Gw& g, const std::string& id) {
  auto it = g.vpcs.find(id);
  if (it == g.vpcs.end()) return;
  for (const std::string& key : it->second.keys) g.endpoints.erase(key);
  g.vpcs.erase(it);
}

asio::awaitable<absl::Status> GatewayDriver::ApplyCluster(Gw& g) {
  g.refused.erase("cluster");
  gwv1::SetClusterRequest request = DesiredCluster(store_.state(), g.cluster, g.name);
  std::string serialized = request.SerializeAsString();
  if (serialized == g.sent_cluster) co_return absl::OkStatus();
  absl::Status s = co_await g.client->SetCluster(std::move(request));
  if (s.ok()) g.sent_cluster = serialized;
  co_return Settle(g, "cluster", s);
}

asio::awaitable<absl::Status> GatewayDriver::ApplyDirty(Gw& g) {
  if (g.cluster_dirty) {
    g.cluster_dirty = false;
    absl::Status s = co_await ApplyCluster(g);
    if (!s.ok()) {
      g.cluster_dirty = true;
      co_return s;
    }
  }
  while (!g.dirty_vpcs.empty() && !g.stop) {
    std::string id = *g.dirty_vpcs.begin();
    g.dirty_vpcs.erase(g.dirty_vpcs.begin());
    absl::Status s = co_await ApplyVpc(g, id);
    if (!s.ok()) {
      g.dirty_vpcs.insert(id);
      co_return s;
    }
  }
  // Deletes first: an address freed by one endpoint may be taken by another.
  std::vector<std::string> updates;
  auto keys = std::move(g.dirty_endpoints);
  g.dirty_endpoints.clear();
  for (auto it = keys.begin(); it != keys.end() && !g.stop;) {
    if (store_.state().FindEndpoint(*it) != nullptr) {
      updates.push_back(*it);
      it = keys.erase(it);
      continue;
    }
    absl::Status s = co_await ApplyEndpoint(g, *it);
    if (!s.ok()) {
      g.dirty_endpoints.insert(keys.begin(), keys.end());
      g.dirty_endpoints.insert(updates.begin(), updates.end());
      co_return s;
    }
    it = keys.erase(it);
  }
  // Endpoints new to this gateway go in bulk (its AddEndpoints stream): a
  // VPC growing by thousands is a few calls, not one round trip each.
  if (!g.stop) {
    absl::Status s = co_await AddNewEndpoints(g, updates);
    if (!s.ok()) {
      g.dirty_endpoints.insert(updates.begin(), updates.end());
      co_return s;
    }
  }
  for (size_t i = 0; i < updates.size() && !g.stop; ++i) {
    absl::Status s = co_await ApplyEndpoint(g, updates[i]);
    if (!s.ok()) {
      g.dirty_endpoints.insert(updates.begin() + static_cast<ptrdiff_t>(i), updates.end());
      co_return s;
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> GatewayDriver::ApplyVpc(Gw& g, std::string id) {
  const NbState& s = store_.state();
  auto row = s.vpcs.find(id);
  bool desired = row != s.vpcs.end() && HeldBy(row->second, g.cluster);
  auto sent = g.vpcs.find(id);
  std::string item = "vpc " + id;
  g.refused.erase(item);
  if (!desired) {
    if (sent == g.vpcs.end()) co_return absl::OkStatus();
    // Still in the store: it moved to another cluster (or a move here was
    // cancelled), its endpoints unchanged, so the direct paths stay.
    absl::Status del = co_await g.client->DeleteVpc(id, row != s.vpcs.end());
    if (Gone(del)) ForgetVpc(g, id);
    co_return Settle(g, item, Gone(del) ? absl::OkStatus() : del);
  }
  if (sent != g.vpcs.end()) {
    std::optional<gwv1::Vpc> want = DesiredVpcMessage(s, id, g.cluster);
    if (want && want->standby() != sent->second.vpc.standby()) {
      // A move's step: the VPC starts (or stops) being served here.
      std::string vpc = id;
      absl::Status set = co_await g.client->SetVpcStandby(vpc, want->standby());
      if (!set.ok()) co_return Settle(g, item, set);
      auto again = g.vpcs.find(id);
      if (again == g.vpcs.end()) co_return absl::OkStatus();
      again->second.vpc.set_standby(want->standby());
      again->second.acked = ++g.acks;
      g.stats_soon = true;
      sent = again;
    }
    if (want &&
        want->offload().SerializeAsString() != sent->second.vpc.offload().SerializeAsString()) {
      // The offload policy alone changes in place.
      std::string vpc = id;
      gwv1::OffloadPolicy policy = want->offload();
      absl::Status set = co_await g.client->SetVpcOffload(vpc, policy);
      if (!set.ok()) co_return Settle(g, item, set);
      auto again = g.vpcs.find(id);
      if (again == g.vpcs.end()) co_return absl::OkStatus();
      *again->second.vpc.mutable_offload() = policy;
      if (!want->has_offload()) again->second.vpc.clear_offload();
      sent = again;
    }
    if (want && want->SerializeAsString() == sent->second.vpc.SerializeAsString()) {
      co_return Settle(g, item, absl::OkStatus());
    }
    std::optional<std::vector<std::string>> removed =
        want ? NetworksRemoved(sent->second.vpc, *want) : std::nullopt;
    if (removed) {
      for (const std::string& network : *removed) {
        std::string vpc = id;
        std::string net = network;
        absl::Status del = co_await g.client->DeleteNetwork(vpc, net);
        if (!Gone(del)) co_return Settle(g, item, del);
        // The gateway removed the network's endpoints with it.
        auto again = g.vpcs.find(id);
        if (again == g.vpcs.end()) co_return absl::OkStatus();
        auto* networks = again->second.vpc.mutable_networks();
        for (int i = 0; i < networks->size(); ++i) {
          if (networks->Get(i).id() == network) {
            networks->DeleteSubrange(i, 1);
            break;
          }
        }
        for (auto k = again->second.keys.begin(); k != again->second.keys.end();) {
          auto e = g.endpoints.find(*k);
          if (e != g.endpoints.end() && e->second.network == network) {
            g.endpoints.erase(e);
            k = again->second.keys.erase(k);
          } else {
            ++k;
          }
        }
      }
      co_return Settle(g, item, absl::OkStatus());
    }
    // Anything else (a network added, a new VNI): the VPC again, whole.
    absl::Status del = co_await g.client->DeleteVpc(id, false);
    if (!Gone(del)) co_return Settle(g, item, del);
    ForgetVpc(g, id);
  }
  std::optional<VpcContent> content = DesiredVpc(store_.state(), id, g.cluster);
  if (!content) co_return absl::OkStatus();
  auto shared = std::make_shared<const VpcContent>(std::move(*content));
  absl::Status loaded = co_await LoadVpc(g, shared);
  if (loaded.ok()) {
    RecordVpc(g, *shared);
    g.stats_soon = true;  // Its bridge confirms the new flows.
  }
  co_return Settle(g, item, loaded);
}

asio::awaitable<absl::Status> GatewayDriver::AddNewEndpoints(Gw& g,
                                                             std::vector<std::string>& keys) {
  const NbState& s = store_.state();
  std::vector<std::string> fresh;
  std::vector<std::string> rest;
  for (std::string& key : keys) {
    const EndpointRow* row = s.FindEndpoint(key);
    bool is_new = row != nullptr && !g.endpoints.contains(key) &&
                  Holds(row->endpoint.vpc, g.cluster) && g.vpcs.contains(row->endpoint.vpc);
    (is_new ? fresh : rest).push_back(std::move(key));
  }
  keys = std::move(rest);
  if (fresh.size() < kBulkMin) {
    // Few: one by one, each with its `online` answer.
    keys.insert(keys.end(), fresh.begin(), fresh.end());
    co_return absl::OkStatus();
  }
  for (size_t i = 0; i < fresh.size() && !g.stop; i += kBulkCall) {
    size_t end = std::min(fresh.size(), i + kBulkCall);
    auto batch = std::make_shared<std::vector<gwv1::Endpoint>>();
    std::vector<uint64_t> fps;
    batch->reserve(end - i);
    fps.reserve(end - i);
    for (size_t j = i; j < end; ++j) {
      batch->push_back(EndpointToProto(s.FindEndpoint(fresh[j])->endpoint));
      fps.push_back(Fingerprint(batch->back()));
    }
    absl::Status added = co_await g.client->AddEndpoints(batch, options_.batch);
    if (IsTransportFailure(added)) {
      keys.insert(keys.end(), fresh.begin() + static_cast<ptrdiff_t>(i), fresh.end());
      co_return added;
    }
    if (!added.ok()) {
      // Refused as a whole: one by one, so each refusal is kept for its own
      // endpoint and the others go in.
      keys.insert(keys.end(), fresh.begin() + static_cast<ptrdiff_t>(i),
                  fresh.begin() + static_cast<ptrdiff_t>(end));
      continue;
    }
    for (size_t j = i; j < end; ++j) {
      const gwv1::Endpoint& e = (*batch)[j - i];
      g.endpoints[fresh[j]] = SentEndpoint{e.vpc(), e.network(), fps[j - i]};
      auto v = g.vpcs.find(e.vpc());
      if (v != g.vpcs.end()) v->second.keys.insert(fresh[j]);
      g.refused.erase("endpoint " + fresh[j]);
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> GatewayDriver::ApplyEndpoint(Gw& g, std::string key) {
  const NbState& s = store_.state();
  const EndpointRow* row = s.FindEndpoint(key);
  auto sent = g.endpoints.find(key);
  std::string item = "endpoint " + key;
  g.refused.erase(item);
  bool desired = row != nullptr && Holds(row->endpoint.vpc, g.cluster);
  if (desired && !g.vpcs.contains(row->endpoint.vpc)) {
    // Its VPC is not loaded here yet: the VPC's load carries it.
    co_return absl::OkStatus();
  }
  if (!desired) {
    if (sent == g.endpoints.end()) co_return Settle(g, item, absl::OkStatus());
    absl::Status del = co_await g.client->DeleteEndpoint(key);
    if (Gone(del)) {
      auto e = g.endpoints.find(key);
      if (e != g.endpoints.end()) {
        auto v = g.vpcs.find(e->second.vpc);
        if (v != g.vpcs.end()) v->second.keys.erase(key);
        g.endpoints.erase(e);
      }
      co_return Settle(g, item, absl::OkStatus());
    }
    co_return Settle(g, item, del);
  }
  gwv1::Endpoint proto = EndpointToProto(row->endpoint);
  uint64_t fp = Fingerprint(proto);
  if (sent != g.endpoints.end() && sent->second.fingerprint == fp) {
    co_return Settle(g, item, absl::OkStatus());
  }
  std::string vpc = proto.vpc();
  std::string network = proto.network();
  auto online = co_await g.client->UpdateEndpoint(std::move(proto));
  if (!online.ok()) co_return Settle(g, item, online.status());
  g.endpoints[key] = SentEndpoint{vpc, network, fp};
  auto v = g.vpcs.find(vpc);
  if (v != g.vpcs.end()) v->second.keys.insert(key);
  if (*online) ConfirmOnline(key, fp);
  co_return Settle(g, item, absl::OkStatus());
}

}  // namespace shortcut::manager
