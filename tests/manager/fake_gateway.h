// FakeGateway: a gateway as the driver sees it through GatewayClient,
// holding what a real one would (cluster config, VPCs with networks,
// endpoints) with the same refusals (AlreadyExists for a VPC or VNI held or
// an IPv4 taken in the VPC, NotFound for an unknown VPC, network, host or
// endpoint). Tests make it go away (every call Unavailable), lose answers
// (apply, then answer Unavailable), refuse the next calls, restart (new
// instance id, empty), and say which endpoints are online.
//
// FakeGateways is the registry the driver's client factory draws from: one
// FakeGateway per gateway name, created on first use.
//
// Thread-safety: none; the test's executor.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/manager/gateway_client.h"

namespace shortcut::manager::testing {

class FakeGateway {
  struct Vpc {
    gwv1::Vpc vpc;
    std::map<std::string, gwv1::Endpoint> endpoints;
  };

 public:
  explicit FakeGateway(std::string name) : name_(std::move(name)) { Restart(); }

  // ---- Test controls. ----
  bool down = false;            // Every call fails with Unavailable, nothing applied.
  int lose_answers = 0;         // The next N calls are applied, then answer Unavailable.
  int refuse = 0;               // The next N mutating calls are refused (InvalidArgument).
  bool designated = true;       // Its UpdateEndpoint answers `online` (the host's member).
  std::set<std::string> bound;  // Endpoint keys whose port is up on their host.
  bool bridge_behind = false;   // Its stats say its bridge is not in sync yet.

  void Restart() {
    instance_ = absl::StrCat(name_, "-", ++restarts_);
    cluster_.reset();
    vpcs_.clear();
  }

  // What it holds, in the form of DesiredContent (endpoints sorted by key).
  GatewayContent Content() const {
    GatewayContent c;
    if (cluster_) c.cluster = *cluster_;
    for (const auto& [id, v] : vpcs_) {
      VpcContent vc;
      vc.vpc = v.vpc;
      for (const auto& [key, e] : v.endpoints) vc.endpoints.push_back(e);
      c.vpcs.emplace(id, std::move(vc));
    }
    return c;
  }
  const std::vector<std::string>& calls() const { return calls_; }
  size_t Count(const std::string& prefix) const {
    size_t n = 0;
    for (const std::string& c : calls_) n += c.starts_with(prefix);
    return n;
  }
  const std::string& instance_id() const { return instance_; }
  bool HoldsEndpoint(const std::string& key) const {
    for (const auto& [id, v] : vpcs_) {
      if (v.endpoints.contains(key)) return true;
    }
    return false;
  }

  // ---- The gateway's operations (what the fake client calls). ----
  absl::Status Enter(const std::string& call, bool mutating) {
    calls_.push_back(call);
    if (down) return absl::UnavailableError(name_ + ": connection refused");
    if (mutating && refuse > 0) {
      --refuse;
      return absl::InvalidArgumentError(call + ": refused by the test");
    }
    return absl::OkStatus();
  }
  absl::Status Leave(absl::Status s) {
    if (lose_answers > 0) {
      --lose_answers;
      return absl::UnavailableError(name_ + ": the answer was lost");
    }
    return s;
  }

  absl::Status SetCluster(const gwv1::SetClusterRequest& r) {
    if (r.cluster_id() == 0) return absl::InvalidArgumentError("cluster_id: 0");
    bool self = false;
    for (const auto& m : r.members()) self |= m.name() == r.self();
    if (!self) return absl::InvalidArgumentError("self: not a member");
    cluster_ = r;
    return absl::OkStatus();
  }

