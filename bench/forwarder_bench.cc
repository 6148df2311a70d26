// Direct-path setups per second by one gateway (DESIGN targets: >= 1M/s per
// core against simulated switches, >= 50k/s into real Open vSwitch), and
// the time from packet-in to both barriers.
//
// The gateway (DB, Gateway, Forwarder) runs on this thread; the hosts are
// either simulated switches (tests/fakes FakeSwitch, real OpenFlow over Unix
// sockets) on a second thread, or bridges of one real ovs-vswitchd
// (--real: a private OVS in a temp dir, dummy datapath). Each setup is two
// flow_mods (the path on the sending host, the reverse on the other one),
// each confirmed by a barrier shared with the other setups of its batch.
//
//   build/bin/forwarder_bench [--real] [--hosts 16] [--per-host 100]
//                             [--setups 100000] [--in-flight 4096] [--rounds 3]
//                             [--burst 1]
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/gateway/forwarder.h"
#include "src/gateway/gateway.h"
#include "src/packet/packet.h"
#include "tests/fakes/fake_switch.h"
#include "tests/support/ovs_sandbox.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

struct Args {
  bool real = false;
  int hosts = 16;
  int per_host = 100;
  int setups = 100000;
  int in_flight = 4096;
  int rounds = 3;
  int burst = 1;  // Packet-ins handed over at once (OnPacketIns), as the bridge reader does.
};

constexpr uint32_t kVni = 100;

// CPU time of the calling thread: the gateway's cost per setup, apart from
// the simulated switches' thread.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Ipv4 HostIp(int h) { return 0xac1f0100 + static_cast<uint32_t>(h) + 1; }
Ipv4 VmIp(int h, int v) { return 0x0a000000 + static_cast<uint32_t>(h << 12) + v + 10; }

of::PacketIn MakePacketIn(int src_host, int src_vm, int dst_host, int dst_vm) {
  of::PacketIn pin;
  pin.reason = of::kPacketInAction;
  pin.match.Set(of::Field::kTunIpv4Src, HostIp(src_host));
  pin.match.Set(of::Field::kMetadata, kVni);
  packet::PacketBuilder b;
  b.Eth(packet::MacAddr{2, 0, 0, 0, 0, 1}, packet::MacAddr{2, 0x5c, 0, 0, 0, 1})
      .Ipv4(packet::Ipv4Addr{VmIp(src_host, src_vm)}, packet::Ipv4Addr{VmIp(dst_host, dst_vm)})
      .Udp(1000, 2000);
  pin.data = b.Build();
  return pin;
}

ClusterConfig Cluster(const std::vector<std::string>& targets) {
  ClusterConfig c;
  c.cluster_id = 1;
  c.self = "gw1";
  c.members = {{"gw1", "172.31.2.1"}};
  for (size_t h = 0; h < targets.size(); ++h) {
    c.hosts.push_back(
        {absl::StrCat("host", h), FormatIpv4(HostIp(static_cast<int>(h))), targets[h], ""});
  }
  return c;
}

