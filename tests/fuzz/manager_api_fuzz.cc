// libFuzzer target for the management plane's API (shortcut.manager.v1):
// protobuf bytes in, through what each gRPC handler runs before and after
// its commit.
//
// ManagerService's handlers call a Northbound whose state and commits are
// an NbStore's, which needs an ovsdb-server; so this target runs the layer
// below, in the handlers' order: the syntax checks of service.cc
// (validate.h's *FromProto, PatchFromProto, ParsePageSize, page tokens,
// the id ranges), then Northbound's: AllocateAddresses for an endpoint
// without addresses, the state checks (Check*) against a non-trivial
// NbState, and the views (views.h) of the result.
//
// The NbState is what managerd's store would hold: decoded by NbReplica
// from Shortcut_Northbound rows (table-updates2, against the real schema).
// With flag 1 the input also carries rows "written by someone else" (an
// update2 applied on top), so every request also runs against whatever
// such rows leave in the state.
//
// Input: [op] [flags] (flags & 1: [length, 2 bytes LE] [update2 JSON]) [request].
// Invariants checked: errors carry a code the API documents and a message
// naming a field or the resource; a syntax error is INVALID_ARGUMENT and
// starts with a field of its request; an accepted creation's view reads back
// to the same row, and the same creation against the state it leaves is
// `unchanged` (retries are idempotent, allocated addresses included); pages
// are sorted, bounded, and their tokens continue after their last key; the
// state's indexes match its rows after any update.
//
// Seeds: tests/fuzz/corpus/manager_api/.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "shortcut/manager/v1/manager.pb.h"
#include "spdlog/spdlog.h"
#include "src/manager/address_alloc.h"
#include "src/manager/nb_replica.h"
#include "src/manager/validate.h"
#include "src/manager/views.h"
#include "src/model/offload.h"
#include "src/ovsdb/schema.h"

namespace {

using namespace shortcut::manager;  // NOLINT: a test of this namespace.
using shortcut::ovsdb::Json;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "manager_api_fuzz: %s\n", what.c_str());
  std::abort();
}

// The requests, by the input's first byte.
enum Op : uint8_t {
  kRegisterHost,
  kUnregisterHost,
  kGetHost,
  kListHosts,
  kRegisterGateway,
  kUnregisterGateway,
  kGetGateway,
  kListGateways,
  kCreateCluster,
  kDeleteCluster,
  kGetCluster,
  kListClusters,
  kAddClusterMember,
  kRemoveClusterMember,
  kMoveVpc,
  kCreateVpc,
  kDeleteVpc,
  kGetVpc,
  kListVpcs,
  kCreateNetwork,
  kDeleteNetwork,
  kGetNetwork,
  kListNetworks,
  kCreateEndpoint,
  kUpdateEndpoint,
  kDeleteEndpoint,
  kGetEndpoint,
  kListEndpoints,
  kCreateEndpoints,
  kWatchEndpoints,
  kUpdateVpc,
  kOpCount,
};

std::string Uuid(int n) { return absl::StrCat("00000000-0000-4000-8000-", 100000000000 + n); }
Json Ref(int n) { return Json::array({"uuid", Uuid(n)}); }