  absl::Status CheckEndpoint(const Vpc& v, const gwv1::Endpoint& e) const {
    bool network = false;
    for (const auto& n : v.vpc.networks()) network |= n.id() == e.network();
    if (!network) return absl::NotFoundError("endpoint.network: " + e.network() + " is unknown");
    if (!HostKnown(e.host())) return absl::NotFoundError("endpoint.host: " + e.host());
    for (const auto& [key, other] : v.endpoints) {
      if (key != e.key() && other.ipv4() == e.ipv4()) {
        return absl::AlreadyExistsError("endpoint.ipv4: " + e.ipv4() + " is taken");
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> UpdateEndpoint(const gwv1::Endpoint& e) {
    auto v = vpcs_.find(e.vpc());
    if (v == vpcs_.end()) return absl::NotFoundError("endpoint.vpc: " + e.vpc() + " is unknown");
    for (auto& [id, other] : vpcs_) {
      if (id != e.vpc() && other.endpoints.contains(e.key())) {
        return absl::AlreadyExistsError("endpoint.key: in vpc " + id);
      }
    }
    absl::Status ok = CheckEndpoint(v->second, e);
    if (!ok.ok()) return ok;
    v->second.endpoints[e.key()] = e;
    // A standby VPC programs no host: nothing of it is online here.
    return designated && bound.contains(e.key()) && !v->second.vpc.standby();
  }

  absl::Status DeleteEndpoint(const std::string& key) {
    for (auto& [id, v] : vpcs_) {
      if (v.endpoints.erase(key) > 0) return absl::OkStatus();
    }
    return absl::NotFoundError("endpoint " + key + " is unknown");
  }

  // All or nothing, as the gateway's AddEndpoints.
  absl::Status AddEndpoints(const std::vector<gwv1::Endpoint>& endpoints) {
    auto saved = vpcs_;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const gwv1::Endpoint& e = endpoints[i];
      auto v = vpcs_.find(e.vpc());
      absl::Status ok = v == vpcs_.end() ? absl::NotFoundError("vpc " + e.vpc() + " is unknown")
                        : v->second.endpoints.contains(e.key())
                            ? absl::AlreadyExistsError("key " + e.key() + " exists")
                            : CheckEndpoint(v->second, e);
      if (!ok.ok()) {
        vpcs_ = std::move(saved);
        return absl::Status(ok.code(), absl::StrCat("endpoints[", i, "]: ", ok.message()));
      }
      v->second.endpoints[e.key()] = e;
    }
    return absl::OkStatus();
  }

  absl::Status AddVpc(const VpcContent& c) {
    if (vpcs_.contains(c.vpc.id())) {
      return absl::AlreadyExistsError("vpc.id: " + c.vpc.id() + " exists");
    }
    for (const auto& [id, v] : vpcs_) {
      if (v.vpc.vni() == c.vpc.vni()) return absl::AlreadyExistsError("vpc.vni: taken");
    }
    Vpc v;
    v.vpc = c.vpc;
    for (size_t i = 0; i < c.endpoints.size(); ++i) {
      const gwv1::Endpoint& e = c.endpoints[i];
      if (e.vpc() != c.vpc.id()) return absl::InvalidArgumentError("endpoints: vpc");
      absl::Status ok = CheckEndpoint(v, e);
      if (!ok.ok())
        return absl::Status(ok.code(), absl::StrCat("endpoints[", i, "]: ", ok.message()));
      v.endpoints[e.key()] = e;
    }
    vpcs_[c.vpc.id()] = std::move(v);
    return absl::OkStatus();
  }

  absl::Status DeleteVpc(const std::string& id) {
    if (vpcs_.erase(id) == 0) return absl::NotFoundError("vpc " + id + " is unknown");
    return absl::OkStatus();
  }

  absl::Status SetVpcStandby(const std::string& id, bool standby) {
    auto v = vpcs_.find(id);
    if (v == vpcs_.end()) return absl::NotFoundError("vpc " + id + " is unknown");
    v->second.vpc.set_standby(standby);
    return absl::OkStatus();
  }

  absl::Status SetVpcOffload(const std::string& id, const gwv1::OffloadPolicy& offload) {
    auto v = vpcs_.find(id);
    if (v == vpcs_.end()) return absl::NotFoundError("vpc " + id + " is unknown");
    // The default policy is no policy, as the gateway keeps it.
    if (offload.ByteSizeLong() == 0) {
      v->second.vpc.clear_offload();
    } else {
      *v->second.vpc.mutable_offload() = offload;
    }
    return absl::OkStatus();
  }

  absl::Status DeleteNetwork(const std::string& vpc, const std::string& network) {
    auto v = vpcs_.find(vpc);
    if (v == vpcs_.end()) return absl::NotFoundError("vpc " + vpc + " is unknown");
    auto* networks = v->second.vpc.mutable_networks();
    for (int i = 0; i < networks->size(); ++i) {
      if (networks->Get(i).id() != network) continue;
      networks->DeleteSubrange(i, 1);
      std::erase_if(v->second.endpoints,
                    [&](const auto& kv) { return kv.second.network() == network; });
      return absl::OkStatus();
    }
    return absl::NotFoundError("network " + network + " is unknown");
  }

  GatewayStats Stats() const {
    GatewayStats s;
    s.instance_id = instance_;
    s.cluster_id = cluster_ ? cluster_->cluster_id() : 0;
    s.vpcs = vpcs_.size();
    for (const auto& [id, v] : vpcs_) s.endpoints += v.endpoints.size();
    // Its bridge: a flow per endpoint, confirmed unless the test holds it back.
    s.bridge_flows = s.endpoints;
    s.bridge_in_sync = !bridge_behind;
    return s;
  }

  std::vector<ListedEndpoint> List(const std::string& vpc, const std::string& host) const {
    std::vector<ListedEndpoint> out;
    for (const auto& [id, v] : vpcs_) {
      if (!vpc.empty() && id != vpc) continue;
      for (const auto& [key, e] : v.endpoints) {
        if (!host.empty() && e.host() != host) continue;
        out.push_back({e, designated && bound.contains(key)});
      }
    }
    return out;
  }

 private:
  bool HostKnown(const std::string& host) const {
    if (!cluster_) return false;
    for (const auto& h : cluster_->hosts()) {
      if (h.name() == host) return true;
    }
    return false;
  }

  std::string name_;
  int restarts_ = 0;
  std::string instance_;
  std::optional<gwv1::SetClusterRequest> cluster_;
  std::map<std::string, Vpc> vpcs_;
  std::vector<std::string> calls_;
};

class FakeGatewayClient final : public GatewayClient {
 public:
  explicit FakeGatewayClient(std::shared_ptr<FakeGateway> gw) : gw_(std::move(gw)) {}

  asio::awaitable<absl::Status> SetCluster(gwv1::SetClusterRequest r) override {
    absl::Status in = gw_->Enter("SetCluster", true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->SetCluster(r));
  }
  asio::awaitable<absl::StatusOr<bool>> UpdateEndpoint(gwv1::Endpoint e) override {
    absl::Status in = gw_->Enter("UpdateEndpoint " + e.key(), true);
    if (!in.ok()) co_return in;
    absl::StatusOr<bool> r = gw_->UpdateEndpoint(e);
    absl::Status out = gw_->Leave(r.status());
    if (!out.ok()) co_return out;
    co_return r;
  }
  asio::awaitable<absl::Status> DeleteEndpoint(std::string key) override {
    absl::Status in = gw_->Enter("DeleteEndpoint " + key, true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->DeleteEndpoint(key));
  }
  asio::awaitable<absl::Status> AddEndpoints(
      std::shared_ptr<const std::vector<gwv1::Endpoint>> endpoints, size_t) override {
    absl::Status in = gw_->Enter(absl::StrCat("AddEndpoints ", endpoints->size()), true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->AddEndpoints(*endpoints));
  }
  asio::awaitable<absl::Status> AddVpc(std::shared_ptr<const VpcContent> vpc, size_t) override {
    absl::Status in = gw_->Enter("AddVpc " + vpc->vpc.id(), true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->AddVpc(*vpc));
  }
  asio::awaitable<absl::Status> DeleteVpc(std::string vpc, bool keep_direct_paths) override {
    absl::Status in =
        gw_->Enter("DeleteVpc " + vpc + (keep_direct_paths ? " keep_direct_paths" : ""), true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->DeleteVpc(vpc));
  }
  asio::awaitable<absl::Status> CompleteLoad() override {
    absl::Status in = gw_->Enter("CompleteLoad", false);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(absl::OkStatus());
  }
  asio::awaitable<absl::Status> SetVpcStandby(std::string vpc, bool standby) override {
    absl::Status in = gw_->Enter(absl::StrCat("SetVpcStandby ", vpc, " ", standby), true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->SetVpcStandby(vpc, standby));
  }
  asio::awaitable<absl::Status> SetVpcOffload(std::string vpc,
                                              gwv1::OffloadPolicy offload) override {
    absl::Status in = gw_->Enter("SetVpcOffload " + vpc, true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->SetVpcOffload(vpc, offload));
  }
  asio::awaitable<absl::Status> DeleteNetwork(std::string vpc, std::string network) override {
    absl::Status in = gw_->Enter("DeleteNetwork " + vpc + "/" + network, true);
    if (!in.ok()) co_return in;
    co_return gw_->Leave(gw_->DeleteNetwork(vpc, network));
  }
  asio::awaitable<absl::StatusOr<GatewayStats>> GetStats() override {
    absl::Status in = gw_->Enter("GetStats", false);
    if (!in.ok()) co_return in;
    co_return gw_->Stats();
  }
  asio::awaitable<absl::StatusOr<std::vector<ListedEndpoint>>> ListEndpoints(
      std::string vpc, std::string host) override {
    absl::Status in = gw_->Enter("ListEndpoints " + vpc + "/" + host, false);
    if (!in.ok()) co_return in;
    co_return gw_->List(vpc, host);
  }

 private:
  std::shared_ptr<FakeGateway> gw_;
};

class FakeGateways {
 public:
  FakeGateway& Get(const std::string& name) {
    auto& g = gateways_[name];
    if (!g) g = std::make_shared<FakeGateway>(name);
    return *g;
  }
  GatewayClientFactory Factory() {
    return [this](const std::string& name, const std::string&) {
      Get(name);
      return std::make_unique<FakeGatewayClient>(gateways_[name]);
    };
  }

 private:
  std::map<std::string, std::shared_ptr<FakeGateway>> gateways_;
};

}  // namespace shortcut::manager::testing
