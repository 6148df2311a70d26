// Gateway tunnel port plans on hand-made database snapshots. What they do
// to a real Open vSwitch is tested in tests/e2e/node_ovsdb_test.cc.
#include "src/host/tunnel_ports.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::host {
namespace {

using ovsdb::Json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> OpKinds(const Json& ops) {
  std::vector<std::string> out;
  for (const Json& op : ops) {
    std::string kind = op["op"].get<std::string>();
    if (op.contains("table")) kind += " " + op["table"].get<std::string>();
    out.push_back(kind);
  }
  return out;
}

TunnelPort Port(const std::string& ip, std::optional<uint32_t> ofport = std::nullopt) {
  auto p = MakeTunnelPort(ip, ofport);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

// Adds `ports` to bridge "b" as the plan makes them for `cluster`
// (interface uuid "i-NAME", port uuid "p-NAME").
void AddPorts(ovsdb::VsSnapshot* db, const std::vector<TunnelPort>& ports,
              const std::string& cluster = "") {
  ovsdb::StringMapT ids = {{kRoleKey, "gateway-tunnel"}};
  if (!cluster.empty()) ids["shortcut-cluster"] = cluster;
  for (const TunnelPort& p : ports) {
    db->bridges["b"].ports.push_back("p-" + p.name);
    db->ports["p-" + p.name] = {"p-" + p.name, p.name, {"i-" + p.name}, ids};
    ovsdb::VsInterface i;
    i.uuid = "i-" + p.name;
    i.name = p.name;
    i.type = "vxlan";
    i.options = {{"key", "flow"}, {"remote_ip", p.remote_ip}};
    i.bfd = {{"enable", "true"}, {"min_rx", "100"}, {"min_tx", "100"}};
    i.external_ids = ids;
    if (p.ofport_request) i.ofport_request = *p.ofport_request;
    db->interfaces[i.uuid] = i;
  }
}

// A bridge br-int holding the internal port and `ports` as the plan makes
// them (interface uuid "i-NAME", port uuid "p-NAME").
ovsdb::VsSnapshot Db(const std::vector<TunnelPort>& ports) {
  ovsdb::VsSnapshot db;
  db.root_uuid = "root";
  ovsdb::VsBridge br;
  br.uuid = "b";
  br.name = "br-int";
  br.ports = {"p-br"};
  db.ports["p-br"] = {"p-br", "br-int", {"i-br"}, {}};
  db.interfaces["i-br"].uuid = "i-br";
  db.interfaces["i-br"].name = "br-int";
  db.interfaces["i-br"].type = "internal";
  for (const TunnelPort& p : ports) {
    br.ports.push_back("p-" + p.name);
    db.ports["p-" + p.name] = {
        "p-" + p.name, p.name, {"i-" + p.name}, {{kRoleKey, "gateway-tunnel"}}};
    ovsdb::VsInterface i;
    i.uuid = "i-" + p.name;
    i.name = p.name;
    i.type = "vxlan";
    i.options = {{"key", "flow"}, {"remote_ip", p.remote_ip}};
    i.bfd = {{"enable", "true"}, {"min_rx", "100"}, {"min_tx", "100"}};
    i.external_ids = {{kRoleKey, "gateway-tunnel"}};
    if (p.ofport_request) i.ofport_request = *p.ofport_request;
    db.interfaces[i.uuid] = i;
  }
  db.bridges["b"] = br;
  db.root_bridges = {"b"};
  return db;
}

// Adds a port nobody marked, on `bridge`.
void AddForeign(ovsdb::VsSnapshot* db, const std::string& name, const std::string& bridge = "b") {
  db->bridges[bridge].ports.push_back("p-" + name);
  db->ports["p-" + name] = {"p-" + name, name, {"i-" + name}, {}};
  db->interfaces["i-" + name].uuid = "i-" + name;
  db->interfaces["i-" + name].name = name;
}

TEST(TunnelPortsTest, NameIsTheRemoteAddressInHex) {
  EXPECT_EQ(*TunnelPortName("172.31.2.1"), "sc-ac1f0201");
  EXPECT_EQ(*TunnelPortName("10.0.0.255"), "sc-0a0000ff");
  EXPECT_EQ(TunnelPortName("172.31.2").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TunnelPortName("fe80::1").status().code(), absl::StatusCode::kInvalidArgument);
  auto p = MakeTunnelPort("192.0.2.7", 60001);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (TunnelPort{"sc-c0000207", "192.0.2.7", 60001}));
}

TEST(TunnelPortsTest, ValidationNamesThePortAtFault) {
  auto check = [](std::vector<TunnelPort> ports, const std::string& needle) {
    absl::Status s = ValidateTunnelPorts(ports);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << needle;
    EXPECT_THAT(std::string(s.message()), HasSubstr(needle));
  };
  EXPECT_TRUE(ValidateTunnelPorts({Port("10.0.0.1", 60001), Port("10.0.0.2", 60002)}).ok());
  EXPECT_TRUE(ValidateTunnelPorts({}).ok());
  check({TunnelPort{"sc-x", "10.0.0.300", std::nullopt}}, "remote_ip '10.0.0.300'");
  check({TunnelPort{"sc-x", "0.0.0.0", std::nullopt}}, "remote_ip");
  check({TunnelPort{"a-name-that-is-too-long", "10.0.0.1", std::nullopt}}, "not a valid port");
  check({TunnelPort{"a/b", "10.0.0.1", std::nullopt}}, "not a valid port");
  check({TunnelPort{"sc-tun", "10.0.0.1", std::nullopt}}, "not a valid port");
  check({Port("10.0.0.1", 0)}, "ofport 0");
  check({Port("10.0.0.1", 65280)}, "ofport 65280");
  check({Port("10.0.0.1", 60000)}, "sc-tun");
  check({Port("10.0.0.1"), TunnelPort{"other", "10.0.0.1", std::nullopt}},
        "remote_ip 10.0.0.1 has another port");
  check({Port("10.0.0.1"), TunnelPort{"sc-0a000001", "10.0.0.2", std::nullopt}}, "listed twice");
  check({Port("10.0.0.1", 60001), Port("10.0.0.2", 60001)}, "ofport 60001 has another port");
  // The plan validates too, before looking at the database.
  auto plan = PlanTunnelPorts(Db({}), "br-int", {Port("10.0.0.1"), Port("10.0.0.1")});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TunnelPortsTest, WithoutTheBridgeOrRootRowNothingCanBePlanned) {
  auto plan = PlanTunnelPorts(Db({}), "br-x", {Port("10.0.0.1")});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("host init"));
  plan = PlanTunnelPorts(ovsdb::VsSnapshot{}, "br-int", {Port("10.0.0.1")});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TunnelPortsTest, MissingPortsAreCreatedInOneTransactionWithBfd) {
  auto plan = PlanTunnelPorts(Db({}), "br-int", {Port("172.31.2.1", 60001), Port("172.31.2.2")});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops),
              ElementsAre("comment", "insert Interface", "insert Port", "insert Interface",
                          "insert Port", "mutate Bridge", "mutate Open_vSwitch"));
  const Json& iface = plan->ops[1]["row"];
  EXPECT_EQ(iface["name"], "sc-ac1f0201");
  EXPECT_EQ(iface["type"], "vxlan");
  EXPECT_EQ(iface["ofport_request"], 60001);
  EXPECT_EQ(iface["options"].dump(), R"(["map",[["key","flow"],["remote_ip","172.31.2.1"]]])");
  EXPECT_EQ(iface["bfd"].dump(),
            R"(["map",[["enable","true"],["min_rx","100"],["min_tx","100"]]])");
  EXPECT_EQ(iface["external_ids"].dump(), R"(["map",[["shortcut-role","gateway-tunnel"]]])");
  EXPECT_FALSE(plan->ops[3]["row"].contains("ofport_request"));  // OVS chooses.
  EXPECT_EQ(plan->ops[2]["row"]["external_ids"], iface["external_ids"]);
  EXPECT_EQ(
      plan->ops[5]["mutations"].dump(),
      R"([["ports","insert",["set",[["named-uuid","gwt_port0"],["named-uuid","gwt_port1"]]]]])");
  EXPECT_EQ(plan->ops[6]["mutations"].dump(), R"([["next_cfg","+=",1]])");
  EXPECT_EQ(plan->changes.size(), 2u);
  EXPECT_THAT(plan->changes[0], HasSubstr("add gateway tunnel port sc-ac1f0201"));
}

