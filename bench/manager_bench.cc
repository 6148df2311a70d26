// The management plane measured through its API (shortcut.manager.v1 over
// a Unix socket, the generated gRPC stub), as an orchestrator would use it.
// DESIGN targets: VM online through the management plane median <= 5 ms and
// p99 <= 20 ms at 100k endpoints; 1M endpoints bulk-loaded in < 60 s.
//
// Each measurement runs against a fresh management plane: a private
// ovsdb-server holding schema/shortcut_nb.ovsschema in a temp dir, and
// ManagerDaemon (store, gateway driver, API: what shortcut-managerd runs)
// on a thread of this process. The gRPC client runs in this process too,
// so this process's RSS is managerd's plus the client's (which holds one
// batch of at most --batch endpoints at a time).
//
// 1. Bulk load: a cluster of one gateway, one VPC, 100 hosts without
//    targets; --endpoints endpoints in one CreateEndpoints stream of
//    batches of --batch, timed from the first write to the answer. The
//    cluster's gateway is registered but its process is not running during
//    the call (the driver finds it DOWN), so the figure is the manager and
//    its database alone. Then shortcut-gatewayd is started and the time
//    until the manager reports it READY is taken: the driver's full load of
//    the VPC into a gateway (AddVpc streams).
// 2. VM online: the same, with --vpc-size endpoints (not timed), then a
//    simulated host: a FakeSwitch (tests/fakes) listening on TCP loopback as
//    its OpenFlow target, and a private ovsdb-server with the Open_vSwitch
//    schema as its OVSDB target, holding br-int and one port per VM with
//    external_ids:iface-id and an ofport, written before the first call (the
//    gateway learns port bindings from OVSDB, as from a real host). The host
//    is registered through the API; shortcut-gatewayd (build/bin, a config
//    holding only `listen`) is the only member of the VPC's cluster. After
//    one untimed warm-up VM, --vms CreateEndpoint calls one at a time, each
//    timed from the call to its answer; the answer must say ONLINE, which
//    managerd gives once the gateway reported the host's barrier. Finally
//    the host's flows are counted on the FakeSwitch itself.
//
//   build/bin/manager_bench [--endpoints 1000000] [--batch 10000]
//                           [--vpc-size 100000[,10...]] [--vms 200]
//                           [--no-bulk] [--no-online]
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "shortcut/manager/v1/manager.grpc.pb.h"
#include "spdlog/spdlog.h"
#include "src/manager/daemon.h"
#include "tests/fakes/fake_switch.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/ovs_sandbox.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace shortcut::manager {
namespace {

using Clock = std::chrono::steady_clock;
namespace t = ::shortcut::testing;

const std::string kGatewayd = std::string(SHORTCUT_BIN_DIR) + "/shortcut-gatewayd";
constexpr char kVswitchSchema[] = "/usr/share/openvswitch/vswitch.ovsschema";
constexpr int kBulkHosts = 100;
constexpr char kVpc[] = "bench";

struct Args {
  int endpoints = 1'000'000;
  int batch = 10'000;
  std::vector<int> vpc_sizes = {100'000};
  int vms = 200;
  bool bulk = true;
  bool online = true;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// "VmRSS" / "VmHWM" of a process, in MiB; -1 if unknown.
long StatusMb(const std::string& pid, const std::string& field) {
  std::string status = t::ReadFile("/proc/" + pid + "/status");
  size_t at = status.find(field + ":");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + field.size() + 1) / 1024;
}
std::string Rss(const std::string& pid) {
  return absl::StrFormat("%ld MiB (peak %ld MiB)", StatusMb(pid, "VmRSS"), StatusMb(pid, "VmHWM"));
}

// CPU time (user + system) of a process so far, in seconds.
double CpuSeconds(const std::string& pid) {
  std::string stat = t::ReadFile("/proc/" + pid + "/stat");
  size_t end = stat.rfind(')');  // The command may hold spaces.
  if (end == std::string::npos) return -1;
  std::vector<std::string> f = absl::StrSplit(stat.substr(end + 2), ' ');
  // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 here.
  if (f.size() < 14) return -1;
  long utime = std::atol(f[11].c_str()), stime = std::atol(f[12].c_str());
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The machine's MemAvailable, in MiB.
long AvailableMb() {
  std::string info = t::ReadFile("/proc/meminfo");
  size_t at = info.find("MemAvailable:");
  return at == std::string::npos ? -1 : std::atol(info.c_str() + at + 13) / 1024;
}
constexpr long kMinAvailableMb = 2048;  // The bulk load stops below this.

std::string FirstLineWith(const std::string& text, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) return std::string(line);
  }
  return "?";
}

void PrintMachine() {
  std::string cpu = FirstLineWith(t::ReadFile("/proc/cpuinfo"), "model name");
  size_t colon = cpu.find(':');
  if (colon != std::string::npos) cpu = cpu.substr(colon + 2);
  utsname u{};
  uname(&u);
  std::string load = t::ReadFile("/proc/loadavg");
  load = load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1));
  std::printf("machine: %u CPUs (nproc), %s, kernel %s; load average %s\n",
              std::thread::hardware_concurrency(), cpu.c_str(), u.release, load.c_str());
}

