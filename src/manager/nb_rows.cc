#include "src/manager/nb_rows.h"

#include <charconv>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/model/address.h"
#include "src/ovsdb/datum.h"

namespace shortcut::manager {
namespace {

using ovsdb::Json;

const Json& Column(const Json& row, const char* name) {
  static const Json kNull;
  if (!row.is_object()) return kNull;
  auto it = row.find(name);
  return it == row.end() ? kNull : *it;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ["uuid", U] → U; anything else: "".
std::string RawUuid(const Json& v) {
  if (v.is_array() && v.size() == 2 && v[0] == "uuid" && v[1].is_string()) {
    return v[1].get<std::string>();
  }
  return "";
}

// The strings of a raw optional/set value: a bare string or ["set", [...]].
absl::StatusOr<std::vector<std::string>> RawStrings(const Json& v, const char* column) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (v.is_array() && v.size() == 2 && v[0] == "set" && v[1].is_array()) {
    for (const Json& e : v[1]) {
      if (!e.is_string()) break;
      out.push_back(e.get<std::string>());
    }
    if (out.size() == v[1].size()) return out;
  }
  return absl::InvalidArgumentError(absl::StrCat("Endpoint column ", column, ": not a string set"));
}

absl::Status SetEndpointColumn(const std::string& name, const Json& v, const EndpointRefs& refs,
                               bool diff, EndpointRow* row) {
  model::Endpoint& e = row->endpoint;
  auto str = [&](std::string* field) -> absl::Status {
    if (!v.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("Endpoint column ", name, ": not a string"));
    }
    *field = v.get<std::string>();
    return absl::OkStatus();
  };
  auto ref = [&](const UuidToKey& map, std::string* field) -> absl::Status {
    std::string uuid = RawUuid(v);
    if (uuid.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("Endpoint column ", name, ": not a uuid"));
    }
    *field = map(uuid);
    return absl::OkStatus();
  };
  if (name == "key") return str(&e.key);
  if (name == "ipv4") return str(&e.ipv4);
  if (name == "mac") return str(&e.mac);
  if (name == "iface_id") return str(&e.iface_id);
  if (name == "vpc") return ref(refs.vpc, &e.vpc);
  if (name == "network") return ref(refs.network, &e.network);
  if (name == "host") return ref(refs.host, &e.host);
  if (name == "status") {
    if (!v.is_string() || !ParseEndpointStatus(v.get_ref<const std::string&>(), &row->status)) {
      return absl::InvalidArgumentError("Endpoint column status: not pending or online");
    }
    return absl::OkStatus();
  }
  if (name == "ipv6") {
    auto elems = RawStrings(v, "ipv6");
    if (!elems.ok()) return elems.status();
    if (!diff) {
      if (elems->size() > 1) return absl::InvalidArgumentError("Endpoint column ipv6: 2 values");
      e.ipv6 = elems->empty() ? "" : (*elems)[0];
      return absl::OkStatus();
    }
    // An optional column's diff is its new value (["set", []]: cleared), or
    // toggles of the old and the new value (datum.h's ApplyDatumDiff).
    if (elems->empty()) e.ipv6.clear();
    for (const std::string& x : *elems) e.ipv6 = e.ipv6 == x ? "" : x;
    return absl::OkStatus();
  }
  return absl::OkStatus();  // A column this version does not read.
}

}  // namespace

const char* GatewayStateName(GatewayState s) {
  switch (s) {
    case GatewayState::kLoading:
      return "loading";
    case GatewayState::kReady:
      return "ready";
    case GatewayState::kDown:
      return "down";
    case GatewayState::kUnknown:
      break;
  }
  return "unknown";
}

const char* GatewayRoleName(GatewayRole r) {
  switch (r) {
    case GatewayRole::kServing:
      return "serving";
    case GatewayRole::kDraining:
      return "draining";
    case GatewayRole::kJoining:
      break;
  }
  return "joining";
}