TEST(TunnelPortsTest, NothingIsWrittenWhenAllIsRight) {
  std::vector<TunnelPort> ports = {Port("172.31.2.1", 60001), Port("172.31.2.2", 60002)};
  ovsdb::VsSnapshot db = Db(ports);
  AddForeign(&db, "vm1");
  auto plan = PlanTunnelPorts(db, "br-int", ports);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->empty());
  EXPECT_THAT(plan->changes, IsEmpty());
  EXPECT_THAT(plan->notes, IsEmpty());
  // Order does not matter.
  std::vector<TunnelPort> reversed = {ports[1], ports[0]};
  EXPECT_TRUE(PlanTunnelPorts(db, "br-int", reversed)->empty());
}

TEST(TunnelPortsTest, OnlyWhatDiffersIsRewritten) {
  std::vector<TunnelPort> ports = {Port("172.31.2.1", 60001), Port("172.31.2.2", 60002)};
  ovsdb::VsSnapshot db = Db(ports);
  ovsdb::VsInterface& first = db.interfaces["i-sc-ac1f0201"];
  first.ofport_request = 60005;
  first.bfd.erase("min_rx");
  first.external_ids["other"] = "kept";
  ovsdb::VsInterface& second = db.interfaces["i-sc-ac1f0202"];
  second.options["remote_ip"] = "172.31.9.9";
  second.options["local_ip"] = "172.31.0.1";
  auto plan = PlanTunnelPorts(db, "br-int", ports);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "update Interface", "update Interface",
                                              "mutate Open_vSwitch"));
  const Json& row1 = plan->ops[1]["row"];
  EXPECT_EQ(row1["ofport_request"], 60001);
  EXPECT_TRUE(row1.contains("bfd"));
  EXPECT_FALSE(row1.contains("options"));
  EXPECT_FALSE(row1.contains("external_ids"));  // The role is there; other keys are left.
  const Json& row2 = plan->ops[2]["row"];
  EXPECT_EQ(row2.size(), 1u);
  EXPECT_EQ(row2["options"].dump(), R"(["map",[["key","flow"],["remote_ip","172.31.2.2"]]])");
  EXPECT_EQ(plan->changes.size(), 2u);
}

