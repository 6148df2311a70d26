#include "src/host/tunnel_ports.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/ovsdb/ops.h"

namespace shortcut::host {
namespace {

using ovsdb::Cond;
using ovsdb::Json;
using ovsdb::Mutation;
using ovsdb::NamedUuid;
using ovsdb::OvsMap;
using ovsdb::OvsSet;
using ovsdb::StringMapT;
using ovsdb::Uuid;
using ovsdb::VsSnapshot;
namespace op = ovsdb::op;

// ofport_request's range in the schema (OpenFlow's OFPP_MAX is 0xff00).
constexpr uint32_t kMaxOfport = 65279;

Json ByUuid(const std::string& uuid) { return Json::array({Cond("_uuid", "==", Uuid(uuid))}); }

Json MapJson(const StringMapT& map) {
  std::vector<std::pair<Json, Json>> pairs;
  for (const auto& [k, v] : map) pairs.emplace_back(k, v);
  return OvsMap(std::move(pairs));
}

std::string Get(const StringMapT& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? "" : it->second;
}

StringMapT Options(const TunnelPort& p) { return {{"key", "flow"}, {"remote_ip", p.remote_ip}}; }

StringMapT Bfd() {
  std::string interval = std::to_string(kBfdIntervalMs);
  return {{"enable", "true"}, {"min_rx", interval}, {"min_tx", interval}};
}

StringMapT RoleIds(const std::string& cluster) {
  StringMapT ids = {{kRoleKey, kGatewayTunnelRole}};
  if (!cluster.empty()) ids[kClusterKey] = cluster;
  return ids;
}

bool IsGatewayTunnel(const StringMapT& ids) { return Get(ids, kRoleKey) == kGatewayTunnelRole; }

// A gateway-tunnel port of `cluster`.
bool Ours(const StringMapT& ids, const std::string& cluster) {
  return IsGatewayTunnel(ids) && Get(ids, kClusterKey) == cluster;
}

// Ours, or untagged and taken over by a cluster that wants its name.
bool Claimable(const StringMapT& ids, const std::string& cluster) {
  return Ours(ids, cluster) ||
         (!cluster.empty() && IsGatewayTunnel(ids) && Get(ids, kClusterKey).empty());
}

// `ids` with the role and cluster tag set (other keys kept).
StringMapT Tagged(StringMapT ids, const std::string& cluster) {
  for (auto& [k, v] : RoleIds(cluster)) ids[k] = v;
  return ids;
}

std::string Describe(const TunnelPort& p) {
  return absl::StrCat(p.name, " (vxlan, remote_ip=", p.remote_ip, ", key=flow, ofport ",
                      p.ofport_request ? std::to_string(*p.ofport_request) : "any", ", bfd every ",
                      kBfdIntervalMs, " ms)");
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == kTunnelPort) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return c > ' ' && c < 0x7f && c != '/' && c != ':' && c != '%';
  });
}

// Adds the insert operations for `p`; returns the new Port's uuid-name.
std::string InsertPort(const TunnelPort& p, size_t index, const std::string& cluster,
                       HostPlan* plan) {
  std::string iface_name = absl::StrCat("gwt_iface", index);
  std::string port_name = absl::StrCat("gwt_port", index);
  Json iface = {{"name", p.name},
                {"type", "vxlan"},
                {"options", MapJson(Options(p))},
                {"bfd", MapJson(Bfd())},
                {"external_ids", MapJson(RoleIds(cluster))}};
  if (p.ofport_request) iface["ofport_request"] = *p.ofport_request;
  plan->ops.push_back(op::Insert("Interface", std::move(iface), iface_name));
  Json port = {{"name", p.name},
               {"interfaces", NamedUuid(iface_name)},
               {"external_ids", MapJson(RoleIds(cluster))}};
  plan->ops.push_back(op::Insert("Port", std::move(port), port_name));
  plan->changes.push_back(absl::StrCat("add gateway tunnel port ", Describe(p)));
  return port_name;
}

