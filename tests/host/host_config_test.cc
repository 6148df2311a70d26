// Host preparation plans on hand-made database snapshots. What the plans do
// to a real Open vSwitch is tested in tests/e2e/host_cmd_test.cc.
#include "src/host/host_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::host {
namespace {

using ovsdb::Json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

HostInitParams Params() {
  HostInitParams p;
  p.tunnel_ip = "10.1.2.3";
  return p;
}

// A database holding the state init creates, by hand.
ovsdb::VsSnapshot Prepared(const HostInitParams& p) {
  ovsdb::VsSnapshot db;
  db.root_uuid = "root";
  ovsdb::VsBridge br;
  br.uuid = "b";
  br.name = p.bridge;
  br.fail_mode = "secure";
  br.protocols = {"OpenFlow15", "OpenFlow13"};
  br.datapath_type = p.datapath_type;
  br.other_config = {{"datapath-id", DatapathIdFor(p.tunnel_ip)}, {"disable-in-band", "true"}};
  br.external_ids = {{kCreatedKey, "true"}};
  br.ports = {"p-br", "p-tun"};
  br.controllers = {"c"};
  db.bridges["b"] = br;
  db.root_bridges = {"b"};
  db.ports["p-br"] = {"p-br", p.bridge, {"i-br"}, {}};
  db.ports["p-tun"] = {"p-tun", kTunnelPort, {"i-tun"}, {{kRoleKey, "tunnel"}}};
  ovsdb::VsInterface tun;
  tun.uuid = "i-tun";
  tun.name = kTunnelPort;
  tun.type = p.tunnel_type;
  tun.ofport = kTunnelOfport;
  tun.ofport_request = kTunnelOfport;
  tun.options = {{"key", "flow"}, {"local_ip", p.tunnel_ip}, {"remote_ip", "flow"}};
  tun.external_ids = {{kRoleKey, "tunnel"}};
  db.interfaces["i-tun"] = tun;
  ovsdb::VsInterface internal;
  internal.uuid = "i-br";
  internal.name = p.bridge;
  internal.type = "internal";
  db.interfaces["i-br"] = internal;
  db.controllers["c"] = {"c", p.listen, false, {{kRoleKey, "listener"}}};
  return db;
}

std::vector<std::string> OpKinds(const Json& ops) {
  std::vector<std::string> out;
  for (const Json& op : ops) {
    std::string kind = op["op"].get<std::string>();
    if (op.contains("table")) kind += " " + op["table"].get<std::string>();
    out.push_back(kind);
  }
  return out;
}

TEST(HostConfigTest, ValidationNamesTheField) {
  HostInitParams p = Params();
  EXPECT_TRUE(ValidateInitParams(p).ok());
  auto check = [](HostInitParams bad, const std::string& field) {
    absl::Status s = ValidateInitParams(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(field));
  };
  p.tunnel_ip = "10.1.2";
  check(p, "--tunnel-ip");
  p = Params();
  p.tunnel_type = "gre";
  check(p, "--tunnel-type");
  p = Params();
  p.datapath_type = "dpdk";
  check(p, "--datapath-type");
  for (std::string listen : {"tcp:6653", "ptcp:", "ptcp:70000", "ptcp:6653:not-an-ip"}) {
    p = Params();
    p.listen = listen;
    check(p, "--listen");
  }
  p = Params();
  p.listen = "ptcp:6653:127.0.0.1";
  EXPECT_TRUE(ValidateInitParams(p).ok());
  p.bridge = "a-very-long-bridge-name";
  check(p, "--bridge");
}

TEST(HostConfigTest, DatapathIdIsStableAndDerivedFromTheTunnelAddress) {
  EXPECT_EQ(DatapathIdFor("10.1.2.3"), "5c0000000a010203");
  EXPECT_EQ(DatapathIdFor("192.0.2.255"), "5c000000c00002ff");
}

TEST(HostConfigTest, InitOnAnEmptyDatabaseCreatesEverythingInOneTransaction) {
  ovsdb::VsSnapshot db;
  db.root_uuid = "root";
  auto plan = PlanInit(db, Params());
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(
      OpKinds(plan->ops),
      ElementsAre("comment", "insert Interface", "insert Port", "insert Interface", "insert Port",
                  "insert Controller", "insert Bridge", "mutate Open_vSwitch"));
  const Json& bridge = plan->ops[6]["row"];
  EXPECT_EQ(bridge["fail_mode"], "secure");
  EXPECT_EQ(bridge["datapath_type"], "netdev");
  EXPECT_EQ(plan->ops[3]["row"]["ofport_request"], kTunnelOfport);
  EXPECT_EQ(plan->changes.size(), 3u);
  EXPECT_THAT(plan->changes[0], HasSubstr("create bridge br-int"));
}

TEST(HostConfigTest, InitWithoutTheRootRowFails) {
  auto plan = PlanInit(ovsdb::VsSnapshot{}, Params());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(HostConfigTest, InitOnAPreparedHostChangesNothing) {
  HostInitParams p = Params();
  auto plan = PlanInit(Prepared(p), p);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->empty());
  EXPECT_TRUE(plan->changes.empty());
}

TEST(HostConfigTest, InitRepairsOnlyWhatDiffers) {
  HostInitParams p = Params();
  ovsdb::VsSnapshot db = Prepared(p);
  db.bridges["b"].fail_mode = "standalone";
  db.bridges["b"].other_config["other-key"] = "kept";
  db.bridges["b"].other_config.erase("disable-in-band");
  db.interfaces["i-tun"].options["local_ip"] = "10.9.9.9";
  // Someone else's controller stays; init's old listener is replaced.
  db.bridges["b"].controllers.push_back("foreign");
  db.controllers["foreign"] = {"foreign", "tcp:10.0.0.1:6653", false, {}};
  p.listen = "ptcp:6654";
  auto plan = PlanInit(db, p);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "update Bridge", "update Interface",
                                              "insert Controller", "mutate Bridge"));
  EXPECT_EQ(plan->ops[1]["row"], (Json{{"fail_mode", "secure"}}));
  std::string mutations = plan->ops[4]["mutations"].dump();
  EXPECT_THAT(mutations, HasSubstr("disable-in-band"));
  EXPECT_THAT(mutations, Not(HasSubstr("other-key")));
  EXPECT_THAT(mutations, HasSubstr(R"(["controller","delete",["set",[["uuid","c"]]]])"));
  EXPECT_THAT(mutations, Not(HasSubstr("foreign")));
}

