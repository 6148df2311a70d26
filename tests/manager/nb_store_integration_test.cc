// NbStore against a real ovsdb-server serving schema/shortcut_nb.ovsschema:
// the schema's own refusals (checked through Commit's status and with
// ovsdb-client dump showing nothing changed), read-your-write, writes by
// others (ovsdb-client transact), a server restart with an offline change
// (ovsdb-tool transact), several subscribers, and a bulk commit.
#include <sys/resource.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manager/store.h"
#include "src/ovsdb/client.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/co_assert.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace shortcut::manager {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::shortcut::testing::RunProcess;
using ::shortcut::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr char kDb[] = "Shortcut_Northbound";

HostRow Host(const std::string& name, const std::string& ip) {
  return HostRow{
      .host = {.name = name, .underlay_ipv4 = ip, .openflow_target = "", .ovsdb_target = ""}};
}
VpcRow Vpc(const std::string& id, uint32_t vni, uint32_t cluster) {
  return VpcRow{.vpc = {.id = id, .vni = vni, .router_mac = "02:00:00:00:00:01"},
                .cluster_id = cluster};
}
NetworkRow Net(const std::string& vpc, const std::string& id) {
  return NetworkRow{.vpc = vpc, .network = {.id = id, .ipv4_cidr = "10.0.0.0/8", .ipv6_cidr = ""}};
}
EndpointRow Ep(const std::string& key, const std::string& vpc, const std::string& host, int i) {
  EndpointRow e;
  e.endpoint.key = key;
  e.endpoint.vpc = vpc;
  e.endpoint.network = "web";
  e.endpoint.ipv4 = absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255, ".", i & 255);
  e.endpoint.mac =
      absl::StrFormat("02:00:00:%02x:%02x:%02x", (i >> 16) & 255, (i >> 8) & 255, i & 255);
  e.endpoint.host = host;
  e.endpoint.iface_id = key;
  return e;
}
GatewayRow Gw(const std::string& name, uint32_t cluster, uint32_t ofport) {
  GatewayRow g;
  g.name = name;
  g.underlay_ipv4 = absl::StrCat("172.16.0.", ofport - 60000);
  g.grpc_address = "unix:/tmp/" + name;
  g.capacity = 1000;
  g.cluster_id = cluster;
  g.tunnel_ofport = ofport;
  return g;
}

// "table kind key" for each change, to compare a whole Take() at once.
std::vector<std::string> Summary(const std::vector<NbChange>& changes) {
  std::vector<std::string> out;
  for (const NbChange& c : changes) {
    const char* kind = c.kind == NbChangeKind::kInsert   ? "insert"
                       : c.kind == NbChangeKind::kModify ? "modify"
                                                         : "delete";
    out.push_back(absl::StrCat(static_cast<int>(c.table), " ", kind, " ", c.key));
  }
  return out;
}
std::string S(NbTable t, const char* kind, const std::string& key) {
  return absl::StrCat(static_cast<int>(t), " ", kind, " ", key);
}

long RssKb() {
  std::string status = testing::ReadFile("/proc/self/status");
  size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

class NbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start(testing::ReadFile(SHORTCUT_NB_SCHEMA)).ok());
    store_ = MakeStore();
  }

  std::unique_ptr<NbStore> MakeStore(Millis commit_timeout = 30000) {
    NbStore::Options o;
    o.servers = {*ovsdb::ParseOvsdbTarget(server_.target())};
    o.commit_timeout = commit_timeout;
    auto s = std::make_unique<NbStore>(io_.get_executor(), o);
    s->Start();
    return s;
  }

  std::string Dump() {
    auto r = RunProcess({"ovsdb-client", "dump", server_.target(), kDb});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }
  // The uuid of the first row of `table` matching `where` (JSON), as the
  // server names it; "" when none.
  std::string UuidOf(const std::string& table, const std::string& where) {
    auto r = ClientTransact(absl::StrCat(R"({"op":"select","table":")", table, R"(","where":)",
                                         where, R"(,"columns":["_uuid"]})"));
    const std::string prefix = R"("_uuid":["uuid",")";
    size_t at = r.out.find(prefix);
    return at == std::string::npos ? "" : r.out.substr(at + prefix.size(), 36);
  }
  testing::RunResult ClientTransact(const std::string& ops) {
    return RunProcess(
        {"ovsdb-client", "transact", server_.target(), absl::StrCat("[\"", kDb, "\",", ops, "]")});
  }

  // Cluster 1, host h1, VPC blue with network web and endpoints vm1, vm2.
  asio::awaitable<absl::Status> Populate() {
    NbTxn t;
    t.InsertCluster(ClusterRow{.id = 1});
    t.InsertHost(Host("h1", "192.168.0.1"));
    t.InsertVpc(Vpc("blue", 100, 1));
    t.InsertNetwork(Net("blue", "web"));
    t.InsertEndpoint(Ep("vm1", "blue", "h1", 1));
    t.InsertEndpoint(Ep("vm2", "blue", "h1", 2));
    t.InsertGateway(Gw("g1", 1, 60001));
    co_return co_await store_->Commit(std::move(t));
  }

  testing::OvsdbServer server_;
  ManualClock clock_;  // For tests that inject it; outlives io_ (its timers).
  asio::io_context io_;
  std::unique_ptr<NbStore> store_;
};