// The columns of `iface` that differ from `p`, rewritten whole: the
// interface is Shortcut's, so its settings are replaced, not merged.
Json InterfaceDiff(const ovsdb::VsInterface& iface, const TunnelPort& p,
                   const std::string& cluster) {
  Json row = Json::object();
  if (iface.type != "vxlan") row["type"] = "vxlan";
  if (iface.options != Options(p)) row["options"] = MapJson(Options(p));
  if (iface.bfd != Bfd()) row["bfd"] = MapJson(Bfd());
  std::optional<int64_t> want;
  if (p.ofport_request) want = *p.ofport_request;
  if (iface.ofport_request != want) {
    row["ofport_request"] = want ? Json(*want) : OvsSet({});
  }
  StringMapT ids = Tagged(iface.external_ids, cluster);
  if (ids != iface.external_ids) row["external_ids"] = MapJson(ids);
  return row;
}

}  // namespace

absl::StatusOr<std::string> TunnelPortName(const std::string& remote_ip) {
  in_addr addr{};
  if (inet_pton(AF_INET, remote_ip.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("remote_ip '", remote_ip, "' is not an IPv4 address"));
  }
  return absl::StrFormat("sc-%08x", ntohl(addr.s_addr));
}

absl::StatusOr<TunnelPort> MakeTunnelPort(const std::string& remote_ip,
                                          std::optional<uint32_t> ofport_request) {
  auto name = TunnelPortName(remote_ip);
  if (!name.ok()) return name.status();
  return TunnelPort{*std::move(name), remote_ip, ofport_request};
}

