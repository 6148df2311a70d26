#include "src/ovsdb/vswitch.h"

#include <algorithm>

#include "src/ovsdb/datum.h"

namespace shortcut::ovsdb {
namespace {

const Json& Col(const Row& row, const char* column) {
  static const Json* null = new Json();
  auto it = row.find(column);
  return it == row.end() ? *null : *it;
}

std::optional<int64_t> OptionalInteger(const Json& value) {
  auto elements = SetElements(value);
  if (elements.size() == 1 && elements[0].is_number_integer()) return elements[0].get<int64_t>();
  return std::nullopt;
}

}  // namespace

std::string VsInterface::iface_id() const {
  auto it = external_ids.find("iface-id");
  return it == external_ids.end() ? "" : it->second;
}

std::string VsInterface::mac() const {
  auto it = external_ids.find("attached-mac");
  return it == external_ids.end() ? "" : it->second;
}

VsInterface ReadInterface(const std::string& uuid, const Row& row) {
  VsInterface i;
  i.uuid = uuid;
  i.name = StringAtom(Col(row, "name"));
  i.type = StringAtom(Col(row, "type"));
  i.ofport = OptionalInteger(Col(row, "ofport"));
  i.ofport_request = OptionalInteger(Col(row, "ofport_request"));
  i.mac_in_use = StringAtom(Col(row, "mac_in_use"));
  i.error = StringAtom(Col(row, "error"));
  i.options = StringMap(Col(row, "options"));
  i.external_ids = StringMap(Col(row, "external_ids"));
  i.bfd = StringMap(Col(row, "bfd"));
  i.bfd_status = StringMap(Col(row, "bfd_status"));
  return i;
}

VsPort ReadPort(const std::string& uuid, const Row& row) {
  VsPort p;
  p.uuid = uuid;
  p.name = StringAtom(Col(row, "name"));
  p.interfaces = UuidSet(Col(row, "interfaces"));
  p.external_ids = StringMap(Col(row, "external_ids"));
  return p;
}

VsBridge ReadBridge(const std::string& uuid, const Row& row) {
  VsBridge b;
  b.uuid = uuid;
  b.name = StringAtom(Col(row, "name"));
  b.datapath_type = StringAtom(Col(row, "datapath_type"));
  b.fail_mode = StringAtom(Col(row, "fail_mode"));
  b.protocols = StringSet(Col(row, "protocols"));
  b.ports = UuidSet(Col(row, "ports"));
  b.controllers = UuidSet(Col(row, "controller"));
  b.datapath_id = StringAtom(Col(row, "datapath_id"));
  b.other_config = StringMap(Col(row, "other_config"));
  b.external_ids = StringMap(Col(row, "external_ids"));
  return b;
}

VsController ReadController(const std::string& uuid, const Row& row) {
  VsController c;
  c.uuid = uuid;
  c.target = StringAtom(Col(row, "target"));
  auto connected = Col(row, "is_connected");
  c.is_connected = connected.is_boolean() && connected.get<bool>();
  c.external_ids = StringMap(Col(row, "external_ids"));
  return c;
}

VsSnapshot VsSnapshot::FromReplica(const Replica& replica) {
  VsSnapshot s;
  for (const auto& [uuid, row] : replica.Rows("Open_vSwitch")) {
    s.root_uuid = uuid;
    s.root_bridges = UuidSet(Col(row, "bridges"));
    s.root_external_ids = StringMap(Col(row, "external_ids"));
    s.cur_cfg = IntegerAtom(Col(row, "cur_cfg"));
    s.next_cfg = IntegerAtom(Col(row, "next_cfg"));
  }
  for (const auto& [uuid, row] : replica.Rows("Bridge")) s.bridges[uuid] = ReadBridge(uuid, row);
  for (const auto& [uuid, row] : replica.Rows("Port")) s.ports[uuid] = ReadPort(uuid, row);
  for (const auto& [uuid, row] : replica.Rows("Interface")) {
    s.interfaces[uuid] = ReadInterface(uuid, row);
  }
  for (const auto& [uuid, row] : replica.Rows("Controller")) {
    s.controllers[uuid] = ReadController(uuid, row);
  }
  return s;
}

const VsBridge* VsSnapshot::FindBridge(const std::string& name) const {
  for (const auto& [uuid, b] : bridges) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const VsPort* VsSnapshot::FindPort(const VsBridge& bridge, const std::string& name) const {
  for (const std::string& uuid : bridge.ports) {
    auto it = ports.find(uuid);
    if (it != ports.end() && it->second.name == name) return &it->second;
  }
  return nullptr;
}

std::vector<const VsInterface*> VsSnapshot::BridgeInterfaces(const VsBridge& bridge) const {
  std::vector<const VsPort*> bridge_ports;
  for (const std::string& uuid : bridge.ports) {
    auto it = ports.find(uuid);
    if (it != ports.end()) bridge_ports.push_back(&it->second);
  }
  std::sort(bridge_ports.begin(), bridge_ports.end(),
            [](const VsPort* a, const VsPort* b) { return a->name < b->name; });
  std::vector<const VsInterface*> out;
  for (const VsPort* p : bridge_ports) {
    for (const std::string& uuid : p->interfaces) {
      auto it = interfaces.find(uuid);
      if (it != interfaces.end()) out.push_back(&it->second);
    }
  }
  return out;
}

std::map<std::string, std::string> VsSnapshot::InterfaceBridges() const {
  std::map<std::string, std::string> out;
  for (const auto& [buuid, b] : bridges) {
    for (const std::string& puuid : b.ports) {
      auto p = ports.find(puuid);
      if (p == ports.end()) continue;
      for (const std::string& iuuid : p->second.interfaces) out[iuuid] = b.name;
    }
  }
  return out;
}

std::vector<TableMonitor> VswitchMonitors() {
  return {
      {"Open_vSwitch", {"bridges", "external_ids", "cur_cfg", "next_cfg"}, nullptr},
      {"Bridge",
       {"name", "datapath_type", "fail_mode", "protocols", "ports", "controller", "datapath_id",
        "other_config", "external_ids"},
       nullptr},
      {"Port", {"name", "interfaces", "external_ids"}, nullptr},
      {"Interface",
       {"name", "type", "ofport", "ofport_request", "mac_in_use", "error", "options",
        "external_ids", "bfd", "bfd_status"},
       nullptr},
      {"Controller", {"target", "is_connected", "external_ids"}, nullptr},
  };
}

}  // namespace shortcut::ovsdb