bool ParseGatewayRole(std::string_view text, GatewayRole* out) {
  for (GatewayRole r : {GatewayRole::kJoining, GatewayRole::kServing, GatewayRole::kDraining}) {
    if (text == GatewayRoleName(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

bool ParseMovePhase(std::string_view text, MovePhase* out) {
  for (MovePhase p : {MovePhase::kLoading, MovePhase::kSwitching}) {
    if (text == MovePhaseName(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

const char* EndpointStatusName(EndpointStatus s) {
  return s == EndpointStatus::kOnline ? "online" : "pending";
}

bool ParseGatewayState(std::string_view text, GatewayState* out) {
  for (GatewayState s : {GatewayState::kUnknown, GatewayState::kLoading, GatewayState::kReady,
                         GatewayState::kDown}) {
    if (text == GatewayStateName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

bool ParseEndpointStatus(std::string_view text, EndpointStatus* out) {
  if (text == "pending") {
    *out = EndpointStatus::kPending;
  } else if (text == "online") {
    *out = EndpointStatus::kOnline;
  } else {
    return false;
  }
  return true;
}

bool ParseUuid128(std::string_view text, Uuid128* out) {
  if (text.size() != 36) return false;
  uint64_t parts[2] = {0, 0};
  int n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      continue;
    }
    int d = HexDigit(text[i]);
    if (d < 0) return false;
    uint64_t& p = parts[n < 16 ? 0 : 1];
    p = (p << 4) | static_cast<uint64_t>(d);
    ++n;
  }
  out->hi = parts[0];
  out->lo = parts[1];
  return true;
}

std::string FormatUuid128(const Uuid128& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int n = 0; n < 32; ++n) {
    if (n == 8 || n == 12 || n == 16 || n == 20) out.push_back('-');
    uint64_t part = n < 16 ? uuid.hi : uuid.lo;
    out.push_back(kHex[(part >> (4 * (15 - n % 16))) & 0xf]);
  }
  return out;
}

HostRow DecodeHost(const Json& row) {
  HostRow h;
  h.host.name = ovsdb::StringAtom(Column(row, "name"));
  h.host.underlay_ipv4 = ovsdb::StringAtom(Column(row, "underlay_ip"));
  h.host.openflow_target = ovsdb::StringAtom(Column(row, "openflow"));
  h.host.ovsdb_target = ovsdb::StringAtom(Column(row, "ovsdb"));
  h.host.direct_path_budget =
      static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "direct_path_budget")));
  return h;
}

ClusterRow DecodeCluster(const Json& row) {
  return ClusterRow{.id = static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "cluster_id")))};
}

GatewayRow DecodeGateway(const Json& row,
                         const std::function<uint32_t(const std::string&)>& cluster_id) {
  GatewayRow g;
  g.name = ovsdb::StringAtom(Column(row, "name"));
  g.underlay_ipv4 = ovsdb::StringAtom(Column(row, "underlay_ip"));
  g.grpc_address = ovsdb::StringAtom(Column(row, "grpc_address"));
  g.capacity = static_cast<uint64_t>(ovsdb::IntegerAtom(Column(row, "capacity")));
  std::vector<std::string> cluster = ovsdb::UuidSet(Column(row, "cluster"));
  g.cluster_id = cluster.empty() ? 0 : cluster_id(cluster[0]);
  g.tunnel_ofport = static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "tunnel_ofport")));
  ParseGatewayState(ovsdb::StringAtom(Column(row, "state")), &g.state);
  g.instance_id = ovsdb::StringAtom(Column(row, "instance_id"));
  g.detail = ovsdb::StringAtom(Column(row, "detail"));
  // Optional: absent in rows written before the column existed (joining).
  for (const std::string& r : ovsdb::StringSet(Column(row, "role"))) ParseGatewayRole(r, &g.role);
  return g;
}

VpcRow DecodeVpc(const Json& row, const std::function<uint32_t(const std::string&)>& cluster_id) {
  VpcRow v;
  v.vpc.id = ovsdb::StringAtom(Column(row, "vpc_id"));
  v.vpc.vni = static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "vni")));
  v.vpc.router_mac = ovsdb::StringAtom(Column(row, "router_mac"));
  v.cluster_id = cluster_id(ovsdb::UuidAtom(Column(row, "cluster")));
  // Optional: absent in rows written before the columns existed (no move).
  std::vector<std::string> moving_to = ovsdb::UuidSet(Column(row, "moving_to"));
  v.moving_to = moving_to.empty() ? 0 : cluster_id(moving_to[0]);
  for (const std::string& p : ovsdb::StringSet(Column(row, "move_phase"))) {
    ParseMovePhase(p, &v.move_phase);
  }
  if (v.moving_to == 0) v.move_phase = MovePhase::kNone;
  // Optional: absent in rows written before the columns existed (first-packet).
  for (const std::string& m : ovsdb::StringSet(Column(row, "offload_mode"))) {
    if (m == "threshold") v.vpc.offload.mode = model::OffloadMode::kThreshold;
  }
  v.vpc.offload.packets = static_cast<uint64_t>(ovsdb::IntegerAtom(Column(row, "offload_packets")));
  v.vpc.offload.bytes = static_cast<uint64_t>(ovsdb::IntegerAtom(Column(row, "offload_bytes")));
  v.vpc.offload.window_ms =
      static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "offload_window_ms")));
  return v;
}

