// Typed views of the Open_vSwitch database rows Shortcut reads (schema
// /usr/share/openvswitch/vswitch.ovsschema): the root row, bridges, ports,
// interfaces and controllers, read out of a Replica, plus the monitor
// requests that fill a replica with exactly the columns used here.
//
// The views are copies: a VsSnapshot stays valid after the replica changes.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/ovsdb/replica.h"
#include "src/ovsdb/replica_session.h"

namespace shortcut::ovsdb {

inline constexpr char kVswitchDb[] = "Open_vSwitch";

using StringMapT = std::map<std::string, std::string>;

struct VsInterface {
  std::string uuid;
  std::string name;
  std::string type;               // "" (system), "internal", "vxlan", "geneve", ...
  std::optional<int64_t> ofport;  // Absent until ovs-vswitchd assigned one; -1: failed.
  std::optional<int64_t> ofport_request;
  std::string mac_in_use;
  std::string error;
  StringMapT options;
  StringMapT external_ids;
  StringMapT bfd;
  StringMapT bfd_status;

  // OVN/Nova convention: external_ids:iface-id names the endpoint.
  std::string iface_id() const;
  // external_ids:attached-mac: the VM's own MAC. (mac_in_use is the MAC of
  // the host's end of the link, not the VM's.)
  std::string mac() const;
};

struct VsPort {
  std::string uuid;
  std::string name;
  std::vector<std::string> interfaces;  // uuids.
  StringMapT external_ids;
};

struct VsController {
  std::string uuid;
  std::string target;
  bool is_connected = false;
  StringMapT external_ids;
};

struct VsBridge {
  std::string uuid;
  std::string name;
  std::string datapath_type;
  std::string fail_mode;
  std::vector<std::string> protocols;
  std::vector<std::string> ports;        // uuids.
  std::vector<std::string> controllers;  // uuids.
  std::string datapath_id;               // As ovs-vswitchd reports it.
  StringMapT other_config;
  StringMapT external_ids;
};

// Everything above, keyed by uuid, plus the root row.
struct VsSnapshot {
  std::string root_uuid;  // Empty if the database has no Open_vSwitch row.
  std::vector<std::string> root_bridges;
  StringMapT root_external_ids;
  // ovs-vswitchd has applied every configuration up to cur_cfg; writers bump
  // next_cfg to learn when their change is in effect.
  int64_t cur_cfg = 0;
  int64_t next_cfg = 0;
  std::map<std::string, VsBridge> bridges;
  std::map<std::string, VsPort> ports;
  std::map<std::string, VsInterface> interfaces;
  std::map<std::string, VsController> controllers;

  static VsSnapshot FromReplica(const Replica& replica);

  const VsBridge* FindBridge(const std::string& name) const;
  const VsPort* FindPort(const VsBridge& bridge, const std::string& name) const;
  // The interfaces of every port of `bridge`, in port name order.
  std::vector<const VsInterface*> BridgeInterfaces(const VsBridge& bridge) const;
  // interface uuid → bridge name, for every interface on a bridge.
  std::map<std::string, std::string> InterfaceBridges() const;
};

VsInterface ReadInterface(const std::string& uuid, const Row& row);
VsPort ReadPort(const std::string& uuid, const Row& row);
VsBridge ReadBridge(const std::string& uuid, const Row& row);
VsController ReadController(const std::string& uuid, const Row& row);

// Monitor requests for the tables and columns read above.
std::vector<TableMonitor> VswitchMonitors();

}  // namespace shortcut::ovsdb
