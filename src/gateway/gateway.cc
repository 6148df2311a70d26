#include "src/gateway/gateway.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <random>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/common/clock_timer.h"
#include "src/common/fatal.h"
#include "src/common/status_macros.h"
#include "src/model/offload.h"

namespace shortcut::gateway {
namespace {

// Every gateway must compute the same designation, so the score is a fixed
// function of the names (FNV-1a, 64 bits), not absl::Hash, whose seed
// differs between processes.
uint64_t Score(const std::string& host, const std::string& member) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;  // Separator: ("ab", "c") and ("a", "bc") differ.
    h *= 0x100000001b3ull;
  };
  mix(host);
  mix(member);
  return h;
}

}  // namespace

std::string DesignatedMember(const std::string& host, const std::vector<ClusterMember>& members) {
  std::string best;
  uint64_t best_score = 0;
  for (const ClusterMember& m : members) {
    if (m.standby) continue;  // Takes no traffic, programs no host.
    uint64_t s = Score(host, m.name);
    if (best.empty() || s > best_score || (s == best_score && m.name < best)) {
      best = m.name;
      best_score = s;
    }
  }
  return best;
}

std::vector<uint32_t> MemberOfports(std::vector<ClusterMember> members) {
  std::sort(members.begin(), members.end(),
            [](const ClusterMember& a, const ClusterMember& b) { return a.name < b.name; });
  std::vector<uint32_t> ofports;
  for (size_t i = 0; i < members.size(); ++i) {
    ofports.push_back(members[i].tunnel_ofport != 0
                          ? members[i].tunnel_ofport
                          : kGatewayOfportBase + static_cast<uint32_t>(i));
  }
  return ofports;
}

std::vector<uint32_t> BucketOfports(std::vector<ClusterMember> members) {
  std::sort(members.begin(), members.end(),
            [](const ClusterMember& a, const ClusterMember& b) { return a.name < b.name; });
  // Numbered over all members, then filtered: a member's port is the same
  // whether it serves or stands by.
  const std::vector<uint32_t> all = MemberOfports(members);
  std::vector<uint32_t> ofports;
  for (size_t i = 0; i < members.size(); ++i) {
    if (!members[i].standby) ofports.push_back(all[i]);
  }
  return ofports;
}

std::string ClusterTag(uint32_t cluster_id) { return std::to_string(cluster_id); }

absl::StatusOr<std::vector<host::TunnelPort>> TunnelPortsOnHost(
    std::vector<ClusterMember> members) {
  std::sort(members.begin(), members.end(),
            [](const ClusterMember& a, const ClusterMember& b) { return a.name < b.name; });
  const std::vector<uint32_t> ofports = MemberOfports(members);
  std::vector<host::TunnelPort> ports;
  for (size_t i = 0; i < members.size(); ++i) {
    auto port = host::MakeTunnelPort(members[i].underlay_ipv4, ofports[i]);
    if (!port.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("member ", members[i].name, ": ", port.status().message()));
    }
    ports.push_back(*std::move(port));
  }
  return ports;
}

absl::StatusOr<std::vector<host::TunnelPort>> TunnelPortsOnGateway(const std::vector<Host>& hosts) {
  std::vector<host::TunnelPort> ports;
  for (const Host& h : hosts) {
    auto port = host::MakeTunnelPort(h.underlay_ipv4);
    if (!port.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("host ", h.name, ": ", port.status().message()));
    }
    ports.push_back(*std::move(port));
  }
  return ports;
}

namespace {

// 64 random bits in hex: a gateway's instance id.
std::string NewInstanceId() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return absl::StrFormat("%016x", v);
}

}  // namespace

Gateway::Gateway(asio::any_io_executor ex, Options options)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      instance_id_(NewInstanceId()),
      loaded_(!options_.wait_for_load) {}

Gateway::~Gateway() {
  *alive_ = false;
  for (auto& [name, p] : programmers_) p->Stop();
  for (auto& [name, n] : nodes_) n->Stop();
  if (own_node_) own_node_->Stop();
}

bool Gateway::Designated(const std::string& host) const {
  return !cluster_.self.empty() && DesignatedMember(host, cluster_.members) == cluster_.self;
}

HostProgrammer* Gateway::programmer(const std::string& host) {
  auto it = programmers_.find(host);
  return it == programmers_.end() ? nullptr : it->second.get();
}

const HostProgrammer* Gateway::programmer(const std::string& host) const {
  auto it = programmers_.find(host);
  return it == programmers_.end() ? nullptr : it->second.get();
}

