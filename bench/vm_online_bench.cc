// VM online and invalidation latency of one gateway, for VPCs of growing
// size (DESIGN targets: VM online median <= 2 ms and p99 <= 10 ms whatever
// the VPC's size; no host keeps a stale direct path 100 ms after a move).
//
// Hosts: one measured host and --peers peer hosts, for which this gateway
// ("gw1") is the designated member, each with a bridge: simulated switches
// (tests/fakes FakeSwitch over Unix sockets) on a second thread, or, with
// --real, bridges of one private ovs-vswitchd (tests/support/ovs_sandbox.h,
// dummy datapath). 100 other hosts, designated to the other member ("gw2")
// and without an OpenFlow target, hold the bulk of each VPC. The gateway
// runs on this thread. Host names are chosen by trying names until the
// rendezvous designation (DesignatedMember) falls as described.
//
// For each size S, a VPC of S endpoints on the other hosts plus one on each
// peer is loaded at once (Gateway::LoadVpc), then:
//  (a) --vms VMs (on top of the S) come online on the measured host one
//      after another: each VM's port is bound first (BindPort), then the
//      time of the UpdateEndpoint call that creates it is taken (it returns
//      once the host's barrier confirmed the VM's rules). The measured host's flows
//      and groups are then read from its switch (expected: 4 per VM + 3 for
//      the VPC + 2 table-miss drops, and 1 group);
//  (b) --invalidations times, a direct path toward one of the VPC's
//      endpoints is installed on every peer (HostProgrammer::SendDirectPaths),
//      then the time of the call that moves it to another host
//      (UpdateEndpoint, even rounds) or deletes it (DeleteEndpoint, odd
//      rounds; it is put back afterwards, untimed) is taken, and the peers'
//      switches are read: no path toward it may remain once the call returns.
// The VPC is deleted before the next size, so the measured host starts empty.
//
//   build/bin/vm_online_bench [--real] [--sizes 10,1000,10000,100000] [--vms 200]
//                             [--peers 10] [--invalidations 100]
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"
#include "src/gateway/gateway.h"
#include "src/pipeline/pipeline.h"
#include "tests/fakes/fake_switch.h"
#include "tests/support/ovs_sandbox.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

struct Args {
  bool real = false;
  std::vector<int> sizes = {10, 1000, 10000, 100000};
  int vms = 200;
  int peers = 10;
  int invalidations = 100;
};

constexpr int kOtherHosts = 100;
constexpr uint16_t kPathIdleTimeout = 3600;  // No path may expire during a run.

// Host names where the designation falls as wanted: the measured host and
// the peers to gw1 (this gateway), the other hosts to gw2.
struct Layout {
  std::vector<ClusterMember> members = {{"gw1", "172.31.9.1"}, {"gw2", "172.31.9.2"}};
  std::string measured;
  std::vector<std::string> peers;
  std::vector<std::string> others;
  std::map<std::string, Ipv4> underlay;
};

std::vector<std::string> NamesFor(const Layout& l, const std::string& prefix,
                                  const std::string& member, int n) {
  std::vector<std::string> names;
  for (int i = 0; static_cast<int>(names.size()) < n; ++i) {
    std::string name = absl::StrCat(prefix, i);
    if (DesignatedMember(name, l.members) == member) names.push_back(name);
  }
  return names;
}

Layout MakeLayout(int peers) {
  Layout l;
  l.measured = NamesFor(l, "m", "gw1", 1)[0];
  l.peers = NamesFor(l, "p", "gw1", peers);
  l.others = NamesFor(l, "o", "gw2", kOtherHosts);
  l.underlay[l.measured] = 0xac1f0001;
  for (size_t i = 0; i < l.peers.size(); ++i)
    l.underlay[l.peers[i]] = 0xac1f0101 + static_cast<Ipv4>(i);
  for (size_t i = 0; i < l.others.size(); ++i)
    l.underlay[l.others[i]] = 0xac1f0201 + static_cast<Ipv4>(i);
  return l;
}