TEST(TunnelPortsTest, AnOfportRequestNoLongerWantedIsCleared) {
  ovsdb::VsSnapshot db = Db({Port("172.31.2.1", 60001)});
  auto plan = PlanTunnelPorts(db, "br-int", {Port("172.31.2.1")});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_THAT(OpKinds(plan->ops),
              ElementsAre("comment", "update Interface", "mutate Open_vSwitch"));
  EXPECT_EQ(plan->ops[1]["row"].dump(), R"({"ofport_request":["set",[]]})");
}

TEST(TunnelPortsTest, PortsNoLongerWantedGoAndOthersPortsStay) {
  ovsdb::VsSnapshot db = Db({Port("172.31.2.1", 60001), Port("172.31.2.2", 60002)});
  AddForeign(&db, "vm1");
  AddForeign(&db, "manual-tun");
  auto plan = PlanTunnelPorts(db, "br-int", {Port("172.31.2.1", 60001)});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "mutate Bridge", "mutate Open_vSwitch"));
  EXPECT_EQ(plan->ops[1]["mutations"].dump(),
            R"([["ports","delete",["set",[["uuid","p-sc-ac1f0202"]]]]])");
  EXPECT_THAT(plan->changes, ElementsAre("remove gateway tunnel port sc-ac1f0202"));

  // Nothing wanted: all of ours go, in the same single mutation.
  plan = PlanTunnelPorts(db, "br-int", {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::string mutations = plan->ops[1]["mutations"].dump();
  EXPECT_THAT(mutations, HasSubstr("p-sc-ac1f0201"));
  EXPECT_THAT(mutations, HasSubstr("p-sc-ac1f0202"));
  EXPECT_THAT(mutations, Not(HasSubstr("vm1")));
  EXPECT_THAT(mutations, Not(HasSubstr("manual-tun")));
}

TEST(TunnelPortsTest, AWantedNameHeldBySomeoneElseIsLeftAloneAndNoted) {
  ovsdb::VsSnapshot db = Db({});
  AddForeign(&db, "sc-ac1f0201");
  // And one of ours, but on another bridge: not this bridge's either.
  ovsdb::VsBridge other;
  other.uuid = "b2";
  other.name = "br-other";
  db.bridges["b2"] = other;
  AddForeign(&db, "sc-ac1f0202", "b2");
  db.ports["p-sc-ac1f0202"].external_ids[kRoleKey] = "gateway-tunnel";
  // And an interface of that name in a port of another name.
  AddForeign(&db, "bond0");
  db.interfaces["i-bond0"].name = "sc-ac1f0203";
  auto plan =
      PlanTunnelPorts(db, "br-int", {Port("172.31.2.1"), Port("172.31.2.2"), Port("172.31.2.3")});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->empty());
  ASSERT_EQ(plan->notes.size(), 3u);
  EXPECT_THAT(plan->notes[0], HasSubstr("sc-ac1f0201 exists but is not a gateway tunnel"));
  EXPECT_THAT(plan->notes[2], HasSubstr("interface sc-ac1f0203 exists"));
}