TEST_F(NbStoreTest, SchemaIsServed) {
  auto r = RunProcess({"ovsdb-client", "get-schema", server_.target(), kDb});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"name\":\"Shortcut_Northbound\""));
  EXPECT_THAT(r.out, HasSubstr("\"version\":\"1.3.0\""));
  auto tables = RunProcess({"ovsdb-client", "list-tables", server_.target(), kDb});
  for (const char* t : {"NB_Global", "Host", "Gateway", "Cluster", "Vpc", "Network", "Endpoint"}) {
    EXPECT_THAT(tables.out, HasSubstr(t));
  }
}

TEST_F(NbStoreTest, CommitIsVisibleInStateAndDatabase) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    const NbState& s = store_->state();
    EXPECT_EQ(s.hosts.at("h1"), Host("h1", "192.168.0.1"));
    EXPECT_EQ(s.vpcs.at("blue"), Vpc("blue", 100, 1));
    EXPECT_EQ(s.networks.at(NetworkKey("blue", "web")), Net("blue", "web"));
    EXPECT_EQ(s.endpoints.at("vm2"), Ep("vm2", "blue", "h1", 2));
    EXPECT_EQ(s.gateways.at("g1"), Gw("g1", 1, 60001));
    EXPECT_EQ(s.endpoints_by_vpc.at("blue"), (std::set<std::string>{"vm1", "vm2"}));
    EXPECT_EQ(s.endpoints_by_host.at("h1"), (std::set<std::string>{"vm1", "vm2"}));
    EXPECT_EQ(s.gateways_by_cluster.at(1), (std::set<std::string>{"g1"}));
    EXPECT_EQ(s.settings, Settings{});

    // Updates and a status change, read back at once.
    NbTxn t;
    EndpointRow moved = Ep("vm1", "blue", "h1", 1);
    moved.endpoint.ipv6 = "fd00::1";
    t.UpdateEndpoint(moved);
    t.SetEndpointStatus("vm2", EndpointStatus::kOnline);
    GatewayRow spare = Gw("g1", 0, 60001);
    spare.state = GatewayState::kReady;
    t.UpdateGateway(spare);
    Settings settings{.overload_vms_per_gateway = 500, .min_cluster_members = 3};
    t.SetSettings(settings);
    CO_ASSERT_OK(co_await store_->Commit(std::move(t)));
    EXPECT_EQ(s.endpoints.at("vm1"), moved);
    EXPECT_EQ(s.endpoints.at("vm2").status, EndpointStatus::kOnline);
    EXPECT_EQ(s.gateways.at("g1"), spare)
        << s.gateways.at("g1").cluster_id << " " << static_cast<int>(s.gateways.at("g1").state);
    EXPECT_FALSE(s.gateways_by_cluster.contains(1));
    EXPECT_EQ(s.settings, settings);
  });
  // The database itself, read by ovsdb-client.
  std::string dump = Dump();
  EXPECT_THAT(dump, HasSubstr("fd00::1"));
  EXPECT_THAT(dump, HasSubstr("online"));
  EXPECT_THAT(dump, HasSubstr("192.168.0.1"));
}