// The base database: three hosts, five gateways in two clusters (one
// spare, one draining), a third cluster without members, VPCs with
// networks (one nearly full, one with IPv6), a VPC moving between
// clusters, and endpoints on two hosts.
Json BaseRows() {
  Json t = Json::object();
  auto row = [&](const char* table, int n, Json columns) {
    t[table][Uuid(n)] = Json{{"initial", std::move(columns)}};
  };
  row("NB_Global", 1,
      {{"overload_vms_per_gateway", 100},
       {"underload_vms_per_gateway", 1},
       {"min_cluster_members", 2},
       {"health_deadline_ms", 3000},
       {"hold_down_ms", 30000},
       {"seqno", 7},
       {"active_manager", "m1"},
       {"active_manager_address", "unix:/run/m1.sock"},
       {"active_since_ms", 1000}});
  row("Cluster", 11, {{"cluster_id", 1}});
  row("Cluster", 12, {{"cluster_id", 2}});
  row("Cluster", 13, {{"cluster_id", 3}});
  row("Host", 21,
      {{"name", "h1"}, {"underlay_ip", "172.31.1.1"}, {"openflow", "tcp:172.31.1.1:6653"}});
  row("Host", 22, {{"name", "h2"}, {"underlay_ip", "172.31.1.2"}, {"ovsdb", "unix:/run/h2.sock"}});
  row("Host", 23, {{"name", "h3"}, {"underlay_ip", "172.31.1.3"}});
  auto gateway = [&](int n, const char* name, int cluster, int ofport, const char* role,
                     const char* state) {
    Json g = {{"name", name},
              {"underlay_ip", absl::StrCat("172.31.2.", n - 30)},
              {"grpc_address", absl::StrCat("unix:/run/", name, ".sock")},
              {"capacity", 10 * (n - 29)},
              {"tunnel_ofport", ofport},
              {"state", state},
              {"role", role}};
    if (cluster != 0) g["cluster"] = Ref(cluster);
    row("Gateway", n, std::move(g));
  };
  gateway(31, "g1", 11, 60001, "serving", "ready");
  gateway(32, "g2", 11, 60002, "serving", "ready");
  gateway(33, "g3", 12, 60003, "joining", "loading");
  gateway(34, "g4", 0, 60004, "joining", "unknown");
  gateway(35, "g5", 12, 60005, "draining", "down");
  row("Vpc", 41,
      {{"vpc_id", "blue"},
       {"vni", 100},
       {"router_mac", "02:5c:00:00:00:01"},
       {"cluster", Ref(11)}});
  row("Vpc", 42,
      {{"vpc_id", "red"},
       {"vni", 200},
       {"router_mac", "02:5c:00:00:00:02"},
       {"cluster", Ref(12)},
       {"moving_to", Ref(11)},
       {"move_phase", "loading"}});
  row("Vpc", 43,
      {{"vpc_id", "green"},
       {"vni", 300},
       {"router_mac", "02:5c:00:00:00:03"},
       {"cluster", Ref(11)}});
  row("Network", 51,
      {{"vpc", Ref(41)},
       {"network_id", "web"},
       {"ipv4_cidr", "10.0.0.0/24"},
       {"ipv6_cidr", "fd00::/64"}});
  row("Network", 52, {{"vpc", Ref(41)}, {"network_id", "db"}, {"ipv4_cidr", "10.0.1.0/30"}});
  row("Network", 53, {{"vpc", Ref(42)}, {"network_id", "n1"}, {"ipv4_cidr", "10.1.0.0/16"}});
  auto endpoint = [&](int n, const char* key, int vpc, int network, const char* ipv4,
                      const char* mac, int host, const char* status) {
    row("Endpoint", n,
        {{"key", key},
         {"vpc", Ref(vpc)},
         {"network", Ref(network)},
         {"ipv4", ipv4},
         {"mac", mac},
         {"host", Ref(host)},
         {"iface_id", key},
         {"status", status}});
  };
  endpoint(61, "e1", 41, 51, "10.0.0.2", "02:00:00:00:00:02", 21, "online");
  endpoint(62, "e2", 41, 51, "10.0.0.3", "0a:58:0a:00:00:03", 22, "pending");
  t["Endpoint"][Uuid(62)]["initial"]["ipv6"] = "fd00::3";
  endpoint(63, "e3", 41, 52, "10.0.1.2", "02:00:00:00:01:02", 21, "online");
  endpoint(64, "e4", 42, 53, "10.1.0.5", "02:00:00:01:00:05", 22, "pending");
  return t;
}

const shortcut::ovsdb::DbSchema& Schema() {
  static const auto* schema = [] {
    std::ifstream f(SHORTCUT_SOURCE_DIR "/schema/shortcut_nb.ovsschema");
    std::stringstream ss;
    ss << f.rdbuf();
    auto parsed = shortcut::ovsdb::ParseSchema(Json::parse(ss.str(), nullptr, false));
    if (!parsed.ok()) Fail("cannot read schema/shortcut_nb.ovsschema");
    return new shortcut::ovsdb::DbSchema(std::move(*parsed));
  }();
  return *schema;
}

