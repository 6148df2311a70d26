#include "src/host/iface_watch.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shortcut::host {
namespace {

using Kind = IfaceEvent::Kind;

ovsdb::VsSnapshot Db(std::vector<ovsdb::VsInterface> ifaces, const std::string& bridge = "br-int") {
  ovsdb::VsSnapshot db;
  ovsdb::VsBridge br;
  br.uuid = "b-" + bridge;
  br.name = bridge;
  for (const auto& i : ifaces) {
    br.ports.push_back("p-" + i.uuid);
    db.ports["p-" + i.uuid] = {"p-" + i.uuid, i.name, {i.uuid}, {}};
    db.interfaces[i.uuid] = i;
  }
  db.bridges[br.uuid] = br;
  return db;
}

ovsdb::VsInterface Iface(const std::string& uuid, const std::string& iface_id,
                         std::optional<int64_t> ofport) {
  ovsdb::VsInterface i;
  i.uuid = uuid;
  i.name = "tap-" + uuid;
  i.ofport = ofport;
  if (!iface_id.empty()) i.external_ids["iface-id"] = iface_id;
  return i;
}

TEST(IfaceTrackerTest, AddOfportUpdateDelete) {
  IfaceTracker t("br-int");
  auto events = t.Update(Db({Iface("1", "vm1", std::nullopt), Iface("2", "", 3)}));
  ASSERT_EQ(events.size(), 1u);  // Interfaces without iface-id are not VMs.
  EXPECT_EQ(events[0].kind, Kind::kAdd);
  EXPECT_FALSE(events[0].ofport.has_value());

  events = t.Update(Db({Iface("1", "vm1", 5)}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kOfport);
  EXPECT_EQ(events[0].ofport, 5);
  EXPECT_FALSE(events[0].old_ofport.has_value());
  EXPECT_EQ(FormatIfaceEvent(events[0]),
            "ofport iface-id=vm1 interface=tap-1 bridge=br-int ofport=5 was=- mac=-");

  EXPECT_TRUE(t.Update(Db({Iface("1", "vm1", 5)})).empty());  // No change, no event.
  // ovs-vswitchd's -1 (port failed) is no ofport.
  events = t.Update(Db({Iface("1", "vm1", -1)}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].ofport.has_value());

  events = t.Update(Db({Iface("1", "vm1-renamed", -1)}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kUpdate);

  events = t.Update(Db({}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kDelete);
  EXPECT_EQ(events[0].iface_id, "vm1-renamed");
  EXPECT_EQ(IfaceEventJson(events[0])["event"], "del");
  EXPECT_EQ(t.size(), 0u);
}

TEST(IfaceTrackerTest, OtherBridgesAreIgnoredUnlessAllAreWatched) {
  IfaceTracker only("br-int");
  EXPECT_TRUE(only.Update(Db({Iface("1", "vm1", 1)}, "br-ex")).empty());
  IfaceTracker all("");
  auto events = all.Update(Db({Iface("1", "vm1", 1)}, "br-ex"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bridge, "br-ex");
}

TEST(IfaceTrackerTest, BindingsAreTheValidOfportsByIfaceId) {
  IfaceTracker t("br-int");
  t.Update(Db({Iface("1", "vm1", 7), Iface("2", "vm2", std::nullopt), Iface("3", "vm3", -1),
               Iface("4", "", 9)}));
  EXPECT_EQ(t.Bindings(), (std::map<std::string, int64_t>{{"vm1", 7}}));
  // Two interfaces claim vm1: the lower ofport, whichever came first.
  t.Update(Db({Iface("1", "vm1", 7), Iface("0", "vm1", 5)}));
  EXPECT_EQ(t.Bindings(), (std::map<std::string, int64_t>{{"vm1", 5}}));
  t.Update(Db({Iface("1", "vm1", 7)}));
  EXPECT_EQ(t.Bindings(), (std::map<std::string, int64_t>{{"vm1", 7}}));
  t.Update(Db({}));
  EXPECT_TRUE(t.Bindings().empty());
}

}  // namespace
}  // namespace shortcut::host