absl::Status CheckClusterConfig(const ClusterConfig& config) {
  if (config.cluster_id == 0 || config.cluster_id > pipeline::kMaxClusterId) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster_id: ", config.cluster_id, " is not in 1..", pipeline::kMaxClusterId));
  }
  bool self_found = false;
  std::set<std::string> names;
  std::set<uint32_t> ofports;
  const bool with_ofports = !config.members.empty() && config.members.front().tunnel_ofport != 0;
  for (size_t i = 0; i < config.members.size(); ++i) {
    const ClusterMember& m = config.members[i];
    std::string field = absl::StrCat("members[", i, "].tunnel_ofport");
    if ((m.tunnel_ofport != 0) != with_ofports) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": set in some members and not in others (all or none)"));
    }
    if (with_ofports &&
        (m.tunnel_ofport < kGatewayOfportBase || m.tunnel_ofport > kGatewayOfportMax)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", m.tunnel_ofport, " is not in ",
                                                     kGatewayOfportBase, "..", kGatewayOfportMax));
    }
    if (with_ofports && !ofports.insert(m.tunnel_ofport).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", m.tunnel_ofport, " is another member's already"));
    }
    if (m.name.empty()) return absl::InvalidArgumentError("members: a member without a name");
    if (!ParseIpv4(m.underlay_ipv4)) {
      return absl::InvalidArgumentError(absl::StrCat("members: ", m.name, ": underlay_ip '",
                                                     m.underlay_ipv4, "' is not an IPv4 address"));
    }
    if (!names.insert(m.name).second) {
      return absl::AlreadyExistsError(absl::StrCat("members: '", m.name, "' is listed twice"));
    }
    self_found |= m.name == config.self;
  }
  if (!self_found) {
    return absl::InvalidArgumentError(
        absl::StrCat("self: '", config.self, "' is not one of the members"));
  }
  std::set<std::string> hosts;
  for (const Host& h : config.hosts) {
    if (h.name.empty()) return absl::InvalidArgumentError("hosts: a host without a name");
    if (!hosts.insert(h.name).second) {
      return absl::AlreadyExistsError(absl::StrCat("hosts: '", h.name, "' is listed twice"));
    }
    if (!ParseIpv4(h.underlay_ipv4)) {
      return absl::InvalidArgumentError(absl::StrCat("hosts: ", h.name, ": underlay_ip '",
                                                     h.underlay_ipv4, "' is not an IPv4 address"));
    }
    if (!h.openflow_target.empty() && !ofconn::ParseTarget(h.openflow_target).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("hosts: ", h.name, ": openflow target '",
                                                     h.openflow_target, "' is not valid"));
    }
    // The DB checks this too, but per host, after earlier hosts went in.
    bool ovsdb_ok = h.ovsdb_target.empty();
    for (std::string_view prefix : {"tcp:", "ssl:", "unix:"}) {
      ovsdb_ok |= h.ovsdb_target.size() > prefix.size() && h.ovsdb_target.starts_with(prefix);
    }
    if (!ovsdb_ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hosts: ", h.name, ": ovsdb target '", h.ovsdb_target, "' is not tcp:, ssl: or unix:"));
    }
  }
  return absl::OkStatus();
}

asio::awaitable<absl::Status> Gateway::SetCluster(ClusterConfig config) {
  // Everything, hosts included, is checked before the first upsert, so that
  // a bad config changes nothing.
  absl::Status valid = CheckClusterConfig(config);
  if (!valid.ok()) co_return valid;
  std::sort(config.members.begin(), config.members.end(),
            [](const ClusterMember& a, const ClusterMember& b) { return a.name < b.name; });
  if (cluster_programmed_ && config == cluster_) {
    ++cluster_version_;  // Counts every SetCluster, as the API says.
    co_return absl::OkStatus();
  }
  cluster_programmed_ = false;
  std::vector<std::string> moved_hosts;
  for (const Host& h : config.hosts) {
    auto updated = db_.UpsertHost(h);
    if (!updated.ok()) co_return updated.status();
    if (updated->underlay_changed) moved_hosts.push_back(h.name);
  }
  if (cluster_.cluster_id != 0 && config.cluster_id != cluster_.cluster_id) {
    // The programmers own the old cluster's cookie space and group: new
    // ones for the new id (the old id's rules are left on the hosts).
    for (auto& [name, p] : programmers_) p->Stop();
    programmers_.clear();
  }
  cluster_ = std::move(config);
  ++cluster_version_;
  for (const std::string& h : moved_hosts) MirrorHost(h);
  StartNodes();
  for (const Host& h : cluster_.hosts) {
    if (programmers_.contains(h.name) || h.openflow_target.empty()) continue;
    HostProgrammer::Options o;
    o.name = h.name;
    o.target = *ofconn::ParseTarget(h.openflow_target);
    o.session = options_.session;
    o.call_timeout = options_.host_timeout;
    o.cluster_id = cluster_.cluster_id;
    o.clock = options_.clock;
    programmers_[h.name] = HostProgrammer::Start(ex_, std::move(o));
    programmers_[h.name]->SetKeepUnknown(!HostWhole(h.name));
  }
  // A host added after the load is whole once its bindings are read.
  WatchUntilWhole();
  // Direct paths toward the endpoints of a renumbered host tunnel to its
  // old address (and traffic keeps them from idling out): they go, on every
  // host of their VPCs, whoever installed them.
  absl::Status invalidated;
  for (const std::string& h : moved_hosts) {
    std::vector<VpcAddresses> stale = AddressesOnHost(h);
    for (VpcAddresses& a : stale) {
      absl::Status s = co_await InvalidateAll(a.vpc, a.vni, std::move(a.ips));
      if (invalidated.ok()) invalidated = s;
    }
  }
  ReleaseUndesignated();
  // The group's buckets follow the serving members: the designated hosts
  // that hold the cluster's VPCs again (the others hold no group, and are
  // sent nothing). Each gets its group rewritten whole in one bundle; one
  // whose rules did not change is sent nothing.
  const uint64_t version = cluster_version_;
  absl::Status programmed = co_await ProgramAll(HostsConcerned(), false);
  // Only if no other SetCluster came meanwhile (it clears the flag if it
  // changed anything; an identical one leaves it as this one sets it).
  if (version == cluster_version_) cluster_programmed_ = programmed.ok();
  if (programmed.ok() && !invalidated.ok()) co_return StoredButPending("the cluster", invalidated);
  co_return programmed;
}