// The measured host's and the peers' bridges: simulated switches on their
// own thread, or bridges of a private Open vSwitch, read with ovs-ofctl.
class Bridges {
 public:
  ~Bridges() {
    asio::post(io_, [this] { fakes_.clear(); });  // On the thread they belong to.
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  absl::Status Start(bool real, const std::vector<std::string>& hosts) {
    if (real) {
      ovs_ = std::make_unique<testing::OvsSandbox>();
      absl::Status s = ovs_->Start(hosts);
      if (!s.ok()) return s;
      for (const std::string& h : hosts) targets_[h] = ovs_->OpenflowTarget(h);
    } else {
      for (const std::string& h : hosts) {
        auto sw = std::make_unique<fakes::FakeSwitch>(io_.get_executor());
        auto t = sw->ListenUnix(dir_.File(h + ".mgmt"));
        if (!t.ok()) return t.status();
        targets_[h] = *t;
        fakes_[h] = std::move(sw);
      }
    }
    thread_ = std::thread([this] { io_.run(); });
    return absl::OkStatus();
  }

  std::string Target(const std::string& host) { return targets_[host]; }

  // Flows and groups on the host's bridge.
  absl::StatusOr<std::pair<size_t, size_t>> Count(const std::string& host) {
    if (ovs_) {
      auto flows = Lines(host, {"dump-flows", targets_[host]}, " cookie=");
      auto groups = Lines(host, {"dump-groups", targets_[host]}, " group_id=");
      if (!flows.ok()) return flows.status();
      if (!groups.ok()) return groups.status();
      return std::make_pair(*flows, *groups);
    }
    fakes::FakeSwitch* sw = fakes_[host].get();
    return OnSwitchThread([sw] { return std::make_pair(sw->flow_count(), sw->group_count()); });
  }

  // Direct paths toward (vni, ip) on the host's bridge.
  absl::StatusOr<size_t> PathsToward(const std::string& host, uint32_t vni, Ipv4 ip) {
    if (ovs_) {
      std::string filter = absl::StrCat("table=", pipeline::kTableEgress, ",metadata=0x",
                                        absl::Hex(vni), ",ip,nw_dst=", FormatIpv4(ip));
      return Lines(host, {"dump-flows", targets_[host], filter},
                   absl::StrCat("priority=", pipeline::kPriorityDirect, ","));
    }
    of::FlowMod path = pipeline::DirectPathAdd(vni, ip, 0, 0);
    fakes::FakeSwitch* sw = fakes_[host].get();
    return OnSwitchThread([sw, &path] {
      size_t n = 0;
      for (const of::FlowStats& f : sw->Flows()) {
        n += f.table_id == path.table_id && f.priority == path.priority && f.match == path.match;
      }
      return n;
    });
  }

 private:
  // Runs `f` on the switches' thread (a FakeSwitch belongs to it) and waits.
  template <typename F>
  auto OnSwitchThread(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, std::move(task));
    return result.get();
  }

  absl::StatusOr<size_t> Lines(const std::string& host, const std::vector<std::string>& args,
                               const std::string& needle) {
    testing::RunResult r = ovs_->Ofctl(args);
    if (!r.ok()) return absl::InternalError(absl::StrCat(host, ": ovs-ofctl: ", r.err));
    size_t n = 0;
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) n += line.find(needle) != line.npos;
    return n;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread thread_;
  testing::TempDir dir_{"shortcut-vm-online-bench"};
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> fakes_;
  std::unique_ptr<testing::OvsSandbox> ovs_;
  std::map<std::string, std::string> targets_;
};

ClusterConfig MakeCluster(const Layout& l, Bridges& bridges) {
  ClusterConfig c;
  c.cluster_id = 1;
  c.self = "gw1";
  c.members = l.members;
  for (const auto& [name, ip] : l.underlay) {
    bool programmed = std::find(l.others.begin(), l.others.end(), name) == l.others.end();
    Host h;
    h.name = name;
    h.underlay_ipv4 = FormatIpv4(ip);
    if (programmed) h.openflow_target = bridges.Target(name);
    c.hosts.push_back(h);
  }
  return c;
}

// One VPC per size; its endpoints' addresses: other hosts' from 10.0.0.16,
// the peers' from 10.201.0.0, the measured host's VMs from 10.200.0.0.
struct TestVpc {
  Vpc vpc;
  std::vector<Network> networks;
};

TestVpc MakeVpc(uint32_t vni) {
  TestVpc t;
  t.vpc.id = absl::StrCat("vpc", vni);
  t.vpc.vni = vni;
  t.vpc.router_mac = "02:5c:00:00:00:01";
  Network n;
  n.id = "net1";
  n.ipv4_cidr = "10.0.0.0/8";
  t.networks.push_back(n);
  return t;
}