NetworkRow DecodeNetwork(const Json& row, const UuidToKey& vpc_id) {
  NetworkRow n;
  n.vpc = vpc_id(ovsdb::UuidAtom(Column(row, "vpc")));
  n.network.id = ovsdb::StringAtom(Column(row, "network_id"));
  n.network.ipv4_cidr = ovsdb::StringAtom(Column(row, "ipv4_cidr"));
  std::vector<std::string> v6 = ovsdb::StringSet(Column(row, "ipv6_cidr"));
  n.network.ipv6_cidr = v6.empty() ? "" : v6[0];
  return n;
}

Settings DecodeSettings(const Json& row, int64_t* seqno) {
  Settings s;
  s.overload_vms_per_gateway =
      static_cast<uint64_t>(ovsdb::IntegerAtom(Column(row, "overload_vms_per_gateway")));
  s.underload_vms_per_gateway =
      static_cast<uint64_t>(ovsdb::IntegerAtom(Column(row, "underload_vms_per_gateway")));
  s.min_cluster_members =
      static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "min_cluster_members")));
  s.health_deadline_ms =
      static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "health_deadline_ms")));
  s.hold_down_ms = static_cast<uint32_t>(ovsdb::IntegerAtom(Column(row, "hold_down_ms")));
  if (seqno != nullptr) *seqno = ovsdb::IntegerAtom(Column(row, "seqno"));
  return s;
}

ActiveManager DecodeActiveManager(const Json& row) {
  ActiveManager m;
  m.name = ovsdb::StringAtom(Column(row, "active_manager"));
  m.address = ovsdb::StringAtom(Column(row, "active_manager_address"));
  m.since_ms = ovsdb::IntegerAtom(Column(row, "active_since_ms"));
  return m;
}

absl::StatusOr<EndpointRow> DecodeEndpoint(const Json& row, const EndpointRefs& refs) {
  if (!row.is_object()) return absl::InvalidArgumentError("Endpoint row: not an object");
  EndpointRow out;
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (auto s = SetEndpointColumn(it.key(), it.value(), refs, false, &out); !s.ok()) return s;
  }
  return out;
}

absl::Status ApplyEndpointDiff(const Json& diff, const EndpointRefs& refs, EndpointRow* row) {
  if (!diff.is_object()) return absl::InvalidArgumentError("Endpoint modify: not an object");
  for (auto it = diff.begin(); it != diff.end(); ++it) {
    if (auto s = SetEndpointColumn(it.key(), it.value(), refs, true, row); !s.ok()) return s;
  }
  return absl::OkStatus();
}

JsonText& JsonText::Str(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out_.append("\\\"");
        break;
      case '\\':
        out_.append("\\\\");
        break;
      case '\n':
        out_.append("\\n");
        break;
      case '\t':
        out_.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out_.append("\\u00");
          out_.push_back(kHex[(c >> 4) & 0xf]);
          out_.push_back(kHex[c & 0xf]);
        } else {
          out_.push_back(c);
        }
    }
  }
  out_.push_back('"');
  return *this;
}

JsonText& JsonText::Int(int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, end);
  return *this;
}

JsonText& JsonText::Key(std::string_view name, bool first) {
  if (!first) out_.push_back(',');
  out_.push_back('"');
  out_.append(name);
  out_.append("\":");
  return *this;
}

namespace {

// An optional string column: ["set", []] when empty.
void OptionalStr(JsonText& j, const std::string& v) {
  if (v.empty()) {
    j.Raw("[\"set\",[]]");
  } else {
    j.Str(v);
  }
}

}  // namespace

void WriteHost(JsonText& j, const HostRow& row) {
  const model::Host& h = row.host;
  j.Raw("{").Key("name", true).Str(h.name);
  j.Key("underlay_ip").Str(h.underlay_ipv4);
  j.Key("openflow").Str(h.openflow_target);
  j.Key("ovsdb").Str(h.ovsdb_target);
  j.Key("direct_path_budget").Int(h.direct_path_budget);
  j.Raw("}");
}