Endpoint Ep(int h, int v) {
  Endpoint e;
  e.key = absl::StrCat("h", h, "v", v);
  e.vpc = "vpc1";
  e.network = "net1";
  e.ipv4 = FormatIpv4(VmIp(h, v));
  Mac mac = {
      2, 0, 0, static_cast<uint8_t>(h), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  e.mac = FormatMac(mac);
  e.host = absl::StrCat("host", h);
  e.iface_id = e.key;
  return e;
}

int Run(const Args& a) {
  spdlog::set_level(spdlog::level::warn);
  asio::io_context io_gw;
  asio::io_context io_sw;
  testing::TempDir dir("shortcut-fwd-bench");
  std::vector<std::unique_ptr<fakes::FakeSwitch>> fakes;
  std::unique_ptr<testing::OvsSandbox> ovs;
  std::vector<std::string> targets;
  if (a.real) {
    ovs = std::make_unique<testing::OvsSandbox>();
    std::vector<std::string> bridges;
    for (int h = 0; h < a.hosts; ++h) bridges.push_back(absl::StrCat("h", h));
    absl::Status s = ovs->Start(bridges);
    if (!s.ok()) {
      std::fprintf(stderr, "OVS: %s\n", s.ToString().c_str());
      return 1;
    }
    for (const std::string& b : bridges) targets.push_back(ovs->OpenflowTarget(b));
  } else {
    for (int h = 0; h < a.hosts; ++h) {
      fakes::FakeSwitch::Options fo;
      auto sw = std::make_unique<fakes::FakeSwitch>(io_sw.get_executor(), fo);
      auto t = sw->ListenUnix(dir.File(absl::StrCat("h", h, ".mgmt")));
      if (!t.ok()) return 1;
      targets.push_back(*t);
      fakes.push_back(std::move(sw));
    }
  }
  auto work = asio::make_work_guard(io_sw);
  std::thread switches([&] { io_sw.run(); });

  Gateway::Options go;
  go.host_timeout = 30000;
  go.session.connection.probe_interval = 0;
  Gateway gw(io_gw.get_executor(), go);
  ManualClock clock(0);
  Forwarder::Options fo;
  fo.max_in_flight = static_cast<size_t>(a.in_flight);
  fo.clock = &clock;
  Forwarder fwd(io_gw.get_executor(), gw, fo);
  int rc = 0;

  asio::co_spawn(
      io_gw,
      [&]() -> asio::awaitable<void> {
        ClusterConfig c = Cluster(targets);
        absl::Status s = co_await gw.SetCluster(std::move(c));
        Vpc vpc;
        vpc.id = "vpc1";
        vpc.vni = kVni;
        vpc.router_mac = "02:5c:00:00:00:01";
        Network net;
        net.id = "net1";
        net.ipv4_cidr = "10.0.0.0/8";
        std::vector<Network> nets = {net};
        if (s.ok()) s = gw.AddVpc(vpc, nets);
        for (int h = 0; h < a.hosts && s.ok(); ++h) {
          for (int v = 0; v < a.per_host && s.ok(); ++v) {
            Endpoint e = Ep(h, v);
            auto r = co_await gw.UpdateEndpoint(e);
            s = r.status();
          }
        }
        if (!s.ok()) {
          std::fprintf(stderr, "setup: %s\n", s.ToString().c_str());
          rc = 1;
          co_return;
        }
        // Distinct (sending host, destination) pairs, spread over hosts;
        // fewer than asked if the endpoints do not allow as many.
        std::vector<of::PacketIn> pins;
        pins.reserve(static_cast<size_t>(a.setups));
        const int endpoints = a.hosts * a.per_host;
        for (int i = 0; static_cast<int>(pins.size()) < a.setups && i < a.hosts * endpoints; ++i) {
          int src_host = i % a.hosts;
          int dst = (i / a.hosts) % endpoints;
          int dst_host = dst / a.per_host;
          // Only toward higher-numbered hosts: a flow's reverse would merge
          // into its setup (one setup installs both ways).
          if (dst_host <= src_host) continue;
          pins.push_back(
              MakePacketIn(src_host, (i / a.hosts) % a.per_host, dst_host, dst % a.per_host));
        }
        std::printf("%s hosts, %d endpoints, %zu setups per round, %d in flight at most\n",
                    a.real ? "real OVS" : "simulated", endpoints, pins.size(), a.in_flight);
        for (int round = 0; round < a.rounds; ++round) {
          clock.Advance(10 * 1000);  // Past the merge window: every key is new again.
          uint64_t before = fwd.counters().setups;
          uint64_t failed = fwd.counters().failures;
          auto t0 = std::chrono::steady_clock::now();
          const double cpu0 = ThreadCpuSeconds();
          size_t next = 0;
          while (next < pins.size() || fwd.in_flight() > 0) {
            while (next < pins.size() && fwd.in_flight() < static_cast<size_t>(a.in_flight)) {
              if (a.burst <= 1) {
                fwd.OnPacketIn(pins[next++]);
                continue;
              }
              const size_t n = std::min({static_cast<size_t>(a.burst), pins.size() - next,
                                         static_cast<size_t>(a.in_flight) - fwd.in_flight()});
              fwd.OnPacketIns(std::span<const of::PacketIn>(pins.data() + next, n));
              next += n;
            }
            co_await asio::post(io_gw, asio::use_awaitable);
          }
          double secs =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const double cpu = ThreadCpuSeconds() - cpu0;
          uint64_t done = fwd.counters().setups - before;
          std::printf(
              "round %d: %lu setups in %.3f s = %.0f setups/s (%.0f flow_mods/s); gateway "
              "thread CPU %.3f s = %.0f setups per CPU second; failures %lu; "
              "setup time p50 %ld us, p99 %ld us\n",
              round + 1, static_cast<unsigned long>(done), secs, static_cast<double>(done) / secs,
              2.0 * static_cast<double>(done) / secs, cpu, static_cast<double>(done) / cpu,
              static_cast<unsigned long>(fwd.counters().failures - failed),
              static_cast<long>(fwd.SetupPercentileUs(50)),
              static_cast<long>(fwd.SetupPercentileUs(99)));
        }
        uint64_t batches = 0, largest = 0;
        for (int h = 0; h < a.hosts; ++h) {
          const auto& bc = gw.programmer(absl::StrCat("host", h))->batcher_counters();
          batches += bc.batches;
          largest = std::max(largest, bc.largest_batch);
        }
        std::printf("barriers (batches) %lu, largest batch %lu flow_mods\n",
                    static_cast<unsigned long>(batches), static_cast<unsigned long>(largest));
      },
      [&](std::exception_ptr e) {
        if (e) rc = 1;
        for (int h = 0; h < a.hosts; ++h) {
          if (auto* p = gw.programmer(absl::StrCat("host", h))) p->Stop();
        }
        io_gw.stop();
      });
  io_gw.run();
  work.reset();
  asio::post(io_sw, [&] { fakes.clear(); });
  io_sw.stop();
  switches.join();
  return rc;
}

}  // namespace
}  // namespace shortcut::gateway

int main(int argc, char** argv) {
  shortcut::gateway::Args a;
  for (int i = 1; i < argc; ++i) {
    auto num = [&](int& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      out = std::atoi(argv[++i]);
    };
    if (!std::strcmp(argv[i], "--real")) {
      a.real = true;
    } else if (!std::strcmp(argv[i], "--hosts")) {
      num(a.hosts);
    } else if (!std::strcmp(argv[i], "--per-host")) {
      num(a.per_host);
    } else if (!std::strcmp(argv[i], "--setups")) {
      num(a.setups);
    } else if (!std::strcmp(argv[i], "--in-flight")) {
      num(a.in_flight);
    } else if (!std::strcmp(argv[i], "--rounds")) {
      num(a.rounds);
    } else if (!std::strcmp(argv[i], "--burst")) {
      num(a.burst);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--real] [--hosts N] [--per-host N] [--setups N] [--in-flight N] "
                   "[--rounds N] [--burst N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (a.hosts < 2 || a.per_host < 1 || a.setups < 1 || a.in_flight < 1 || a.rounds < 1) {
    std::fprintf(stderr, "need --hosts >= 2 and positive counts\n");
    return 2;
  }
  return shortcut::gateway::Run(a);
}
