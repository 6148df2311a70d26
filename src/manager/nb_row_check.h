// What the Shortcut_Northbound schema cannot check about a row that another
// writer (ovsdb-client, a script, an older managerd) put in the database:
// the text of names and addresses, and for rows that refer to others,
// whether those are in use. NbReplica (nb_replica.h) runs these on every row
// it reads and sets aside the rows they refuse.
//
// The rule is the API's: a row is usable when the call that writes it
// would accept its values as they are, in the canonical text it writes
// (validate.h's syntax step runs on the row, and its output must equal the
// row). So the gateways, the driver and the API's own checks only ever see
// values an API call could have written.
//
// Errors are InvalidArgument naming the table, the row's key and the column
// ("Host h1.underlay_ip: '10.0.0.x' is not an IPv4 address").
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include "absl/status/status.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

absl::Status CheckHostRow(const HostRow& row);
// The columns an API call writes (name, addresses, capacity); the others
// are managerd's own (state, role, tunnel port) and typed by the schema.
absl::Status CheckGatewayRow(const GatewayRow& row);
absl::Status CheckVpcRow(const VpcRow& row);
// Its text, and its VPC in use (in `state.vpcs`).
absl::Status CheckNetworkRow(const NetworkRow& row, const NbState& state);

// An endpoint's key and addresses (when present) in the canonical text the
// API writes (a unicast MAC in lower case; IPv4/IPv6 as inet_ntop prints
// them), so that the per-VPC address indexes compare equal values equal.
absl::Status CheckEndpointText(const EndpointRow& row);
// CheckEndpointText, then its VPC, network (of that VPC) and host in use.
absl::Status CheckEndpointRow(const EndpointRow& row, const NbState& state);

}  // namespace shortcut::manager
