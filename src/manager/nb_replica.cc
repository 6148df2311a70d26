#include "src/manager/nb_replica.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/manager/nb_row_check.h"

namespace shortcut::manager {
namespace {

using ovsdb::Json;
using ovsdb::RowChange;

constexpr char kGlobal[] = "NB_Global";
constexpr char kHost[] = "Host";
constexpr char kGateway[] = "Gateway";
constexpr char kCluster[] = "Cluster";
constexpr char kVpc[] = "Vpc";
constexpr char kNetwork[] = "Network";
constexpr char kEndpoint[] = "Endpoint";

// The order references need: a row's referents are read before it.
const std::vector<std::string>& SmallTables() {
  static const std::vector<std::string> kTables = {kGlobal, kCluster, kHost,
                                                   kVpc,    kGateway, kNetwork};
  return kTables;
}

template <typename Map, typename K>
std::optional<std::string> FindUuid(const Map& m, const K& key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

void AddToIndex(absl::flat_hash_map<std::string, std::set<std::string>>& index,
                const std::string& group, const std::string& key) {
  index[group].insert(key);
}

void RemoveFromIndex(absl::flat_hash_map<std::string, std::set<std::string>>& index,
                     const std::string& group, const std::string& key) {
  auto it = index.find(group);
  if (it == index.end()) return;
  it->second.erase(key);
  if (it->second.empty()) index.erase(it);
}

// A row refused after it was good keeps the last good values of the
// columns its check covers; the others (managerd's own: a gateway's state
// and role, a VPC's cluster and move) follow the database, so that
// managerd's writes still read back.
GatewayRow KeepChecked(const GatewayRow& good, GatewayRow now) {
  now.underlay_ipv4 = good.underlay_ipv4;
  now.grpc_address = good.grpc_address;
  now.capacity = good.capacity;
  return now;
}
VpcRow KeepChecked(const VpcRow& good, VpcRow now) {
  now.vpc.vni = good.vpc.vni;
  now.vpc.router_mac = good.vpc.router_mac;
  now.vpc.offload = good.vpc.offload;
  return now;
}

std::string NetworkText(const NetworkKey& key) { return absl::StrCat(key.first, "/", key.second); }

}  // namespace

std::vector<ovsdb::TableMonitor> NbMonitoredTables() {
  return {
      {kGlobal,
       {"overload_vms_per_gateway", "underload_vms_per_gateway", "min_cluster_members",
        "health_deadline_ms", "hold_down_ms", "seqno", "active_manager", "active_manager_address",
        "active_since_ms"},
       nullptr},
      {kHost, {"name", "underlay_ip", "openflow", "ovsdb", "direct_path_budget"}, nullptr},
      {kGateway,
       {"name", "underlay_ip", "grpc_address", "capacity", "cluster", "tunnel_ofport", "state",
        "instance_id", "detail", "role"},
       nullptr},
      {kCluster, {"cluster_id"}, nullptr},
      {kVpc,
       {"vpc_id", "vni", "router_mac", "cluster", "moving_to", "move_phase", "offload_mode",
        "offload_packets", "offload_bytes", "offload_window_ms"},
       nullptr},
      {kNetwork, {"vpc", "network_id", "ipv4_cidr", "ipv6_cidr"}, nullptr},
      {kEndpoint,
       {"key", "vpc", "network", "ipv4", "ipv6", "mac", "host", "iface_id", "status"},
       nullptr},
  };
}

std::optional<std::string> NbReplica::HostUuid(const std::string& name) const {
  return FindUuid(host_uuid_, name);
}
std::optional<std::string> NbReplica::ClusterUuid(uint32_t id) const {
  return FindUuid(cluster_uuid_, id);
}
std::optional<std::string> NbReplica::VpcUuid(const std::string& id) const {
  return FindUuid(vpc_uuid_, id);
}
std::optional<std::string> NbReplica::NetworkUuid(const NetworkKey& key) const {
  return FindUuid(network_uuid_, key);
}

std::optional<std::string> NbReplica::EndpointUuid(const std::string& key) const {
  auto it = endpoint_uuids_.find(key);
  if (it == endpoint_uuids_.end()) return std::nullopt;
  return FormatUuid128(it->second);
}

NbRow NbReplica::Current(NbTable table, const std::string& a, const std::string& b) const {
  switch (table) {
    case NbTable::kHost:
      if (auto it = state_.hosts.find(a); it != state_.hosts.end()) return it->second;
      break;
    case NbTable::kGateway:
      if (auto it = state_.gateways.find(a); it != state_.gateways.end()) return it->second;
      break;
    case NbTable::kCluster: {
      uint32_t id = 0;
      if (!absl::SimpleAtoi(a, &id)) break;
      if (auto it = state_.clusters.find(id); it != state_.clusters.end()) return it->second;
      break;
    }
    case NbTable::kVpc:
      if (auto it = state_.vpcs.find(a); it != state_.vpcs.end()) return it->second;
      break;
    case NbTable::kNetwork:
      if (auto it = state_.networks.find(NetworkKey(a, b)); it != state_.networks.end()) {
        return it->second;
      }
      break;
    case NbTable::kEndpoint:
      if (auto it = state_.endpoints.find(a); it != state_.endpoints.end()) return it->second;
      break;
    case NbTable::kGlobal:
      if (has_global()) return state_.settings;
      break;
  }
  return std::monostate{};
}

EndpointRefs NbReplica::Refs() const {
  EndpointRefs r;
  r.vpc = [this](const std::string& uuid) -> std::string {
    auto it = vpc_by_uuid_.find(uuid);
    return it == vpc_by_uuid_.end() ? "" : it->second;
  };
  r.network = [this](const std::string& uuid) -> std::string {
    auto it = network_by_uuid_.find(uuid);
    return it == network_by_uuid_.end() ? "" : it->second.second;
  };
  r.host = [this](const std::string& uuid) -> std::string {
    auto it = host_by_uuid_.find(uuid);
    return it == host_by_uuid_.end() ? "" : it->second;
  };
  return r;
}

absl::Status NbReplica::ApplyUpdate2(Json table_updates2) {
  if (!small_) return absl::FailedPreconditionError("update before the initial contents");
  if (!table_updates2.is_object())
    return absl::InvalidArgumentError("table-updates2: not an object");
  Json endpoints;
  if (auto it = table_updates2.find(kEndpoint); it != table_updates2.end()) {
    endpoints = std::move(*it);
    table_updates2.erase(it);
  }
  if (auto s = small_->ApplyUpdate2(table_updates2); !s.ok()) return s;
  if (auto s = ApplySmallChanges(small_->TakeChanges()); !s.ok()) return s;
  if (endpoints.is_null()) return absl::OkStatus();
  return ApplyEndpoints(std::move(endpoints), false);
}

absl::Status NbReplica::Resync(Json table_updates2, const ovsdb::DbSchema& schema) {
  if (!table_updates2.is_object())
    return absl::InvalidArgumentError("table-updates2: not an object");
  if (!small_ || small_->schema().version != schema.version) small_.emplace(schema);
  Json endpoints = Json::object();
  if (auto it = table_updates2.find(kEndpoint); it != table_updates2.end()) {
    endpoints = std::move(*it);
    table_updates2.erase(it);
  }
  if (auto s = small_->Resync(table_updates2, SmallTables()); !s.ok()) return s;
  small_->TakeChanges();  // Compared by key below instead.
  RebuildSmall();
  return ApplyEndpoints(std::move(endpoints), true);
}

void NbReplica::RebuildSmall() {
  const ovsdb::Replica& r = *small_;
  host_by_uuid_.clear();
  host_uuid_.clear();
  cluster_by_uuid_.clear();
  cluster_uuid_.clear();
  gateway_by_uuid_.clear();
  vpc_by_uuid_.clear();
  vpc_uuid_.clear();
  network_by_uuid_.clear();
  network_uuid_.clear();
  auto cluster_id = [this](const std::string& uuid) -> uint32_t {
    auto it = cluster_by_uuid_.find(uuid);
    return it == cluster_by_uuid_.end() ? 0 : it->second;
  };
  auto vpc_id = [this](const std::string& uuid) -> std::string {
    auto it = vpc_by_uuid_.find(uuid);
    return it == vpc_by_uuid_.end() ? "" : it->second;
  };

  // NB_Global.
  std::string global_uuid;
  Settings settings;
  int64_t seqno = -1;
  state_.active_manager = ActiveManager{};
  for (const auto& [uuid, row] : r.Rows(kGlobal)) {
    global_uuid = uuid;
    settings = DecodeSettings(row, &seqno);
    state_.active_manager = DecodeActiveManager(row);
  }
  SetGlobal(std::move(global_uuid), settings);
  seqno_ = seqno;

  std::map<uint32_t, ClusterRow> clusters;
  for (const auto& [uuid, row] : r.Rows(kCluster)) {
    ClusterRow c = DecodeCluster(row);
    cluster_by_uuid_[uuid] = c.id;
    cluster_uuid_[c.id] = uuid;
    clusters[c.id] = c;
  }
  // Refused rows keep their uuid ↔ key maps (references resolve) and, when
  // they were good before, their last good values.
  absl::flat_hash_set<std::string> present;
  absl::flat_hash_map<std::string, HostRow> hosts;
  for (const auto& [uuid, row] : r.Rows(kHost)) {
    HostRow h = DecodeHost(row);
    host_by_uuid_[uuid] = h.host.name;
    host_uuid_[h.host.name] = uuid;
    present.insert(uuid);
    const std::string name = h.host.name;
    auto cur = state_.hosts.find(name);
    if (Admit(kHost, uuid, name, CheckHostRow(h), cur != state_.hosts.end())) {
      hosts[name] = std::move(h);
    } else if (cur != state_.hosts.end()) {
      hosts[name] = cur->second;
    }
  }
  absl::flat_hash_map<std::string, VpcRow> vpcs;
  for (const auto& [uuid, row] : r.Rows(kVpc)) {
    VpcRow v = DecodeVpc(row, cluster_id);
    vpc_by_uuid_[uuid] = v.vpc.id;
    vpc_uuid_[v.vpc.id] = uuid;
    present.insert(uuid);
    const std::string id = v.vpc.id;
    auto cur = state_.vpcs.find(id);
    if (Admit(kVpc, uuid, id, CheckVpcRow(v), cur != state_.vpcs.end())) {
      vpcs[id] = std::move(v);
    } else if (cur != state_.vpcs.end()) {
      vpcs[id] = KeepChecked(cur->second, std::move(v));
    }
  }
  absl::flat_hash_map<std::string, GatewayRow> gateways;
  for (const auto& [uuid, row] : r.Rows(kGateway)) {
    GatewayRow g = DecodeGateway(row, cluster_id);
    gateway_by_uuid_[uuid] = g.name;
    present.insert(uuid);
    const std::string name = g.name;
    auto cur = state_.gateways.find(name);
    if (Admit(kGateway, uuid, name, CheckGatewayRow(g), cur != state_.gateways.end())) {
      gateways[name] = std::move(g);
    } else if (cur != state_.gateways.end()) {
      gateways[name] = KeepChecked(cur->second, std::move(g));
    }
  }

  // Deletions, then the rows as they are now (equal rows are no change).
  std::vector<uint32_t> gone_clusters;
  for (const auto& [id, row] : state_.clusters) {
    if (!clusters.contains(id)) gone_clusters.push_back(id);
  }
  for (uint32_t id : gone_clusters) EraseCluster(id);
  for (auto& [id, row] : clusters) SetCluster(row);
  std::vector<std::string> gone;
  for (const auto& [name, row] : state_.hosts) {
    if (!hosts.contains(name)) gone.push_back(name);
  }
  for (const std::string& name : gone) EraseHost(name);
  for (auto& [name, row] : hosts) SetHost(std::move(row));
  gone.clear();
  for (const auto& [id, row] : state_.vpcs) {
    if (!vpcs.contains(id)) gone.push_back(id);
  }
  for (const std::string& id : gone) EraseVpc(id);
  for (auto& [id, row] : vpcs) SetVpc(std::move(row));
  gone.clear();
  for (const auto& [name, row] : state_.gateways) {
    if (!gateways.contains(name)) gone.push_back(name);
  }
  for (const std::string& name : gone) EraseGateway(name);
  for (auto& [name, row] : gateways) SetGateway(std::move(row));
  // Networks once the VPCs are in place: a network needs its VPC in use.
  std::map<NetworkKey, NetworkRow> networks;
  for (const auto& [uuid, row] : r.Rows(kNetwork)) {
    NetworkRow n = DecodeNetwork(row, vpc_id);
    NetworkKey key(n.vpc, n.network.id);
    network_by_uuid_[uuid] = key;
    network_uuid_[key] = uuid;
    present.insert(uuid);
    auto cur = state_.networks.find(key);
    if (Admit(kNetwork, uuid, NetworkText(key), CheckNetworkRow(n, state_),
              cur != state_.networks.end())) {
      networks[key] = std::move(n);
    } else if (cur != state_.networks.end()) {
      networks[key] = cur->second;
    }
  }
  std::vector<NetworkKey> gone_networks;
  for (const auto& [key, row] : state_.networks) {
    if (!networks.contains(key)) gone_networks.push_back(key);
  }
  for (const NetworkKey& key : gone_networks) EraseNetwork(key);
  for (auto& [key, row] : networks) SetNetwork(std::move(row));

  std::vector<std::string> forgotten;
  for (const auto& [uuid, refused] : state_.refused_rows) {
    if (!present.contains(uuid)) forgotten.push_back(uuid);
  }
  for (const std::string& uuid : forgotten) Forget(uuid);
  admitted_ = false;  // Endpoints are all checked again by the resync.
}

absl::Status NbReplica::ApplySmallChanges(std::vector<RowChange> changes) {
  auto cluster_id = [this](const std::string& uuid) -> uint32_t {
    auto it = cluster_by_uuid_.find(uuid);
    return it == cluster_by_uuid_.end() ? 0 : it->second;
  };
  auto vpc_id = [this](const std::string& uuid) -> std::string {
    auto it = vpc_by_uuid_.find(uuid);
    return it == vpc_by_uuid_.end() ? "" : it->second;
  };
  for (const std::string& table : SmallTables()) {
    // Old rows first (a key may pass from one row to another in one update),
    // then the new ones.
    for (const RowChange& c : changes) {
      if (c.table != table || c.kind == RowChange::Kind::kInsert) continue;
      const bool deleted = c.kind == RowChange::Kind::kDelete;
      if (deleted) Forget(c.uuid);
      if (table == kGlobal) {
        if (deleted) {
          seqno_ = -1;
          SetGlobal("", Settings{});
          state_.active_manager = ActiveManager{};
        }
      } else if (table == kCluster) {
        auto it = cluster_by_uuid_.find(c.uuid);
        if (it == cluster_by_uuid_.end()) continue;
        uint32_t id = it->second;
        if (deleted || DecodeCluster(c.new_row).id != id) EraseCluster(id);
        cluster_uuid_.erase(id);
        cluster_by_uuid_.erase(it);
      } else if (table == kHost) {
        auto it = host_by_uuid_.find(c.uuid);
        if (it == host_by_uuid_.end()) continue;
        if (deleted || DecodeHost(c.new_row).host.name != it->second) EraseHost(it->second);
        host_uuid_.erase(it->second);
        host_by_uuid_.erase(it);
      } else if (table == kVpc) {
        auto it = vpc_by_uuid_.find(c.uuid);
        if (it == vpc_by_uuid_.end()) continue;
        if (deleted || DecodeVpc(c.new_row, cluster_id).vpc.id != it->second) EraseVpc(it->second);
        vpc_uuid_.erase(it->second);
        vpc_by_uuid_.erase(it);
      } else if (table == kGateway) {
        auto it = gateway_by_uuid_.find(c.uuid);
        if (it == gateway_by_uuid_.end()) continue;
        if (deleted || DecodeGateway(c.new_row, cluster_id).name != it->second) {
          EraseGateway(it->second);
        }
        gateway_by_uuid_.erase(it);
      } else if (table == kNetwork) {
        auto it = network_by_uuid_.find(c.uuid);
        if (it == network_by_uuid_.end()) continue;
        if (deleted) {
          EraseNetwork(it->second);
        } else {
          NetworkRow n = DecodeNetwork(c.new_row, vpc_id);
          if (NetworkKey(n.vpc, n.network.id) != it->second) EraseNetwork(it->second);
        }
        network_uuid_.erase(it->second);
        network_by_uuid_.erase(it);
      }
    }
    for (const RowChange& c : changes) {
      if (c.table != table || c.kind == RowChange::Kind::kDelete) continue;
      if (table == kGlobal) {
        SetGlobal(c.uuid, DecodeSettings(c.new_row, &seqno_));
        state_.active_manager = DecodeActiveManager(c.new_row);
      } else if (table == kCluster) {
        ClusterRow row = DecodeCluster(c.new_row);
        cluster_by_uuid_[c.uuid] = row.id;
        cluster_uuid_[row.id] = c.uuid;
        SetCluster(row);
      } else if (table == kHost) {
        HostRow row = DecodeHost(c.new_row);
        host_by_uuid_[c.uuid] = row.host.name;
        host_uuid_[row.host.name] = c.uuid;
        const bool had = state_.hosts.contains(row.host.name);
        if (Admit(kHost, c.uuid, row.host.name, CheckHostRow(row), had)) SetHost(std::move(row));
      } else if (table == kVpc) {
        VpcRow row = DecodeVpc(c.new_row, cluster_id);
        vpc_by_uuid_[c.uuid] = row.vpc.id;
        vpc_uuid_[row.vpc.id] = c.uuid;
        auto cur = state_.vpcs.find(row.vpc.id);
        const bool had = cur != state_.vpcs.end();
        if (Admit(kVpc, c.uuid, row.vpc.id, CheckVpcRow(row), had)) {
          SetVpc(std::move(row));
        } else if (had) {
          SetVpc(KeepChecked(cur->second, std::move(row)));
        }
      } else if (table == kGateway) {
        GatewayRow row = DecodeGateway(c.new_row, cluster_id);
        gateway_by_uuid_[c.uuid] = row.name;
        auto cur = state_.gateways.find(row.name);
        const bool had = cur != state_.gateways.end();
        if (Admit(kGateway, c.uuid, row.name, CheckGatewayRow(row), had)) {
          SetGateway(std::move(row));
        } else if (had) {
          SetGateway(KeepChecked(cur->second, std::move(row)));
        }
      } else if (table == kNetwork) {
        NetworkRow row = DecodeNetwork(c.new_row, vpc_id);
        NetworkKey key(row.vpc, row.network.id);
        network_by_uuid_[c.uuid] = key;
        network_uuid_[key] = c.uuid;
        const bool had = state_.networks.contains(key);
        if (Admit(kNetwork, c.uuid, NetworkText(key), CheckNetworkRow(row, state_), had)) {
          SetNetwork(std::move(row));
        }
      }
    }
  }
  if (admitted_) ReadmitDependants();
  return absl::OkStatus();
}

bool NbReplica::Admit(const char* table, const std::string& uuid, const std::string& key,
                      const absl::Status& check, bool has_current) {
  if (check.ok()) {
    if (state_.refused_rows.erase(uuid) > 0) {
      spdlog::info("northbound: {} row {} ({}) is no longer refused", table, uuid, key);
    }
    return true;
  }
  NbState::RefusedRow refused{table, key, std::string(check.message()), has_current};
  auto [it, inserted] = state_.refused_rows.try_emplace(uuid, refused);
  // Logged when it starts or changes, not again at each resync.
  if (inserted || it->second != refused) {
    spdlog::warn("northbound: {} row {} not used{}: {} (written outside the API?)", table, uuid,
                 has_current ? "; its last good values stay in use" : "", refused.why);
    it->second = std::move(refused);
  }
  return false;
}

void NbReplica::Forget(const std::string& uuid) { state_.refused_rows.erase(uuid); }

void NbReplica::ReadmitDependants() {
  admitted_ = false;
  // Networks refused for a VPC not in use (their text is checked again too).
  auto vpc_id = [this](const std::string& uuid) -> std::string {
    auto it = vpc_by_uuid_.find(uuid);
    return it == vpc_by_uuid_.end() ? "" : it->second;
  };
  std::vector<std::pair<std::string, NetworkRow>> networks;
  for (const auto& [uuid, refused] : state_.refused_rows) {
    if (refused.table != kNetwork || refused.kept) continue;
    if (const ovsdb::Row* row = small_->Find(kNetwork, uuid)) {
      networks.emplace_back(uuid, DecodeNetwork(*row, vpc_id));
    }
  }
  for (auto& [uuid, row] : networks) {
    NetworkKey key(row.vpc, row.network.id);
    if (Admit(kNetwork, uuid, NetworkText(key), CheckNetworkRow(row, state_), false)) {
      SetNetwork(std::move(row));
    }
  }
  // Endpoints refused for a VPC, network or host not in use.
  std::vector<std::pair<Uuid128, EndpointRow>> ready;
  for (const auto& [uuid, row] : rejected_) {
    if (CheckEndpointRow(row, state_).ok()) ready.emplace_back(uuid, row);
  }
  for (auto& [uuid, row] : ready) {
    if (endpoint_uuids_.contains(row.endpoint.key)) continue;  // The key is another row's now.
    SetRejected(uuid, EndpointRow{}, absl::OkStatus());
    endpoint_keys_[uuid] = row.endpoint.key;
    endpoint_uuids_[row.endpoint.key] = uuid;
    SetEndpoint(std::move(row));
  }
}

absl::Status NbReplica::ApplyEndpoints(Json updates, bool resync) {
  if (!updates.is_object()) return absl::InvalidArgumentError("Endpoint updates: not an object");
  const EndpointRefs refs = Refs();
  if (resync) {
    std::vector<std::tuple<Uuid128, EndpointRow, absl::Status>> bad;
    absl::flat_hash_map<Uuid128, std::string> keys;
    keys.reserve(updates.size());
    for (auto it = updates.begin(); it != updates.end(); ++it) {
      Uuid128 uuid;
      if (!ParseUuid128(it.key(), &uuid)) {
        return absl::InvalidArgumentError(absl::StrCat("Endpoint uuid ", it.key()));
      }
      const Json& op = it.value();
      auto row_it = op.find("initial");
      if (row_it == op.end()) row_it = op.find("insert");
      if (row_it == op.end()) continue;
      absl::StatusOr<EndpointRow> row = DecodeEndpoint(*row_it, refs);
      if (!row.ok()) return row.status();
      if (absl::Status text = CheckEndpointRow(*row, state_); !text.ok()) {
        bad.emplace_back(uuid, *std::move(row), std::move(text));
        continue;
      }
      keys[uuid] = row->endpoint.key;
      SetEndpoint(*std::move(row));
    }
    absl::flat_hash_set<Uuid128> still_bad;
    for (const auto& entry : bad) still_bad.insert(std::get<0>(entry));
    std::vector<Uuid128> mended;
    for (const auto& [uuid, row] : rejected_) {
      if (!still_bad.contains(uuid)) mended.push_back(uuid);
    }
    for (const Uuid128& uuid : mended) SetRejected(uuid, EndpointRow{}, absl::OkStatus());
    for (auto& [uuid, row, why] : bad) SetRejected(uuid, std::move(row), why);
    absl::flat_hash_set<std::string_view> present;
    present.reserve(keys.size());
    for (const auto& [uuid, key] : keys) present.insert(key);
    std::vector<std::string> gone;
    for (const auto& [key, row] : state_.endpoints) {
      if (!present.contains(key)) gone.push_back(key);
    }
    for (const std::string& key : gone) EraseEndpoint(key);
    endpoint_keys_ = std::move(keys);
    endpoint_uuids_.clear();
    endpoint_uuids_.reserve(endpoint_keys_.size());
    for (const auto& [uuid, key] : endpoint_keys_) endpoint_uuids_[key] = uuid;
    return absl::OkStatus();
  }

  // Staged whole first: a malformed entry changes nothing.
  struct Staged {
    Uuid128 uuid;
    std::string old_key;             // Empty: a new row.
    std::optional<EndpointRow> row;  // nullopt: deleted, or refused.
    std::optional<EndpointRow> refused;
    absl::Status why;  // Why `refused`.
  };
  std::vector<Staged> staged;
  staged.reserve(updates.size());
  for (auto it = updates.begin(); it != updates.end(); ++it) {
    Staged s;
    if (!ParseUuid128(it.key(), &s.uuid)) {
      return absl::InvalidArgumentError(absl::StrCat("Endpoint uuid ", it.key()));
    }
    Json& op = it.value();
    if (!op.is_object() || op.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("Endpoint ", it.key(), ": malformed update"));
    }
    const std::string& kind = op.begin().key();
    if (auto k = endpoint_keys_.find(s.uuid); k != endpoint_keys_.end()) s.old_key = k->second;
    if (kind == "insert" || kind == "initial") {
      absl::StatusOr<EndpointRow> row = DecodeEndpoint(op.begin().value(), refs);
      if (!row.ok()) return row.status();
      s.row = *std::move(row);
    } else if (kind == "modify") {
      auto cur = state_.endpoints.find(s.old_key);
      auto refused = rejected_.find(s.uuid);
      EndpointRow row;
      if (!s.old_key.empty() && cur != state_.endpoints.end()) {
        row = cur->second;
      } else if (refused != rejected_.end()) {
        row = refused->second;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("Endpoint ", it.key(), ": modify of an unknown row"));
      }
      if (auto st = ApplyEndpointDiff(op.begin().value(), refs, &row); !st.ok()) return st;
      s.row = std::move(row);
    } else if (kind != "delete") {
      return absl::InvalidArgumentError(
          absl::StrCat("Endpoint ", it.key(), ": unknown update ", kind));
    }
    if (s.row) {
      if (absl::Status text = CheckEndpointRow(*s.row, state_); !text.ok()) {
        s.refused = std::move(s.row);
        s.row.reset();
        s.why = std::move(text);
      }
    }
    staged.push_back(std::move(s));
  }
  // Removals first, so a key that moves between rows ends up present.
  for (const Staged& s : staged) {
    if (s.old_key.empty()) continue;
    if (!s.row || s.row->endpoint.key != s.old_key) {
      EraseEndpoint(s.old_key);
      // Unless another row of this update took the key already.
      if (auto u = endpoint_uuids_.find(s.old_key);
          u != endpoint_uuids_.end() && u->second == s.uuid) {
        endpoint_uuids_.erase(u);
      }
    }
    if (!s.row) endpoint_keys_.erase(s.uuid);
  }
  for (Staged& s : staged) {
    SetRejected(s.uuid, s.refused ? *std::move(s.refused) : EndpointRow{}, s.why);
    if (!s.row) continue;
    endpoint_keys_[s.uuid] = s.row->endpoint.key;
    endpoint_uuids_[s.row->endpoint.key] = s.uuid;
    SetEndpoint(*std::move(s.row));
  }
  return absl::OkStatus();
}