void NewReplica(NbReplica& replica) {
  absl::Status s = replica.Resync(BaseRows(), Schema());
  if (!s.ok()) Fail(absl::StrCat("base rows refused: ", s.ToString()));
}

// The indexes NbStore keeps match the rows.
void CheckIndexes(const NbState& s) {
  size_t by_vpc = 0, by_host = 0;
  for (const auto& [vpc, keys] : s.endpoints_by_vpc) {
    for (const std::string& k : keys) {
      const EndpointRow* e = s.FindEndpoint(k);
      if (e == nullptr || e->endpoint.vpc != vpc) Fail("endpoints_by_vpc out of step: " + k);
      ++by_vpc;
    }
  }
  for (const auto& [host, keys] : s.endpoints_by_host) {
    for (const std::string& k : keys) {
      const EndpointRow* e = s.FindEndpoint(k);
      if (e == nullptr || e->endpoint.host != host) Fail("endpoints_by_host out of step: " + k);
      ++by_host;
    }
  }
  if (by_vpc != s.endpoints.size() || by_host != s.endpoints.size()) {
    Fail("an endpoint missing from its indexes");
  }
  size_t members = 0;
  for (const auto& [c, names] : s.gateways_by_cluster) {
    for (const std::string& n : names) {
      auto it = s.gateways.find(n);
      if (it == s.gateways.end() || it->second.cluster_id != c) Fail("gateways_by_cluster: " + n);
      ++members;
    }
  }
  size_t in_clusters = 0;
  for (const auto& [n, g] : s.gateways) in_clusters += g.cluster_id != 0;
  if (members != in_clusters) Fail("a member missing from gateways_by_cluster");
}

// An error as the API returns it: a documented code and a message.
void CheckError(const absl::Status& s) {
  if (s.ok()) return;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      break;
    default:
      Fail("unexpected code: " + s.ToString());
  }
  if (s.message().empty()) Fail("an error without a message");
}

// A syntax error: INVALID_ARGUMENT starting with one of the request's fields.
void CheckSyntaxError(const absl::Status& s, std::initializer_list<std::string_view> fields) {
  if (s.ok()) return;
  if (s.code() != absl::StatusCode::kInvalidArgument) Fail("syntax: " + s.ToString());
  std::string m(s.message());
  for (std::string_view f : fields) {
    if (m.starts_with(f)) {
      char next = m.size() > f.size() ? m[f.size()] : '\0';
      if (next == ':' || next == '.' || next == '[' || next == ' ') return;
    }
  }
  Fail(absl::StrCat("syntax error naming no field of the request: ", s.ToString()));
}

// A page as TakePage and EndpointPage cut it: bounded, after its token,
// and its next token the last key.
void CheckPage(const Page& page, const std::string& after, int32_t size) {
  if (page.keys.size() > static_cast<size_t>(size)) Fail("page larger than asked");
  for (const std::string& k : page.keys) {
    if (!after.empty() && k == after) Fail("page repeats the key of its token");
  }
  if (!page.next_token.empty()) {
    auto next = ParsePageToken(page.next_token);
    if (!next.ok()) Fail("next_token does not parse: " + next.status().ToString());
    if (page.keys.empty() || *next != page.keys.back()) Fail("next_token is not the last key");
  }
}

// Page size and token, as every List handler reads them.
bool ListArgs(int32_t page_size, const std::string& token, int32_t* size, std::string* after) {
  auto n = ParsePageSize(page_size);
  CheckSyntaxError(n.status(), {"page_size"});
  if (!n.ok()) return false;
  if (*n <= 0 || *n > kMaxPageSize) Fail("ParsePageSize out of range");
  auto a = ParsePageToken(token);
  CheckSyntaxError(a.status(), {"page_token"});
  if (!a.ok()) return false;
  if (!a->empty() && ParsePageToken(PageToken(*a)).value_or("") != *a) {
    Fail("page token does not round-trip");
  }
  *size = *n;
  *after = *a;
  return true;
}

