// The northbound API's checks (validate.h), on hand-built states: each rule
// with the exact status and message the API returns.
#include "src/manager/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/manager/nb_state_builder.h"

namespace shortcut::manager {
namespace {

using ::testing::HasSubstr;

MATCHER_P2(IsStatus, code, message, "") { return arg.code() == code && arg.message() == message; }

v1::Endpoint ProtoEndpoint(const std::string& key, const std::string& ipv4,
                           const std::string& mac) {
  v1::Endpoint e;
  e.set_key(key);
  e.set_vpc("blue");
  e.set_network("web");
  e.set_ipv4(ipv4);
  e.set_mac(mac);
  e.set_host("h1");
  return e;
}

// blue (VNI 100, cluster 1) with network web 10.0.0.0/24 + fd00::/64 and
// endpoint a (10.0.0.5) on h1; red (VNI 200, cluster 1); cluster 1 = g1.
NbState Sample() {
  testing::NbStateBuilder b;
  b.Host("h1", "172.31.1.1").Host("h2", "172.31.1.2");
  b.Gateway("g1", "172.31.2.1", 1000, 1, 60001).Gateway("g2", "172.31.2.2", 500, 0, 60002);
  b.Cluster(1);
  b.Vpc("blue", 100, 1).Network("blue", "web", "10.0.0.0/24", "fd00::/64");
  b.Vpc("red", 200, 1).Network("red", "db", "10.1.0.0/24", "");
  b.Endpoint("a", "blue", "web", "10.0.0.5", "02:00:00:00:00:05", "h1");
  return b.Build();
}

TEST(ValidateSyntax, Names) {
  EXPECT_TRUE(CheckName("host.name", "h-1.a_B").ok());
  EXPECT_THAT(CheckName("host.name", ""),
              IsStatus(absl::StatusCode::kInvalidArgument, "host.name: missing"));
  EXPECT_THAT(CheckName("host.name", "a b"),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "host.name: 'a b' is not 1 to 64 characters of [A-Za-z0-9._-]"));
  EXPECT_TRUE(CheckName("n", std::string(64, 'x')).ok());
  EXPECT_FALSE(CheckName("n", std::string(65, 'x')).ok());
}

TEST(ValidateSyntax, PageSize) {
  EXPECT_EQ(*ParsePageSize(0), 1000);
  EXPECT_EQ(*ParsePageSize(10000), 10000);
  EXPECT_THAT(ParsePageSize(10001).status(),
              IsStatus(absl::StatusCode::kInvalidArgument, "page_size: 10001 is not in 0..10000"));
  EXPECT_THAT(ParsePageSize(-1).status(),
              IsStatus(absl::StatusCode::kInvalidArgument, "page_size: -1 is not in 0..10000"));
}

TEST(ValidateSyntax, Host) {
  v1::Host h;
  h.set_name("h1");
  h.set_underlay_ip("172.31.1.1");
  h.set_openflow("tcp:172.31.1.1:6653");
  auto row = HostFromProto(h, "host");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->host.underlay_ipv4, "172.31.1.1");
  EXPECT_EQ(row->host.openflow_target, "tcp:172.31.1.1:6653");

  h.set_underlay_ip("fd00::1");
  EXPECT_THAT(HostFromProto(h, "host").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "host.underlay_ip: 'fd00::1' is not an IPv4 address"));
  h.set_underlay_ip("172.31.1.1");
  h.set_ovsdb("http://x");
  EXPECT_THAT(HostFromProto(h, "host").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "host.ovsdb: 'http://x' is not tcp:IP:PORT, ssl:IP:PORT or unix:PATH"));
}

TEST(ValidateSyntax, Gateway) {
  v1::Gateway g;
  g.set_name("g1");
  g.set_underlay_ip("172.31.2.1");
  g.set_grpc_address("172.31.2.1:50051");
  g.set_capacity(0);
  EXPECT_THAT(
      GatewayFromProto(g, "gateway").status(),
      IsStatus(absl::StatusCode::kInvalidArgument, "gateway.capacity: must be more than 0"));
  g.set_capacity(10);
  EXPECT_TRUE(GatewayFromProto(g, "gateway").ok());
  g.set_grpc_address("unix:relative.sock");
  EXPECT_THAT(GatewayFromProto(g, "gateway").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "gateway.grpc_address: 'unix:relative.sock': a unix socket path must be "
                       "absolute"));
}