TEST(HostConfigTest, ResetRemovesWhatInitCreated) {
  HostInitParams p = Params();
  auto plan = PlanReset(Prepared(p), p.bridge);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "mutate Open_vSwitch"));
  EXPECT_THAT(plan->changes.back(), HasSubstr("delete bridge br-int"));
}

TEST(HostConfigTest, ResetRemovesGatewayTunnelPortsToo) {
  HostInitParams p = Params();
  ovsdb::VsSnapshot db = Prepared(p);
  db.bridges["b"].ports.push_back("p-gw");
  db.ports["p-gw"] = {"p-gw", "sc-ac1f0201", {}, {{kRoleKey, "gateway-tunnel"}}};
  auto plan = PlanReset(db, p.bridge);
  ASSERT_TRUE(plan.ok());
  // Shortcut made every port but the internal one: the bridge goes whole.
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "mutate Open_vSwitch"));
  db.bridges["b"].external_ids.clear();
  plan = PlanReset(db, p.bridge);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(plan->ops[1]["mutations"].dump(), HasSubstr(R"(["uuid","p-gw"])"));
  EXPECT_THAT(plan->changes, ::testing::Contains("remove tunnel port sc-ac1f0201"));
}

TEST(HostConfigTest, ResetKeepsABridgeWithOtherPorts) {
  HostInitParams p = Params();
  ovsdb::VsSnapshot db = Prepared(p);
  db.bridges["b"].ports.push_back("p-vm");
  db.ports["p-vm"] = {"p-vm", "vm1", {}, {}};
  auto plan = PlanReset(db, p.bridge);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "mutate Bridge"));
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_THAT(plan->notes[0], HasSubstr("vm1"));
  // A bridge init did not create is never deleted either.
  db = Prepared(p);
  db.bridges["b"].external_ids.clear();
  plan = PlanReset(db, p.bridge);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(OpKinds(plan->ops), ElementsAre("comment", "mutate Bridge"));
  // Nothing there: nothing to do.
  plan = PlanReset(db, "br-other");
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->empty());
}

TEST(HostConfigTest, ShowListsVmInterfacesByIfaceId) {
  HostInitParams p = Params();
  ovsdb::VsSnapshot db = Prepared(p);
  db.bridges["b"].ports.push_back("p-vm");
  db.ports["p-vm"] = {"p-vm", "tap1", {"i-vm"}, {}};
  ovsdb::VsInterface vm;
  vm.uuid = "i-vm";
  vm.name = "tap1";
  vm.ofport = 4;
  vm.external_ids = {{"iface-id", "vm-a"}, {"attached-mac", "02:00:00:00:00:01"}};
  db.interfaces["i-vm"] = vm;
  HostView v = DescribeHost(db, p.bridge);
  EXPECT_TRUE(v.present);
  EXPECT_EQ(v.tunnel_port, kTunnelPort);
  EXPECT_EQ(v.tunnel_ofport, kTunnelOfport);
  ASSERT_EQ(v.vms.size(), 1u);
  EXPECT_EQ(v.vms[0].iface_id, "vm-a");
  EXPECT_EQ(v.vms[0].ofport, 4);
  EXPECT_THAT(FormatHostView(v), HasSubstr("vm-a"));
  EXPECT_EQ(HostViewJson(v)["vms"][0]["mac"], "02:00:00:00:00:01");
  EXPECT_FALSE(DescribeHost(db, "br-x").present);
}

}  // namespace
}  // namespace shortcut::host