TEST_F(NbStoreTest, DatabaseRefusalsChangeNothing) {
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    struct Case {
      std::string what;
      NbTxn txn;
      absl::StatusCode code;
      std::string words;  // From the database's message.
    };
    std::vector<Case> cases;
    {
      Case c{"duplicate host name", {}, absl::StatusCode::kAlreadyExists, "identical values"};
      c.txn.InsertHost(Host("h1", "192.168.0.99"));
      cases.push_back(std::move(c));
    }
    {
      Case c{"duplicate VNI", {}, absl::StatusCode::kAlreadyExists, "vni"};
      c.txn.InsertVpc(Vpc("red", 100, 1));
      cases.push_back(std::move(c));
    }
    {
      Case c{"VPC of a missing cluster",
             {},
             absl::StatusCode::kFailedPrecondition,
             "referential integrity"};
      c.txn.InsertVpc(Vpc("red", 200, 7));
      cases.push_back(std::move(c));
    }
    {
      Case c{"cluster serving a VPC",
             {},
             absl::StatusCode::kFailedPrecondition,
             "referential integrity"};
      c.txn.DeleteCluster(1);
      cases.push_back(std::move(c));
    }
    {
      Case c{"host with endpoints",
             {},
             absl::StatusCode::kFailedPrecondition,
             "referential integrity"};
      c.txn.DeleteHost("h1");
      cases.push_back(std::move(c));
    }
    {
      Case c{"VNI out of range", {}, absl::StatusCode::kInvalidArgument, "16777215"};
      c.txn.InsertVpc(Vpc("red", 1 << 24, 1));
      cases.push_back(std::move(c));
    }
    {
      Case c{"gateway in a missing cluster",
             {},
             absl::StatusCode::kFailedPrecondition,
             "cluster 9 does not exist"};
      c.txn.InsertGateway(Gw("g2", 9, 60002));
      cases.push_back(std::move(c));
    }
    {
      Case c{"update of a missing endpoint", {}, absl::StatusCode::kNotFound, "vm9"};
      c.txn.UpdateEndpoint(Ep("vm9", "blue", "h1", 9));
      cases.push_back(std::move(c));
    }
    {
      // A good insert before the bad one is rolled back with it.
      Case c{"duplicate endpoint MAC in the VPC", {}, absl::StatusCode::kAlreadyExists, "mac"};
      c.txn.InsertHost(Host("h2", "192.168.0.2"));
      EndpointRow dup = Ep("vm3", "blue", "h2", 3);
      dup.endpoint.mac = Ep("vm1", "blue", "h1", 1).endpoint.mac;
      c.txn.InsertEndpoint(dup);
      cases.push_back(std::move(c));
    }
    const std::string before = Dump();
    const NbState state_before = store_->state();
    for (Case& c : cases) {
      absl::Status s = co_await store_->Commit(std::move(c.txn));
      EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
      EXPECT_THAT(std::string(s.message()), HasSubstr(c.words)) << c.what;
      EXPECT_EQ(Dump(), before) << c.what;
    }
    EXPECT_EQ(store_->state().hosts, state_before.hosts);
    EXPECT_EQ(store_->state().vpcs, state_before.vpcs);
    EXPECT_EQ(store_->state().endpoints, state_before.endpoints);
  });
}

// Endpoint writes name the row by uuid (ovsdb-server scans the table for
// any other column): the replica's key → uuid map must follow a row
// replaced under the same key by another client, and the address indexes
// must follow a swap of addresses inside one transaction and a delete.
TEST_F(NbStoreTest, EndpointUuidsAndAddressIndexesFollowReplacesSwapsAndDeletes) {
  auto sub = store_->Subscribe();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    co_await sub->Wait();
    sub->Take();  // Populate's own changes.
    const NbState& s = store_->state();
    const EndpointRow one = Ep("vm1", "blue", "h1", 1), two = Ep("vm2", "blue", "h1", 2);
    CO_ASSERT_TRUE(s.EndpointWithIpv4("blue", one.endpoint.ipv4) != nullptr);
    EXPECT_EQ(*s.EndpointWithIpv4("blue", one.endpoint.ipv4), "vm1");
    EXPECT_EQ(*s.EndpointWithMac("blue", two.endpoint.mac), "vm2");
    EXPECT_EQ(s.EndpointWithIpv4("red", one.endpoint.ipv4), nullptr);

    // Another client replaces vm2's row (a new uuid, the same key; another
    // iface-id, or the store would see no change).
    auto refs = ClientTransact(R"({"op":"select","table":"Endpoint","where":[["key","==","vm2"]],)"
                               R"("columns":["vpc","network","host"]})");
    EXPECT_TRUE(refs.ok()) << refs.err;
    CO_ASSERT_TRUE(refs.ok());
    auto ref = [&](const std::string& column) {
      std::string prefix = "\"" + column + "\":[\"uuid\",\"";
      size_t at = refs.out.find(prefix);
      return at == std::string::npos ? std::string() : refs.out.substr(at + prefix.size(), 36);
    };
    auto r =
        ClientTransact(R"({"op":"delete","table":"Endpoint","where":[["key","==","vm2"]]},)"
                       R"({"op":"insert","table":"Endpoint","row":{"key":"vm2","vpc":["uuid",")" +
                       ref("vpc") + R"("],"network":["uuid",")" + ref("network") +
                       R"("],"ipv4":"10.0.0.2","mac":"02:00:00:00:00:02","host":["uuid",")" +
                       ref("host") + R"("],"iface_id":"vm2-new","status":"pending"}})");
    EXPECT_EQ(r.out.find("error"), std::string::npos) << r.out << r.err;
    CO_ASSERT_TRUE(r.ok() && r.out.find("error") == std::string::npos);
    bool seen = co_await WaitUntil([&] { return !sub->Take().empty(); }, 10000);
    CO_ASSERT_TRUE(seen);
    NbTxn status;
    status.SetEndpointStatus("vm2", EndpointStatus::kOnline);
    CO_ASSERT_OK(co_await store_->Commit(std::move(status)));
    EXPECT_EQ(s.endpoints.at("vm2").status, EndpointStatus::kOnline);
    EXPECT_EQ(s.endpoints.at("vm2").endpoint.iface_id, "vm2-new");

    // vm1 and vm2 swap addresses in one transaction.
    NbTxn swap;
    EndpointRow a = one, b = two;
    b.endpoint.iface_id = "vm2-new";
    a.endpoint.ipv4 = two.endpoint.ipv4;
    a.endpoint.mac = two.endpoint.mac;
    b.endpoint.ipv4 = one.endpoint.ipv4;
    b.endpoint.mac = one.endpoint.mac;
    b.status = EndpointStatus::kOnline;
    swap.UpdateEndpoint(a);
    swap.UpdateEndpoint(b);
    CO_ASSERT_OK(co_await store_->Commit(std::move(swap)));
    EXPECT_EQ(*s.EndpointWithIpv4("blue", one.endpoint.ipv4), "vm2");
    EXPECT_EQ(*s.EndpointWithMac("blue", one.endpoint.mac), "vm2");
    EXPECT_EQ(*s.EndpointWithIpv4("blue", two.endpoint.ipv4), "vm1");
    EXPECT_EQ(*s.EndpointWithMac("blue", two.endpoint.mac), "vm1");

    NbTxn del;
    del.DeleteEndpoint("vm1");
    CO_ASSERT_OK(co_await store_->Commit(std::move(del)));
    EXPECT_EQ(s.EndpointWithIpv4("blue", two.endpoint.ipv4), nullptr);
    EXPECT_EQ(s.EndpointWithMac("blue", two.endpoint.mac), nullptr);
    EXPECT_EQ(*s.EndpointWithIpv4("blue", one.endpoint.ipv4), "vm2");
  });
  // The database itself: vm1 gone, vm2 (the other client's row) online at
  // vm1's former address.
  auto r = ClientTransact(
      R"({"op":"select","table":"Endpoint","where":[],"columns":["key","ipv4","status"]})");
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"({"ipv4":"10.0.0.1","key":"vm2","status":"online"})"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("vm1")));
}