Endpoint MakeEndpoint(uint32_t vni, const std::string& key, Ipv4 ip, const std::string& host) {
  Endpoint e;
  e.key = absl::StrCat("v", vni, "-", key);
  e.vpc = absl::StrCat("vpc", vni);
  e.network = "net1";
  e.ipv4 = FormatIpv4(ip);
  Mac mac = {2,
             0,
             static_cast<uint8_t>(ip >> 24),
             static_cast<uint8_t>(ip >> 16),
             static_cast<uint8_t>(ip >> 8),
             static_cast<uint8_t>(ip)};
  e.mac = FormatMac(mac);
  e.host = host;
  e.iface_id = e.key;
  return e;
}

Ipv4 BulkIp(int j) { return 0x0a000010 + static_cast<uint32_t>(j); }
Endpoint BulkEndpoint(uint32_t vni, int j, const std::string& host) {
  return MakeEndpoint(vni, absl::StrCat("b", j), BulkIp(j), host);
}
Endpoint VmEndpoint(uint32_t vni, int i, const std::string& host) {
  return MakeEndpoint(vni, absl::StrCat("vm", i), 0x0ac80000 + static_cast<uint32_t>(i), host);
}

std::vector<Endpoint> VpcEndpoints(const Layout& l, uint32_t vni, int size) {
  std::vector<Endpoint> eps;
  eps.reserve(static_cast<size_t>(size) + l.peers.size());
  for (int j = 0; j < size; ++j) eps.push_back(BulkEndpoint(vni, j, l.others[j % kOtherHosts]));
  for (size_t k = 0; k < l.peers.size(); ++k) {
    eps.push_back(MakeEndpoint(vni, absl::StrCat("anchor", k), 0x0ac90000 + static_cast<Ipv4>(k),
                               l.peers[k]));
  }
  return eps;
}

