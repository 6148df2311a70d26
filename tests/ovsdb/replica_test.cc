// Schema parsing, canonical values, update2 diffs and the replica's change
// tracking, on a small schema. No server: the updates are written here in
// the form ovsdb-server sends them.
#include "src/ovsdb/replica.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ovsdb/datum.h"
#include "src/ovsdb/schema.h"

namespace shortcut::ovsdb {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

const Json kSchema = Json::parse(R"({
  "name": "T", "version": "1.2.3",
  "tables": {
    "Port": {
      "isRoot": true,
      "columns": {
        "name": {"type": "string"},
        "ofport": {"type": {"key": "integer", "min": 0, "max": 1}},
        "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        "ids": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        "peer": {"type": {"key": {"type": "uuid", "refTable": "Port"}, "min": 0, "max": 1}},
        "up": {"type": "boolean"}}}}})");

DbSchema Schema() {
  auto s = ParseSchema(kSchema);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

const ColumnType& Col(const DbSchema& s, const std::string& c) { return *s.FindColumn("Port", c); }

TEST(SchemaTest, ColumnKinds) {
  DbSchema s = Schema();
  EXPECT_EQ(s.version, "1.2.3");
  EXPECT_EQ(Col(s, "name").kind, ColumnType::Kind::kScalar);
  EXPECT_EQ(Col(s, "ofport").kind, ColumnType::Kind::kSet);
  EXPECT_EQ(Col(s, "tags").max, -1);
  EXPECT_EQ(Col(s, "ids").kind, ColumnType::Kind::kMap);
  EXPECT_EQ(Col(s, "peer").ref_table, "Port");
  EXPECT_EQ(s.FindColumn("Port", "nope"), nullptr);
  EXPECT_EQ(s.FindTable("Nope"), nullptr);
}

TEST(SchemaTest, MalformedSchemasNameTheColumn) {
  Json bad = kSchema;
  bad["tables"]["Port"]["columns"]["tags"]["type"]["key"] = "float";
  auto s = ParseSchema(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("Port.tags"));
  EXPECT_FALSE(ParseSchema(Json::array()).ok());
  EXPECT_FALSE(ParseSchema(Json{{"name", "x"}}).ok());
}

TEST(DatumTest, CanonicalFormsCompareEqual) {
  DbSchema s = Schema();
  // A one-element set may come as the bare atom.
  EXPECT_EQ(*CanonicalDatum(Col(s, "tags"), "a"),
            *CanonicalDatum(Col(s, "tags"), Json::parse(R"(["set", ["a"]])")));
  EXPECT_EQ(*CanonicalDatum(Col(s, "tags"), Json::parse(R"(["set", ["b", "a", "b"]])")),
            Json::parse(R"(["set", ["a", "b"]])"));
  EXPECT_EQ(*CanonicalDatum(Col(s, "ids"), Json::parse(R"(["map", [["z", "1"], ["a", "2"]]])")),
            Json::parse(R"(["map", [["a", "2"], ["z", "1"]]])"));
  EXPECT_FALSE(CanonicalDatum(Col(s, "name"), 5).ok());
  EXPECT_FALSE(CanonicalDatum(Col(s, "ids"), Json::parse(R"(["map", [["a"]]])")).ok());
  EXPECT_FALSE(CanonicalDatum(Col(s, "peer"), Json::parse(R"(["uuid", 7])")).ok());
}

TEST(DatumTest, SetDiffTogglesElements) {
  DbSchema s = Schema();
  Json old = *CanonicalDatum(Col(s, "tags"), Json::parse(R"(["set", ["a", "b"]])"));
  auto next = ApplyDatumDiff(Col(s, "tags"), old, Json::parse(R"(["set", ["b", "c"]])"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(StringSet(*next), (std::vector<std::string>{"a", "c"}));
  // An optional column (0..1) is a set too: {1} to {2} is sent as {1, 2}.
  Json port = *CanonicalDatum(Col(s, "ofport"), 1);
  auto moved = ApplyDatumDiff(Col(s, "ofport"), port, Json::parse(R"(["set", [1, 2]])"));
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(IntegerAtom(*moved, -1), 2);
  // ovsdb-server 3.1 sends an optional column's new value instead: cleared
  // is ["set", []], another value is that value.
  auto cleared = ApplyDatumDiff(Col(s, "ofport"), port, Json::parse(R"(["set", []])"));
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE(SetElements(*cleared).empty());
  auto replaced = ApplyDatumDiff(Col(s, "ofport"), port, Json(7));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(IntegerAtom(*replaced, -1), 7);
}

TEST(DatumTest, MapDiffInsertsReplacesAndRemoves) {
  DbSchema s = Schema();
  Json old = *CanonicalDatum(Col(s, "ids"), Json::parse(R"(["map", [["a", "1"], ["b", "2"]]])"));
  // a=1 equal to old: removed; b=3: replaced; c=4: inserted.
  auto next = ApplyDatumDiff(Col(s, "ids"), old,
                             Json::parse(R"(["map", [["a", "1"], ["b", "3"], ["c", "4"]]])"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(StringMap(*next), (std::map<std::string, std::string>{{"b", "3"}, {"c", "4"}}));
}

Json Update2(const std::string& uuid, const std::string& kind, Json body) {
  return Json{{"Port", {{uuid, {{kind, std::move(body)}}}}}};
}

TEST(ReplicaTest, InsertModifyDeleteAndCoalescedChanges) {
  Replica r(Schema());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u1", "initial", {{"name", "p1"}, {"ofport", 1}})).ok());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u2", "insert", {{"name", "p2"}})).ok());
  auto changes = r.TakeChanges();
  ASSERT_THAT(changes, SizeIs(2));
  EXPECT_EQ(changes[0].kind, RowChange::Kind::kInsert);
  EXPECT_TRUE(r.TakeChanges().empty());

  // Modified twice, then one change with the first old and the last new.
  ASSERT_TRUE(
      r.ApplyUpdate2(Update2("u1", "modify", {{"ofport", Json::parse(R"(["set",[1,5]])")}})).ok());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u1", "modify", {{"tags", "x"}})).ok());
  changes = r.TakeChanges();
  ASSERT_THAT(changes, SizeIs(1));
  EXPECT_EQ(changes[0].kind, RowChange::Kind::kModify);
  EXPECT_EQ(IntegerAtom(changes[0].old_row["ofport"]), 1);
  EXPECT_EQ(IntegerAtom(changes[0].new_row["ofport"]), 5);
  EXPECT_EQ(StringSet(changes[0].new_row["tags"]), std::vector<std::string>{"x"});

  // Inserted then deleted before anyone looked: nothing to report.
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u3", "insert", {{"name", "p3"}})).ok());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u3", "delete", nullptr)).ok());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u2", "delete", nullptr)).ok());
  changes = r.TakeChanges();
  ASSERT_THAT(changes, SizeIs(1));
  EXPECT_EQ(changes[0].uuid, "u2");
  EXPECT_EQ(changes[0].kind, RowChange::Kind::kDelete);
  EXPECT_EQ(r.row_count(), 1u);
}

