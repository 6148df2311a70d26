// Host preparation (the seed's ovsdb_conf / ovsdb_del_conf): what a compute
// host's or a gateway's Open vSwitch must hold for Shortcut, computed as
// OVSDB operations from a snapshot of its database. Pure: no I/O.
//
// `init` brings the host to this state, touching nothing else:
//   - the integration bridge: fail_mode=secure, OpenFlow13 and OpenFlow15,
//     other_config:disable-in-band=true, the datapath type, and a stable
//     datapath id derived from the tunnel address (so flows dumped before
//     and after a restart name the same switch);
//   - its internal port, as ovs-vsctl add-br creates it;
//   - one flow-based tunnel port (remote_ip=flow, key=flow, local_ip) at
//     ofport kTunnelOfport, which all host-to-host direct paths share;
//   - a passive OpenFlow listener (a Controller "ptcp:..."), which gateways
//     connect to.
// What init creates is marked in external_ids ("shortcut-role"), so `reset`
// removes exactly that: the tunnel port and the listener (and the gateways'
// tunnel ports, src/host/tunnel_ports.h), and the bridge if init created it
// and nobody else added ports to it since.
//
// Thread-safety: pure functions on values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/ovsdb/jsonrpc.h"
#include "src/ovsdb/vswitch.h"

namespace shortcut::host {

// Every host's shared flow-based tunnel port sits at this OpenFlow port, so
// flows can name it without asking the host.
inline constexpr int64_t kTunnelOfport = 60000;
inline constexpr char kTunnelPort[] = "sc-tun";
inline constexpr char kRoleKey[] = "shortcut-role";
inline constexpr char kCreatedKey[] = "shortcut-created";

struct HostInitParams {
  std::string bridge = "br-int";
  std::string tunnel_ip;                 // IPv4, dotted quad.
  std::string tunnel_type = "vxlan";     // "vxlan" or "geneve".
  std::string listen = "ptcp:6653";      // ptcp:PORT[:IP], or "" for none.
  std::string datapath_type = "netdev";  // "netdev" or "system".
};

// Checks every field; InvalidArgument names the one at fault.
absl::Status ValidateInitParams(const HostInitParams& params);

// The datapath id init sets: 5c00 0000 then the tunnel IPv4 address in hex.
std::string DatapathIdFor(const std::string& tunnel_ip);

struct HostPlan {
  ovsdb::Json ops = ovsdb::Json::array();  // One transaction; empty: nothing to do.
  std::vector<std::string> changes;        // One line per change, for people.
  std::vector<std::string> notes;          // What was left alone, and why.
  bool empty() const { return ops.empty(); }
};

// REQUIRES: ValidateInitParams(params).ok().
// FailedPrecondition if the database has no Open_vSwitch row.
absl::StatusOr<HostPlan> PlanInit(const ovsdb::VsSnapshot& db, const HostInitParams& params);
absl::StatusOr<HostPlan> PlanReset(const ovsdb::VsSnapshot& db, const std::string& bridge);

// What `host show` prints.
struct HostVm {
  std::string iface_id;
  std::string interface;
  int64_t ofport = -1;  // -1: none yet.
  std::string mac;
};
struct HostView {
  std::string bridge;
  bool present = false;
  std::string datapath_type;
  std::string fail_mode;
  std::vector<std::string> protocols;
  std::string datapath_id;
  std::string tunnel_port;  // Empty: none.
  std::string tunnel_type;
  std::string tunnel_local_ip;
  int64_t tunnel_ofport = -1;
  std::vector<std::string> listeners;
  std::vector<HostVm> vms;  // Interfaces with external_ids:iface-id, by iface-id.
};
HostView DescribeHost(const ovsdb::VsSnapshot& db, const std::string& bridge);
std::string FormatHostView(const HostView& view);
ovsdb::Json HostViewJson(const HostView& view);

}  // namespace shortcut::host