std::vector<of::FlowMod> PathMods(uint32_t vni, Ipv4 ip, Ipv4 host_ip) {
  std::vector<of::FlowMod> mods;
  mods.push_back(pipeline::DirectPathAdd(vni, ip, host_ip, kPathIdleTimeout));
  return mods;
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// "median M ms, p99 P ms, max X ms" (nearest rank).
std::string Summary(std::vector<double> ms) {
  if (ms.empty()) return "none";
  std::sort(ms.begin(), ms.end());
  size_t p99 = (ms.size() * 99 + 99) / 100 - 1;
  return absl::StrFormat("median %.2f ms, p99 %.2f ms, max %.2f ms", ms[(ms.size() - 1) / 2],
                         ms[p99], ms.back());
}

asio::awaitable<absl::Status> MeasureSize(Gateway& gw, Bridges& bridges, const Layout& l,
                                          const Args& a, int size, uint32_t vni) {
  using Clock = std::chrono::steady_clock;
  TestVpc t = MakeVpc(vni);
  std::vector<Endpoint> eps = VpcEndpoints(l, vni, size);
  auto t0 = Clock::now();
  absl::Status s = co_await gw.LoadVpc(t.vpc, t.networks, std::move(eps));
  if (!s.ok()) co_return s;
  std::printf("VPC of %d endpoints (+%zu on the peers): LoadVpc %.0f ms\n", size, l.peers.size(),
              Ms(Clock::now() - t0));

  // (a) VMs online on the measured host, ports bound beforehand.
  for (int i = 0; i < a.vms; ++i) {
    Endpoint vm = VmEndpoint(vni, i, l.measured);
    s = co_await gw.BindPort(l.measured, vm.iface_id, static_cast<uint32_t>(i + 1));
    if (!s.ok()) co_return s;
  }
  std::vector<double> online;
  for (int i = 0; i < a.vms; ++i) {
    Endpoint vm = VmEndpoint(vni, i, l.measured);
    auto start = Clock::now();
    auto r = co_await gw.UpdateEndpoint(std::move(vm));
    online.push_back(Ms(Clock::now() - start));
    if (!r.ok()) co_return r.status();
    if (!r->online) co_return absl::InternalError(absl::StrCat("VM ", i, " not online"));
  }
  auto counts = bridges.Count(l.measured);
  if (!counts.ok()) co_return counts.status();
  size_t expected = 4 * static_cast<size_t>(a.vms) + 3 + 2;
  std::printf("  VM online (%d): %s; measured host: %zu flows (expected %zu), groups: %zu\n", a.vms,
              Summary(online).c_str(), counts->first, expected, counts->second);

  // (b) Invalidation: paths toward an endpoint on every peer, then a move or
  // a delete; the peers are read as soon as the call returns.
  std::vector<double> moves, deletes;
  std::vector<int> host_of(static_cast<size_t>(size));
  for (int j = 0; j < size; ++j) host_of[j] = j % kOtherHosts;
  size_t installed = 0, left = 0;
  for (int i = 0; i < a.invalidations && size > 0; ++i) {
    int j = i % size;
    const std::string& from = l.others[host_of[j]];
    for (const std::string& p : l.peers) {
      std::vector<of::FlowMod> mods = PathMods(vni, BulkIp(j), l.underlay.at(from));
      s = co_await gw.programmer(p)->SendDirectPaths(std::move(mods));
      if (!s.ok()) co_return s;
      auto n = bridges.PathsToward(p, vni, BulkIp(j));
      if (!n.ok()) co_return n.status();
      installed += *n;
    }
    auto start = Clock::now();
    if (i % 2 == 0) {
      host_of[j] = (host_of[j] + 1) % kOtherHosts;
      Endpoint moved = BulkEndpoint(vni, j, l.others[host_of[j]]);
      auto r = co_await gw.UpdateEndpoint(std::move(moved));
      moves.push_back(Ms(Clock::now() - start));
      if (!r.ok()) co_return r.status();
      if (!r->update.moved) co_return absl::InternalError("endpoint not moved");
    } else {
      std::string key = BulkEndpoint(vni, j, from).key;
      s = co_await gw.DeleteEndpoint(std::move(key));
      deletes.push_back(Ms(Clock::now() - start));
      if (!s.ok()) co_return s;
    }
    for (const std::string& p : l.peers) {
      auto n = bridges.PathsToward(p, vni, BulkIp(j));
      if (!n.ok()) co_return n.status();
      left += *n;
    }
    if (i % 2 == 1) {
      Endpoint back = BulkEndpoint(vni, j, from);
      auto r = co_await gw.UpdateEndpoint(std::move(back));
      if (!r.ok()) co_return r.status();
    }
  }
  std::printf("  move (%zu): %s\n  delete (%zu): %s\n", moves.size(), Summary(moves).c_str(),
              deletes.size(), Summary(deletes).c_str());
  std::printf("  direct paths installed on the peers: %zu, left once the call returned: %zu\n",
              installed, left);

  auto removed = co_await gw.DeleteVpc(t.vpc.id);
  co_return removed.status();
}

int Run(const Args& a) {
  spdlog::set_level(spdlog::level::warn);
  Layout l = MakeLayout(a.peers);
  std::vector<std::string> bridge_hosts = l.peers;
  bridge_hosts.insert(bridge_hosts.begin(), l.measured);
  Bridges bridges;
  absl::Status started = bridges.Start(a.real, bridge_hosts);
  if (!started.ok()) {
    std::fprintf(stderr, "bridges: %s\n", started.ToString().c_str());
    return 1;
  }
  std::printf("%s; measured host %s, %zu peers, %d other hosts\n",
              a.real ? "real Open vSwitch (one bridge per host)" : "simulated switches",
              l.measured.c_str(), l.peers.size(), kOtherHosts);

  asio::io_context io;
  Gateway::Options go;
  go.host_timeout = 30000;
  go.session.connection.probe_interval = 0;
  Gateway gw(io.get_executor(), go);
  int rc = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        ClusterConfig c = MakeCluster(l, bridges);
        absl::Status s = co_await gw.SetCluster(std::move(c));
        for (size_t k = 0; k < a.sizes.size() && s.ok(); ++k) {
          s = co_await MeasureSize(gw, bridges, l, a, a.sizes[k], 100 + static_cast<uint32_t>(k));
        }
        if (!s.ok()) {
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
          rc = 1;
        }
      },
      [&](std::exception_ptr e) {
        if (e) rc = 1;
        for (const std::string& h : bridge_hosts) gw.programmer(h)->Stop();
        io.stop();
      });
  io.run();
  return rc;
}

}  // namespace
}  // namespace shortcut::gateway

int main(int argc, char** argv) {
  shortcut::gateway::Args a;
  auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s [--real] [--sizes N,N,...] [--vms N] [--peers N] [--invalidations N]\n",
                 argv[0]);
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--real") {
      a.real = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    int* out = flag == "--vms"             ? &a.vms
               : flag == "--peers"         ? &a.peers
               : flag == "--invalidations" ? &a.invalidations
                                           : nullptr;
    if (flag == "--sizes") {
      a.sizes.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(part, &n) || n < 1) return usage();
        a.sizes.push_back(n);
      }
    } else if (out == nullptr || !absl::SimpleAtoi(value, out) || *out < 0) {
      return usage();
    }
  }
  if (a.sizes.empty() || a.vms < 1 || a.peers < 1) return usage();
  return shortcut::gateway::Run(a);
}