TEST(TunnelPortsTest, PortsAreReplacedWhenTheirNameChanges) {
  // Same remote under an old name: the old port goes and the new one comes,
  // in one transaction, so OVS never sees both.
  ovsdb::VsSnapshot db = Db({TunnelPort{"gw-old", "172.31.2.1", 60001}});
  auto plan = PlanTunnelPorts(db, "br-int", {Port("172.31.2.1", 60001)});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "insert Interface", "insert Port",
                                              "mutate Bridge", "mutate Open_vSwitch"));
  std::string mutations = plan->ops[3]["mutations"].dump();
  EXPECT_THAT(mutations, HasSubstr(R"(["ports","delete",["set",[["uuid","p-gw-old"]]]])"));
  EXPECT_THAT(mutations, HasSubstr(R"(["ports","insert")"));
}

TEST(TunnelPortsTest, StatusReportsBfdAndOfports) {
  ovsdb::VsSnapshot db = Db({Port("172.31.2.2", 60002), Port("172.31.2.1", 60001)});
  AddForeign(&db, "vm1");
  ovsdb::VsInterface& up = db.interfaces["i-sc-ac1f0201"];
  up.ofport = 60001;
  up.bfd_status = {{"state", "up"}, {"forwarding", "true"}, {"remote_state", "up"}};
  ovsdb::VsInterface& down = db.interfaces["i-sc-ac1f0202"];
  down.ofport = -1;
  down.error = "could not add";
  down.bfd_status = {{"state", "down"}, {"forwarding", "false"}};
  auto status = DescribeTunnelPorts(db, "br-int");
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0], (TunnelPortStatus{"sc-ac1f0201", "172.31.2.1", 60001, "up", true, ""}));
  EXPECT_EQ(status[1], (TunnelPortStatus{"sc-ac1f0202", "172.31.2.2", std::nullopt, "down", false,
                                         "could not add"}));
  EXPECT_THAT(DescribeTunnelPorts(db, "br-x"), IsEmpty());
}

}  // namespace
}  // namespace shortcut::host

namespace shortcut::host {
namespace {

// Two gateway clusters keeping their ports on one host's bridge: each plan
// creates, rewrites and deletes its own ports only.
TEST(TunnelPortsTest, TwoClustersOnOneBridgeTouchOnlyTheirOwnPorts) {
  const std::vector<TunnelPort> one = {Port("172.31.2.1", 60001), Port("172.31.2.2", 60002)};
  const std::vector<TunnelPort> two = {Port("172.31.3.1", 60003)};
  ovsdb::VsSnapshot db = Db({});

  // Cluster 1 first, on an empty bridge: its ports, tagged.
  auto plan = PlanTunnelPorts(db, "br-int", one, "1");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops),
              ElementsAre("comment", "insert Interface", "insert Port", "insert Interface",
                          "insert Port", "mutate Bridge", "mutate Open_vSwitch"));
  EXPECT_EQ(plan->ops[1]["row"]["external_ids"].dump(),
            R"(["map",[["shortcut-cluster","1"],["shortcut-role","gateway-tunnel"]]])");
  EXPECT_EQ(plan->ops[2]["row"]["external_ids"], plan->ops[1]["row"]["external_ids"]);
  AddPorts(&db, one, "1");