std::string LoadAverage() {
  std::string load = t::ReadFile("/proc/loadavg");
  return load.substr(0, load.find(' '));
}

// "median M ms, p99 P ms, max X ms" (nearest rank).
std::string Summary(std::vector<double> ms) {
  if (ms.empty()) return "none";
  std::sort(ms.begin(), ms.end());
  size_t p99 = (ms.size() * 99 + 99) / 100 - 1;
  return absl::StrFormat("| %.2f | %.2f | %.2f |", ms[(ms.size() - 1) / 2], ms[p99], ms.back());
}

absl::Status FromGrpc(const std::string& what, const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

std::unique_ptr<grpc::ClientContext> Ctx(int seconds) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

// shortcut-gatewayd as a child process (output to a log file), stopped by
// its pid: SIGTERM, then SIGKILL after 5 s.
class Gatewayd {
 public:
  Gatewayd() = default;
  ~Gatewayd() { Stop(); }
  Gatewayd(const Gatewayd&) = delete;
  Gatewayd& operator=(const Gatewayd&) = delete;

  absl::Status Start(const std::string& config, const std::string& log) {
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    std::vector<std::string> args = {kGatewayd, "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, kGatewayd.c_str(), &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("cannot start ", kGatewayd));
    }
    return absl::OkStatus();
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string pid() const { return std::to_string(pid_); }

 private:
  pid_t pid_ = -1;
};

// Simulated hosts' switches, on a thread of their own (a FakeSwitch belongs
// to the thread running its executor).
class Switches {
 public:
  ~Switches() {
    asio::post(io_, [this] { switches_.clear(); });
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }
  // Before Run(): a switch listening on TCP loopback; its target.
  absl::StatusOr<std::string> Add() {
    switches_.push_back(std::make_unique<fakes::FakeSwitch>(io_.get_executor()));
    return switches_.back()->ListenTcp();
  }
  void Run() {
    thread_ = std::thread([this] { io_.run(); });
  }
  std::pair<size_t, size_t> Count(size_t i) {
    std::packaged_task<std::pair<size_t, size_t>()> task([this, i] {
      return std::make_pair(switches_[i]->flow_count(), switches_[i]->group_count());
    });
    auto result = task.get_future();
    asio::post(io_, std::move(task));
    return result.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread thread_;
  std::vector<std::unique_ptr<fakes::FakeSwitch>> switches_;
};

// A fresh management plane: the NB ovsdb-server and ManagerDaemon on a
// thread, and a stub to it. Stopped in order by the destructor.
class Plane {
 public:
  Plane() : dir_("shortcut-manager-bench") {}
  ~Plane() {
    gatewayd_.Stop();
    if (daemon_) daemon_->Stop();
    if (thread_.joinable()) thread_.join();
    daemon_.reset();
    nb_.Stop();
  }

  absl::Status Start() {
    absl::Status s = nb_.Start(t::ReadFile(SHORTCUT_NB_SCHEMA));
    if (!s.ok()) return s;
    ManagerConfig config;
    config.listen = "unix:" + dir_.File("managerd.sock");
    config.nb = {nb_.target()};
    config.log_level = spdlog::level::warn;
    ManagerDaemon::Options o;
    o.handle_signals = false;
    daemon_ = std::make_unique<ManagerDaemon>(config, o);
    thread_ = std::thread([this] {
      absl::Status run = daemon_->Run();
      if (!run.ok()) std::fprintf(stderr, "managerd: %s\n", run.ToString().c_str());
    });
    stub_ = v1::Manager::NewStub(
        grpc::CreateChannel(config.listen, grpc::InsecureChannelCredentials()));
    // Ready once the API answers (it serves once the store is synced).
    for (auto until = Clock::now() + std::chrono::seconds(30); Clock::now() < until;) {
      auto c = Ctx(5);
      c->set_wait_for_ready(true);
      v1::ListHostsResponse r;
      if (stub_->ListHosts(c.get(), v1::ListHostsRequest(), &r).ok()) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return absl::DeadlineExceededError("managerd's API never answered");
  }

  v1::Manager::Stub& api() { return *stub_; }
  const t::TempDir& dir() const { return dir_; }
  std::string nb_pid() const {
    return std::to_string(t::ReadPidFile(nb_.dir() + "/ovsdb-server.pid"));
  }
  std::string gateway_socket() const { return "unix:" + dir_.File("gw.sock"); }
  Gatewayd& gatewayd() { return gatewayd_; }

  absl::Status StartGatewayd() {
    std::string config = dir_.File("gw.json");
    t::WriteFile(config, absl::StrCat(R"({"listen": ")", gateway_socket(), R"("})"));
    return gatewayd_.Start(config, dir_.File("gatewayd.log"));
  }

 private:
  t::TempDir dir_;
  t::OvsdbServer nb_;
  std::unique_ptr<ManagerDaemon> daemon_;
  std::thread thread_;
  std::unique_ptr<v1::Manager::Stub> stub_;
  Gatewayd gatewayd_;
};

std::string FormatIp(uint32_t ip) {
  return absl::StrCat(ip >> 24, ".", (ip >> 16) & 255, ".", (ip >> 8) & 255, ".", ip & 255);
}
std::string MacOf(uint32_t ip) {
  return absl::StrFormat("02:00:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                         ip & 255);
}

v1::Endpoint MakeEndpoint(const std::string& key, uint32_t ip, const std::string& host) {
  v1::Endpoint e;
  e.set_key(key);
  e.set_vpc(kVpc);
  e.set_network("net1");
  e.set_ipv4(FormatIp(ip));
  e.set_mac(MacOf(ip));
  e.set_host(host);
  return e;
}
v1::Endpoint BulkEndpoint(int j) {
  return MakeEndpoint(absl::StrCat("b", j), 0x0a000010u + static_cast<uint32_t>(j),
                      absl::StrCat("o", j % kBulkHosts));
}
std::string VmKey(int i) { return i < 0 ? "vm-warm" : absl::StrCat("vm", i); }
v1::Endpoint VmEndpoint(int i, const std::string& host) {
  return MakeEndpoint(VmKey(i), 0x0ac80000u + static_cast<uint32_t>(i + 1), host);
}

// Hosts holding the bulk (no targets: nothing to program there), the
// gateway (registered; its process started later), its cluster, the VPC.
absl::Status Setup(Plane& p) {
  v1::Manager::Stub& api = p.api();
  for (int h = 0; h < kBulkHosts; ++h) {
    v1::RegisterHostRequest r;
    r.mutable_host()->set_name(absl::StrCat("o", h));
    r.mutable_host()->set_underlay_ip(FormatIp(0xac1f0201u + static_cast<uint32_t>(h)));
    // The API serves before the store is connected (UNAVAILABLE until then):
    // the first write is retried for up to 30 s.
    absl::Status s;
    for (auto until = Clock::now() + std::chrono::seconds(30);;) {
      v1::Host out;
      auto c = Ctx(30);
      s = FromGrpc("RegisterHost", api.RegisterHost(c.get(), r, &out));
      if (!absl::IsUnavailable(s) || Clock::now() > until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!s.ok()) return s;
  }
  {
    v1::RegisterGatewayRequest r;
    r.mutable_gateway()->set_name("gw1");
    r.mutable_gateway()->set_underlay_ip("172.31.9.1");
    r.mutable_gateway()->set_grpc_address(p.gateway_socket());
    r.mutable_gateway()->set_capacity(100'000'000);
    v1::Gateway out;
    auto c = Ctx(30);
    if (auto s = FromGrpc("RegisterGateway", api.RegisterGateway(c.get(), r, &out)); !s.ok())
      return s;
  }
  {
    v1::CreateClusterRequest r;
    r.mutable_cluster()->set_id(1);
    r.mutable_cluster()->add_members("gw1");
    v1::Cluster out;
    auto c = Ctx(30);
    if (auto s = FromGrpc("CreateCluster", api.CreateCluster(c.get(), r, &out)); !s.ok()) return s;
  }
  v1::CreateVpcRequest r;
  r.mutable_vpc()->set_id(kVpc);
  r.mutable_vpc()->set_vni(100);
  r.mutable_vpc()->set_router_mac("02:5c:00:00:00:01");
  r.mutable_vpc()->set_cluster_id(1);
  v1::Network* n = r.mutable_vpc()->add_networks();
  n->set_id("net1");
  n->set_ipv4_cidr("10.0.0.0/8");
  v1::Vpc out;
  auto c = Ctx(30);
  return FromGrpc("CreateVpc", api.CreateVpc(c.get(), r, &out));
}

struct BulkResult {
  double sent_ms = 0;   // First write to WritesDone: the stream received.
  double total_ms = 0;  // First write to the answer.
  uint64_t created = 0;
};

absl::StatusOr<BulkResult> BulkLoad(Plane& p, int n, int batch) {
  auto c = Ctx(900);
  v1::CreateEndpointsResponse out;
  auto start = Clock::now();
  auto writer = p.api().CreateEndpoints(c.get(), &out);
  for (int j = 0; j < n;) {
    // The machine is shared: stop rather than exhaust its memory.
    if (long mb = AvailableMb(); mb >= 0 && mb < kMinAvailableMb) {
      c->TryCancel();
      return absl::ResourceExhaustedError(
          absl::StrCat("stopped after ", j, " endpoints: ", mb, " MiB left on the machine"));
    }
    v1::CreateEndpointsRequest r;
    for (int k = 0; k < batch && j < n; ++k, ++j) *r.add_endpoints() = BulkEndpoint(j);
    r.set_last(j == n);
    if (!writer->Write(r)) break;  // The server ended the call: Finish says why.
  }
  writer->WritesDone();
  BulkResult result;
  result.sent_ms = Ms(Clock::now() - start);
  grpc::Status s = writer->Finish();
  result.total_ms = Ms(Clock::now() - start);
  if (!s.ok()) return FromGrpc("CreateEndpoints", s);
  result.created = out.created();
  return result;
}

absl::StatusOr<v1::Gateway> GetGateway(Plane& p) {
  v1::GetGatewayRequest r;
  r.set_name("gw1");
  v1::Gateway out;
  auto c = Ctx(10);
  if (auto s = FromGrpc("GetGateway", p.api().GetGateway(c.get(), r, &out)); !s.ok()) return s;
  return out;
}

// Starts gatewayd and waits (at most `limit`) until the manager reports it
// READY: its cluster and VPC loaded. The time from the start, or an error.
absl::StatusOr<double> StartGatewayAndWaitReady(Plane& p, std::chrono::seconds limit) {
  auto start = Clock::now();
  if (auto s = p.StartGatewayd(); !s.ok()) return s;
  std::string last;
  while (Clock::now() - start < limit) {
    auto gw = GetGateway(p);
    if (gw.ok() && gw->state() == v1::GATEWAY_STATE_READY) return Ms(Clock::now() - start);
    if (gw.ok()) last = absl::StrCat(v1::GatewayState_Name(gw->state()), " ", gw->detail());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("gateway not READY: ", last));
}

int RunBulk(const Args& a) {
  Plane p;
  if (auto s = p.Start(); !s.ok()) {
    std::fprintf(stderr, "management plane: %s\n", s.ToString().c_str());
    return 1;
  }
  if (auto s = Setup(p); !s.ok()) {
    std::fprintf(stderr, "set-up: %s\n", s.ToString().c_str());
    return 1;
  }
  std::string self = std::to_string(getpid());
  std::string rss_before = Rss(self), nb_before = Rss(p.nb_pid());
  std::string load = LoadAverage();
  double cpu_self = CpuSeconds(self), cpu_nb = CpuSeconds(p.nb_pid());
  auto r = BulkLoad(p, a.endpoints, a.batch);
  if (!r.ok()) {
    std::fprintf(stderr, "bulk load: %s\n", r.status().ToString().c_str());
    return 1;
  }
  cpu_self = CpuSeconds(self) - cpu_self;
  cpu_nb = CpuSeconds(p.nb_pid()) - cpu_nb;
  std::string rss_after = Rss(self), nb_after = Rss(p.nb_pid());
  // The answer's count, and the manager's view of the VPC.
  v1::GetVpcRequest gv;
  gv.set_id(kVpc);
  v1::Vpc vpc;
  auto c = Ctx(30);
  grpc::Status got = p.api().GetVpc(c.get(), gv, &vpc);

  std::printf("\n### Bulk load: %d endpoints in one VPC, CreateEndpoints in batches of %d\n\n",
              a.endpoints, a.batch);
  std::printf("load average (1 min) at the start: %s\n\n", load.c_str());
  std::printf("| | |\n|---|---|\n");
  std::printf("| endpoints created (answer) / in the VPC (GetVpc) | %lu / %s |\n", r->created,
              got.ok() ? std::to_string(vpc.endpoints()).c_str() : got.error_message().c_str());
  std::printf("| stream sent (first write to WritesDone) | %.0f ms |\n", r->sent_ms);
  std::printf("| wall time (first write to the answer) | %.0f ms |\n", r->total_ms);
  std::printf("| rate | %.0f endpoints/s |\n", a.endpoints / (r->total_ms / 1000));
  std::printf("| CPU time during the call: this process, the NB ovsdb-server | %.1f s, %.1f s |\n",
              cpu_self, cpu_nb);
  std::printf("| RSS of this process (managerd + the client), before | %s |\n", rss_before.c_str());
  std::printf("| RSS of this process (managerd + the client), after | %s |\n", rss_after.c_str());
  std::printf("| RSS of the NB ovsdb-server, before | %s |\n", nb_before.c_str());
  std::printf("| RSS of the NB ovsdb-server, after | %s |\n", nb_after.c_str());

  auto ready = StartGatewayAndWaitReady(p, std::chrono::seconds(600));
  if (!ready.ok()) {
    std::printf("| gatewayd started to READY (full load) | %s |\n",
                ready.status().ToString().c_str());
    return 1;
  }
  std::printf("| gatewayd started to READY (full load by the driver) | %.0f ms |\n", *ready);
  std::printf("| RSS of this process after the gateway's load | %s |\n", Rss(self).c_str());
  std::printf("| RSS of shortcut-gatewayd | %s |\n", Rss(p.gatewayd().pid()).c_str());
  std::fflush(stdout);
  return 0;
}

// The simulated host's OVSDB: br-int in the root row, then one port per VM
// with its iface-id and an ofport (ovsdb-server alone assigns none).
absl::Status Ovsdb(const std::string& target, const std::string& txn) {
  t::RunResult r = t::RunProcess({"ovsdb-client", "transact", target, txn});
  if (!r.ok()) return absl::InternalError(absl::StrCat("ovsdb-client transact: ", r.err, r.out));
  if (r.out.find("\"error\"") != std::string::npos) {
    return absl::InternalError(absl::StrCat("ovsdb-client transact: ", r.out));
  }
  return absl::OkStatus();
}

absl::Status MakeVmPorts(const std::string& target, int vms) {
  std::vector<std::string> ops = {
      R"({"op":"insert","table":"Bridge","row":{"name":"br-int"},"uuid-name":"br"})",
      R"({"op":"insert","table":"Open_vSwitch","row":{"bridges":["named-uuid","br"]}})"};
  if (auto s = Ovsdb(target, absl::StrCat(R"(["Open_vSwitch",)", absl::StrJoin(ops, ","), "]"));
      !s.ok()) {
    return s;
  }
  ops.clear();
  std::vector<std::string> ports;
  for (int i = -1; i < vms; ++i) {
    std::string n = absl::StrCat(i + 1);
    ops.push_back(absl::StrCat(R"({"op":"insert","table":"Interface","uuid-name":"i)", n,
                               R"(","row":{"name":"tap)", n, R"(","ofport":)", i + 2,
                               R"(,"external_ids":["map",[["iface-id",")", VmKey(i), R"("]]]}})"));
    ops.push_back(absl::StrCat(R"({"op":"insert","table":"Port","uuid-name":"p)", n,
                               R"(","row":{"name":"tap)", n, R"(","interfaces":["named-uuid","i)",
                               n, R"("]}})"));
    ports.push_back(absl::StrCat(R"(["named-uuid","p)", n, R"("])"));
  }
  ops.push_back(absl::StrCat(R"({"op":"mutate","table":"Bridge","where":[["name","==","br-int"]],)",
                             R"("mutations":[["ports","insert",["set",[)",
                             absl::StrJoin(ports, ","), "]]]]}"));
  return Ovsdb(target, absl::StrCat(R"(["Open_vSwitch",)", absl::StrJoin(ops, ","), "]"));
}

absl::StatusOr<v1::Endpoint> CreateEndpoint(Plane& p, const v1::Endpoint& e) {
  v1::CreateEndpointRequest r;
  *r.mutable_endpoint() = e;
  r.set_online_timeout_ms(10000);
  v1::Endpoint out;
  auto c = Ctx(15);
  if (auto s = FromGrpc("CreateEndpoint", p.api().CreateEndpoint(c.get(), r, &out)); !s.ok())
    return s;
  return out;
}

int RunOnline(const Args& a, int size) {
  Plane p;
  if (auto s = p.Start(); !s.ok()) {
    std::fprintf(stderr, "management plane: %s\n", s.ToString().c_str());
    return 1;
  }
  if (auto s = Setup(p); !s.ok()) {
    std::fprintf(stderr, "set-up: %s\n", s.ToString().c_str());
    return 1;
  }
  auto bulk = BulkLoad(p, size, a.batch);
  if (!bulk.ok()) {
    std::fprintf(stderr, "bulk load: %s\n", bulk.status().ToString().c_str());
    return 1;
  }
  // The VM host: its switch and its database, ports made before any call.
  Switches switches;
  auto openflow = switches.Add();
  if (!openflow.ok()) {
    std::fprintf(stderr, "switch: %s\n", openflow.status().ToString().c_str());
    return 1;
  }
  switches.Run();
  t::OvsdbServer host_db;
  if (auto s = host_db.Start(t::ReadFile(kVswitchSchema)); !s.ok()) {
    std::fprintf(stderr, "host ovsdb-server: %s\n", s.ToString().c_str());
    return 1;
  }
  if (auto s = MakeVmPorts(host_db.target(), a.vms); !s.ok()) {
    std::fprintf(stderr, "host ports: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string host = "m0";
  {
    v1::RegisterHostRequest r;
    r.mutable_host()->set_name(host);
    r.mutable_host()->set_underlay_ip("172.31.1.1");
    r.mutable_host()->set_openflow(*openflow);
    r.mutable_host()->set_ovsdb(host_db.target());
    v1::Host out;
    auto c = Ctx(30);
    if (auto s = FromGrpc("RegisterHost", p.api().RegisterHost(c.get(), r, &out)); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  auto ready = StartGatewayAndWaitReady(p, std::chrono::seconds(300));
  if (!ready.ok()) {
    std::fprintf(stderr, "%s\n", ready.status().ToString().c_str());
    return 1;
  }
  // Warm-up: the first VM also waits for the gateway's connections to the
  // host; it may answer PENDING, then turns ONLINE (at most 60 s).
  {
    auto warm = CreateEndpoint(p, VmEndpoint(-1, host));
    if (!warm.ok()) {
      std::fprintf(stderr, "warm-up: %s\n", warm.status().ToString().c_str());
      return 1;
    }
    bool online = warm->status() == v1::ENDPOINT_STATUS_ONLINE;
    for (auto until = Clock::now() + std::chrono::seconds(60); !online && Clock::now() < until;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      v1::GetEndpointRequest r;
      r.set_key(VmKey(-1));
      v1::Endpoint out;
      auto c = Ctx(10);
      online =
          p.api().GetEndpoint(c.get(), r, &out).ok() && out.status() == v1::ENDPOINT_STATUS_ONLINE;
    }
    if (!online) {
      std::fprintf(stderr, "warm-up VM never ONLINE\n");
      return 1;
    }
  }

  std::string load = LoadAverage();
  std::vector<double> online;
  int not_online = 0, failed = 0;
  std::string first_failure;
  for (int i = 0; i < a.vms; ++i) {
    v1::Endpoint vm = VmEndpoint(i, host);
    auto start = Clock::now();
    auto r = CreateEndpoint(p, vm);
    double ms = Ms(Clock::now() - start);
    if (!r.ok()) {
      ++failed;
      if (first_failure.empty()) first_failure = r.status().ToString();
      continue;
    }
    if (r->status() != v1::ENDPOINT_STATUS_ONLINE) {
      ++not_online;
      continue;
    }
    online.push_back(ms);
  }
  auto [flows, groups] = switches.Count(0);
  size_t vms_on_host = static_cast<size_t>(a.vms) + 1;
  std::printf("\n### VM online through the management plane: VPC of %d endpoints\n\n", size);
  std::printf(
      "load average (1 min) at the start of the timed calls: %s; gatewayd started to "
      "READY: %.0f ms\n\n",
      load.c_str(), *ready);
  std::printf(
      "| VPC endpoints | VMs | ONLINE | not ONLINE | failed | median ms | p99 ms | max ms "
      "| flows, groups on the host |\n|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %d | %d | %zu | %d | %d %s %zu (expected %zu), %zu |\n", size, a.vms,
              online.size(), not_online, failed, Summary(online).c_str(), flows,
              4 * vms_on_host + 3 + 2, groups);
  if (!first_failure.empty()) std::printf("first failure: %s\n", first_failure.c_str());
  std::fflush(stdout);
  return failed + not_online > 0 ? 1 : 0;
}

}  // namespace
}  // namespace shortcut::manager

int main(int argc, char** argv) {
  shortcut::manager::Args a;
  auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s [--endpoints N] [--batch N] [--vpc-size N[,N...]] [--vms N] "
                 "[--no-bulk] [--no-online]\n",
                 argv[0]);
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--no-bulk" || flag == "--no-online") {
      (flag == "--no-bulk" ? a.bulk : a.online) = false;
      continue;
    }
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    int* out = flag == "--endpoints" ? &a.endpoints
               : flag == "--batch"   ? &a.batch
               : flag == "--vms"     ? &a.vms
                                     : nullptr;
    if (flag == "--vpc-size") {
      a.vpc_sizes.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(part, &n) || n < 0 || n > 10'000'000) return usage();
        a.vpc_sizes.push_back(n);
      }
    } else if (out == nullptr || !absl::SimpleAtoi(value, out) || *out < 1 || *out > 10'000'000) {
      return usage();
    }
  }
  if (a.vms > 10'000) return usage();
  spdlog::set_level(spdlog::level::warn);
  shortcut::manager::PrintMachine();
  int rc = 0;
  if (a.bulk) rc |= shortcut::manager::RunBulk(a);
  if (a.online) {
    for (int size : a.vpc_sizes) rc |= shortcut::manager::RunOnline(a, size);
  }
  return rc;
}
