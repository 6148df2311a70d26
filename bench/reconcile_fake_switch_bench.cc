// Reconciler scale: plan computation, and syncs into the simulated switch
// over a Unix socket (real OpenFlow encoding and decoding on both sides).
//
//   build/bin/reconcile_fake_switch_bench --benchmark_filter=100000
#include <stdlib.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "benchmark/benchmark.h"
#include "src/ofconn/connection.h"
#include "src/ofconn/target.h"
#include "src/openflow/codec.h"
#include "src/reconcile/plan.h"
#include "src/reconcile/reconciler.h"
#include "tests/fakes/fake_switch.h"

namespace shortcut::reconcile {
namespace {

constexpr uint64_t kCookie = 0x5c01000000000000;

// `n` flows shaped like a host's egress table: VNI in metadata + IPv4
// destination -> tunnel key, tunnel destination, output.
SwitchState Flows(size_t n, uint32_t salt = 0) {
  SwitchState s;
  s.ReserveFlows(n);
  for (uint32_t i = 0; i < n; ++i) {
    FlowEntry f;
    f.key.table = 20;
    f.key.priority = 100;
    f.key.match.Set(of::Field::kMetadata, 1 + i / 50000);
    f.key.match.Set(of::Field::kEthType, 0x0800);
    f.key.match.Set(of::Field::kIpv4Dst, 0x0a000000 + i);
    f.cookie = kCookie | 3;
    of::ActionSetField tun_dst{
        of::Field::kTunIpv4Dst,
        of::FieldBytesFromU64(of::Field::kTunIpv4Dst, 0xc0a80000 + (i + salt) % 1000)};
    of::ActionSetField tun_id{of::Field::kTunnelId,
                              of::FieldBytesFromU64(of::Field::kTunnelId, 1 + i / 50000)};
    f.instructions.apply_actions = {tun_id, tun_dst, of::ActionOutput{10}};
    f.origin = static_cast<int>(i) + 1;
    s.AddFlow(std::move(f));
  }
  return s;
}

Ownership Own() {
  Ownership o;
  o.cookie = kCookie;
  o.cookie_mask = 0xffff000000000000;
  return o;
}

void BM_ComputePlanAllNew(benchmark::State& state) {
  SwitchState desired = Flows(state.range(0));
  SwitchState installed;
  for (auto _ : state) {
    Plan plan = ComputePlan(desired, installed, Own());
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ComputePlanAllNew)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_ComputePlanNoChange(benchmark::State& state) {
  SwitchState desired = Flows(state.range(0));
  SwitchState installed = desired;
  for (auto _ : state) {
    Plan plan = ComputePlan(desired, installed, Own());
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ComputePlanNoChange)->Arg(100000)->Unit(benchmark::kMillisecond);

// One process, one thread: the switch and the controller share the loop, so
// this measures the CPU cost of both ends together.
class Harness {
 public:
  Harness() {
    char tmpl[] = "/tmp/reconcile_bench.XXXXXX";
    dir_ = mkdtemp(tmpl);
    sw_ = std::make_unique<fakes::FakeSwitch>(io_.get_executor());
    target_ = *sw_->ListenUnix(dir_ + "/br0.sock");
  }
  ~Harness() {
    if (conn_) conn_->Close();
    sw_.reset();
    io_.restart();
    io_.poll();
    std::filesystem::remove_all(dir_);
  }

  template <typename T>
  T Run(asio::awaitable<T> a) {
    std::optional<T> result;
    asio::co_spawn(io_, std::move(a),
                   [&](std::exception_ptr, T v) { result.emplace(std::move(v)); });
    io_.restart();
    while (!result) io_.run_one();
    return std::move(*result);
  }

  ofconn::Connection& Connect() {
    if (conn_) conn_->Close();
    ofconn::Connection::Options o;
    o.probe_interval = 0;
    conn_ = *Run(ofconn::Connection::Connect(io_.get_executor(), *ofconn::ParseTarget(target_), o));
    return *conn_;
  }

  fakes::FakeSwitch& sw() { return *sw_; }

 private:
  asio::io_context io_;
  std::string dir_;
  std::unique_ptr<fakes::FakeSwitch> sw_;
  std::string target_;
  std::shared_ptr<ofconn::Connection> conn_;
};

SwitchReconciler::Options RecOptions() {
  SwitchReconciler::Options o;
  o.ownership = Own();
  o.driver.timeout_ms = 60000;
  return o;
}

void BM_SyncIntoEmptySwitch(benchmark::State& state) {
  SwitchState desired = Flows(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto h = std::make_unique<Harness>();
    auto& conn = h->Connect();
    SwitchReconciler rec(RecOptions());
    state.ResumeTiming();
    auto result = h->Run(rec.Sync(conn, desired));
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
    state.PauseTiming();
    h.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SyncIntoEmptySwitch)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

// A new controller process against a switch that already holds the flows:
// dump, compare, nothing to send.
void BM_ResyncAfterReconnect(benchmark::State& state) {
  SwitchState desired = Flows(state.range(0));
  Harness h;
  {
    SwitchReconciler rec(RecOptions());
    auto& conn = h.Connect();
    if (!h.Run(rec.Sync(conn, desired)).ok()) state.SkipWithError("initial sync failed");
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto& conn = h.Connect();
    SwitchReconciler rec(RecOptions());
    state.ResumeTiming();
    auto result = h.Run(rec.Sync(conn, desired));
    if (!result.ok() || !result->planned.empty()) state.SkipWithError("resync changed something");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ResyncAfterReconnect)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

// 10% of the flows change their tunnel destination.
void BM_SyncTenPercentChange(benchmark::State& state) {
  const size_t n = state.range(0);
  SwitchState a = Flows(n);
  SwitchState b = a;
  SwitchState changed = Flows(n, 7);
  size_t i = 0;
  for (const auto& [key, flow] : changed.flows()) {
    if (i++ % 10 == 0) b.AddFlow(flow);
  }
  Harness h;
  auto& conn = h.Connect();
  SwitchReconciler rec(RecOptions());
  if (!h.Run(rec.Sync(conn, a)).ok()) state.SkipWithError("initial sync failed");
  bool flip = false;
  for (auto _ : state) {
    flip = !flip;
    auto result = h.Run(rec.Sync(conn, flip ? b : a));
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations() * n / 10);
}
BENCHMARK(BM_SyncTenPercentChange)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Raw rate of the simulated switch: pre-encoded FLOW_MOD ADDs (each a new
// flow, alternately added and deleted), written in one batch, then a barrier.
// The controller side only writes bytes, so this is about the switch's cost.
void BM_FakeSwitchFlowMods(benchmark::State& state) {
  const size_t n = state.range(0);
  SwitchState flows = Flows(n);
  of::Bytes adds, deletes;
  uint32_t xid = 1;
  for (const auto& [key, flow] : flows.flows()) {
    (void)of::Encode(of::Message{of::kVersion13, xid++, ToFlowMod(flow, of::FlowModCommand::kAdd)},
                     adds);
    (void)of::Encode(
        of::Message{of::kVersion13, xid++, ToFlowMod(flow, of::FlowModCommand::kDeleteStrict)},
        deletes);
  }
  Harness h;
  auto& conn = h.Connect();
  bool add = true;
  for (auto _ : state) {
    auto sent = h.Run(conn.SendEncoded(add ? adds : deletes));
    auto barrier = h.Run(conn.Barrier(60000));
    if (!sent.ok() || !barrier.ok()) state.SkipWithError("send failed");
    add = !add;
  }
  if (h.sw().counters().errors_sent != 0) state.SkipWithError("the switch rejected flow_mods");
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_FakeSwitchFlowMods)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace shortcut::reconcile

BENCHMARK_MAIN();
