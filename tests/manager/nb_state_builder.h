// Builds NbStates by hand for the pure tests, with the secondary indexes
// (endpoints by VPC and host, gateways by cluster) filled as NbStore does.
//
// Thread-safety: none; one builder per test.
#pragma once

#include <cstdint>
#include <string>

#include "src/manager/nb.h"

namespace shortcut::manager::testing {

class NbStateBuilder {
 public:
  NbStateBuilder& Host(const std::string& name, const std::string& ip) {
    state_.hosts[name].host = {name, ip, "", ""};
    return *this;
  }
  NbStateBuilder& Gateway(const std::string& name, const std::string& ip, uint64_t capacity,
                          uint32_t cluster, uint32_t ofport) {
    GatewayRow& g = state_.gateways[name];
    g.name = name;
    g.underlay_ipv4 = ip;
    g.grpc_address = "unix:/run/" + name + ".sock";
    g.capacity = capacity;
    g.cluster_id = cluster;
    g.tunnel_ofport = ofport;
    // Members serve, as in a settled deployment; tests of joining set the
    // role themselves.
    g.role = cluster != 0 ? GatewayRole::kServing : GatewayRole::kJoining;
    if (cluster != 0) state_.gateways_by_cluster[cluster].insert(name);
    return *this;
  }
  NbStateBuilder& Cluster(uint32_t id) {
    state_.clusters[id].id = id;
    return *this;
  }
  NbStateBuilder& Vpc(const std::string& id, uint32_t vni, uint32_t cluster) {
    VpcRow& v = state_.vpcs[id];
    v.vpc = {id, vni, "02:00:00:00:00:01"};
    v.cluster_id = cluster;
    return *this;
  }
  NbStateBuilder& Network(const std::string& vpc, const std::string& id, const std::string& v4,
                          const std::string& v6) {
    NetworkRow& n = state_.networks[{vpc, id}];
    n.vpc = vpc;
    n.network = {id, v4, v6};
    return *this;
  }
  NbStateBuilder& Endpoint(const std::string& key, const std::string& vpc,
                           const std::string& network, const std::string& ipv4,
                           const std::string& mac, const std::string& host) {
    EndpointRow& e = state_.endpoints[key];
    e.endpoint = {key, vpc, network, ipv4, "", mac, host, key};
    state_.endpoints_by_vpc[vpc].insert(key);
    state_.endpoints_by_host[host].insert(key);
    state_.IndexAddresses(e.endpoint);
    return *this;
  }
  NbState Build() const { return state_; }

 private:
  NbState state_;
};

}  // namespace shortcut::manager::testing
