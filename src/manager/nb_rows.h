// Conversions between the Shortcut_Northbound database's rows
// (schema/shortcut_nb.ovsschema) and the typed rows of nb.h, both ways:
//   - reading: small tables from canonical rows (ovsdb::Replica, datum.h),
//     Endpoint straight from the server's update2 JSON (insert/initial rows
//     and modify diffs), so an endpoint never exists as a JSON tree longer
//     than the notification that carried it;
//   - writing: rows as JSON *text* (JsonText), so a transaction of 100,000
//     inserts is one string built once, not a tree of millions of nodes.
// References are uuids in the database and keys in nb.h; the caller maps
// them (RefNames here, NbReplica's uuid maps when reading).
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/manager/nb.h"
#include "src/ovsdb/jsonrpc.h"

namespace shortcut::manager {

// Column names and enum spellings, shared by the reader, the writer and
// the monitor request.
inline constexpr char kDbName[] = "Shortcut_Northbound";
const char* GatewayStateName(GatewayState s);
const char* EndpointStatusName(EndpointStatus s);
bool ParseGatewayState(std::string_view text, GatewayState* out);
bool ParseEndpointStatus(std::string_view text, EndpointStatus* out);
const char* GatewayRoleName(GatewayRole r);
bool ParseGatewayRole(std::string_view text, GatewayRole* out);
bool ParseMovePhase(std::string_view text, MovePhase* out);

// A uuid in 16 bytes (the Endpoint table's uuid → key map holds a million).
struct Uuid128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const Uuid128&, const Uuid128&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Uuid128& u) {
    return H::combine(std::move(h), u.hi, u.lo);
  }
};
bool ParseUuid128(std::string_view text, Uuid128* out);
// The 36-character text form ParseUuid128 reads.
std::string FormatUuid128(const Uuid128& uuid);

// ---- Reading ----

// Resolves a referenced row's uuid to its key ("" when unknown).
using UuidToKey = std::function<std::string(const std::string& uuid)>;

HostRow DecodeHost(const ovsdb::Json& row);
ClusterRow DecodeCluster(const ovsdb::Json& row);
// `cluster_id`: the Cluster row's uuid → its id.
GatewayRow DecodeGateway(const ovsdb::Json& row,
                         const std::function<uint32_t(const std::string&)>& cluster_id);
VpcRow DecodeVpc(const ovsdb::Json& row,
                 const std::function<uint32_t(const std::string&)>& cluster_id);
NetworkRow DecodeNetwork(const ovsdb::Json& row, const UuidToKey& vpc_id);
// NB_Global: the settings and the commit sequence number.
Settings DecodeSettings(const ovsdb::Json& row, int64_t* seqno);
// NB_Global: the active manager's columns.
ActiveManager DecodeActiveManager(const ovsdb::Json& row);

// How an Endpoint's references read back.
struct EndpointRefs {
  UuidToKey vpc;      // Vpc uuid → vpc id.
  UuidToKey network;  // Network uuid → network id.
  UuidToKey host;     // Host uuid → host name.
};
// An "insert"/"initial" row as the server sent it (not canonical: an
// optional column may be a bare atom or a set; omitted columns are
// defaults). InvalidArgument names the column at fault.
absl::StatusOr<EndpointRow> DecodeEndpoint(const ovsdb::Json& row, const EndpointRefs& refs);
// Applies an update2 "modify" diff to `row`.
absl::Status ApplyEndpointDiff(const ovsdb::Json& diff, const EndpointRefs& refs, EndpointRow* row);

// ---- Writing ----

// A JSON text writer: appends values to one string, escaping strings.
class JsonText {
 public:
  JsonText& Raw(std::string_view text) {
    out_.append(text);
    return *this;
  }
  JsonText& Str(std::string_view s);
  JsonText& Int(int64_t v);
  // `"name":` (with a leading comma unless `first`).
  JsonText& Key(std::string_view name, bool first = false);
  std::string& out() { return out_; }
  size_t size() const { return out_.size(); }

 private:
  std::string out_;
};

// A reference as the transaction writes it: ["uuid", U], ["named-uuid", N],
// or for an optional reference left empty ["set", []].
struct RefText {
  std::string text;
};

// Row objects ({...}) for insert and update.
void WriteHost(JsonText& j, const HostRow& row);
void WriteGateway(JsonText& j, const GatewayRow& row, const RefText& cluster);
// Parts of a gateway row, for updates of only the columns one writer owns:
// the driver's observation (state, instance_id, detail) and cluster
// management's membership (cluster, role), so that neither overwrites the
// other's columns with a stale copy.
void WriteGatewayObserved(JsonText& j, const GatewayRow& row);
void WriteGatewayMembership(JsonText& j, const GatewayRow& row, const RefText& cluster);
void WriteCluster(JsonText& j, const ClusterRow& row);
// `moving_to`: ["set", []] when the VPC is not moving.
void WriteVpc(JsonText& j, const VpcRow& row, const RefText& cluster, const RefText& moving_to);
void WriteNetwork(JsonText& j, const NetworkRow& row, const RefText& vpc);
void WriteEndpoint(JsonText& j, const EndpointRow& row, const RefText& vpc, const RefText& network,
                   const RefText& host);
void WriteSettings(JsonText& j, const Settings& s);

}  // namespace shortcut::manager