TEST_F(NbStoreTest, WriteByAnotherClientReachesStateAndSubscriberOnce) {
  auto sub = store_->Subscribe();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    co_await sub->Wait();
    sub->Take();
    auto r = ClientTransact(
        R"({"op":"insert","table":"Host","row":{"name":"h9","underlay_ip":"10.9.9.9"}},)"
        R"({"op":"update","table":"Endpoint","where":[["key","==","vm2"]],"row":{"status":"online"}})");
    CO_ASSERT_TRUE(r.ok());
    co_await sub->Wait();
    std::vector<NbChange> changes = sub->Take();
    EXPECT_THAT(Summary(changes), ::testing::ElementsAre(S(NbTable::kHost, "insert", "h9"),
                                                         S(NbTable::kEndpoint, "modify", "vm2")));
    EXPECT_EQ(std::get<EndpointRow>(changes[1].old), Ep("vm2", "blue", "h1", 2));
    EXPECT_EQ(store_->state().hosts.at("h9").host.underlay_ipv4, "10.9.9.9");
    EXPECT_EQ(store_->state().endpoints.at("vm2").status, EndpointStatus::kOnline);
    // Nothing more: the change was reported once.
    bool more = co_await WaitUntil([&] { return !sub->Take().empty(); }, 300);
    EXPECT_FALSE(more);
  });
}