TEST(ReplicaTest, DefaultValuedColumnsAreOmitted) {
  Replica r(Schema());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u1", "insert", {{"name", "p"}, {"tags", "t"}})).ok());
  // Removing the last tag leaves the same row as one that never had tags.
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u1", "modify", {{"tags", "t"}})).ok());
  EXPECT_EQ(*r.Find("Port", "u1"), (Json{{"name", "p"}}));
  // ovsdb-server adds _version when every column is monitored: not a column.
  ASSERT_TRUE(
      r.ApplyUpdate2(Update2("u1", "modify", {{"_version", Json::parse(R"(["uuid","x"])")}})).ok());
  EXPECT_EQ(*r.Find("Port", "u1"), (Json{{"name", "p"}}));
  // Explicit defaults in a v1 update are dropped the same way.
  ASSERT_TRUE(
      r.ApplyUpdate(Json{{"Port", {{"u2", {{"new", {{"name", "q"}, {"up", false}}}}}}}}).ok());
  EXPECT_EQ(*r.Find("Port", "u2"), (Json{{"name", "q"}}));
}

TEST(ReplicaTest, MalformedUpdateChangesNothing) {
  Replica r(Schema());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u1", "insert", {{"name", "p"}})).ok());
  r.TakeChanges();
  uint64_t seqno = r.seqno();
  // The first row is fine, the second is not: neither is applied.
  Json update = Json::parse(R"({"Port": {
      "u1": {"modify": {"name": "renamed"}},
      "u2": {"insert": {"name": 5}}}})");
  auto s = r.ApplyUpdate2(update);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("u2"));
  EXPECT_EQ(StringAtom((*r.Find("Port", "u1"))["name"]), "p");
  EXPECT_EQ(r.seqno(), seqno);
  EXPECT_FALSE(r.has_changes());

  EXPECT_FALSE(r.ApplyUpdate2(Update2("u9", "modify", {{"name", "x"}})).ok());  // Unknown row.
  EXPECT_FALSE(r.ApplyUpdate2(Json{{"Nope", Json::object()}}).ok());
  EXPECT_FALSE(r.ApplyUpdate2(Json::parse(R"({"Port": {"u1": {"frob": {}}}})")).ok());
  EXPECT_FALSE(
      r.ApplyUpdate2(Json::parse(R"({"Port": {"u1": {"insert": {}, "delete": null}}})")).ok());
  EXPECT_FALSE(r.ApplyUpdate2(Update2("u1", "modify", {{"nope", 1}})).ok());
  EXPECT_FALSE(r.ApplyUpdate2(Json::array()).ok());
  EXPECT_EQ(r.row_count(), 1u);
}

