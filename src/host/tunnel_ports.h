// A gateway's tunnel ports with BFD (the other half of the seed's
// ovsdb_conf), planned as one OVSDB transaction from a database snapshot.
// Pure: no I/O.
//
// On a compute host, br-int holds one VXLAN port toward each gateway of its
// cluster, at the ofport the host's select group names in that gateway's
// bucket (watch_port), so that BFD declaring the gateway dead takes the
// bucket out of the group in the data plane. On a gateway, br-int holds one
// VXLAN port toward each host, with BFD too (BFD needs both ends); OVS
// chooses their ofports. Traffic toward hosts leaves through the shared
// flow-based sc-tun; these ports carry BFD and receive.
//
// The caller owns the desired set; the plan owns the ports marked
// external_ids:shortcut-role=gateway-tunnel on that bridge and tagged with
// its `cluster` (external_ids:shortcut-cluster on Port and Interface; an
// empty cluster owns the untagged ones): it creates the missing ones,
// rewrites those whose settings differ, and deletes those no longer
// desired. A compute host may be served by several gateway clusters, each
// keeping its own ports there: ports of another cluster, and ports it did
// not create, are never touched, even if they hold a desired name (that is
// reported in the plan's notes). An untagged gateway-tunnel port (made
// before ports were tagged) is taken over by a cluster that wants its name
// (the tag is added) and otherwise left alone.
//
// Thread-safety: pure functions on values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/host/host_config.h"
#include "src/ovsdb/vswitch.h"

namespace shortcut::host {

inline constexpr char kGatewayTunnelRole[] = "gateway-tunnel";
// external_ids key naming the gateway cluster that keeps a port.
inline constexpr char kClusterKey[] = "shortcut-cluster";
// BFD's detection time is mult (3) times the slower side's interval: with
// 100 ms on both sides a dead peer is noticed in about 300 ms.
inline constexpr int kBfdIntervalMs = 100;

struct TunnelPort {
  std::string name;                        // Port and Interface name; see TunnelPortName.
  std::string remote_ip;                   // IPv4, dotted quad.
  std::optional<uint32_t> ofport_request;  // Absent: OVS chooses (an old request is cleared).
  bool operator==(const TunnelPort&) const = default;
};

// "sc-" and the IPv4 address in 8 hex digits ("sc-ac1f0201" for
// 172.31.2.1): valid as a netdev name (15 characters at most) and the same
// whatever the order in which members or hosts are listed.
// InvalidArgument if `remote_ip` is not an IPv4 address.
absl::StatusOr<std::string> TunnelPortName(const std::string& remote_ip);
absl::StatusOr<TunnelPort> MakeTunnelPort(const std::string& remote_ip,
                                          std::optional<uint32_t> ofport_request = std::nullopt);

// InvalidArgument naming the port at fault: a bad name or address, an
// ofport outside 1..65279 or equal to sc-tun's, or two ports with the same
// name, remote or ofport.
absl::Status ValidateTunnelPorts(const std::vector<TunnelPort>& ports);

// The transaction bringing `bridge` to hold exactly `ports` among its
// gateway-tunnel ports of `cluster` (see above). It bumps next_cfg when it
// changes anything; empty when nothing has to change. FailedPrecondition if
// the database has no root row or no such bridge (run host init first).
absl::StatusOr<HostPlan> PlanTunnelPorts(const ovsdb::VsSnapshot& db, const std::string& bridge,
                                         const std::vector<TunnelPort>& ports,
                                         const std::string& cluster = "");

// What a tunnel port looks like now, for stats.
struct TunnelPortStatus {
  std::string name;
  std::string remote_ip;
  std::optional<int64_t> ofport;  // Absent: not (successfully) attached.
  std::string bfd_state;          // bfd_status:state: "up", "down", "init", ... or "".
  bool forwarding = false;        // bfd_status:forwarding.
  std::string error;              // Interface:error, as ovs-vswitchd reports it.
  bool operator==(const TunnelPortStatus&) const = default;
};
// The gateway-tunnel ports of `bridge` tagged with `cluster` (empty: the
// untagged ones), by name.
std::vector<TunnelPortStatus> DescribeTunnelPorts(const ovsdb::VsSnapshot& db,
                                                  const std::string& bridge,
                                                  const std::string& cluster = "");

}  // namespace shortcut::host