TEST(ValidateSyntax, Cluster) {
  v1::Cluster c;
  c.set_id(65536);
  c.add_members("g1");
  EXPECT_THAT(ClusterFromProto(c, "cluster").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "cluster.id: 65536 is not in 1..65535 (0: the lowest free id)"));
  c.set_id(0);
  c.add_members("g1");
  EXPECT_THAT(
      ClusterFromProto(c, "cluster").status(),
      IsStatus(absl::StatusCode::kInvalidArgument, "cluster.members[1]: 'g1' is named twice"));
  v1::Cluster empty;
  EXPECT_THAT(
      ClusterFromProto(empty, "cluster").status(),
      IsStatus(absl::StatusCode::kInvalidArgument, "cluster.members: a cluster needs a member"));
}

TEST(ValidateSyntax, Vpc) {
  v1::Vpc v;
  v.set_id("blue");
  v.set_vni(16777216);
  v.set_router_mac("02:00:00:00:00:01");
  EXPECT_THAT(VpcFromProto(v, "vpc").status(), IsStatus(absl::StatusCode::kInvalidArgument,
                                                        "vpc.vni: 16777216 is not in 1..16777215"));
  v.set_vni(100);
  v.set_router_mac("01:00:5e:00:00:01");
  EXPECT_THAT(VpcFromProto(v, "vpc").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "vpc.router_mac: '01:00:5e:00:00:01' is not a unicast MAC address"));
  v.set_router_mac("02:00:00:00:00:01");
  auto* n0 = v.add_networks();
  n0->set_id("web");
  n0->set_ipv4_cidr("10.0.0.0/24");
  auto* n1 = v.add_networks();
  n1->set_id("db");
  n1->set_ipv4_cidr("10.0.0.1/24");
  EXPECT_THAT(VpcFromProto(v, "vpc").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "vpc.networks[1].ipv4_cidr: '10.0.0.1/24' is not an IPv4 prefix with its "
                       "host bits zero"));
  n1->set_ipv4_cidr("10.0.0.128/25");
  EXPECT_THAT(VpcFromProto(v, "vpc").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "vpc.networks[1].ipv4_cidr: 10.0.0.128/25 overlaps network web "
                       "(10.0.0.0/24)"));
  n1->set_ipv4_cidr("10.0.1.0/24");
  auto in = VpcFromProto(v, "vpc");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->networks[1].vpc, "blue");  // Left empty: the VPC's.
  n1->set_vpc("red");
  EXPECT_THAT(VpcFromProto(v, "vpc").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "vpc.networks[1].vpc: 'red' is not the VPC's id blue"));
}

TEST(ValidateSyntax, EndpointCanonicalAndDefaults) {
  v1::Endpoint e = ProtoEndpoint("k1", "10.0.0.7", "02:AB:00:00:00:07");
  e.set_ipv6("FD00:0:0:0::7");
  auto row = EndpointFromProto(e, "endpoint");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->endpoint.mac, "02:ab:00:00:00:07");
  EXPECT_EQ(row->endpoint.ipv6, "fd00::7");
  EXPECT_EQ(row->endpoint.iface_id, "k1");  // Empty: the key.
  e.set_ipv4("10.0.0.256");
  EXPECT_THAT(EndpointFromProto(e, "endpoint").status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoint.ipv4: '10.0.0.256' is not an IPv4 address"));
  e.set_ipv4("10.0.0.7");
  e.set_key(std::string(256, 'k'));
  EXPECT_THAT(EndpointFromProto(e, "endpoint").status(),
              IsStatus(absl::StatusCode::kInvalidArgument, "endpoint.key: longer than 255 bytes"));
}

