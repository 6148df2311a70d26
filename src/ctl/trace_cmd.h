// `shortcutctl trace KEY DST [--proto P] [--dport N] [--live] [--json]`:
// the path a packet from endpoint KEY to address DST of its VPC takes
// through Shortcut (src/trace/path.h), from the management plane's state
// read over its API. With --live, each host on the path is read too: its
// flow tables and groups over OpenFlow (its registered `openflow` target)
// and its ports over OVSDB (`ovsdb`), the packet walks the switch's own
// tables, and where that differs from what the pipeline code computes the
// trace says so. A host that cannot be read is traced as computed, with
// the reason on stderr. Gateways are always computed (managerd does not
// know their bridges' targets). `--appctl NODE=PATH` (with --live) also
// runs the host's hop through Open vSwitch's own `ofproto/trace` and says
// whether it took the same flows to the same outputs.
//
// Exit status: 0 a trace was printed (whether or not the packet gets
// through), 1 a call failed, 2 bad input.
//
// Thread-safety: one thread.
#pragma once

#include <map>
#include <ostream>
#include <string>

#include "src/ctl/manager_client.h"

namespace shortcut::ctl {

struct TraceArgs {
  std::string key;
  std::string dst;
  std::string proto = "icmp";
  uint32_t dport = 0;
  bool live = false;
  // --appctl NODE=PATH: that host's ovs-vswitchd control socket; with
  // --live, its hop is also run through `ovs-appctl ofproto/trace` and
  // compared (OfprotoVerdict).
  std::map<std::string, std::string> appctl;
  bool json = false;
  double timeout_s = 10;
};

int RunTrace(ManagerClient& client, const TraceArgs& args, std::ostream& out, std::ostream& err);

}  // namespace shortcut::ctl