// Rows another writer breaks beyond what the schema checks: each is set
// aside (reads as deleted), the rest of the same transaction is applied,
// a mended row comes back, and a new store resyncing from scratch refuses
// the same rows. The oracle for "the row is still there" is ovsdb-client.
TEST_F(NbStoreTest, RowsWithBadAddressesWrittenOutsideTheApiAreSetAside) {
  auto sub = store_->Subscribe();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    co_await sub->Wait();
    sub->Take();
    auto r = ClientTransact(
        R"({"op":"update","table":"Endpoint","where":[["key","==","vm2"]],"row":{"ipv4":"10.0.0.999"}},)"
        R"({"op":"insert","table":"Host","row":{"name":"h9","underlay_ip":"10.9.9.9"}})");
    CO_ASSERT_TRUE(r.ok());
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()),
                ::testing::UnorderedElementsAre(S(NbTable::kHost, "insert", "h9"),
                                                S(NbTable::kEndpoint, "delete", "vm2")));
    const NbState& s = store_->state();
    EXPECT_FALSE(s.endpoints.contains("vm2"));
    EXPECT_EQ(s.endpoints_by_vpc.at("blue"), (std::set<std::string>{"vm1"}));
    EXPECT_TRUE(s.hosts.contains("h9"));
    CO_ASSERT_TRUE(s.rejected_endpoints.size() == 1u);
    EXPECT_EQ(s.rejected_endpoints.begin()->second,
              "Endpoint vm2: ipv4 '10.0.0.999' is not an IPv4 address");

    // A MAC in upper case would slip past the per-VPC MAC index.
    r = ClientTransact(
        R"({"op":"update","table":"Endpoint","where":[["key","==","vm1"]],"row":{"mac":"02:00:00:00:00:0A"}})");
    CO_ASSERT_TRUE(r.ok());
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()),
                ::testing::ElementsAre(S(NbTable::kEndpoint, "delete", "vm1")));
    EXPECT_TRUE(s.endpoints.empty());
    EXPECT_EQ(s.rejected_endpoints.size(), 2u);

    // Mended (a status change first, still bad, then the address): back.
    r = ClientTransact(
        R"({"op":"update","table":"Endpoint","where":[["key","==","vm2"]],"row":{"status":"online"}})");
    CO_ASSERT_TRUE(r.ok());
    r = ClientTransact(
        R"({"op":"update","table":"Endpoint","where":[["key","==","vm2"]],"row":{"ipv4":"10.0.0.2"}})");
    CO_ASSERT_TRUE(r.ok());
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()),
                ::testing::ElementsAre(S(NbTable::kEndpoint, "insert", "vm2")));
    EndpointRow mended = Ep("vm2", "blue", "h1", 2);
    mended.status = EndpointStatus::kOnline;
    EXPECT_EQ(s.endpoints.at("vm2"), mended);
    CO_ASSERT_TRUE(s.rejected_endpoints.size() == 1u);
    EXPECT_EQ(s.rejected_endpoints.begin()->second,
              "Endpoint vm1: mac '02:00:00:00:00:0A' is not a unicast MAC in lower case");

    // A store that reads everything from scratch refuses the same row.
    auto fresh = MakeStore();
    CO_ASSERT_OK(co_await fresh->WaitSynced(10000));
    EXPECT_EQ(fresh->state().rejected_endpoints, s.rejected_endpoints);
    EXPECT_EQ(fresh->state().endpoints.size(), 1u);
    EXPECT_TRUE(fresh->state().endpoints.contains("vm2"));

    // The row stays in the database as written: the store rewrites nothing.
    EXPECT_THAT(Dump(), HasSubstr("02:00:00:00:00:0A"));

    // Deleted: no longer listed.
    r = ClientTransact(R"({"op":"delete","table":"Endpoint","where":[["key","==","vm1"]]})");
    CO_ASSERT_TRUE(r.ok());
    bool gone = co_await WaitUntil([&] { return s.rejected_endpoints.empty(); }, 10000);
    EXPECT_TRUE(gone);
    EXPECT_EQ(s.endpoints.size(), 1u);
  });
}