TEST(ValidateSyntax, FieldMask) {
  v1::Endpoint e;
  e.set_key("a");
  e.set_host("h2");
  google::protobuf::FieldMask mask;
  mask.add_paths("host");
  auto patch = PatchFromProto(e, mask);
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(patch->host, "h2");
  EXPECT_FALSE(patch->ipv4.has_value());
  mask.add_paths("vpc");
  EXPECT_THAT(PatchFromProto(e, mask).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "update_mask.paths[1]: 'vpc' cannot be updated (only host, ipv4, ipv6, "
                       "mac, iface_id, network)"));
  google::protobuf::FieldMask ipv4;
  ipv4.add_paths("ipv4");
  EXPECT_THAT(PatchFromProto(e, ipv4).status(),
              IsStatus(absl::StatusCode::kInvalidArgument, "endpoint.ipv4: missing"));
}

TEST(ValidateState, RegisterHost) {
  NbState s = Sample();
  HostRow same;
  same.host = {"h1", "172.31.1.1", "", ""};
  auto r = CheckRegisterHost(s, same);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->unchanged);
  HostRow other = same;
  other.host.underlay_ipv4 = "172.31.1.9";
  EXPECT_THAT(CheckRegisterHost(s, other).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "host.underlay_ip: host h1 exists with underlay_ip '172.31.1.1'"));
  HostRow clash;
  clash.host = {"h3", "172.31.2.1", "", ""};
  EXPECT_THAT(CheckRegisterHost(s, clash).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "host.underlay_ip: 172.31.2.1 is used by gateway g1"));
  HostRow fresh;
  fresh.host = {"h3", "172.31.1.3", "", ""};
  r = CheckRegisterHost(s, fresh);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->unchanged);
}

TEST(ValidateState, UnregisterHost) {
  NbState s = Sample();
  EXPECT_THAT(CheckUnregisterHost(s, "h9"),
              IsStatus(absl::StatusCode::kNotFound, "name: no host 'h9'"));
  EXPECT_THAT(CheckUnregisterHost(s, "h1"),
              IsStatus(absl::StatusCode::kFailedPrecondition, "host h1 holds 1 endpoints"));
  EXPECT_TRUE(CheckUnregisterHost(s, "h2").ok());
}

TEST(ValidateState, RegisterGatewayTakesLowestFreeOfport) {
  NbState s = Sample();
  GatewayRow g;
  g.name = "g3";
  g.underlay_ipv4 = "172.31.2.3";
  g.grpc_address = "unix:/run/g3.sock";
  g.capacity = 100;
  auto r = CheckRegisterGateway(s, g);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value.tunnel_ofport, 60003u);
  // A hole left by an unregistered gateway is reused first.
  s.gateways.erase("g1");
  r = CheckRegisterGateway(s, g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.tunnel_ofport, 60001u);
  GatewayRow g2 = s.gateways.at("g2");
  g2.capacity = 501;
  EXPECT_THAT(CheckRegisterGateway(s, g2).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "gateway.capacity: gateway g2 exists with capacity '500'"));
}

TEST(ValidateState, UnregisterGateway) {
  NbState s = Sample();
  EXPECT_THAT(CheckUnregisterGateway(s, "g1"), IsStatus(absl::StatusCode::kFailedPrecondition,
                                                        "gateway g1 is a member of cluster 1"));
  EXPECT_TRUE(CheckUnregisterGateway(s, "g2").ok());
  EXPECT_THAT(CheckUnregisterGateway(s, "g9"),
              IsStatus(absl::StatusCode::kNotFound, "name: no gateway 'g9'"));
}

TEST(ValidateState, CreateCluster) {
  NbState s = Sample();
  ClusterInput c{0, {"g2"}};
  auto r = CheckCreateCluster(s, c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value.id, 2u);  // Lowest free.
  EXPECT_FALSE(r->unchanged);
  ClusterInput busy{5, {"g1"}};
  EXPECT_THAT(CheckCreateCluster(s, busy).status(),
              IsStatus(absl::StatusCode::kFailedPrecondition,
                       "cluster.members: gateway g1 is a member of cluster 1"));
  ClusterInput missing{5, {"g9"}};
  EXPECT_THAT(CheckCreateCluster(s, missing).status(),
              IsStatus(absl::StatusCode::kNotFound, "cluster.members: no gateway 'g9'"));
  ClusterInput again{1, {"g1"}};
  r = CheckCreateCluster(s, again);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->unchanged);
  ClusterInput differ{1, {"g2"}};
  EXPECT_THAT(CheckCreateCluster(s, differ).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "cluster.members: cluster 1 exists with members g1"));
}