  // Cluster 2 adds its own and deletes none of cluster 1's.
  plan = PlanTunnelPorts(db, "br-int", two, "2");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "insert Interface", "insert Port",
                                              "mutate Bridge", "mutate Open_vSwitch"));
  EXPECT_EQ(plan->ops[3]["mutations"].dump(),
            R"([["ports","insert",["set",[["named-uuid","gwt_port0"]]]]])");
  AddPorts(&db, two, "2");

  // Both converged: neither plan changes anything.
  EXPECT_TRUE(PlanTunnelPorts(db, "br-int", one, "1")->empty());
  EXPECT_TRUE(PlanTunnelPorts(db, "br-int", two, "2")->empty());

  // Cluster 2 wants nothing any more: its port goes, cluster 1's stay.
  plan = PlanTunnelPorts(db, "br-int", {}, "2");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "mutate Bridge", "mutate Open_vSwitch"));
  EXPECT_EQ(plan->ops[1]["mutations"].dump(),
            R"([["ports","delete",["set",[["uuid","p-sc-ac1f0301"]]]]])");

  // Cluster 1 drops a member: only its own port goes.
  plan = PlanTunnelPorts(db, "br-int", {one[0]}, "1");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->ops[1]["mutations"].dump(),
            R"([["ports","delete",["set",[["uuid","p-sc-ac1f0202"]]]]])");

  // A port of cluster 1 rewritten by hand is put back by cluster 1 only.
  db.interfaces["i-sc-ac1f0201"].ofport_request = 60009;
  EXPECT_TRUE(PlanTunnelPorts(db, "br-int", two, "2")->empty());
  plan = PlanTunnelPorts(db, "br-int", one, "1");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops),
              ElementsAre("comment", "update Interface", "mutate Open_vSwitch"));
  EXPECT_EQ(plan->ops[1]["where"].dump(), R"([["_uuid","==",["uuid","i-sc-ac1f0201"]]])");

  // The gateway's own node (no cluster) sees none of them as its own.
  EXPECT_TRUE(PlanTunnelPorts(db, "br-int", {}, "")->empty());
  EXPECT_TRUE(DescribeTunnelPorts(db, "br-int").empty());
  EXPECT_EQ(DescribeTunnelPorts(db, "br-int", "1").size(), 2u);
  EXPECT_EQ(DescribeTunnelPorts(db, "br-int", "2").size(), 1u);
}

// Both clusters want a port toward the same address (one gateway in two
// clusters): whoever holds the name keeps it; the other notes it.
TEST(TunnelPortsTest, ANameHeldByAnotherClusterIsANoteNotAChange) {
  ovsdb::VsSnapshot db = Db({});
  AddPorts(&db, {Port("172.31.2.1", 60001)}, "1");
  auto plan = PlanTunnelPorts(db, "br-int", {Port("172.31.2.1", 60005)}, "2");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->empty());
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_THAT(plan->notes[0], HasSubstr("sc-ac1f0201 is held by cluster 1"));
}

// A port made before ports were tagged is taken over by the cluster that
// wants its name (the tag is added) and left alone by the others.
TEST(TunnelPortsTest, UntaggedPortsAreTakenOverOnlyWhenWanted) {
  ovsdb::VsSnapshot db = Db({Port("172.31.2.1", 60001), Port("172.31.3.1", 60003)});
  auto plan = PlanTunnelPorts(db, "br-int", {Port("172.31.2.1", 60001)}, "1");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(OpKinds(plan->ops),
              ElementsAre("comment", "update Interface", "update Port", "mutate Open_vSwitch"));
  EXPECT_EQ(
      plan->ops[1]["row"].dump(),
      R"({"external_ids":["map",[["shortcut-cluster","1"],["shortcut-role","gateway-tunnel"]]]})");
  EXPECT_EQ(plan->ops[2]["row"], plan->ops[1]["row"]);
}

}  // namespace
}  // namespace shortcut::host