absl::Status ValidateTunnelPorts(const std::vector<TunnelPort>& ports) {
  std::set<std::string> names;
  std::set<std::string> remotes;
  std::set<uint32_t> ofports;
  for (const TunnelPort& p : ports) {
    if (!ValidName(p.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tunnel port '", p.name, "': not a valid port name (1-15 printable characters, no '/')"));
    }
    in_addr addr{};
    if (inet_pton(AF_INET, p.remote_ip.c_str(), &addr) != 1 || addr.s_addr == 0) {
      return absl::InvalidArgumentError(absl::StrCat("tunnel port ", p.name, ": remote_ip '",
                                                     p.remote_ip, "' is not an IPv4 address"));
    }
    if (p.ofport_request && (*p.ofport_request == 0 || *p.ofport_request > kMaxOfport ||
                             *p.ofport_request == static_cast<uint32_t>(kTunnelOfport))) {
      return absl::InvalidArgumentError(
          absl::StrCat("tunnel port ", p.name, ": ofport ", *p.ofport_request,
                       " is not in 1..65279 or is sc-tun's (", kTunnelOfport, ")"));
    }
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("tunnel port ", p.name, ": listed twice"));
    }
    if (!remotes.insert(p.remote_ip).second) {
      return absl::InvalidArgumentError(absl::StrCat("tunnel port ", p.name, ": remote_ip ",
                                                     p.remote_ip, " has another port already"));
    }
    if (p.ofport_request && !ofports.insert(*p.ofport_request).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tunnel port ", p.name, ": ofport ", *p.ofport_request, " has another port already"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HostPlan> PlanTunnelPorts(const VsSnapshot& db, const std::string& bridge,
                                         const std::vector<TunnelPort>& ports,
                                         const std::string& cluster) {
  if (auto s = ValidateTunnelPorts(ports); !s.ok()) return s;
  if (db.root_uuid.empty()) {
    return absl::FailedPreconditionError("the database has no Open_vSwitch row");
  }
  const ovsdb::VsBridge* br = db.FindBridge(bridge);
  if (br == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no bridge ", bridge, " (run shortcutctl host init)"));
  }
  // Port names are unique in the whole database, not per bridge, and so
  // are Interface names (a port "x" may hold an interface "sc-...").
  std::map<std::string, const ovsdb::VsPort*> by_name;
  for (const auto& [uuid, port] : db.ports) by_name[port.name] = &port;
  std::set<std::string> iface_names;
  for (const auto& [uuid, iface] : db.interfaces) iface_names.insert(iface.name);
  std::set<std::string> on_bridge(br->ports.begin(), br->ports.end());

  HostPlan plan;
  std::vector<Json> added;
  std::set<std::string> wanted;
  for (size_t i = 0; i < ports.size(); ++i) {
    const TunnelPort& p = ports[i];
    wanted.insert(p.name);
    auto it = by_name.find(p.name);
    if (it == by_name.end() && iface_names.contains(p.name)) {
      plan.notes.push_back(
          absl::StrCat("interface ", p.name, " exists in a port of another name: left alone"));
      continue;
    }
    if (it == by_name.end()) {
      added.push_back(NamedUuid(InsertPort(p, i, cluster, &plan)));
      continue;
    }
    const ovsdb::VsPort& port = *it->second;
    if (!on_bridge.contains(port.uuid) || !IsGatewayTunnel(port.external_ids)) {
      plan.notes.push_back(absl::StrCat("port ", p.name, " exists but is not a gateway tunnel of ",
                                        bridge, ": left alone"));
      continue;
    }
    if (!Claimable(port.external_ids, cluster)) {
      std::string holder = Get(port.external_ids, kClusterKey);
      plan.notes.push_back(absl::StrCat("port ", p.name, " is held by ",
                                        holder.empty() ? "no cluster" : "cluster " + holder,
                                        ": left alone"));
      continue;
    }
    auto iface = port.interfaces.size() == 1 ? db.interfaces.find(port.interfaces.front())
                                             : db.interfaces.end();
    if (iface == db.interfaces.end()) {
      plan.notes.push_back(
          absl::StrCat("port ", p.name, " does not have exactly one interface: left alone"));
      continue;
    }
    Json row = InterfaceDiff(iface->second, p, cluster);
    StringMapT port_ids = Tagged(port.external_ids, cluster);
    if (row.empty() && port_ids == port.external_ids) continue;
    if (!row.empty()) {
      plan.ops.push_back(op::Update("Interface", ByUuid(iface->second.uuid), std::move(row)));
    }
    if (port_ids != port.external_ids) {
      plan.ops.push_back(
          op::Update("Port", ByUuid(port.uuid), Json{{"external_ids", MapJson(port_ids)}}));
    }
    plan.changes.push_back(absl::StrCat("update gateway tunnel port ", Describe(p)));
  }

  std::vector<Json> removed;
  for (const std::string& uuid : br->ports) {
    auto it = db.ports.find(uuid);
    if (it == db.ports.end()) continue;
    const ovsdb::VsPort& port = it->second;
    if (!Ours(port.external_ids, cluster) || wanted.contains(port.name)) continue;
    removed.push_back(Uuid(uuid));
    plan.changes.push_back(absl::StrCat("remove gateway tunnel port ", port.name));
  }

  std::vector<Json> mutations;
  if (!removed.empty())
    mutations.push_back(Mutation("ports", "delete", OvsSet(std::move(removed))));
  if (!added.empty()) mutations.push_back(Mutation("ports", "insert", OvsSet(std::move(added))));
  if (!mutations.empty()) {
    plan.ops.push_back(op::Mutate("Bridge", ByUuid(br->uuid), std::move(mutations)));
  }
  if (!plan.ops.empty()) {
    plan.ops.insert(plan.ops.begin(),
                    op::Comment(absl::StrCat("shortcut gateway tunnels ", bridge)));
    // ovs-vsctl's convention: whoever waits for cur_cfg learns when
    // ovs-vswitchd has applied this.
    plan.ops.push_back(
        op::Mutate("Open_vSwitch", ByUuid(db.root_uuid), {Mutation("next_cfg", "+=", 1)}));
  }
  return plan;
}

std::vector<TunnelPortStatus> DescribeTunnelPorts(const VsSnapshot& db, const std::string& bridge,
                                                  const std::string& cluster) {
  std::vector<TunnelPortStatus> out;
  const ovsdb::VsBridge* br = db.FindBridge(bridge);
  if (br == nullptr) return out;
  for (const std::string& uuid : br->ports) {
    auto port = db.ports.find(uuid);
    if (port == db.ports.end() || !Ours(port->second.external_ids, cluster)) continue;
    TunnelPortStatus s;
    s.name = port->second.name;
    if (port->second.interfaces.size() == 1) {
      auto iface = db.interfaces.find(port->second.interfaces.front());
      if (iface != db.interfaces.end()) {
        const ovsdb::VsInterface& i = iface->second;
        s.remote_ip = Get(i.options, "remote_ip");
        if (i.ofport && *i.ofport > 0) s.ofport = i.ofport;
        s.bfd_state = Get(i.bfd_status, "state");
        s.forwarding = Get(i.bfd_status, "forwarding") == "true";
        s.error = i.error;
      }
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const TunnelPortStatus& a, const TunnelPortStatus& b) { return a.name < b.name; });
  return out;
}

}  // namespace shortcut::host