TEST(ValidateState, DeleteCluster) {
  NbState s = Sample();
  EXPECT_THAT(CheckDeleteCluster(s, 1),
              IsStatus(absl::StatusCode::kFailedPrecondition, "cluster 1 serves VPCs blue, red"));
  EXPECT_THAT(CheckDeleteCluster(s, 7), IsStatus(absl::StatusCode::kNotFound, "id: no cluster 7"));
}

TEST(ValidateState, MoveVpc) {
  testing::NbStateBuilder b;
  b.Host("h1", "172.31.1.1");
  b.Gateway("g1", "172.31.2.1", 1000, 1, 60001).Gateway("g2", "172.31.2.2", 1000, 2, 60002);
  b.Gateway("g3", "172.31.2.3", 1000, 3, 60003);
  b.Cluster(1).Cluster(2).Cluster(3).Cluster(4);  // 4: no member.
  b.Vpc("blue", 100, 1).Network("blue", "web", "10.0.0.0/24", "");
  NbState s = b.Build();
  s.gateways.at("g3").role = GatewayRole::kJoining;  // 3: a member, none serving.
  EXPECT_THAT(CheckMoveVpc(s, "nope", 2).status(),
              IsStatus(absl::StatusCode::kNotFound, "id: no VPC 'nope'"));
  EXPECT_THAT(CheckMoveVpc(s, "blue", 9).status(),
              IsStatus(absl::StatusCode::kNotFound, "cluster_id: no cluster 9"));
  EXPECT_THAT(CheckMoveVpc(s, "blue", 4).status(),
              IsStatus(absl::StatusCode::kFailedPrecondition,
                       "cluster_id: cluster 4 has no serving member to take the VPC"));
  EXPECT_THAT(CheckMoveVpc(s, "blue", 3).status(),
              IsStatus(absl::StatusCode::kFailedPrecondition,
                       "cluster_id: cluster 3 has no serving member to take the VPC"));
  auto same = CheckMoveVpc(s, "blue", 1);  // There already.
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->has_value());

  auto start = CheckMoveVpc(s, "blue", 2);
  ASSERT_TRUE(start.ok()) << start.status();
  ASSERT_TRUE(start->has_value());
  EXPECT_EQ((*start)->cluster_id, 1u);
  EXPECT_EQ((*start)->moving_to, 2u);
  EXPECT_EQ((*start)->move_phase, MovePhase::kLoading);

  s.vpcs.at("blue") = **start;
  auto again = CheckMoveVpc(s, "blue", 2);  // A retry: nothing to write.
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  EXPECT_THAT(CheckMoveVpc(s, "blue", 3).status(),
              IsStatus(absl::StatusCode::kFailedPrecondition,
                       "id: VPC 'blue' is moving to cluster 2 (loading); wait until it is done, "
                       "or cancel it with cluster_id 1"));
  EXPECT_THAT(CheckDeleteCluster(s, 2), IsStatus(absl::StatusCode::kFailedPrecondition,
                                                 "cluster 2 is where VPC blue is moving to"));
  auto cancel = CheckMoveVpc(s, "blue", 1);
  ASSERT_TRUE(cancel.ok()) << cancel.status();
  ASSERT_TRUE(cancel->has_value());
  EXPECT_EQ((*cancel)->cluster_id, 1u);
  EXPECT_EQ((*cancel)->moving_to, 0u);
  EXPECT_EQ((*cancel)->move_phase, MovePhase::kNone);

  s.vpcs.at("blue").move_phase = MovePhase::kSwitching;  // Hosts follow cluster 2 already.
  EXPECT_THAT(CheckMoveVpc(s, "blue", 1).status(),
              IsStatus(absl::StatusCode::kFailedPrecondition,
                       "id: VPC 'blue' is switching to cluster 2: hosts are taking its rules "
                       "from there; move it back once the move is done"));
}

