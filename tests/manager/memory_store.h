// MemoryStore: a DriverStore and ControllerStore over an in-memory NbState,
// for unit tests of the driver and the cluster controller without
// ovsdb-server. Tests change rows with Put*/Delete*
// (indexes kept as NbStore keeps them); every change, the driver's own
// writes included, is reported to the driver as NbStore reports it (one
// NbChange per row, coalesced, `old` the row before). Writes can be made
// to fail, and are counted.
//
// Thread-safety: none; the test's executor.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/manager/cluster_controller.h"
#include "src/manager/driver_store.h"
#include "src/ofconn/signal.h"

namespace shortcut::manager::testing {

class MemoryStore final : public DriverStore, public ControllerStore {
 public:
  explicit MemoryStore(asio::any_io_executor ex) : signal_(ex) {}

  // ---- DriverStore. ----
  const NbState& state() const override { return s_; }
  asio::awaitable<void> WaitChanges() override {
    while (changes_.empty()) co_await signal_.Wait();
  }
  std::vector<NbChange> TakeChanges() override {
    std::vector<NbChange> out;
    for (auto& [k, c] : changes_) out.push_back(std::move(c));
    changes_.clear();
    return out;
  }
  asio::awaitable<absl::Status> Write(DriverWrites w) override {
    ++writes;
    if (fail_writes) co_return absl::UnavailableError("store: not connected");
    for (const GatewayObservation& o : w.gateways) {
      auto it = s_.gateways.find(o.name);
      if (it == s_.gateways.end()) continue;
      GatewayRow row = it->second;
      row.state = o.state;
      row.instance_id = o.instance_id;
      row.detail = o.detail;
      PutGateway(row);
    }
    for (const auto& [key, status] : w.endpoints) {
      auto it = s_.endpoints.find(key);
      if (it == s_.endpoints.end()) continue;
      EndpointRow row = it->second;
      row.status = status;
      PutEndpoint(row);
    }
    co_return absl::OkStatus();
  }