std::vector<std::string> Gateway::HostsConcerned() const {
  std::vector<std::string> names;
  for (const Host& h : cluster_.hosts) {
    auto vpcs = db_.VpcsOfHost(h.name);
    // A host holding only standby VPCs of the cluster holds no group of it.
    if (vpcs.ok() &&
        std::any_of(vpcs->begin(), vpcs->end(), [](const Holding& v) { return !v.standby; })) {
      names.push_back(h.name);
    }
  }
  return names;
}

bool Gateway::Standby(std::string_view vpc) const {
  auto view = db_.FindVpc(vpc);
  return view && view->standby;
}

void Gateway::ReleaseUndesignated() {
  for (auto& [name, p] : programmers_) {
    if (!Designated(name)) p->Release();
  }
}

absl::Status Gateway::AddVpc(const Vpc& vpc, const std::vector<Network>& networks) {
  RETURN_IF_ERROR(model::ValidateOffload(vpc.offload, "vpc.offload"));
  absl::Status s = db_.AddVpc(vpc, networks);
  if (!s.ok()) return s;
  if (bridge_) bridge_->PutVpc(vpc.vni);
  if (vpc.offload != model::OffloadPolicy{}) offload_[vpc.vni] = vpc.offload;
  return s;
}

absl::Status Gateway::SetVpcOffload(const std::string& vpc, const model::OffloadPolicy& policy) {
  RETURN_IF_ERROR(model::ValidateOffload(policy, "offload"));
  std::optional<VpcView> view = db_.FindVpc(vpc);
  if (!view) return absl::NotFoundError(absl::StrCat("vpc '", vpc, "' not found"));
  const bool was_threshold = OffloadOf(view->vni)->mode == model::OffloadMode::kThreshold;
  if (policy == model::OffloadPolicy{}) {
    offload_.erase(view->vni);
  } else {
    offload_[view->vni] = policy;
  }
  if (was_threshold && policy.mode != model::OffloadMode::kThreshold && bridge_) {
    bridge_->RemoveCountFlowsOfVpc(view->vni);
  }
  return absl::OkStatus();
}

std::optional<model::OffloadPolicy> Gateway::OffloadOf(uint32_t vni) const {
  auto it = offload_.find(vni);
  if (it != offload_.end()) return it->second;
  if (!db_.FindVpcByVni(vni)) return std::nullopt;
  return model::OffloadPolicy{};
}

uint32_t Gateway::MinThresholdWindowMs() const {
  uint32_t min = 0;
  for (const auto& [vni, p] : offload_) {
    if (p.mode != model::OffloadMode::kThreshold) continue;
    const uint32_t w = model::OffloadWindowMs(p);
    if (min == 0 || w < min) min = w;
  }
  return min;
}

bool Gateway::HostWhole(const std::string& host) const {
  if (!loaded_) return false;
  auto node = nodes_.find(host);
  return node == nodes_.end() || node->second->synced();
}

std::vector<std::string> Gateway::RefreshKeepUnknown() {
  std::vector<std::string> whole;
  for (auto& [name, p] : programmers_) {
    bool keep = !HostWhole(name);
    if (!keep && p->keep_unknown()) whole.push_back(name);
    p->SetKeepUnknown(keep);
  }
  return whole;
}

asio::awaitable<absl::Status> Gateway::CompleteLoad() {
  loaded_ = true;
  if (bridge_) bridge_->SetKeepUnknown(false);
  // Whole hosts are programmed now, armed: whatever the manager said or
  // did not say about them, they get exactly what this gateway holds.
  RefreshKeepUnknown();
  std::vector<std::string> hosts;
  for (const auto& [name, p] : programmers_) {
    if (HostWhole(name)) hosts.push_back(name);
  }
  WatchUntilWhole();
  co_return co_await ProgramAll(std::move(hosts), true);
}

void Gateway::WatchUntilWhole() {
  if (finishing_ || !loaded_) return;
  bool pending = false;
  for (const auto& [name, p] : programmers_) pending |= p->keep_unknown();
  if (!pending) return;
  finishing_ = true;
  asio::co_spawn(ex_, FinishLoad(alive_), asio::detached);
}