TEST_F(NbStoreTest, OtherRowsWrittenOutsideTheApiKeepTheirLastGoodValuesOrWait) {
  auto sub = store_->Subscribe();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    co_await sub->Wait();
    sub->Take();
    const NbState& s = store_->state();
    using Refused = NbState::RefusedRow;
    auto refused = [&](const NbState& state) {
      std::map<std::string, Refused> by_key;  // "table key" → row, uuids aside.
      for (const auto& [uuid, r] : state.refused_rows) by_key[r.table + " " + r.key] = r;
      return by_key;
    };

    // h1's address and g1's gRPC address broken by hand, g1's state (the
    // driver's column) written in the same transaction; h9 to be told of it.
    auto r = ClientTransact(
        R"({"op":"update","table":"Host","where":[["name","==","h1"]],"row":{"underlay_ip":"192.168.0.x"}},)"
        R"({"op":"update","table":"Gateway","where":[["name","==","g1"]],"row":{"grpc_address":"g1 please","state":"ready"}},)"
        R"({"op":"insert","table":"Host","row":{"name":"h9","underlay_ip":"10.9.9.9"}})");
    CO_ASSERT_TRUE(r.ok() && r.out.find("error") == std::string::npos);
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()),
                ::testing::UnorderedElementsAre(S(NbTable::kHost, "insert", "h9"),
                                                S(NbTable::kGateway, "modify", "g1")));
    // The last good values stay in use, and so does everything on h1.
    EXPECT_EQ(s.hosts.at("h1").host.underlay_ipv4, "192.168.0.1");
    EXPECT_EQ(s.gateways.at("g1").grpc_address, "unix:/tmp/g1");
    EXPECT_EQ(s.gateways.at("g1").state, GatewayState::kReady);
    EXPECT_EQ(s.endpoints.size(), 2u);
    EXPECT_THAT(
        refused(s),
        ::testing::UnorderedElementsAre(
            ::testing::Pair(
                "Host h1",
                Refused{"Host", "h1", "Host h1.underlay_ip: '192.168.0.x' is not an IPv4 address",
                        true}),
            ::testing::Pair("Gateway g1", Refused{"Gateway", "g1",
                                                  "Gateway g1.grpc_address: 'g1 please' is neither "
                                                  "unix:/abs/path nor HOST:PORT",
                                                  true})));

    // A VPC that was never good (its router MAC in upper case), with a
    // network and an endpoint that need it, all from another writer.
    const std::string cluster_uuid = UuidOf("Cluster", "[]");
    const std::string h9_uuid = UuidOf("Host", R"([["name","==","h9"]])");
    CO_ASSERT_TRUE(cluster_uuid.size() == 36u && h9_uuid.size() == 36u);
    r = ClientTransact(
        R"({"op":"insert","table":"Vpc","uuid-name":"red","row":{"vpc_id":"red","vni":200,"router_mac":"02:00:00:00:00:0A","cluster":["uuid",")" +
        cluster_uuid +
        R"("]}},)"
        R"({"op":"insert","table":"Network","uuid-name":"db","row":{"vpc":["named-uuid","red"],"network_id":"db","ipv4_cidr":"10.1.0.0/16"}},)"
        R"({"op":"insert","table":"Endpoint","row":{"key":"vm3","vpc":["named-uuid","red"],"network":["named-uuid","db"],"ipv4":"10.1.0.3","mac":"02:00:00:00:01:03","host":["uuid",")" +
        h9_uuid +
        R"("],"iface_id":"vm3","status":"pending"}},)"
        R"({"op":"insert","table":"Host","row":{"name":"h8","underlay_ip":"10.8.8.8"}})");
    CO_ASSERT_TRUE(r.ok() && r.out.find("error") == std::string::npos);
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()), ::testing::ElementsAre(S(NbTable::kHost, "insert", "h8")));
    EXPECT_FALSE(s.vpcs.contains("red"));
    EXPECT_FALSE(s.networks.contains(NetworkKey("red", "db")));
    EXPECT_FALSE(s.endpoints.contains("vm3"));
    std::map<std::string, Refused> now = refused(s);
    EXPECT_EQ(now.size(), 4u);
    EXPECT_EQ(now["Vpc red"],
              (Refused{"Vpc", "red",
                       "Vpc red.router_mac: '02:00:00:00:00:0A' is not in canonical form "
                       "('02:00:00:00:00:0a')",
                       false}));
    EXPECT_EQ(now["Network red/db"],
              (Refused{"Network", "red/db",
                       "Network red/db.vpc: VPC 'red' is not in use (its row is refused)", false}));
    CO_ASSERT_TRUE(s.rejected_endpoints.size() == 1u);
    EXPECT_EQ(s.rejected_endpoints.begin()->second,
              "Endpoint vm3: vpc 'red' is not in use (its row is refused)");

    // Mended: the VPC, then what needed it, come in.
    r = ClientTransact(
        R"({"op":"update","table":"Vpc","where":[["vpc_id","==","red"]],"row":{"router_mac":"02:00:00:00:00:0a"}})");
    CO_ASSERT_TRUE(r.ok() && r.out.find("error") == std::string::npos);
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()),
                ::testing::UnorderedElementsAre(S(NbTable::kVpc, "insert", "red"),
                                                S(NbTable::kNetwork, "insert", "red/db"),
                                                S(NbTable::kEndpoint, "insert", "vm3")));
    EXPECT_EQ(s.vpcs.at("red").vpc.router_mac, "02:00:00:00:00:0a");
    EXPECT_EQ(s.networks.at(NetworkKey("red", "db")).network.ipv4_cidr, "10.1.0.0/16");
    EXPECT_EQ(s.endpoints.at("vm3").endpoint.host, "h9");
    EXPECT_EQ(s.endpoints_by_vpc.at("red"), (std::set<std::string>{"vm3"}));
    EXPECT_TRUE(s.rejected_endpoints.empty());
    EXPECT_THAT(refused(s), ::testing::UnorderedElementsAre(::testing::Key("Host h1"),
                                                            ::testing::Key("Gateway g1")));

    // A store that reads everything from scratch never saw h1's and g1's
    // good values: they are not used, nor the endpoints on h1, until
    // mended.
    {
      auto fresh = MakeStore();
      CO_ASSERT_OK(co_await fresh->WaitSynced(10000));
      const NbState& f = fresh->state();
      EXPECT_FALSE(f.hosts.contains("h1"));
      EXPECT_FALSE(f.gateways.contains("g1"));
      EXPECT_EQ(refused(f)["Host h1"].kept, false);
      EXPECT_EQ(f.rejected_endpoints.size(), 2u);
      EXPECT_EQ(f.endpoints.size(), 1u);
      EXPECT_TRUE(f.endpoints.contains("vm3"));
    }

    // h1 mended, g1 deleted: nothing refused any more, nothing rewritten.
    r = ClientTransact(
        R"({"op":"update","table":"Host","where":[["name","==","h1"]],"row":{"underlay_ip":"192.168.0.7"}},)"
        R"({"op":"delete","table":"Gateway","where":[["name","==","g1"]]})");
    CO_ASSERT_TRUE(r.ok() && r.out.find("error") == std::string::npos);
    co_await sub->Wait();
    EXPECT_THAT(Summary(sub->Take()),
                ::testing::UnorderedElementsAre(S(NbTable::kHost, "modify", "h1"),
                                                S(NbTable::kGateway, "delete", "g1")));
    EXPECT_EQ(s.hosts.at("h1").host.underlay_ipv4, "192.168.0.7");
    EXPECT_TRUE(s.refused_rows.empty());
    auto fresh = MakeStore();
    CO_ASSERT_OK(co_await fresh->WaitSynced(10000));
    EXPECT_TRUE(fresh->state().refused_rows.empty());
    EXPECT_TRUE(fresh->state().rejected_endpoints.empty());
    EXPECT_EQ(fresh->state().endpoints.size(), 3u);
  });
}