template <typename Map>
std::vector<std::string> SortedKeys(const Map& m) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// ---- Applying an accepted creation to a copy of the state, as the store
// would show it after the commit. ----

void PutEndpoint(NbState& s, const EndpointRow& row) {
  const shortcut::model::Endpoint& e = row.endpoint;
  if (const EndpointRow* old = s.FindEndpoint(e.key)) {
    s.endpoints_by_vpc[old->endpoint.vpc].erase(e.key);
    s.endpoints_by_host[old->endpoint.host].erase(e.key);
    s.UnindexAddresses(old->endpoint);
  }
  s.endpoints[e.key] = row;
  s.endpoints_by_vpc[e.vpc].insert(e.key);
  s.endpoints_by_host[e.host].insert(e.key);
  s.IndexAddresses(e);
}

void CheckEndpointRoundTrip(const EndpointRow& row) {
  v1::Endpoint view = EndpointView(row);
  auto back = EndpointFromProto(view, "endpoint");
  if (!back.ok()) Fail("an accepted endpoint's view is refused: " + back.status().ToString());
  if (!(back->endpoint == row.endpoint))
    Fail("endpoint view does not read back: " + row.endpoint.key);
}

bool Parse(google::protobuf::Message& m, std::string_view bytes) {
  return m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

void Run(Op op, const NbState& state, std::string_view bytes) {
  switch (op) {
    case kRegisterHost: {
      v1::RegisterHostRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_host()) return;
      auto row = HostFromProto(r.host(), "host");
      CheckSyntaxError(row.status(), {"host"});
      if (!row.ok()) return;
      auto checked = CheckRegisterHost(state, *row);
      CheckError(checked.status());
      if (!checked.ok()) return;
      v1::Host view = HostView(state, checked->value);
      auto back = HostFromProto(view, "host");
      if (!back.ok() || !(*back == checked->value)) Fail("host view does not read back");
      NbState after = state;
      after.hosts[checked->value.host.name] = checked->value;
      auto again = CheckRegisterHost(after, *row);
      if (!again.ok() || !again->unchanged) Fail("RegisterHost retry is not unchanged");
      return;
    }
    case kUnregisterHost:
    case kGetHost: {
      v1::GetHostRequest r;  // UnregisterHostRequest has the same field.
      if (!Parse(r, bytes)) return;
      absl::Status s = CheckName("name", r.name());
      CheckSyntaxError(s, {"name"});
      if (!s.ok()) return;
      if (op == kUnregisterHost) {
        CheckError(CheckUnregisterHost(state, r.name()));
      } else if (auto it = state.hosts.find(r.name()); it != state.hosts.end()) {
        (void)HostView(state, it->second);
      }
      return;
    }
    case kListHosts:
    case kListGateways:
    case kListClusters: {
      v1::ListHostsRequest r;  // The three share page_size = 1, page_token = 2.
      if (!Parse(r, bytes)) return;
      int32_t size = 0;
      std::string after;
      if (!ListArgs(r.page_size(), r.page_token(), &size, &after)) return;
      std::vector<std::string> keys;
      if (op == kListHosts) keys = SortedKeys(state.hosts);
      if (op == kListGateways) keys = SortedKeys(state.gateways);
      if (op == kListClusters) {
        for (const auto& [id, c] : state.clusters) keys.push_back(ClusterKey(id));
      }
      Page page = TakePage(keys, after, size);
      CheckPage(page, after, size);
      for (const std::string& k : page.keys) {
        if (op == kListHosts) (void)HostView(state, state.hosts.at(k));
        if (op == kListGateways) (void)GatewayView(state.gateways.at(k));
        if (op == kListClusters) (void)ClusterView(state, static_cast<uint32_t>(std::stoul(k)));
      }
      return;
    }
    case kRegisterGateway: {
      v1::RegisterGatewayRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_gateway()) return;
      auto row = GatewayFromProto(r.gateway(), "gateway");
      CheckSyntaxError(row.status(), {"gateway"});
      if (!row.ok()) return;
      auto checked = CheckRegisterGateway(state, *row);
      CheckError(checked.status());
      if (!checked.ok()) return;
      const GatewayRow& g = checked->value;
      if (!checked->unchanged &&
          (g.tunnel_ofport < kFirstTunnelOfport || g.tunnel_ofport > kLastTunnelOfport)) {
        Fail("tunnel_ofport assigned out of range");
      }
      auto back = GatewayFromProto(GatewayView(g), "gateway");
      if (!back.ok() || back->name != g.name || back->underlay_ipv4 != g.underlay_ipv4 ||
          back->grpc_address != g.grpc_address || back->capacity != g.capacity) {
        Fail("gateway view does not read back");
      }
      NbState after = state;
      after.gateways[g.name] = g;
      auto again = CheckRegisterGateway(after, *row);
      if (!again.ok() || !again->unchanged) Fail("RegisterGateway retry is not unchanged");
      return;
    }
    case kUnregisterGateway:
    case kGetGateway: {
      v1::GetGatewayRequest r;
      if (!Parse(r, bytes)) return;
      absl::Status s = CheckName("name", r.name());
      CheckSyntaxError(s, {"name"});
      if (!s.ok()) return;
      if (op == kUnregisterGateway) {
        CheckError(CheckUnregisterGateway(state, r.name()));
      } else if (auto it = state.gateways.find(r.name()); it != state.gateways.end()) {
        (void)GatewayView(it->second);
      }
      return;
    }
    case kCreateCluster: {
      v1::CreateClusterRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_cluster()) return;
      auto in = ClusterFromProto(r.cluster(), "cluster");
      CheckSyntaxError(in.status(), {"cluster"});
      if (!in.ok()) return;
      auto checked = CheckCreateCluster(state, *in);
      CheckError(checked.status());
      if (!checked.ok()) return;
      uint32_t id = checked->value.id;
      if (id < 1 || id > kMaxClusterId) Fail("cluster id assigned out of range");
      (void)ClusterView(state, id);
      return;
    }
    case kDeleteCluster:
    case kGetCluster: {
      v1::GetClusterRequest r;
      if (!Parse(r, bytes)) return;
      if (r.id() < 1 || r.id() > kMaxClusterId) return;  // The handler's own range check.
      if (op == kDeleteCluster) {
        CheckError(CheckDeleteCluster(state, r.id()));
      } else if (state.clusters.contains(r.id())) {
        (void)ClusterView(state, r.id());
      }
      return;
    }
    case kAddClusterMember:
    case kRemoveClusterMember: {
      v1::AddClusterMemberRequest r;
      if (!Parse(r, bytes)) return;
      if (r.cluster_id() < 1 || r.cluster_id() > kMaxClusterId) return;
      absl::Status s = CheckName("gateway", r.gateway());
      CheckSyntaxError(s, {"gateway"});
      if (!s.ok()) return;
      auto checked = op == kAddClusterMember
                         ? CheckAddClusterMember(state, r.cluster_id(), r.gateway())
                         : CheckRemoveClusterMember(state, r.cluster_id(), r.gateway());
      CheckError(checked.status());
      if (checked.ok()) (void)ClusterView(state, r.cluster_id());
      return;
    }
    case kMoveVpc: {
      v1::MoveVpcRequest r;
      if (!Parse(r, bytes)) return;
      absl::Status s = CheckName("id", r.id());
      CheckSyntaxError(s, {"id"});
      if (!s.ok() || r.cluster_id() < 1 || r.cluster_id() > kMaxClusterId) return;
      auto row = CheckMoveVpc(state, r.id(), r.cluster_id());
      CheckError(row.status());
      if (row.ok() && row->has_value()) (void)VpcView(state, **row);
      return;
    }
    case kUpdateVpc: {
      // As the service checks it, then the state check; the row it would
      // write is viewed.
      v1::UpdateVpcRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_vpc()) return;
      absl::Status s = CheckName("vpc.id", r.vpc().id());
      CheckSyntaxError(s, {"vpc.id"});
      if (!s.ok()) return;
      auto offload = OffloadFromProto(r.vpc().offload(), "vpc.offload");
      CheckSyntaxError(offload.status(), {"vpc.offload"});
      if (!offload.ok()) return;
      if (absl::Status v = shortcut::model::ValidateOffload(*offload, "again"); !v.ok()) {
        Fail("OffloadFromProto let through: " + v.ToString());
      }
      auto row = CheckUpdateVpc(state, r.vpc().id(), *offload);
      CheckError(row.status());
      if (row.ok() && row->has_value()) {
        if ((*row)->vpc.offload != *offload) Fail("CheckUpdateVpc: policy not applied");
        (void)VpcView(state, **row);
      }
      return;
    }
    case kCreateVpc: {
      v1::CreateVpcRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_vpc()) return;
      auto in = VpcFromProto(r.vpc(), "vpc");
      CheckSyntaxError(in.status(), {"vpc"});
      if (!in.ok()) return;
      auto checked = CheckCreateVpc(state, *in);
      CheckError(checked.status());
      if (!checked.ok()) return;
      const VpcRow& v = checked->value.vpc;
      if (v.cluster_id == 0 || !state.clusters.contains(v.cluster_id)) {
        Fail("a VPC accepted without a cluster");
      }
      NbState after = state;
      after.vpcs[v.vpc.id] = v;
      for (const NetworkRow& n : checked->value.networks) {
        after.networks[{n.vpc, n.network.id}] = n;
      }
      v1::Vpc view = VpcView(after, v);
      view.clear_cluster_id();  // Placed: the retry places it again.
      auto back = VpcFromProto(view, "vpc");
      if (!back.ok()) Fail("VPC view refused: " + back.status().ToString());
      auto again = CheckCreateVpc(after, *in);
      if (!again.ok() || !again->unchanged) Fail("CreateVpc retry is not unchanged");
      return;
    }
    case kDeleteVpc:
    case kGetVpc: {
      v1::GetVpcRequest r;
      if (!Parse(r, bytes)) return;
      absl::Status s = CheckName("id", r.id());
      CheckSyntaxError(s, {"id"});
      if (!s.ok()) return;
      absl::Status exists = CheckVpcExists(state, "id", r.id());
      CheckError(exists);
      if (exists.ok()) (void)VpcView(state, state.vpcs.at(r.id()));
      return;
    }
    case kListVpcs: {
      v1::ListVpcsRequest r;
      if (!Parse(r, bytes)) return;
      int32_t size = 0;
      std::string after;
      if (!ListArgs(r.page_size(), r.page_token(), &size, &after)) return;
      if (r.cluster_id() > kMaxClusterId) return;
      std::vector<std::string> keys;
      for (const auto& [id, v] : state.vpcs) {
        if (r.cluster_id() == 0 || HeldBy(v, r.cluster_id())) keys.push_back(id);
      }
      std::sort(keys.begin(), keys.end());
      Page page = TakePage(keys, after, size);
      CheckPage(page, after, size);
      for (const std::string& k : page.keys) (void)VpcView(state, state.vpcs.at(k));
      return;
    }
    case kCreateNetwork: {
      v1::CreateNetworkRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_network()) return;
      auto row = NetworkFromProto(r.network(), "network");
      CheckSyntaxError(row.status(), {"network"});
      if (!row.ok()) return;
      auto checked = CheckCreateNetwork(state, *row);
      CheckError(checked.status());
      if (!checked.ok()) return;
      auto back = NetworkFromProto(NetworkView(checked->value), "network");
      if (!back.ok() || !(*back == checked->value)) Fail("network view does not read back");
      NbState after = state;
      after.networks[{checked->value.vpc, checked->value.network.id}] = checked->value;
      auto again = CheckCreateNetwork(after, *row);
      if (!again.ok() || !again->unchanged) Fail("CreateNetwork retry is not unchanged");
      return;
    }
    case kDeleteNetwork:
    case kGetNetwork: {
      v1::GetNetworkRequest r;
      if (!Parse(r, bytes)) return;
      absl::Status s = CheckName("vpc", r.vpc());
      if (s.ok()) s = CheckName("id", r.id());
      CheckSyntaxError(s, {"vpc", "id"});
      if (!s.ok()) return;
      absl::Status exists = CheckNetworkExists(state, r.vpc(), r.id());
      CheckError(exists);
      if (exists.ok()) (void)NetworkView(state.networks.at({r.vpc(), r.id()}));
      return;
    }
    case kListNetworks: {
      v1::ListNetworksRequest r;
      if (!Parse(r, bytes)) return;
      absl::Status s = CheckName("vpc", r.vpc());
      CheckSyntaxError(s, {"vpc"});
      if (!s.ok()) return;
      int32_t size = 0;
      std::string after;
      if (!ListArgs(r.page_size(), r.page_token(), &size, &after)) return;
      absl::Status exists = CheckVpcExists(state, "vpc", r.vpc());
      CheckError(exists);
      if (!exists.ok()) return;
      std::vector<std::string> keys;
      for (const auto& [key, n] : state.networks) {
        if (key.first == r.vpc()) keys.push_back(key.second);
      }
      Page page = TakePage(keys, after, size);
      CheckPage(page, after, size);
      for (const std::string& k : page.keys) (void)NetworkView(state.networks.at({r.vpc(), k}));
      return;
    }
    case kCreateEndpoint: {
      v1::CreateEndpointRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_endpoint()) return;
      auto row = EndpointFromProto(r.endpoint(), "endpoint");
      CheckSyntaxError(row.status(), {"endpoint"});
      if (!row.ok()) return;
      EndpointRow e = *row;
      InFlightAddresses in_flight;
      absl::Status allocated = AllocateAddresses(state, in_flight, "endpoint", e.endpoint);
      CheckError(allocated);
      if (!allocated.ok()) return;
      auto checked = CheckCreateEndpoint(state, e);
      CheckError(checked.status());
      if (!checked.ok()) return;
      CheckEndpointRoundTrip(checked->value);
      // The retry (same request, against the state the commit left) is
      // unchanged and gets the same addresses.
      NbState after = state;
      PutEndpoint(after, checked->value);
      CheckIndexes(after);
      EndpointRow retry = *row;
      absl::Status again_allocated =
          AllocateAddresses(after, in_flight, "endpoint", retry.endpoint);
      if (!again_allocated.ok()) Fail("retry allocation: " + again_allocated.ToString());
      if (retry.endpoint.ipv4 != checked->value.endpoint.ipv4 ||
          retry.endpoint.mac != checked->value.endpoint.mac) {
        Fail("a retried CreateEndpoint got other addresses");
      }
      auto again = CheckCreateEndpoint(after, retry);
      if (!again.ok() || !again->unchanged) Fail("CreateEndpoint retry is not unchanged");
      return;
    }
    case kUpdateEndpoint: {
      v1::UpdateEndpointRequest r;
      if (!Parse(r, bytes)) return;
      if (!r.has_endpoint()) return;
      auto patch = PatchFromProto(r.endpoint(), r.update_mask());
      CheckSyntaxError(patch.status(), {"endpoint", "update_mask"});
      if (!patch.ok()) return;
      auto checked = CheckUpdateEndpoint(state, *patch);
      CheckError(checked.status());
      if (!checked.ok()) return;
      const EndpointRow& updated = checked->value.row;
      if (updated.endpoint.key != patch->key) Fail("UpdateEndpoint changed the key");
      CheckEndpointRoundTrip(updated);
      NbState after = state;
      PutEndpoint(after, updated);
      CheckIndexes(after);
      auto again = CheckUpdateEndpoint(after, *patch);
      if (!again.ok() || !again->unchanged) Fail("UpdateEndpoint retry is not unchanged");
      return;
    }
    case kDeleteEndpoint:
    case kGetEndpoint: {
      v1::GetEndpointRequest r;
      if (!Parse(r, bytes)) return;
      if (r.key().empty()) return;
      absl::Status exists = CheckEndpointExists(state, "key", r.key());
      CheckError(exists);
      if (exists.ok()) (void)EndpointView(*state.FindEndpoint(r.key()));
      return;
    }
    case kListEndpoints:
    case kWatchEndpoints: {
      v1::ListEndpointsRequest r;
      if (!Parse(r, bytes)) return;
      int32_t size = kMaxPageSize;
      std::string after;
      if (op == kListEndpoints && !ListArgs(r.page_size(), r.page_token(), &size, &after)) return;
      for (const char* field : {"vpc", "host"}) {
        const std::string& v = field[0] == 'v' ? r.vpc() : r.host();
        if (v.empty()) continue;
        absl::Status s = CheckName(field, v);
        CheckSyntaxError(s, {field});
        if (!s.ok()) return;
      }
      Page page = EndpointPage(state, r.vpc(), r.host(), after, size);
      CheckPage(page, after, size);
      for (size_t i = 0; i < page.keys.size(); ++i) {
        const EndpointRow* e = state.FindEndpoint(page.keys[i]);
        if (e == nullptr) Fail("EndpointPage names an unknown endpoint");
        if (!EndpointMatches(e->endpoint, r.vpc(), r.host())) Fail("EndpointPage: filter");
        if (i > 0 && !(page.keys[i - 1] < page.keys[i])) Fail("EndpointPage: not sorted");
        (void)EndpointView(*e);
      }
      return;
    }
    case kCreateEndpoints: {
      // One stream, as the service reads it: batches of two messages'
      // worth, endpoints numbered across them.
      v1::CreateEndpointsRequest r;
      if (!Parse(r, bytes)) return;
      std::vector<EndpointRow> rows;
      for (const v1::Endpoint& e : r.endpoints()) {
        std::string field = absl::StrCat("endpoints[", rows.size(), "]");
        auto row = EndpointFromProto(e, field);
        CheckSyntaxError(row.status(), {field});
        if (!row.ok()) return;
        rows.push_back(std::move(*row));
      }
      auto checked = CheckCreateEndpoints(state, rows);
      CheckError(checked.status());
      if (!checked.ok()) return;
      if (checked->create.size() + checked->unchanged != rows.size()) {
        Fail("CreateEndpoints lost endpoints");
      }
      NbState after = state;
      for (const EndpointRow& e : checked->create) {
        CheckEndpointRoundTrip(e);
        PutEndpoint(after, e);
      }
      CheckIndexes(after);
      auto again = CheckCreateEndpoints(after, rows);
      if (!again.ok() || !again->create.empty()) Fail("CreateEndpoints retry writes again");
      return;
    }
    case kOpCount:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static NbReplica* base = [] {
    // Refused rows and invalid UTF-8 are expected here, not news.
    spdlog::set_level(spdlog::level::off);
    google::protobuf::SetLogHandler(nullptr);
    auto* r = new NbReplica([](NbTable, const std::string&, const std::string&) {});
    NewReplica(*r);
    CheckIndexes(r->state());
    return r;
  }();
  Op op = static_cast<Op>(data[0] % kOpCount);
  uint8_t flags = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  if ((flags & 1) == 0) {
    Run(op, base->state(), rest);
    return 0;
  }
  // Rows written by someone else, on top of the base rows.
  if (rest.size() < 2) return 0;
  size_t length = static_cast<uint8_t>(rest[0]) | (static_cast<uint8_t>(rest[1]) << 8);
  rest.remove_prefix(2);
  if (length > rest.size()) return 0;
  Json update = Json::parse(rest.substr(0, length), nullptr, /*allow_exceptions=*/false);
  if (update.is_discarded()) return 0;
  NbReplica replica([](NbTable, const std::string&, const std::string&) {});
  NewReplica(replica);
  absl::Status applied = replica.ApplyUpdate2(std::move(update));
  if (!applied.ok() && applied.message().empty()) Fail("update refused without a message");
  CheckIndexes(replica.state());
  Run(op, replica.state(), rest.substr(length));
  return 0;
}
