// shortcutctl's commands over the management plane's API
// (shortcut.manager.v1, served by shortcut-managerd), in ovn-nbctl's
// style: one verb per operation.
//
//   shortcutctl [--server ADDR[,ADDR...]] [--json] [--timeout SECONDS] COMMAND
//     manager status            every listed manager: its role (ACTIVE or
//                               STANDBY) and since when, the active one as
//                               the database names it, its database server
//                               and whether that one is the Raft leader
//                               (one that does not answer: DOWN, and why
//                               on stderr; exit 1 only if none answered)
//     host register NAME --underlay-ip IP [--openflow T] [--ovsdb T]
//     host unregister NAME | host list | host show NAME
//     gw register NAME --underlay-ip IP --grpc ADDR --capacity N
//     gw unregister NAME | gw list | gw show NAME
//     cluster create [--id N] MEMBER... | cluster delete ID | cluster list | cluster show ID
//     vpc create ID --vni N --router-mac MAC [--cluster N] [--network ID=CIDR[,CIDR6]]...
//     vpc delete ID | vpc list [--cluster N] | vpc show ID
//     network create VPC ID --ipv4 CIDR [--ipv6 CIDR] | network delete VPC ID
//     network list VPC | network show VPC ID
//     endpoint create KEY --vpc V --network N [--ipv4 IP] [--ipv6 IP] [--mac MAC] --host H
//                     [--iface-id ID] [--timeout-ms N]   (no --ipv4/--mac: allocated)
//     endpoint move KEY --host H [--timeout-ms N]
//     endpoint update KEY [--network N] [--ipv4 IP] [--ipv6 IP] [--mac MAC] [--iface-id ID]
//     endpoint delete KEY | endpoint list [--vpc V] [--host H] | endpoint show KEY
//     endpoint load FILE        {"endpoints": [Endpoint...]} ("-": stdin), one
//                               CreateEndpoints stream in batches of 1000
//     endpoint watch [--vpc V] [--host H] [--initial] [--count N]
//     trace KEY DST [--proto icmp|tcp|udp] [--dport N] [--live [--appctl NODE=CTL]...]
//                               the path of a packet from endpoint KEY to
//                               address DST of its VPC (trace_cmd.h)
//
// `host show NAME` is the manager's record of a host; `host show --db T`
// (no NAME) stays what it was: the host's own Open vSwitch (host_cmd.h).
// `gateway` is the low-level client of one gateway (gateway_cmd.h); the
// manager's gateway records are `gw`.
//
// ADDR: --server, else the environment's SHORTCUT_MANAGER; unix:/abs/path or
// HOST:PORT (tcp:HOST:PORT accepted). A comma-separated list names the
// managers of one database (active and standby): a call goes to the
// active one (found by asking each its status), and one answered
// UNAVAILABLE (a standby, a dead server) is tried on the next. Output: aligned columns with a
// header for lists (every page followed), one line for changes; --json prints the response in
// protobuf's JSON mapping on one line (a list: all its pages as one response; watch: one event per
// line). Exit status: 0 success; 1 the call failed (`shortcutctl: NOT_FOUND: ...` on stderr); 2
// usage or input errors (no server, a malformed --network, an unreadable FILE).
//
// Thread-safety: a ManagerCli is used by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "src/ctl/tls_options.h"

namespace shortcut::ctl {

class ManagerCli {
 public:
  // Adds the global options to `app`, the manager's verbs to the existing
  // `host` command (and NAME to its `show`), and the other commands.
  // `tls`: the global TLS options (tls_options.h), filled by parsing; may
  // be null (insecure).
  ManagerCli(CLI::App& app, CLI::App* host, CLI::App* host_show,
             const ClientTlsOptions* tls = nullptr);
  ManagerCli(const ManagerCli&) = delete;
  ManagerCli& operator=(const ManagerCli&) = delete;

  // The command line chose one of this object's commands.
  bool parsed() const;
  // Runs it; returns the exit status.
  int Run(std::ostream& out, std::ostream& err) const;

 private:
  struct Args {
    std::string name, key, vpc, network, host, id_text;
    std::string underlay_ip, openflow, ovsdb, grpc, router_mac, ipv4, ipv6, mac, iface_id, file;
    uint64_t capacity = 0;
    uint32_t id = 0, vni = 0, cluster = 0, timeout_ms = 0;
    bool dry_run = false;
    bool wait = false;
    std::vector<std::string> members, networks;
    uint64_t count = 0;
    bool initial = false;
    std::string dst, proto = "icmp";  // trace.
    uint32_t dport = 0;
    bool live = false;
    std::string offload = "first-packet";  // vpc create/update.
    uint64_t offload_packets = 0, offload_bytes = 0;
    uint32_t offload_window_ms = 0;
    uint32_t budget = 0;              // host register.
    std::vector<std::string> appctl;  // NODE=PATH.
  };

  CLI::App* app_;
  CLI::App* host_show_;
  std::map<std::string, CLI::App*> leaves_;  // "vpc create" → its command; host show aside.

  const ClientTlsOptions* tls_;
  std::string server_;
  bool json_ = false;
  double timeout_s_ = 30;
  Args a_;
};

}  // namespace shortcut::ctl