namespace {
// A spare has no role: the column is empty.
void WriteGatewayRole(JsonText& j, const GatewayRow& row) {
  if (row.cluster_id == 0) {
    j.Raw("[\"set\",[]]");
  } else {
    j.Str(GatewayRoleName(row.role));
  }
}
}  // namespace

void WriteGatewayObserved(JsonText& j, const GatewayRow& row) {
  j.Raw("{").Key("state", true).Str(GatewayStateName(row.state));
  j.Key("instance_id").Str(row.instance_id);
  j.Key("detail").Str(row.detail);
  j.Raw("}");
}

void WriteGatewayMembership(JsonText& j, const GatewayRow& row, const RefText& cluster) {
  j.Raw("{").Key("cluster", true).Raw(cluster.text);
  j.Key("role");
  WriteGatewayRole(j, row);
  j.Raw("}");
}

void WriteGateway(JsonText& j, const GatewayRow& row, const RefText& cluster) {
  j.Raw("{").Key("name", true).Str(row.name);
  j.Key("underlay_ip").Str(row.underlay_ipv4);
  j.Key("grpc_address").Str(row.grpc_address);
  j.Key("capacity").Int(static_cast<int64_t>(row.capacity));
  j.Key("cluster").Raw(cluster.text);
  j.Key("tunnel_ofport").Int(row.tunnel_ofport);
  j.Key("state").Str(GatewayStateName(row.state));
  j.Key("instance_id").Str(row.instance_id);
  j.Key("detail").Str(row.detail);
  j.Key("role");
  WriteGatewayRole(j, row);
  j.Raw("}");
}

void WriteCluster(JsonText& j, const ClusterRow& row) {
  j.Raw("{").Key("cluster_id", true).Int(row.id).Raw("}");
}

void WriteVpc(JsonText& j, const VpcRow& row, const RefText& cluster, const RefText& moving_to) {
  j.Raw("{").Key("vpc_id", true).Str(row.vpc.id);
  j.Key("vni").Int(row.vpc.vni);
  j.Key("router_mac").Str(row.vpc.router_mac);
  j.Key("cluster").Raw(cluster.text);
  j.Key("moving_to").Raw(moving_to.text);
  j.Key("move_phase");
  OptionalStr(j, MovePhaseName(row.moving_to == 0 ? MovePhase::kNone : row.move_phase));
  const model::OffloadPolicy& o = row.vpc.offload;
  j.Key("offload_mode");
  OptionalStr(j, o.mode == model::OffloadMode::kThreshold ? "threshold" : "");
  j.Key("offload_packets").Int(static_cast<int64_t>(o.packets));
  j.Key("offload_bytes").Int(static_cast<int64_t>(o.bytes));
  j.Key("offload_window_ms").Int(o.window_ms);
  j.Raw("}");
}

void WriteNetwork(JsonText& j, const NetworkRow& row, const RefText& vpc) {
  j.Raw("{").Key("vpc", true).Raw(vpc.text);
  j.Key("network_id").Str(row.network.id);
  j.Key("ipv4_cidr").Str(row.network.ipv4_cidr);
  j.Key("ipv6_cidr");
  OptionalStr(j, row.network.ipv6_cidr);
  j.Raw("}");
}

void WriteEndpoint(JsonText& j, const EndpointRow& row, const RefText& vpc, const RefText& network,
                   const RefText& host) {
  const model::Endpoint& e = row.endpoint;
  j.Raw("{").Key("key", true).Str(e.key);
  j.Key("vpc").Raw(vpc.text);
  j.Key("network").Raw(network.text);
  j.Key("ipv4").Str(e.ipv4);
  j.Key("ipv6");
  OptionalStr(j, e.ipv6);
  j.Key("mac").Str(e.mac);
  j.Key("host").Raw(host.text);
  j.Key("iface_id").Str(e.iface_id);
  j.Key("status").Str(EndpointStatusName(row.status));
  j.Raw("}");
}

void WriteSettings(JsonText& j, const Settings& s) {
  j.Raw("{")
      .Key("overload_vms_per_gateway", true)
      .Int(static_cast<int64_t>(s.overload_vms_per_gateway));
  j.Key("underload_vms_per_gateway").Int(static_cast<int64_t>(s.underload_vms_per_gateway));
  j.Key("min_cluster_members").Int(s.min_cluster_members);
  j.Key("health_deadline_ms").Int(s.health_deadline_ms);
  j.Key("hold_down_ms").Int(s.hold_down_ms);
  j.Raw("}");
}

}  // namespace shortcut::manager