asio::awaitable<void> Gateway::FinishLoad(std::shared_ptr<bool> alive) {
  ClockTimer timer(ex_, *options_.clock);
  while (*alive) {
    std::vector<std::string> whole = RefreshKeepUnknown();
    if (!whole.empty()) {
      absl::Status s = co_await ProgramAll(whole, true);
      if (!*alive) co_return;
      if (!s.ok()) spdlog::warn("after the load: {}", s.ToString());
    }
    bool pending = false;
    for (const auto& [name, p] : programmers_) pending |= p->keep_unknown();
    if (!pending) {
      finishing_ = false;
      co_return;
    }
    // Bindings come with the node's first OVSDB snapshot; a node that is
    // down is waited for as long as it takes.
    timer.ExpiresAfter(100);
    co_await timer.Wait();
  }
}

pipeline::HostRules Gateway::RulesFor(const std::string& host) const {
  pipeline::HostRules rules;
  rules.cluster_id = cluster_.cluster_id;
  rules.gateway_ports = BucketOfports(cluster_.members);
  auto vpcs = db_.VpcsOfHost(host);
  if (!vpcs.ok()) return rules;
  // Standby VPCs are served by another cluster: neither they nor their VMs
  // have rules here. Few VPCs per host: a vector is the cheapest set.
  std::vector<uint32_t> standby;
  for (const Holding& h : *vpcs) {
    if (h.standby) {
      standby.push_back(h.vni);
      continue;
    }
    auto vpc = db_.FindVpcByVni(h.vni);
    if (vpc) rules.vpcs.push_back({vpc->vni, vpc->router_mac});
  }
  auto bound = ports_.find(host);
  if (bound == ports_.end()) return rules;  // No port bound yet: no VM rules until there is.
  const auto& host_ports = bound->second;
  (void)db_.ForEachEndpointOfHost(host, [&](const EndpointView& e) {
    // absl::string_view is not std::string_view in this Abseil build.
    if (!standby.empty() && std::find(standby.begin(), standby.end(), e.vni) != standby.end()) {
      return;
    }
    auto port = host_ports.find(absl::string_view(e.iface_id.data(), e.iface_id.size()));
    if (port == host_ports.end()) return;  // Not bound yet: no rules until it is.
    rules.vms.push_back({e.vni, e.ipv4, e.mac, port->second});
  });
  return rules;
}

asio::awaitable<absl::Status> Gateway::ProgramChanged(const std::string& host) {
  armed_.insert(host);
  co_return co_await Program(host);
}

asio::awaitable<absl::Status> Gateway::ProgramAll(std::vector<std::string> hosts, bool arm) {
  // All at once: a VPC on a thousand hosts costs one round trip, not a
  // thousand. Each host's programmer merges what it is asked meanwhile.
  size_t pending = hosts.size();
  absl::Status first_error;
  ofconn::Signal done(ex_);
  for (const std::string& host : hosts) {
    if (arm) armed_.insert(host);
    asio::co_spawn(ex_, Program(host),
                   [&pending, &first_error, &done](std::exception_ptr e, absl::Status s) {
                     if (e) s = absl::InternalError("programming a host threw");
                     if (!s.ok() && first_error.ok()) first_error = s;
                     if (--pending == 0) done.Notify();
                   });
  }
  while (pending > 0) co_await done.Wait();
  co_return first_error;
}

asio::awaitable<absl::Status> Gateway::Program(const std::string& host) {
  if (!Designated(host)) co_return absl::OkStatus();
  // A host nothing was said about since this process started keeps what it
  // holds: a restarted gateway, its DB still empty, must not take every
  // VM's rules off its hosts before the endpoints are loaded again.
  if (!armed_.contains(host)) co_return absl::OkStatus();
  HostProgrammer* p = programmer(host);
  if (p == nullptr) {
    co_return absl::FailedPreconditionError(
        absl::StrCat("host ", host, " has no OpenFlow target to program"));
  }
  co_return co_await p->SetRules(RulesFor(host));
}

asio::awaitable<absl::StatusOr<Gateway::EndpointResult>> Gateway::UpdateEndpoint(
    Endpoint endpoint) {
  auto update = db_.UpdateEndpoint(endpoint);
  if (!update.ok()) co_return update.status();
  EndpointResult result;
  result.update = *update;
  auto view = db_.FindEndpoint(endpoint.key);
  if (!view) co_return absl::InternalError("endpoint missing right after its update");
  uint32_t vni = view->vni;
  Ipv4 ipv4 = view->ipv4;
  std::string vpc(view->vpc);
  if (bridge_) {
    if (update->readdressed && update->old_ipv4 != ipv4)
      bridge_->RemoveEndpoint(vni, update->old_ipv4);
    bridge_->PutEndpoint(vni, ipv4, view->host_underlay);
  }
  // A standby VPC's hosts are the serving cluster's to program and
  // invalidate: the DB and the bridge only, and the VM is not online here.
  if (Standby(vpc)) co_return result;
  absl::Status invalidated;
  if (update->moved || update->readdressed) {
    invalidated = co_await Invalidate(vpc, vni, update->readdressed ? update->old_ipv4 : ipv4);
  }
  if (update->moved) {
    absl::Status s = co_await ProgramChanged(update->old_host);
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  }
  bool bound = BoundPort(endpoint.host, endpoint.iface_id).has_value();
  absl::Status programmed = co_await ProgramChanged(endpoint.host);
  if (!programmed.ok()) {
    // The endpoint stays in the DB, pending: its host gets the rules when
    // it can be reached again (the HostProgrammer keeps them wanted).
    co_return absl::Status(
        programmed.code(),
        absl::StrCat("endpoint ", endpoint.key, " is stored but pending: ", programmed.message()));
  }
  // The VM's own rules are in, but a host may still send its traffic to
  // where it was: not done until the queued deletes are confirmed.
  if (!invalidated.ok()) co_return StoredButPending("endpoint " + endpoint.key, invalidated);
  result.online = bound && Designated(endpoint.host);
  co_return result;
}

