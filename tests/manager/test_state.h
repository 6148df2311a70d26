// A small state of record for the manager's tests: two clusters, three
// gateways, two hosts, a VPC per cluster.
//   cluster 1: gw-a (172.31.2.1, ofport 60001), gw-b (172.31.2.2, 60002)
//   cluster 2: gw-c (172.31.2.3, 60003)
//   hosts h1 (172.31.1.1), h2 (172.31.1.2)
//   blue (vni 100, cluster 1): network web 10.0.0.0/24; ep b1 on h1, b2 on h2
//   red  (vni 200, cluster 2): network db 10.1.0.0/24 + fd00::/64; ep r1 on h2
#pragma once

#include <string>

#include "absl/strings/str_format.h"
#include "src/manager/nb.h"

namespace shortcut::manager::testing {

inline GatewayRow Gateway(const std::string& name, const std::string& ip, uint32_t cluster,
                          uint32_t ofport) {
  GatewayRow g;
  g.name = name;
  g.underlay_ipv4 = ip;
  g.grpc_address = "unix:/nonexistent/" + name;
  g.capacity = 1000;
  g.cluster_id = cluster;
  g.tunnel_ofport = ofport;
  // A member serves (in the buckets), as cluster management leaves it once
  // the member is loaded.
  g.role = cluster != 0 ? GatewayRole::kServing : GatewayRole::kJoining;
  return g;
}

inline EndpointRow Ep(const std::string& key, const std::string& vpc, const std::string& network,
                      const std::string& ipv4, const std::string& host, int mac_byte) {
  EndpointRow e;
  e.endpoint.key = key;
  e.endpoint.vpc = vpc;
  e.endpoint.network = network;
  e.endpoint.ipv4 = ipv4;
  e.endpoint.mac = absl::StrFormat("02:00:00:00:00:%02x", mac_byte);
  e.endpoint.host = host;
  e.endpoint.iface_id = "iface-" + key;
  return e;
}

// Fills `store` (anything with the MemoryStore's Put* calls).
template <typename Store>
void FillSmallState(Store& store) {
  store.PutCluster(1);
  store.PutCluster(2);
  store.PutGateway(Gateway("gw-a", "172.31.2.1", 1, 60001));
  store.PutGateway(Gateway("gw-b", "172.31.2.2", 1, 60002));
  store.PutGateway(Gateway("gw-c", "172.31.2.3", 2, 60003));
  store.PutHost({"h1", "172.31.1.1", "tcp:172.31.1.1:6653", "tcp:172.31.1.1:6640"});
  store.PutHost({"h2", "172.31.1.2", "tcp:172.31.1.2:6653", "tcp:172.31.1.2:6640"});
  store.PutVpc(VpcRow{{"blue", 100, "02:00:00:00:01:00"}, 1});
  store.PutVpc(VpcRow{{"red", 200, "02:00:00:00:02:00"}, 2});
  store.PutNetwork(NetworkRow{"blue", {"web", "10.0.0.0/24", ""}});
  store.PutNetwork(NetworkRow{"red", {"db", "10.1.0.0/24", "fd00::/64"}});
  store.PutEndpoint(Ep("b1", "blue", "web", "10.0.0.1", "h1", 1));
  store.PutEndpoint(Ep("b2", "blue", "web", "10.0.0.2", "h2", 2));
  store.PutEndpoint(Ep("r1", "red", "db", "10.1.0.1", "h2", 3));
}

}  // namespace shortcut::manager::testing