void NbReplica::SetRejected(const Uuid128& uuid, EndpointRow row, const absl::Status& why) {
  if (why.ok()) {
    if (rejected_.erase(uuid) == 0) return;  // The usual case: a row never refused.
    std::string text = FormatUuid128(uuid);
    state_.rejected_endpoints.erase(text);
    spdlog::info("northbound: Endpoint row {} is no longer refused", text);
    return;
  }
  std::string text = FormatUuid128(uuid);
  auto [it, inserted] =
      state_.rejected_endpoints.insert_or_assign(text, std::string(why.message()));
  // Logged when it starts or the row changes, not again at each resync.
  if (inserted || rejected_[uuid] != row) {
    spdlog::warn("northbound: Endpoint row {} not used: {} (written outside the API?)", text,
                 it->second);
  }
  rejected_[uuid] = std::move(row);
}

void NbReplica::SetHost(HostRow row) {
  auto it = state_.hosts.find(row.host.name);
  if (it != state_.hosts.end() && it->second == row) return;
  admitted_ |= it == state_.hosts.end();
  on_touch_(NbTable::kHost, row.host.name, "");
  std::string name = row.host.name;
  state_.hosts[name] = std::move(row);
}

void NbReplica::EraseHost(const std::string& name) {
  auto it = state_.hosts.find(name);
  if (it == state_.hosts.end()) return;
  on_touch_(NbTable::kHost, name, "");
  state_.hosts.erase(it);
}