TEST_F(NbStoreTest, ServerRestartWithOfflineChangeReportsExactlyIt) {
  auto sub = store_->Subscribe();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    CO_ASSERT_OK(co_await Populate());
    co_await sub->Wait();
    EXPECT_EQ(sub->Take().size(), 8u);  // 7 rows and NB_Global.
    server_.Stop();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return !store_->synced(); }, 10000));
    CO_ASSERT_OK(server_.OfflineTransact(absl::StrCat(
        "[\"", kDb,
        R"(",{"op":"update","table":"Endpoint","where":[["key","==","vm1"]],"row":{"mac":"02:aa:00:00:00:01"}}])")));
    CO_ASSERT_OK(server_.Resume());
    CO_ASSERT_OK(co_await store_->WaitSynced(15000));
    co_await sub->Wait();
    std::vector<NbChange> changes = sub->Take();
    EXPECT_THAT(Summary(changes), ::testing::ElementsAre(S(NbTable::kEndpoint, "modify", "vm1")));
    EXPECT_EQ(std::get<EndpointRow>(changes[0].old), Ep("vm1", "blue", "h1", 1));
    EXPECT_EQ(store_->state().endpoints.at("vm1").endpoint.mac, "02:aa:00:00:00:01");
    EXPECT_EQ(store_->state().endpoints.size(), 2u);
    // And writes work on the new connection.
    NbTxn t;
    t.DeleteEndpoint("vm2");
    CO_ASSERT_OK(co_await store_->Commit(std::move(t)));
    EXPECT_FALSE(store_->state().endpoints.contains("vm2"));
    EXPECT_EQ(store_->state().endpoints_by_host.at("h1"), (std::set<std::string>{"vm1"}));
  });
}

// Between rounds of servers the store pauses on its clock: 250 ms, then
// doubling; a server that is back is tried at the next round, not sooner.
TEST_F(NbStoreTest, ReconnectPausesOnItsClock) {
  server_.Stop();
  NbStore::Options o;
  o.servers = {*ovsdb::ParseOvsdbTarget(server_.target())};
  o.clock = &clock_;
  auto store = std::make_unique<NbStore>(io_.get_executor(), o);
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    store->Start();
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return store->connect_attempts() == 1u; }, 10000));
    co_await testing::Settle();
    uint64_t tried = 1;
    for (Millis pause : {250, 500, 1000, 2000}) {
      clock_.Advance(pause - 1);
      co_await testing::Settle();
      EXPECT_EQ(store->connect_attempts(), tried) << "tried before a pause of " << pause << " ms";
      clock_.Advance(1);
      CO_ASSERT_TRUE(
          co_await WaitUntil([&] { return store->connect_attempts() == tried + 1; }, 10000));
      ++tried;
      co_await testing::Settle();
    }
    CO_ASSERT_OK(server_.Resume());
    clock_.Advance(3999);
    co_await testing::Settle();
    EXPECT_EQ(store->connect_attempts(), tried);
    EXPECT_FALSE(store->connected());
    clock_.Advance(1);
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return store->synced(); }, 10000));
    EXPECT_EQ(store->connect_attempts(), tried + 1);
    store->Stop();
  });
}