TEST(ReplicaTest, ResyncReportsOnlyRealDifferences) {
  Replica r(Schema());
  Json initial = Json::parse(R"({"Port": {
      "u1": {"initial": {"name": "same"}},
      "u2": {"initial": {"name": "changes", "ofport": 1}},
      "u3": {"initial": {"name": "goes"}}}})");
  ASSERT_TRUE(r.ApplyUpdate2(initial).ok());
  r.TakeChanges();
  // After a reconnect without history: the full contents again.
  Json again = Json::parse(R"({"Port": {
      "u1": {"initial": {"name": "same"}},
      "u2": {"initial": {"name": "changes", "ofport": 2}},
      "u4": {"initial": {"name": "new"}}}})");
  ASSERT_TRUE(r.Resync(again, {"Port"}).ok());
  auto changes = r.TakeChanges();
  std::sort(changes.begin(), changes.end(),
            [](const RowChange& a, const RowChange& b) { return a.uuid < b.uuid; });
  ASSERT_THAT(changes, SizeIs(3));
  EXPECT_EQ(changes[0].uuid, "u2");
  EXPECT_EQ(changes[0].kind, RowChange::Kind::kModify);
  EXPECT_EQ(changes[1].uuid, "u3");
  EXPECT_EQ(changes[1].kind, RowChange::Kind::kDelete);
  EXPECT_EQ(changes[2].uuid, "u4");
  EXPECT_EQ(changes[2].kind, RowChange::Kind::kInsert);

  // An empty table in the resync still deletes its rows.
  ASSERT_TRUE(r.Resync(Json::object(), {"Port"}).ok());
  EXPECT_EQ(r.row_count(), 0u);
  EXPECT_THAT(r.TakeChanges(), SizeIs(3));
  // Resync accepts only initial rows.
  EXPECT_FALSE(r.Resync(Update2("u1", "modify", {{"name", "x"}}), {"Port"}).ok());
}

TEST(ReplicaTest, ANewSchemaStartsOverAndReportsTheRowsGone) {
  Replica r(Schema());
  ASSERT_TRUE(r.ApplyUpdate2(Update2("u1", "insert", {{"name", "p"}})).ok());
  r.TakeChanges();
  Json upgraded = kSchema;
  upgraded["version"] = "1.3.0";
  upgraded["tables"]["Port"]["columns"]["speed"] = {{"type", "integer"}};
  r.ClearAndReplaceSchema(*ParseSchema(upgraded));
  EXPECT_EQ(r.schema().version, "1.3.0");
  EXPECT_EQ(r.row_count(), 0u);
  auto changes = r.TakeChanges();
  ASSERT_THAT(changes, SizeIs(1));
  EXPECT_EQ(changes[0].kind, RowChange::Kind::kDelete);
  // The new column is known now.
  EXPECT_TRUE(r.ApplyUpdate2(Update2("u1", "insert", {{"name", "p"}, {"speed", 10}})).ok());
}

}  // namespace
}  // namespace shortcut::ovsdb