void NbReplica::SetGateway(GatewayRow row) {
  auto it = state_.gateways.find(row.name);
  if (it != state_.gateways.end() && it->second == row) return;
  on_touch_(NbTable::kGateway, row.name, "");
  if (it != state_.gateways.end()) {
    if (it->second.cluster_id != 0) {
      auto g = state_.gateways_by_cluster.find(it->second.cluster_id);
      if (g != state_.gateways_by_cluster.end()) {
        g->second.erase(row.name);
        if (g->second.empty()) state_.gateways_by_cluster.erase(g);
      }
    }
  }
  if (row.cluster_id != 0) state_.gateways_by_cluster[row.cluster_id].insert(row.name);
  std::string name = row.name;
  state_.gateways[name] = std::move(row);
}

void NbReplica::EraseGateway(const std::string& name) {
  auto it = state_.gateways.find(name);
  if (it == state_.gateways.end()) return;
  on_touch_(NbTable::kGateway, name, "");
  if (it->second.cluster_id != 0) {
    auto g = state_.gateways_by_cluster.find(it->second.cluster_id);
    if (g != state_.gateways_by_cluster.end()) {
      g->second.erase(name);
      if (g->second.empty()) state_.gateways_by_cluster.erase(g);
    }
  }
  state_.gateways.erase(it);
}