TEST_F(NbStoreTest, SubscribersAreIndependent) {
  auto a = store_->Subscribe();
  auto b = store_->Subscribe();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store_->WaitSynced(10000));
    NbTxn t;
    t.InsertCluster(ClusterRow{.id = 5});
    t.InsertHost(Host("h5", "192.168.5.5"));
    CO_ASSERT_OK(co_await store_->Commit(std::move(t)));
    co_await a->Wait();
    auto first = Summary(a->Take());
    EXPECT_THAT(first, ::testing::Contains(S(NbTable::kHost, "insert", "h5")));
    // b still holds the same changes; a then sees only what follows.
    NbTxn t2;
    t2.UpdateHost(Host("h5", "192.168.5.6"));
    CO_ASSERT_OK(co_await store_->Commit(std::move(t2)));
    co_await a->Wait();
    EXPECT_THAT(Summary(a->Take()), ::testing::ElementsAre(S(NbTable::kHost, "modify", "h5")));
    co_await b->Wait();
    auto second = Summary(b->Take());
    EXPECT_EQ(second, first);  // Coalesced: inserted then modified is one insert.
    EXPECT_EQ(store_->state().hosts.at("h5").host.underlay_ipv4, "192.168.5.6");
  });
}

TEST_F(NbStoreTest, ServersAreTriedInTurn) {
  // The first server named does not answer: the store goes on to the next.
  testing::TempDir dir("nb-none");
  NbStore::Options o;
  o.servers = {*ovsdb::ParseOvsdbTarget("unix:" + dir.File("none.sock")),
               *ovsdb::ParseOvsdbTarget(server_.target())};
  NbStore store(io_.get_executor(), o);
  store.Start();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await store.WaitSynced(10000));
    NbTxn t;
    t.InsertHost(Host("h7", "192.168.7.7"));
    CO_ASSERT_OK(co_await store.Commit(std::move(t)));
    EXPECT_TRUE(store.state().hosts.contains("h7"));
    // The other store sees it too.
    CO_ASSERT_TRUE(co_await WaitUntil([&] { return store_->state().hosts.contains("h7"); }));
  });
  EXPECT_THAT(Dump(), HasSubstr("192.168.7.7"));
}

TEST_F(NbStoreTest, NotConnectedIsUnavailable) {
  testing::TempDir dir("nb-none");
  NbStore::Options o;
  o.servers = {*ovsdb::ParseOvsdbTarget("unix:" + dir.File("none.sock"))};
  NbStore store(io_.get_executor(), o);
  store.Start();
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    NbTxn t;
    t.InsertHost(Host("h8", "192.168.8.8"));
    absl::Status s = co_await store.Commit(std::move(t));
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_TRUE(absl::IsUnavailable(co_await store.WaitSynced(300)));
  });
  EXPECT_THAT(Dump(), ::testing::Not(HasSubstr("h8")));
}

TEST_F(NbStoreTest, BulkCommitOf100kEndpoints) {
  constexpr int kEndpoints = 100000;
  // ovsdb-server answers a transaction of 100,000 inserts after 10-30 s on
  // a busy 2-core machine; give it time (this is not a timing test).
  store_ = MakeStore(/*commit_timeout=*/240000);
  auto sub = store_->Subscribe();
  RunCoroutine(
      io_,
      [&]() -> asio::awaitable<void> {
        CO_ASSERT_OK(co_await store_->WaitSynced(10000));
        NbTxn t;
        t.InsertCluster(ClusterRow{.id = 1});
        t.InsertHost(Host("h1", "192.168.0.1"));
        t.InsertVpc(Vpc("big", 7, 1));
        t.InsertNetwork(Net("big", "web"));
        for (int i = 0; i < kEndpoints; ++i) {
          t.InsertEndpoint(Ep(absl::StrCat("vm", i), "big", "h1", i));
        }
        const long rss_before = RssKb();
        auto start = std::chrono::steady_clock::now();
        CO_ASSERT_OK(co_await store_->Commit(std::move(t)));
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("bulk commit of %d endpoints: %.2f s, RSS %ld MB (before %ld MB)\n", kEndpoints,
                    secs, RssKb() / 1024, rss_before / 1024);
        EXPECT_EQ(store_->state().endpoints.size(), static_cast<size_t>(kEndpoints));
        EXPECT_EQ(store_->state().endpoints_by_vpc.at("big").size(),
                  static_cast<size_t>(kEndpoints));
        co_await sub->Wait();
        auto changes = sub->Take();
        EXPECT_EQ(changes.size(), static_cast<size_t>(kEndpoints) + 5);
      },
      240000);
  auto r = testing::Shell(absl::StrCat("ovsdb-client dump ", server_.target(), " ", kDb,
                                       " Endpoint key | grep -c '^vm'"));
  EXPECT_EQ(r.out, absl::StrCat(kEndpoints, "\n"));
}

}  // namespace
}  // namespace shortcut::manager