asio::awaitable<absl::Status> Gateway::DeleteEndpoint(std::string key) {
  auto removal = db_.DeleteEndpoint(key);
  if (!removal.ok()) co_return removal.status();
  MirrorRemoval(*removal, false);
  if (Standby(removal->vpc)) co_return absl::OkStatus();  // No host is ours to touch.
  absl::Status invalidated;
  for (const RemovedEndpoint& e : removal->endpoints) {
    absl::Status i = co_await Invalidate(removal->vpc, removal->vni, e.ipv4);
    if (invalidated.ok()) invalidated = i;
    absl::Status s = co_await ProgramChanged(e.host);
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  }
  for (const std::string& host : removal->released_hosts) {
    absl::Status s = co_await ProgramChanged(host);
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  }
  if (!invalidated.ok()) co_return StoredButPending("the deletion of endpoint " + key, invalidated);
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<size_t>> Gateway::DeleteVpc(std::string id, bool keep_direct_paths) {
  const bool standby = Standby(id);
  auto removal = db_.DeleteVpc(id);
  if (!removal.ok()) co_return removal.status();
  offload_.erase(removal->vni);
  MirrorRemoval(*removal, true);
  // A standby VPC had no rules on any host, and its direct paths are the
  // serving cluster's concern.
  if (standby) co_return removal->endpoints.size();
  std::vector<std::string> hosts = removal->released_hosts;
  absl::Status invalidated;
  if (!keep_direct_paths) {
    // Every direct path of the VPC, on every host that held it at once.
    DirectPathDeletes deletes;
    deletes.vnis.insert(removal->vni);
    invalidated = co_await SendDeletes(hosts, deletes);
  }
  for (const std::string& host : hosts) {
    absl::Status s = co_await ProgramChanged(host);
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  }
  if (!invalidated.ok()) co_return StoredButPending("the deletion of vpc " + id, invalidated);
  co_return removal->endpoints.size();
}

asio::awaitable<absl::StatusOr<size_t>> Gateway::DeleteNetwork(std::string vpc,
                                                               std::string network) {
  auto removal = db_.DeleteNetwork(vpc, network);
  if (!removal.ok()) co_return removal.status();
  MirrorRemoval(*removal, false);
  if (Standby(vpc)) co_return removal->endpoints.size();  // No host is ours to touch.
  std::vector<Ipv4> ips;
  ips.reserve(removal->endpoints.size());
  std::set<std::string> hosts(removal->released_hosts.begin(), removal->released_hosts.end());
  for (const RemovedEndpoint& e : removal->endpoints) {
    ips.push_back(e.ipv4);
    hosts.insert(e.host);
  }
  absl::Status invalidated = co_await InvalidateAll(removal->vpc, removal->vni, std::move(ips));
  for (const std::string& host : hosts) {
    absl::Status s = co_await ProgramChanged(host);
    if (!s.ok()) spdlog::warn("{}", std::string(s.message()));
  }
  if (!invalidated.ok()) {
    co_return StoredButPending(absl::StrCat("the deletion of network ", network, " of vpc ", vpc),
                               invalidated);
  }
  co_return removal->endpoints.size();
}

asio::awaitable<absl::Status> Gateway::LoadVpc(Vpc vpc, std::vector<Network> networks,
                                               std::vector<Endpoint> endpoints) {
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (endpoints[i].vpc != vpc.id) {
      co_return absl::InvalidArgumentError(absl::StrCat("endpoints[", i, "]: vpc '",
                                                        endpoints[i].vpc, "' is not vpc '", vpc.id,
                                                        "' being loaded"));
    }
  }
  absl::Status valid = model::ValidateOffload(vpc.offload, "vpc.offload");
  if (!valid.ok()) co_return valid;
  absl::Status added = db_.AddVpc(vpc, networks);
  if (!added.ok()) co_return added;
  if (vpc.offload != model::OffloadPolicy{}) offload_[vpc.vni] = vpc.offload;
  absl::Status loaded = db_.AddEndpoints(endpoints);
  if (!loaded.ok()) {
    // All or nothing: the endpoints left nothing behind, and the VPC, still
    // empty, goes again. No host held it, so no host needs programming.
    auto removed = db_.DeleteVpc(vpc.id);
    if (!removed.ok() || !removed->endpoints.empty()) Fatal("LoadVpc: rollback of " + vpc.id);
    offload_.erase(vpc.vni);
    co_return loaded;
  }
  if (bridge_) {
    bridge_->PutVpc(vpc.vni);
    MirrorEndpoints(endpoints);
  }
  // Held, not served: no host is programmed (nor armed) for it until
  // SetVpcStandby(false).
  if (vpc.standby) co_return absl::OkStatus();
  auto holding = db_.HostsOfVpc(vpc.id);
  if (!holding.ok()) Fatal("LoadVpc: vpc " + vpc.id + " missing right after its load");
  std::vector<std::string> hosts;
  for (const Holding& h : *holding) hosts.emplace_back(h.name);
  absl::Status first_error = co_await ProgramAll(std::move(hosts), true);
  if (!first_error.ok()) {
    // Stored, and pending on the hosts that could not confirm (as for
    // UpdateEndpoint): their programmers keep the rules wanted.
    co_return absl::Status(
        first_error.code(),
        absl::StrCat("vpc ", vpc.id, " is stored but pending: ", first_error.message()));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Gateway::SetVpcStandby(std::string vpc, bool standby) {
  auto changed = db_.SetVpcStandby(vpc, standby);
  if (!changed.ok()) co_return changed.status();
  if (!*changed) co_return absl::OkStatus();  // The same value again: nothing to send.
  // Standby → served: its hosts get its VPC and VM rules (and the group, if
  // the VPC is the first of the cluster there), armed as LoadVpc arms them.
  // Served → standby: the same hosts, without them.
  auto holding = db_.HostsOfVpc(vpc);
  if (!holding.ok()) Fatal("SetVpcStandby: vpc " + vpc + " missing right after its change");
  std::vector<std::string> hosts;
  for (const Holding& h : *holding) hosts.emplace_back(h.name);
  absl::Status first_error = co_await ProgramAll(std::move(hosts), true);
  if (!first_error.ok()) {
    co_return absl::Status(
        first_error.code(),
        absl::StrCat("vpc ", vpc, " is stored ", standby ? "as standby" : "as served",
                     " but pending: ", first_error.message()));
  }
  co_return absl::OkStatus();
}

std::optional<uint32_t> Gateway::BoundPort(const std::string& host,
                                           const std::string& iface_id) const {
  auto bound = ports_.find(host);
  if (bound == ports_.end()) return std::nullopt;
  auto it = bound->second.find(iface_id);
  if (it == bound->second.end()) return std::nullopt;
  return it->second;
}

bool Gateway::SetPort(const std::string& host, const std::string& iface_id,
                      std::optional<uint32_t> ofport) {
  if (ofport) {
    auto [it, inserted] = ports_[host].try_emplace(iface_id, *ofport);
    if (!inserted && it->second == *ofport) return false;
    it->second = *ofport;
    return true;
  }
  auto bound = ports_.find(host);
  if (bound == ports_.end() || bound->second.erase(iface_id) == 0) return false;
  if (bound->second.empty()) ports_.erase(bound);
  return true;
}

asio::awaitable<absl::Status> Gateway::BindPort(std::string host, std::string iface_id,
                                                std::optional<uint32_t> ofport) {
  if (!SetPort(host, iface_id, ofport)) co_return absl::OkStatus();
  co_return co_await Program(host);
}

asio::awaitable<absl::Status> Gateway::AddEndpoints(std::vector<Endpoint> endpoints) {
  absl::Status added = db_.AddEndpoints(endpoints);
  if (!added.ok()) co_return added;
  MirrorEndpoints(endpoints);
  std::set<std::string> unique;
  for (const Endpoint& e : endpoints) {
    if (!Standby(e.vpc)) unique.insert(e.host);  // A standby VPC's hosts are not ours.
  }
  std::vector<std::string> hosts(unique.begin(), unique.end());
  absl::Status first_error = co_await ProgramAll(std::move(hosts), true);
  if (!first_error.ok()) {
    co_return absl::Status(
        first_error.code(),
        absl::StrCat("the endpoints are stored but pending: ", first_error.message()));
  }
  co_return absl::OkStatus();
}

void Gateway::AttachBridge(std::shared_ptr<GatewayBridge> bridge) {
  bridge_ = std::move(bridge);
  if (!bridge_) return;
  bridge_->SetKeepUnknown(!loaded_);
  db_.ForEachVpc([&](const VpcView& v) { bridge_->PutVpc(v.vni); });
  db_.ForEachEndpoint(
      [&](const EndpointView& e) { bridge_->PutEndpoint(e.vni, e.ipv4, e.host_underlay); });
}

void Gateway::AttachOwnNode(ofconn::Target ovsdb) {
  if (own_node_) own_node_->Stop();
  NodeOvsdb::Options o;
  o.name = cluster_.self.empty() ? "gateway" : cluster_.self;
  o.target = std::move(ovsdb);
  own_node_ = NodeOvsdb::Start(ex_, std::move(o));
  UpdateTunnelPorts();
}

void Gateway::StartNodes() {
  for (const Host& h : cluster_.hosts) {
    if (nodes_.contains(h.name) || h.ovsdb_target.empty()) continue;
    NodeOvsdb::Options o;
    o.name = h.name;
    o.target = *ofconn::ParseTarget(h.ovsdb_target);
    std::string host = h.name;
    o.on_bind = [this, host](std::string iface_id, std::optional<uint32_t> ofport) {
      return OnBind(host, std::move(iface_id), ofport);
    };
    nodes_[h.name] = NodeOvsdb::Start(ex_, std::move(o));
  }
  UpdateTunnelPorts();
}

void Gateway::UpdateTunnelPorts() {
  if (cluster_.cluster_id == 0) return;  // Not before a cluster: nothing is known yet.
  auto on_hosts = TunnelPortsOnHost(cluster_.members);
  if (!on_hosts.ok()) Fatal("tunnel ports of a checked cluster: " + on_hosts.status().ToString());
  for (auto& [name, node] : nodes_) {
    // The designated gateway keeps a host's tunnel ports; the others would
    // want the same ones, but one writer avoids racing transactions. One
    // that kept them before (designated then) stops: a member turned
    // standby and then removed from the cluster gets no SetCluster any
    // more, and would otherwise keep its old ports there forever.
    if (!Designated(name)) {
      node->ReleaseTunnelPorts(ClusterTag(cluster_.cluster_id));
      continue;
    }
    absl::Status s = node->SetTunnelPorts(*on_hosts, ClusterTag(cluster_.cluster_id));
    if (!s.ok()) spdlog::warn("{}: tunnel ports: {}", name, s.ToString());
  }
  if (own_node_) {
    auto on_gateway = TunnelPortsOnGateway(cluster_.hosts);
    if (!on_gateway.ok())
      Fatal("tunnel ports of a checked cluster: " + on_gateway.status().ToString());
    absl::Status s = own_node_->SetTunnelPorts(*on_gateway);
    if (!s.ok()) spdlog::warn("own tunnel ports: {}", s.ToString());
  }
}

asio::awaitable<void> Gateway::OnBind(std::string host, std::string iface_id,
                                      std::optional<uint32_t> ofport) {
  absl::Status s = co_await BindPort(host, iface_id, ofport);
  if (!s.ok()) spdlog::warn("{}: binding {}: {}", host, iface_id, s.ToString());
}

void Gateway::MirrorEndpoints(const std::vector<Endpoint>& endpoints) {
  if (!bridge_) return;
  for (const Endpoint& e : endpoints) {
    auto view = db_.FindEndpoint(e.key);
    if (view) bridge_->PutEndpoint(view->vni, view->ipv4, view->host_underlay);
  }
}

void Gateway::MirrorHost(const std::string& host) {
  if (!bridge_) return;
  (void)db_.ForEachEndpointOfHost(
      host, [&](const EndpointView& e) { bridge_->PutEndpoint(e.vni, e.ipv4, e.host_underlay); });
}

void Gateway::MirrorRemoval(const Removal& removal, bool vpc_gone) {
  if (!bridge_) return;
  for (const RemovedEndpoint& e : removal.endpoints) bridge_->RemoveEndpoint(removal.vni, e.ipv4);
  if (vpc_gone) bridge_->RemoveVpc(removal.vni);
}

asio::awaitable<absl::Status> Gateway::Invalidate(const std::string& vpc, uint32_t vni, Ipv4 ipv4) {
  std::vector<Ipv4> ips;
  ips.push_back(ipv4);
  co_return co_await InvalidateAll(vpc, vni, std::move(ips));
}

std::vector<Gateway::VpcAddresses> Gateway::AddressesOnHost(const std::string& host) const {
  std::vector<VpcAddresses> out;
  std::map<uint32_t, size_t> by_vni;  // VNI → index in `out`.
  (void)db_.ForEachEndpointOfHost(host, [&](const EndpointView& e) {
    auto [it, added] = by_vni.try_emplace(e.vni, out.size());
    if (added) {
      VpcAddresses a;
      a.vpc = std::string(e.vpc);
      a.vni = e.vni;
      out.push_back(std::move(a));
    }
    out[it->second].ips.push_back(e.ipv4);
  });
  return out;
}

asio::awaitable<absl::Status> Gateway::InvalidateAll(const std::string& vpc, uint32_t vni,
                                                     std::vector<Ipv4> ips) {
  // A standby VPC's direct paths are the serving cluster's to invalidate.
  if (ips.empty() || Standby(vpc)) co_return absl::OkStatus();
  auto holding = db_.HostsOfVpc(vpc);
  if (!holding.ok()) co_return absl::OkStatus();
  std::vector<std::string> hosts;
  for (const Holding& h : *holding) hosts.emplace_back(h.name);
  DirectPathDeletes deletes;
  for (Ipv4 ip : ips) deletes.paths.emplace(vni, ip);
  co_return co_await SendDeletes(hosts, deletes);
}

std::vector<of::FlowMod> Gateway::DirectPathDeletes::FlowMods() const {
  std::vector<of::FlowMod> mods;
  mods.reserve(vnis.size() + paths.size());
  for (uint32_t vni : vnis) mods.push_back(pipeline::DirectPathDeleteVpc(vni));
  for (const auto& [vni, ip] : paths) {
    if (!vnis.contains(vni)) mods.push_back(pipeline::DirectPathDelete(vni, ip));
  }
  return mods;
}

asio::awaitable<absl::Status> Gateway::SendDeletes(const std::vector<std::string>& hosts,
                                                   const DirectPathDeletes& deletes) {
  if (deletes.empty()) co_return absl::OkStatus();
  // Every host at once: the time to invalidate is one round trip, not one
  // per host holding the VPC.
  std::vector<std::string> targets;
  for (const std::string& h : hosts) {
    if (programmer(h) != nullptr) targets.push_back(h);
  }
  std::vector<absl::Status> results(targets.size());
  size_t pending = targets.size();
  ofconn::Signal done(ex_);
  for (size_t i = 0; i < targets.size(); ++i) {
    std::vector<of::FlowMod> mods = deletes.FlowMods();
    counters_.invalidations += mods.size();
    asio::co_spawn(ex_, programmer(targets[i])->SendDirectPaths(std::move(mods)),
                   [&results, &pending, &done, i](std::exception_ptr e, absl::Status s) {
                     results[i] = e ? absl::InternalError("direct-path delete threw") : s;
                     if (--pending == 0) done.Notify();
                   });
  }
  while (pending > 0) co_await done.Wait();
  std::vector<std::string> failed;
  absl::Status first;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (results[i].ok()) continue;
    spdlog::warn("invalidation on host {} not confirmed, queued: {}", targets[i],
                 std::string(results[i].message()));
    Requeue(targets[i], deletes);
    failed.push_back(targets[i]);
    if (first.ok()) first = results[i];
  }
  if (failed.empty()) co_return absl::OkStatus();
  co_return absl::UnavailableError(
      absl::StrCat("invalidation on host", failed.size() > 1 ? "s " : " ",
                   absl::StrJoin(failed, ", "), " not confirmed (", first.message(),
                   "); the deletes are queued and sent again until confirmed"));
}

void Gateway::Requeue(const std::string& host, const DirectPathDeletes& deletes) {
  auto [it, added] = pending_deletes_.try_emplace(host);
  it->second.paths.insert(deletes.paths.begin(), deletes.paths.end());
  it->second.vnis.insert(deletes.vnis.begin(), deletes.vnis.end());
  counters_.invalidations_queued += deletes.FlowMods().size();
  if (added) asio::co_spawn(ex_, Redeliver(host, alive_), asio::detached);
}

size_t Gateway::PendingInvalidations(const std::string& host) const {
  auto it = pending_deletes_.find(host);
  return it == pending_deletes_.end() ? 0 : it->second.FlowMods().size();
}

asio::awaitable<void> Gateway::Redeliver(std::string host, std::shared_ptr<bool> alive) {
  // Disconnected: looked at every kPoll, so that the deletes go as soon as
  // the session is back. Connected but failing (barrier timeout, an error):
  // again after a backoff.
  constexpr Millis kPoll = 100;
  constexpr Millis kMaxBackoff = 5000;
  Millis backoff = kPoll;
  Millis wait = kPoll;
  ClockTimer timer(ex_, *options_.clock);
  while (true) {
    timer.ExpiresAfter(wait);
    co_await timer.Wait();
    if (!*alive) co_return;  // The Gateway is gone.
    wait = kPoll;
    auto it = pending_deletes_.find(host);
    if (it == pending_deletes_.end()) co_return;
    HostProgrammer* p = programmer(host);
    if (p == nullptr) {
      spdlog::warn(
          "host {} has no OpenFlow session any more: {} queued direct-path deletes dropped", host,
          it->second.FlowMods().size());
      pending_deletes_.erase(it);
      co_return;
    }
    if (!p->connected()) continue;
    const DirectPathDeletes sent = it->second;
    std::vector<of::FlowMod> mods = sent.FlowMods();
    const size_t n = mods.size();
    absl::Status s = co_await p->SendDirectPaths(std::move(mods));
    if (!*alive) co_return;
    it = pending_deletes_.find(host);
    if (it == pending_deletes_.end()) co_return;
    if (!s.ok()) {
      spdlog::warn("{} queued direct-path deletes on host {} not confirmed: {}", n, host,
                   std::string(s.message()));
      wait = backoff;
      backoff = std::min(2 * backoff, kMaxBackoff);
      continue;
    }
    counters_.invalidations_resent += n;
    backoff = kPoll;
    // Deletes queued while these were out stay for the next round.
    for (const auto& path : sent.paths) it->second.paths.erase(path);
    for (uint32_t vni : sent.vnis) it->second.vnis.erase(vni);
    spdlog::info("host {}: {} queued direct-path deletes confirmed", host, n);
    if (it->second.empty()) {
      pending_deletes_.erase(it);
      co_return;
    }
  }
}

absl::Status Gateway::StoredButPending(const std::string& what, const absl::Status& why) {
  return absl::UnavailableError(absl::StrCat(what, " is stored but pending: ", why.message()));
}

}  // namespace shortcut::gateway