void NbReplica::SetCluster(ClusterRow row) {
  auto it = state_.clusters.find(row.id);
  if (it != state_.clusters.end() && it->second == row) return;
  on_touch_(NbTable::kCluster, std::to_string(row.id), "");
  state_.clusters[row.id] = row;
}

void NbReplica::EraseCluster(uint32_t id) {
  auto it = state_.clusters.find(id);
  if (it == state_.clusters.end()) return;
  on_touch_(NbTable::kCluster, std::to_string(id), "");
  state_.clusters.erase(it);
}

void NbReplica::SetVpc(VpcRow row) {
  auto it = state_.vpcs.find(row.vpc.id);
  if (it != state_.vpcs.end() && it->second == row) return;
  admitted_ |= it == state_.vpcs.end();
  on_touch_(NbTable::kVpc, row.vpc.id, "");
  std::string id = row.vpc.id;
  state_.vpcs[id] = std::move(row);
}

void NbReplica::EraseVpc(const std::string& id) {
  auto it = state_.vpcs.find(id);
  if (it == state_.vpcs.end()) return;
  on_touch_(NbTable::kVpc, id, "");
  state_.vpcs.erase(it);
}

void NbReplica::SetNetwork(NetworkRow row) {
  NetworkKey key(row.vpc, row.network.id);
  auto it = state_.networks.find(key);
  if (it != state_.networks.end() && it->second == row) return;
  admitted_ |= it == state_.networks.end();
  on_touch_(NbTable::kNetwork, key.first, key.second);
  state_.networks[key] = std::move(row);
}