TEST(ValidateState, CreateVpc) {
  NbState s = Sample();
  VpcInput in;
  in.vpc.vpc = {"green", 100, "02:00:00:00:00:01"};
  EXPECT_THAT(CheckCreateVpc(s, in).status(),
              IsStatus(absl::StatusCode::kAlreadyExists, "vpc.vni: 100 is used by VPC blue"));
  in.vpc.vpc.vni = 300;
  in.vpc.cluster_id = 9;
  EXPECT_THAT(CheckCreateVpc(s, in).status(),
              IsStatus(absl::StatusCode::kNotFound, "vpc.cluster_id: no cluster 9"));
  in.vpc.cluster_id = 0;
  auto r = CheckCreateVpc(s, in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value.vpc.cluster_id, 1u);  // Placed.
  VpcInput blue;
  blue.vpc.vpc = {"blue", 100, "02:00:00:00:00:99"};
  EXPECT_THAT(CheckCreateVpc(s, blue).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "vpc.router_mac: VPC blue exists with router_mac '02:00:00:00:00:01'"));
  blue.vpc.vpc.router_mac = "02:00:00:00:00:01";
  r = CheckCreateVpc(s, blue);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->unchanged);
}

TEST(ValidateState, CreateNetworkOverlap) {
  NbState s = Sample();
  NetworkRow n;
  n.vpc = "blue";
  n.network = {"app", "10.0.0.0/16", ""};
  EXPECT_THAT(CheckCreateNetwork(s, n).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "network.ipv4_cidr: 10.0.0.0/16 overlaps network web (10.0.0.0/24, "
                       "fd00::/64)"));
  n.vpc = "red";  // Another VPC: the same prefix is fine.
  EXPECT_TRUE(CheckCreateNetwork(s, n).ok());
  n.vpc = "nope";
  EXPECT_THAT(CheckCreateNetwork(s, n).status(),
              IsStatus(absl::StatusCode::kNotFound, "network.vpc: no VPC 'nope'"));
}

TEST(ValidateState, CreateEndpoint) {
  NbState s = Sample();
  auto row = [](v1::Endpoint e) { return *EndpointFromProto(e, "endpoint"); };
  EXPECT_THAT(
      CheckCreateEndpoint(s, row(ProtoEndpoint("b", "10.0.9.1", "02:00:00:00:00:06"))).status(),
      IsStatus(absl::StatusCode::kInvalidArgument,
               "endpoint.ipv4: '10.0.9.1' is not inside network web (10.0.0.0/24)"));
  v1::Endpoint on_h9 = ProtoEndpoint("b", "10.0.0.6", "02:00:00:00:00:06");
  on_h9.set_host("h9");
  EXPECT_THAT(CheckCreateEndpoint(s, row(on_h9)).status(),
              IsStatus(absl::StatusCode::kNotFound, "endpoint.host: no host 'h9'"));
  EXPECT_THAT(
      CheckCreateEndpoint(s, row(ProtoEndpoint("b", "10.0.0.5", "02:00:00:00:00:06"))).status(),
      IsStatus(absl::StatusCode::kAlreadyExists,
               "endpoint.ipv4: 10.0.0.5 is used by endpoint a in VPC blue"));
  EXPECT_THAT(
      CheckCreateEndpoint(s, row(ProtoEndpoint("b", "10.0.0.6", "02:00:00:00:00:05"))).status(),
      IsStatus(absl::StatusCode::kAlreadyExists,
               "endpoint.mac: 02:00:00:00:00:05 is used by endpoint a in VPC blue"));
  v1::Endpoint v6 = ProtoEndpoint("b", "10.0.0.6", "02:00:00:00:00:06");
  v6.set_ipv6("fd01::1");
  EXPECT_THAT(CheckCreateEndpoint(s, row(v6)).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoint.ipv6: 'fd01::1' is not inside network web (fd00::/64)"));
  auto same = CheckCreateEndpoint(s, row(ProtoEndpoint("a", "10.0.0.5", "02:00:00:00:00:05")));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->unchanged);
  EXPECT_THAT(
      CheckCreateEndpoint(s, row(ProtoEndpoint("a", "10.0.0.8", "02:00:00:00:00:05"))).status(),
      IsStatus(absl::StatusCode::kAlreadyExists,
               "endpoint.ipv4: endpoint a exists with ipv4 '10.0.0.5'"));
  auto fresh = CheckCreateEndpoint(s, row(ProtoEndpoint("b", "10.0.0.6", "02:00:00:00:00:06")));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->unchanged);
}

