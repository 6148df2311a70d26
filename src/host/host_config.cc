#include "src/host/host_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/ovsdb/ops.h"

namespace shortcut::host {
namespace {

using ovsdb::Cond;
using ovsdb::Json;
using ovsdb::Mutation;
using ovsdb::NamedUuid;
using ovsdb::OvsMap;
using ovsdb::OvsSet;
using ovsdb::Uuid;
using ovsdb::VsBridge;
using ovsdb::VsSnapshot;
namespace op = ovsdb::op;

const std::vector<std::string> kProtocols = {"OpenFlow13", "OpenFlow15"};

Json ByUuid(const std::string& uuid) { return Json::array({Cond("_uuid", "==", Uuid(uuid))}); }

Json MapJson(const ovsdb::StringMapT& map) {
  std::vector<std::pair<Json, Json>> pairs;
  for (const auto& [k, v] : map) pairs.emplace_back(k, v);
  return OvsMap(std::move(pairs));
}

Json StringSetJson(const std::vector<std::string>& items) {
  std::vector<Json> elements(items.begin(), items.end());
  return OvsSet(std::move(elements));
}

Json UuidSetJson(const std::vector<std::string>& uuids) {
  std::vector<Json> elements;
  for (const auto& u : uuids) elements.push_back(Uuid(u));
  return OvsSet(std::move(elements));
}

ovsdb::StringMapT TunnelOptions(const HostInitParams& p) {
  return {{"key", "flow"}, {"local_ip", p.tunnel_ip}, {"remote_ip", "flow"}};
}

ovsdb::StringMapT BridgeOtherConfig(const HostInitParams& p) {
  return {{"datapath-id", DatapathIdFor(p.tunnel_ip)}, {"disable-in-band", "true"}};
}

std::string Role(const ovsdb::StringMapT& external_ids) {
  auto it = external_ids.find(kRoleKey);
  return it == external_ids.end() ? "" : it->second;
}

// Inserts the tunnel Interface and Port; returns the Port's uuid-name.
std::string InsertTunnel(const HostInitParams& p, HostPlan* plan) {
  Json iface = {{"name", kTunnelPort},
                {"type", p.tunnel_type},
                {"options", MapJson(TunnelOptions(p))},
                {"ofport_request", kTunnelOfport},
                {"external_ids", MapJson({{kRoleKey, "tunnel"}})}};
  plan->ops.push_back(op::Insert("Interface", std::move(iface), "tun_iface"));
  Json port = {{"name", kTunnelPort},
               {"interfaces", NamedUuid("tun_iface")},
               {"external_ids", MapJson({{kRoleKey, "tunnel"}})}};
  plan->ops.push_back(op::Insert("Port", std::move(port), "tun_port"));
  plan->changes.push_back(absl::StrCat("add tunnel port ", kTunnelPort, " (", p.tunnel_type,
                                       ", local_ip=", p.tunnel_ip, ", remote_ip=flow, key=flow",
                                       ", ofport ", kTunnelOfport, ")"));
  return "tun_port";
}

std::string InsertListener(const HostInitParams& p, HostPlan* plan) {
  Json row = {{"target", p.listen}, {"external_ids", MapJson({{kRoleKey, "listener"}})}};
  plan->ops.push_back(op::Insert("Controller", std::move(row), "listener"));
  plan->changes.push_back(absl::StrCat("add OpenFlow listener ", p.listen));
  return "listener";
}

void PlanNewBridge(const VsSnapshot& db, const HostInitParams& p, HostPlan* plan) {
  plan->ops.push_back(
      op::Insert("Interface", {{"name", p.bridge}, {"type", "internal"}}, "br_iface"));
  plan->ops.push_back(
      op::Insert("Port", {{"name", p.bridge}, {"interfaces", NamedUuid("br_iface")}}, "br_port"));
  std::vector<Json> ports = {NamedUuid("br_port"), NamedUuid(InsertTunnel(p, plan))};
  std::vector<Json> controllers;
  if (!p.listen.empty()) controllers.push_back(NamedUuid(InsertListener(p, plan)));
  Json bridge = {{"name", p.bridge},
                 {"fail_mode", "secure"},
                 {"protocols", StringSetJson(kProtocols)},
                 {"datapath_type", p.datapath_type},
                 {"other_config", MapJson(BridgeOtherConfig(p))},
                 {"external_ids", MapJson({{kCreatedKey, "true"}})},
                 {"ports", OvsSet(std::move(ports))},
                 {"controller", OvsSet(std::move(controllers))}};
  plan->ops.push_back(op::Insert("Bridge", std::move(bridge), "bridge"));
  std::vector<Json> added = {NamedUuid("bridge")};
  plan->ops.push_back(op::Mutate("Open_vSwitch", ByUuid(db.root_uuid),
                                 {Mutation("bridges", "insert", OvsSet(std::move(added)))}));
  plan->changes.insert(plan->changes.begin(),
                       absl::StrCat("create bridge ", p.bridge, " (datapath_type=", p.datapath_type,
                                    ", fail_mode=secure, protocols=OpenFlow13,OpenFlow15",
                                    ", datapath-id=", DatapathIdFor(p.tunnel_ip), ")"));
}

void PlanExistingBridge(const VsSnapshot& db, const VsBridge& br, const HostInitParams& p,
                        HostPlan* plan) {
  Json update = Json::object();
  if (br.fail_mode != "secure") {
    update["fail_mode"] = "secure";
    plan->changes.push_back(absl::StrCat("set ", p.bridge, " fail_mode=secure (was ",
                                         br.fail_mode.empty() ? "unset" : br.fail_mode, ")"));
  }
  std::vector<std::string> protocols = br.protocols;
  std::sort(protocols.begin(), protocols.end());
  if (protocols != kProtocols) {
    update["protocols"] = StringSetJson(kProtocols);
    plan->changes.push_back(absl::StrCat("set ", p.bridge, " protocols=OpenFlow13,OpenFlow15"));
  }
  if (br.datapath_type != p.datapath_type) {
    update["datapath_type"] = p.datapath_type;
    plan->changes.push_back(absl::StrCat("set ", p.bridge, " datapath_type=", p.datapath_type));
  }
  if (!update.empty())
    plan->ops.push_back(op::Update("Bridge", ByUuid(br.uuid), std::move(update)));

  std::vector<Json> mutations;
  for (const auto& [key, value] : BridgeOtherConfig(p)) {
    auto it = br.other_config.find(key);
    if (it != br.other_config.end() && it->second == value) continue;
    if (it != br.other_config.end()) {
      std::vector<Json> keys = {key};
      mutations.push_back(Mutation("other_config", "delete", OvsSet(std::move(keys))));
    }
    mutations.push_back(Mutation("other_config", "insert", MapJson({{key, value}})));
    plan->changes.push_back(absl::StrCat("set ", p.bridge, " other_config:", key, "=", value));
  }

  // The tunnel port: ours entirely, so its settings are replaced whole.
  const ovsdb::VsPort* tun = db.FindPort(br, kTunnelPort);
  std::vector<Json> new_ports;
  if (tun == nullptr) {
    new_ports.push_back(NamedUuid(InsertTunnel(p, plan)));
  } else {
    const ovsdb::VsInterface* iface = nullptr;
    if (!tun->interfaces.empty()) {
      auto it = db.interfaces.find(tun->interfaces.front());
      if (it != db.interfaces.end()) iface = &it->second;
    }
    if (iface == nullptr) {
      plan->notes.push_back(absl::StrCat("port ", kTunnelPort, " has no interface: left alone"));
    } else {
      Json row = Json::object();
      if (iface->type != p.tunnel_type) row["type"] = p.tunnel_type;
      if (iface->options != TunnelOptions(p)) row["options"] = MapJson(TunnelOptions(p));
      if (iface->ofport_request != kTunnelOfport) row["ofport_request"] = kTunnelOfport;
      if (Role(iface->external_ids) != "tunnel") {
        auto ids = iface->external_ids;
        ids[kRoleKey] = "tunnel";
        row["external_ids"] = MapJson(ids);
      }
      if (!row.empty()) {
        plan->ops.push_back(op::Update("Interface", ByUuid(iface->uuid), std::move(row)));
        plan->changes.push_back(absl::StrCat("update tunnel port ", kTunnelPort, " (",
                                             p.tunnel_type, ", local_ip=", p.tunnel_ip, ")"));
      }
    }
  }
  if (!new_ports.empty()) {
    mutations.push_back(Mutation("ports", "insert", OvsSet(std::move(new_ports))));
  }

  // Listeners: add the wanted one; remove ones an earlier init made for
  // another address. Other controllers are someone else's.
  bool have_listener = false;
  std::vector<std::string> stale;
  for (const std::string& uuid : br.controllers) {
    auto it = db.controllers.find(uuid);
    if (it == db.controllers.end()) continue;
    if (!p.listen.empty() && it->second.target == p.listen) {
      have_listener = true;
    } else if (Role(it->second.external_ids) == "listener") {
      stale.push_back(uuid);
      plan->changes.push_back(absl::StrCat("remove OpenFlow listener ", it->second.target));
    }
  }
  if (!stale.empty()) mutations.push_back(Mutation("controller", "delete", UuidSetJson(stale)));
  if (!p.listen.empty() && !have_listener) {
    std::vector<Json> added = {NamedUuid(InsertListener(p, plan))};
    mutations.push_back(Mutation("controller", "insert", OvsSet(std::move(added))));
  }
  if (!mutations.empty()) {
    plan->ops.push_back(op::Mutate("Bridge", ByUuid(br.uuid), std::move(mutations)));
  }
}

}  // namespace

absl::Status ValidateInitParams(const HostInitParams& p) {
  if (p.bridge.empty() || p.bridge.size() > 15 ||
      p.bridge.find_first_of("/ \t") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--bridge: '", p.bridge, "' is not a valid bridge name (1-15 characters, no '/')"));
  }
  in_addr addr;
  if (inet_pton(AF_INET, p.tunnel_ip.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tunnel-ip: '", p.tunnel_ip, "' is not an IPv4 address"));
  }
  if (p.tunnel_type != "vxlan" && p.tunnel_type != "geneve") {
    return absl::InvalidArgumentError(
        absl::StrCat("--tunnel-type: '", p.tunnel_type, "' is neither vxlan nor geneve"));
  }
  if (p.datapath_type != "netdev" && p.datapath_type != "system") {
    return absl::InvalidArgumentError(
        absl::StrCat("--datapath-type: '", p.datapath_type, "' is neither netdev nor system"));
  }
  if (!p.listen.empty()) {
    // ptcp:PORT[:IP], or pssl:PORT[:IP] (TLS with the switch's SSL settings).
    std::string rest = p.listen.rfind("ptcp:", 0) == 0 || p.listen.rfind("pssl:", 0) == 0
                           ? p.listen.substr(5)
                           : "";
    std::string port = rest.substr(0, rest.find(':'));
    uint32_t n = 0;
    bool ok = !rest.empty() && absl::SimpleAtoi(port, &n) && n <= 65535;
    if (ok && rest.find(':') != std::string::npos) {
      std::string ip = rest.substr(rest.find(':') + 1);
      in6_addr a6;
      ok = inet_pton(AF_INET, ip.c_str(), &addr) == 1 || inet_pton(AF_INET6, ip.c_str(), &a6) == 1;
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen: '", p.listen, "' is neither ptcp:PORT[:IP] nor pssl:PORT[:IP]"));
    }
  }
  return absl::OkStatus();
}

std::string DatapathIdFor(const std::string& tunnel_ip) {
  in_addr addr{};
  inet_pton(AF_INET, tunnel_ip.c_str(), &addr);
  return absl::StrFormat("5c000000%08x", ntohl(addr.s_addr));
}

absl::StatusOr<HostPlan> PlanInit(const VsSnapshot& db, const HostInitParams& params) {
  if (db.root_uuid.empty()) {
    return absl::FailedPreconditionError(
        "the database has no Open_vSwitch row (initialise it with ovs-vsctl init)");
  }
  HostPlan plan;
  const VsBridge* br = db.FindBridge(params.bridge);
  if (br == nullptr) {
    PlanNewBridge(db, params, &plan);
  } else {
    PlanExistingBridge(db, *br, params, &plan);
  }
  if (!plan.ops.empty()) {
    plan.ops.insert(plan.ops.begin(),
                    op::Comment(absl::StrCat("shortcutctl host init ", params.bridge)));
  }
  return plan;
}

absl::StatusOr<HostPlan> PlanReset(const VsSnapshot& db, const std::string& bridge) {
  if (db.root_uuid.empty()) {
    return absl::FailedPreconditionError("the database has no Open_vSwitch row");
  }
  HostPlan plan;
  const VsBridge* br = db.FindBridge(bridge);
  if (br == nullptr) {
    plan.notes.push_back(absl::StrCat("no bridge ", bridge, ": nothing to remove"));
    return plan;
  }
  std::vector<std::string> tunnel_ports;
  std::vector<std::string> foreign_ports;
  for (const std::string& uuid : br->ports) {
    auto it = db.ports.find(uuid);
    if (it == db.ports.end()) continue;
    const ovsdb::VsPort& port = it->second;
    if (port.name == bridge) continue;  // The internal port.
    // Gateways' tunnel ports go too: Shortcut made them, for this bridge.
    if (Role(port.external_ids) == "tunnel" || Role(port.external_ids) == "gateway-tunnel") {
      tunnel_ports.push_back(uuid);
    } else {
      foreign_ports.push_back(port.name);
    }
  }
  std::vector<std::string> listeners;
  for (const std::string& uuid : br->controllers) {
    auto it = db.controllers.find(uuid);
    if (it != db.controllers.end() && Role(it->second.external_ids) == "listener") {
      listeners.push_back(uuid);
      plan.changes.push_back(absl::StrCat("remove OpenFlow listener ", it->second.target));
    }
  }
  for (size_t i = 0; i < tunnel_ports.size(); ++i) {
    plan.changes.push_back(absl::StrCat("remove tunnel port ", db.ports.at(tunnel_ports[i]).name));
  }
  bool created = br->external_ids.count(kCreatedKey) > 0;
  if (created && foreign_ports.empty()) {
    plan.changes.push_back(absl::StrCat("delete bridge ", bridge));
    std::vector<Json> removed = {Uuid(br->uuid)};
    plan.ops.push_back(op::Mutate("Open_vSwitch", ByUuid(db.root_uuid),
                                  {Mutation("bridges", "delete", OvsSet(std::move(removed)))}));
  } else {
    std::vector<Json> mutations;
    if (!tunnel_ports.empty())
      mutations.push_back(Mutation("ports", "delete", UuidSetJson(tunnel_ports)));
    if (!listeners.empty())
      mutations.push_back(Mutation("controller", "delete", UuidSetJson(listeners)));
    if (!mutations.empty())
      plan.ops.push_back(op::Mutate("Bridge", ByUuid(br->uuid), std::move(mutations)));
    std::sort(foreign_ports.begin(), foreign_ports.end());
    plan.notes.push_back(
        created ? absl::StrCat("kept bridge ", bridge, ": it holds ports init did not create (",
                               absl::StrJoin(foreign_ports, ", "), ")")
                : absl::StrCat("kept bridge ", bridge, ": init did not create it"));
  }
  if (!plan.ops.empty()) {
    plan.ops.insert(plan.ops.begin(), op::Comment(absl::StrCat("shortcutctl host reset ", bridge)));
  }
  return plan;
}

HostView DescribeHost(const VsSnapshot& db, const std::string& bridge) {
  HostView v;
  v.bridge = bridge;
  const VsBridge* br = db.FindBridge(bridge);
  if (br == nullptr) return v;
  v.present = true;
  v.datapath_type = br->datapath_type;
  v.fail_mode = br->fail_mode;
  v.protocols = br->protocols;
  v.datapath_id = br->datapath_id;
  for (const std::string& uuid : br->controllers) {
    auto it = db.controllers.find(uuid);
    if (it != db.controllers.end() && it->second.target.rfind("p", 0) == 0) {
      v.listeners.push_back(it->second.target);
    }
  }
  std::sort(v.listeners.begin(), v.listeners.end());
  for (const ovsdb::VsInterface* i : db.BridgeInterfaces(*br)) {
    if (i->name == kTunnelPort || Role(i->external_ids) == "tunnel") {
      v.tunnel_port = i->name;
      v.tunnel_type = i->type;
      auto lip = i->options.find("local_ip");
      if (lip != i->options.end()) v.tunnel_local_ip = lip->second;
      v.tunnel_ofport = i->ofport.value_or(-1);
    } else if (!i->iface_id().empty()) {
      v.vms.push_back({i->iface_id(), i->name, i->ofport.value_or(-1), i->mac()});
    }
  }
  std::sort(v.vms.begin(), v.vms.end(),
            [](const HostVm& a, const HostVm& b) { return a.iface_id < b.iface_id; });
  return v;
}

std::string FormatHostView(const HostView& v) {
  if (!v.present)
    return absl::StrCat("bridge ", v.bridge, ": absent (run shortcutctl host init)\n");
  std::string out =
      absl::StrCat("bridge ", v.bridge, ": datapath_type=", v.datapath_type,
                   " fail_mode=", v.fail_mode.empty() ? "-" : v.fail_mode,
                   " protocols=", absl::StrJoin(v.protocols, ","),
                   " datapath_id=", v.datapath_id.empty() ? "-" : v.datapath_id, "\n");
  if (v.tunnel_port.empty()) {
    absl::StrAppend(&out, "tunnel: none\n");
  } else {
    absl::StrAppend(&out, "tunnel: ", v.tunnel_port, " type=", v.tunnel_type,
                    " local_ip=", v.tunnel_local_ip,
                    " ofport=", v.tunnel_ofport < 0 ? "-" : std::to_string(v.tunnel_ofport), "\n");
  }
  absl::StrAppend(
      &out, "listeners: ", v.listeners.empty() ? "none" : absl::StrJoin(v.listeners, " "), "\n");
  absl::StrAppend(&out, "vms: ", v.vms.size(), "\n");
  if (!v.vms.empty()) {
    absl::StrAppend(
        &out, absl::StrFormat("  %-24s %-16s %-7s %s\n", "IFACE-ID", "INTERFACE", "OFPORT", "MAC"));
  }
  for (const HostVm& vm : v.vms) {
    absl::StrAppend(&out, absl::StrFormat("  %-24s %-16s %-7s %s\n", vm.iface_id, vm.interface,
                                          vm.ofport < 0 ? "-" : std::to_string(vm.ofport),
                                          vm.mac.empty() ? "-" : vm.mac));
  }
  return out;
}

Json HostViewJson(const HostView& v) {
  Json out = {{"bridge", v.bridge}, {"present", v.present}};
  if (!v.present) return out;
  out["datapath_type"] = v.datapath_type;
  out["fail_mode"] = v.fail_mode;
  out["protocols"] = v.protocols;
  out["datapath_id"] = v.datapath_id;
  if (v.tunnel_port.empty()) {
    out["tunnel"] = nullptr;
  } else {
    out["tunnel"] = {{"port", v.tunnel_port},
                     {"type", v.tunnel_type},
                     {"local_ip", v.tunnel_local_ip},
                     {"ofport", v.tunnel_ofport < 0 ? Json() : Json(v.tunnel_ofport)}};
  }
  out["listeners"] = v.listeners;
  Json vms = Json::array();
  for (const HostVm& vm : v.vms) {
    vms.push_back({{"iface_id", vm.iface_id},
                   {"interface", vm.interface},
                   {"ofport", vm.ofport < 0 ? Json() : Json(vm.ofport)},
                   {"mac", vm.mac}});
  }
  out["vms"] = std::move(vms);
  return out;
}

}  // namespace shortcut::host