void NbReplica::EraseNetwork(const NetworkKey& key) {
  auto it = state_.networks.find(key);
  if (it == state_.networks.end()) return;
  on_touch_(NbTable::kNetwork, key.first, key.second);
  state_.networks.erase(it);
}

void NbReplica::SetEndpoint(EndpointRow row) {
  auto it = state_.endpoints.find(row.endpoint.key);
  if (it != state_.endpoints.end() && it->second == row) return;
  const std::string& key = row.endpoint.key;
  on_touch_(NbTable::kEndpoint, key, "");
  if (it != state_.endpoints.end()) {
    RemoveFromIndex(state_.endpoints_by_vpc, it->second.endpoint.vpc, key);
    RemoveFromIndex(state_.endpoints_by_host, it->second.endpoint.host, key);
    state_.UnindexAddresses(it->second.endpoint);
  }
  AddToIndex(state_.endpoints_by_vpc, row.endpoint.vpc, key);
  AddToIndex(state_.endpoints_by_host, row.endpoint.host, key);
  state_.IndexAddresses(row.endpoint);
  if (it != state_.endpoints.end()) {
    it->second = std::move(row);
  } else {
    std::string k = key;
    state_.endpoints.emplace(std::move(k), std::move(row));
  }
}

void NbReplica::EraseEndpoint(const std::string& key) {
  auto it = state_.endpoints.find(key);
  if (it == state_.endpoints.end()) return;
  on_touch_(NbTable::kEndpoint, key, "");
  RemoveFromIndex(state_.endpoints_by_vpc, it->second.endpoint.vpc, key);
  RemoveFromIndex(state_.endpoints_by_host, it->second.endpoint.host, key);
  state_.UnindexAddresses(it->second.endpoint);
  state_.endpoints.erase(it);
}

void NbReplica::SetGlobal(std::string uuid, const Settings& s) {
  // The global row appearing or going is a change even with equal values.
  if (global_uuid_.empty() != uuid.empty() || state_.settings != s) {
    on_touch_(NbTable::kGlobal, "", "");
  }
  global_uuid_ = std::move(uuid);
  state_.settings = s;
}

}  // namespace shortcut::manager