TEST(ValidateState, UpdateEndpoint) {
  NbState s = Sample();
  s.endpoints.at("a").status = EndpointStatus::kOnline;
  EndpointPatch move;
  move.key = "a";
  move.host = "h2";
  auto r = CheckUpdateEndpoint(s, move);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->value.moved);
  EXPECT_EQ(r->value.row.endpoint.host, "h2");
  EXPECT_EQ(r->value.row.status, EndpointStatus::kPending);
  EXPECT_EQ(r->value.row.endpoint.ipv4, "10.0.0.5");  // Unmasked: kept.
  EndpointPatch stay;
  stay.key = "a";
  stay.host = "h1";
  r = CheckUpdateEndpoint(s, stay);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->unchanged);
  EndpointPatch missing;
  missing.key = "zz";
  EXPECT_THAT(CheckUpdateEndpoint(s, missing).status(),
              IsStatus(absl::StatusCode::kNotFound, "endpoint.key: no endpoint 'zz'"));
  EndpointPatch other_vpc = move;
  other_vpc.vpc = "red";
  EXPECT_THAT(CheckUpdateEndpoint(s, other_vpc).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoint.vpc: endpoint a is in VPC blue; an endpoint cannot change VPC"));
  EndpointPatch outside;
  outside.key = "a";
  outside.ipv4 = "10.0.9.1";
  EXPECT_THAT(CheckUpdateEndpoint(s, outside).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoint.ipv4: '10.0.9.1' is not inside network web (10.0.0.0/24)"));
}

TEST(ValidateState, BulkCountsAndIntraStreamClashes) {
  NbState s = Sample();
  auto row = [](v1::Endpoint e) { return *EndpointFromProto(e, "x"); };
  std::vector<EndpointRow> rows = {row(ProtoEndpoint("a", "10.0.0.5", "02:00:00:00:00:05")),
                                   row(ProtoEndpoint("b", "10.0.0.6", "02:00:00:00:00:06")),
                                   row(ProtoEndpoint("c", "10.0.0.7", "02:00:00:00:00:07"))};
  auto r = CheckCreateEndpoints(s, rows);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->create.size(), 2u);
  EXPECT_EQ(r->unchanged, 1u);
  rows.push_back(row(ProtoEndpoint("d", "10.0.0.6", "02:00:00:00:00:08")));
  EXPECT_THAT(CheckCreateEndpoints(s, rows).status(),
              IsStatus(absl::StatusCode::kAlreadyExists,
                       "endpoints[3].ipv4: 10.0.0.6 is used by endpoint b in VPC blue"));
  rows.back() = row(ProtoEndpoint("b", "10.0.0.9", "02:00:00:00:00:09"));
  EXPECT_THAT(CheckCreateEndpoints(s, rows).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoints[3].key: 'b' is also endpoints[1]'s key"));
  v1::Endpoint gone = ProtoEndpoint("e", "10.0.0.10", "02:00:00:00:00:0a");
  gone.set_network("nope");
  rows.back() = row(gone);
  EXPECT_THAT(
      CheckCreateEndpoints(s, rows).status(),
      IsStatus(absl::StatusCode::kNotFound, "endpoints[3].network: no network 'nope' in VPC blue"));
  // A stream names its addresses (CreateEndpoint alone allocates them).
  rows.back() = row(ProtoEndpoint("e", "", "02:00:00:00:00:0a"));
  EXPECT_THAT(CheckCreateEndpoints(s, rows).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoints[3].ipv4: missing (CreateEndpoint allocates one; a stream does "
                       "not)"));
  rows.back() = row(ProtoEndpoint("e", "10.0.0.10", ""));
  EXPECT_THAT(CheckCreateEndpoints(s, rows).status(),
              IsStatus(absl::StatusCode::kInvalidArgument,
                       "endpoints[3].mac: missing (CreateEndpoint allocates one; a stream does "
                       "not)"));
}

}  // namespace
}  // namespace shortcut::manager