  // ---- ControllerStore. ----
  asio::awaitable<absl::Status> WriteMembership(std::vector<GatewayRow> rows) override {
    ++membership_writes;
    if (fail_writes) co_return absl::UnavailableError("store: not connected");
    for (const GatewayRow& r : rows) {
      auto it = s_.gateways.find(r.name);
      if (it == s_.gateways.end()) continue;
      GatewayRow row = it->second;
      row.cluster_id = r.cluster_id;
      row.role = r.role;
      PutGateway(row);
    }
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> WriteVpcMoves(std::vector<VpcRow> rows) override {
    ++move_writes;
    if (fail_writes) co_return absl::UnavailableError("store: not connected");
    for (const VpcRow& r : rows) {
      auto it = s_.vpcs.find(r.vpc.id);
      if (it == s_.vpcs.end()) continue;
      VpcRow row = it->second;
      row.cluster_id = r.cluster_id;
      row.moving_to = r.moving_to;
      row.move_phase = r.move_phase;
      PutVpc(row);
    }
    co_return absl::OkStatus();
  }

  int writes = 0;
  int membership_writes = 0;
  int move_writes = 0;
  bool fail_writes = false;

  // ---- Changes. ----
  void PutSettings(Settings settings) {
    Note(NbTable::kGlobal, "", s_.settings);
    s_.settings = settings;
  }
  void PutHost(model::Host h) {
    Note(NbTable::kHost, h.name, Old(s_.hosts, h.name));
    std::string name = h.name;
    s_.hosts[name] = HostRow{std::move(h)};
  }
  void PutCluster(uint32_t id) {
    Note(NbTable::kCluster, absl::StrCat(id), Old(s_.clusters, id));
    s_.clusters[id] = ClusterRow{id};
  }
  void PutGateway(GatewayRow g) {
    auto old = s_.gateways.find(g.name);
    if (old != s_.gateways.end()) s_.gateways_by_cluster[old->second.cluster_id].erase(g.name);
    Note(NbTable::kGateway, g.name, Old(s_.gateways, g.name));
    if (g.cluster_id != 0) s_.gateways_by_cluster[g.cluster_id].insert(g.name);
    std::string name = g.name;
    s_.gateways[name] = std::move(g);
  }
  void PutVpc(VpcRow v) {
    Note(NbTable::kVpc, v.vpc.id, Old(s_.vpcs, v.vpc.id));
    std::string id = v.vpc.id;
    s_.vpcs[id] = std::move(v);
  }
  void PutNetwork(NetworkRow n) {
    NetworkKey key{n.vpc, n.network.id};
    Note(NbTable::kNetwork, n.vpc + "/" + n.network.id, Old(s_.networks, key));
    s_.networks[key] = std::move(n);
  }
  void PutEndpoint(EndpointRow e) {
    const std::string key = e.endpoint.key;
    auto old = s_.endpoints.find(key);
    if (old != s_.endpoints.end()) Unindex(old->second);
    Note(NbTable::kEndpoint, key, Old(s_.endpoints, key));
    s_.endpoints_by_vpc[e.endpoint.vpc].insert(key);
    s_.endpoints_by_host[e.endpoint.host].insert(key);
    s_.IndexAddresses(e.endpoint);
    s_.endpoints[key] = std::move(e);
  }
  void DeleteEndpoint(const std::string& key) {
    auto it = s_.endpoints.find(key);
    if (it == s_.endpoints.end()) return;
    Note(NbTable::kEndpoint, key, it->second);
    Unindex(it->second);
    s_.endpoints.erase(it);
  }
  void DeleteNetwork(const std::string& vpc, const std::string& id) {
    std::vector<std::string> keys;
    for (const auto& [key, e] : s_.endpoints) {
      if (e.endpoint.vpc == vpc && e.endpoint.network == id) keys.push_back(key);
    }
    for (const std::string& k : keys) DeleteEndpoint(k);
    auto it = s_.networks.find({vpc, id});
    if (it == s_.networks.end()) return;
    Note(NbTable::kNetwork, vpc + "/" + id, it->second);
    s_.networks.erase(it);
  }
  void DeleteVpc(const std::string& id) {
    std::vector<std::string> nets;
    for (const auto& [key, n] : s_.networks) {
      if (key.first == id) nets.push_back(key.second);
    }
    for (const std::string& n : nets) DeleteNetwork(id, n);
    auto it = s_.vpcs.find(id);
    if (it == s_.vpcs.end()) return;
    Note(NbTable::kVpc, id, it->second);
    s_.vpcs.erase(it);
  }
  void DeleteGateway(const std::string& name) {
    auto it = s_.gateways.find(name);
    if (it == s_.gateways.end()) return;
    Note(NbTable::kGateway, name, it->second);
    s_.gateways_by_cluster[it->second.cluster_id].erase(name);
    s_.gateways.erase(it);
  }

 private:
  template <typename Map, typename Key>
  static NbRow Old(const Map& m, const Key& k) {
    auto it = m.find(k);
    if (it == m.end()) return std::monostate{};
    return it->second;
  }
  void Unindex(const EndpointRow& e) {
    s_.endpoints_by_vpc[e.endpoint.vpc].erase(e.endpoint.key);
    if (s_.endpoints_by_vpc[e.endpoint.vpc].empty()) s_.endpoints_by_vpc.erase(e.endpoint.vpc);
    s_.endpoints_by_host[e.endpoint.host].erase(e.endpoint.key);
    if (s_.endpoints_by_host[e.endpoint.host].empty()) s_.endpoints_by_host.erase(e.endpoint.host);
    s_.UnindexAddresses(e.endpoint);
  }
  void Note(NbTable table, const std::string& key, NbRow old) {
    auto k = std::make_pair(static_cast<int>(table), key);
    auto it = changes_.find(k);
    if (it == changes_.end()) {
      NbChange c;
      c.table = table;
      c.key = key;
      c.kind = std::holds_alternative<std::monostate>(old) ? NbChangeKind::kInsert
                                                           : NbChangeKind::kModify;
      c.old = std::move(old);
      changes_.emplace(k, std::move(c));
    }
    signal_.Notify();
  }

  NbState s_;
  std::map<std::pair<int, std::string>, NbChange> changes_;
  ofconn::Signal signal_;
};

}  // namespace shortcut::manager::testing
