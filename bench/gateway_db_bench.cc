// The gateway DB against its targets (DESIGN.md, "Targets": 10M endpoints in
// at most 1 GB, at least 20M lookups per second per core):
//  - BM_BulkLoad/N/distinct_iface: N endpoints streamed in batches of 64k
//    through AddEndpoints, in VPCs of 1M endpoints over 10k hosts; counters:
//    process RSS before and after (VmRSS), and the DB's own breakdown.
//    distinct_iface=0: iface id equal to the key (stored once); 1: its own
//    string ("vif-..."), as when the port id differs from the endpoint key.
//  - BM_LookupByVniIp, BM_LookupBatch: random (VNI, IPv4) hits over a 10M set.
//  - BM_UpdateEndpoint*: gw_update_endpoint on the 10M set (moves, no-ops).
//  - BM_MachineRandomLine, BM_MachineRandomLineBatch: the reference, what
//    this machine allows: one random 16-byte read per item from a table the
//    size of the 10M IP index (on huge pages likewise), one at a time and in
//    prefetched chunks of 16. A one-miss lookup cannot beat these; the
//    lookups' figures are reported as a ratio to them.
// Run the load benchmarks one per process for a clean RSS figure:
//   gateway_db_bench --benchmark_filter='BM_BulkLoad/10000000/0'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/gateway/gateway_db.h"

namespace shortcut::gateway {
namespace {

constexpr int kPerVpc = 1'000'000;
constexpr int kHosts = 10'000;
constexpr int kBatch = 65'536;
constexpr uint32_t kFirstVni = 1000;

// VmRSS of this process in bytes.
double RssBytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kb = std::strtod(line + 6, nullptr);
  }
  std::fclose(f);
  return kb * 1024;
}

std::string VpcId(int v) { return absl::StrCat("vpc-", v); }
std::string NetId(int n) { return absl::StrCat("net-", n); }

// Endpoint i of VPC v: network i >> 16 (10.n.0.0/16), IPv4 10.0.0.0 + i,
// MAC 02:00:vv:ii:ii:ii, host (v * kPerVpc + i) % kHosts.
Endpoint MakeEndpoint(int v, int i, bool distinct_iface, int host_shift = 0) {
  Endpoint e;
  e.key = absl::StrCat("ep-", v, "-", i);
  e.vpc = VpcId(v);
  e.network = NetId(i >> 16);
  e.ipv4 = FormatIpv4(0x0a000000u + static_cast<uint32_t>(i));
  e.mac = FormatMac(Mac{2, 0, static_cast<uint8_t>(v), static_cast<uint8_t>(i >> 16),
                        static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)});
  e.host = absl::StrCat("h", (v * kPerVpc + i + host_shift) % kHosts);
  e.iface_id = distinct_iface ? absl::StrCat("vif-", v, "-", i) : e.key;
  return e;
}

void AddHostsAndVpcs(GatewayDb& db, int vpcs) {
  for (int h = 0; h < kHosts; ++h) {
    Host host{absl::StrCat("h", h), FormatIpv4(0xac1f0000u + static_cast<uint32_t>(h)),
              absl::StrCat("tcp:", FormatIpv4(0xac1f0000u + static_cast<uint32_t>(h)), ":6653"),
              ""};
    if (!db.UpsertHost(host).ok()) std::abort();
  }
  for (int v = 0; v < vpcs; ++v) {
    std::vector<Network> nets;
    for (int n = 0; n < 16; ++n)
      nets.push_back(Network{NetId(n), absl::StrCat("10.", n, ".0.0/16"), ""});
    if (!db.AddVpc(Vpc{VpcId(v), kFirstVni + static_cast<uint32_t>(v), "02:00:00:00:00:fe"}, nets)
             .ok()) {
      std::abort();
    }
  }
}

// Loads n endpoints; `state` (if given) has its timer paused while batches
// are generated, so only AddEndpoints is timed.
void Load(GatewayDb& db, int n, bool distinct_iface, benchmark::State* state) {
  int vpcs = (n + kPerVpc - 1) / kPerVpc;
  AddHostsAndVpcs(db, vpcs);
  std::vector<Endpoint> batch;
  batch.reserve(kBatch);
  for (int v = 0; v < vpcs; ++v) {
    int count = std::min(kPerVpc, n - v * kPerVpc);
    for (int start = 0; start < count; start += kBatch) {
      if (state != nullptr) state->PauseTiming();
      batch.clear();
      for (int i = start; i < std::min(count, start + kBatch); ++i) {
        batch.push_back(MakeEndpoint(v, i, distinct_iface));
      }
      if (state != nullptr) state->ResumeTiming();
      absl::Status s = db.AddEndpoints(batch);
      if (!s.ok()) {
        std::fprintf(stderr, "load: %s\n", std::string(s.message()).c_str());
        std::abort();
      }
    }
  }
}

void BM_BulkLoad(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  bool distinct_iface = state.range(1) != 0;
  double rss_before = RssBytes();
  for (auto _ : state) {
    state.PauseTiming();
    auto db = std::make_unique<GatewayDb>();
    state.ResumeTiming();
    Load(*db, n, distinct_iface, &state);
    state.PauseTiming();
    MemoryUsage m = db->GetMemoryUsage();
    state.counters["rss_before_MB"] = rss_before / 1e6;
    state.counters["rss_after_MB"] = RssBytes() / 1e6;
    state.counters["db_total_MB"] = m.Total() / 1e6;
    state.counters["records_MB"] = m.records / 1e6;
    state.counters["strings_MB"] = m.strings / 1e6;
    state.counters["key_idx_MB"] = m.key_index / 1e6;
    state.counters["ip_idx_MB"] = m.ip_index / 1e6;
    state.counters["mac_idx_MB"] = m.mac_index / 1e6;
    state.counters["other_MB"] = (m.ipv6 + m.hosts_vpcs) / 1e6;
    db.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_BulkLoad)
    ->Args({1'000'000, 0})
    ->Args({10'000'000, 0})
    ->Args({10'000'000, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One 10M DB shared by the lookup and update benchmarks (built on first use).
constexpr int kBig = 10'000'000;
GatewayDb& Big() {
  static GatewayDb* db = [] {
    auto* d = new GatewayDb();
    Load(*d, kBig, false, nullptr);
    return d;
  }();
  return *db;
}

// xorshift64: cheap next random index.
struct Rng {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

// 4M (VNI, IPv4) keys drawn at random over the whole 10M set (any VNI),
// before any timing: far more index lines than the caches hold, so no
// lookup finds its line cached by an earlier one, and the timing is the
// lookups alone (as on the packet path, where the key comes parsed from a
// packet-in, not from a random generator).
const std::vector<VniIp>& RandomKeys() {
  static const std::vector<VniIp>* keys = [] {
    auto* v = new std::vector<VniIp>(size_t{1} << 22);
    Rng rng;
    for (VniIp& k : *v) {
      uint64_t r = rng.Next();
      k.vni = kFirstVni + static_cast<uint32_t>((r >> 32) % (kBig / kPerVpc));
      k.ip = 0x0a000000u + static_cast<uint32_t>((r & 0xffffffff) % kPerVpc);
    }
    return v;
  }();
  return *keys;
}

void BM_LookupByVniIp(benchmark::State& state) {
  const GatewayDb& db = Big();
  const std::vector<VniIp>& keys = RandomKeys();
  int64_t found = 0;
  size_t k = 0;
  for (auto _ : state) {
    auto t = db.LookupByVniIp(keys[k].vni, keys[k].ip);
    k = (k + 1) & (keys.size() - 1);
    found += t.has_value();
    benchmark::DoNotOptimize(t);
  }
  if (found != state.iterations()) state.SkipWithError("lookup missed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupByVniIp);

// Bursts of 256 of the same keys, as a burst of packet-ins from many VPCs
// arrives.
void BM_LookupBatch(benchmark::State& state) {
  const GatewayDb& db = Big();
  constexpr size_t kN = 256;
  const std::vector<VniIp>& keys = RandomKeys();
  const size_t bursts = keys.size() / kN;
  std::vector<std::optional<PathTarget>> out(kN);
  int64_t found = 0;
  size_t burst = 0;
  for (auto _ : state) {
    db.LookupBatch(keys.data() + burst * kN, kN, out.data());
    burst = (burst + 1) % bursts;
    for (const auto& t : out) found += t.has_value();
    benchmark::DoNotOptimize(out.data());
  }
  if (found != state.iterations() * static_cast<int64_t>(kN)) state.SkipWithError("lookup missed");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kN));
}
BENCHMARK(BM_LookupBatch);

// The reference: the machine's rate of random reads, one 16-byte slot per
// item, over as many bytes as the 10M DB's IP index.
struct Table {
  struct Slot {
    uint64_t a, b;
  };
  size_t n = 0;
  Slot* slots = nullptr;
  Table() {
    n = Big().GetMemoryUsage().ip_index / sizeof(Slot);
    slots = static_cast<Slot*>(AllocateLarge(n * sizeof(Slot)));
    for (size_t i = 0; i < n; ++i) slots[i] = Slot{i, i * 3};
  }
  size_t Index(uint64_t r) const {
    return static_cast<size_t>((static_cast<unsigned __int128>(r) * n) >> 64);
  }
};
const Table& MachineTable() {
  static Table* t = new Table();
  return *t;
}

void BM_MachineRandomLine(benchmark::State& state) {
  const Table& t = MachineTable();
  Rng rng;
  uint64_t sum = 0;
  for (auto _ : state) {
    sum += t.slots[t.Index(rng.Next())].b;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MachineRandomLine);

void BM_MachineRandomLineBatch(benchmark::State& state) {
  const Table& t = MachineTable();
  constexpr size_t kN = 256;
  constexpr size_t kChunk = 16;
  Rng rng;
  std::vector<size_t> idx(kN);
  uint64_t sum = 0;
  for (auto _ : state) {
    for (size_t& i : idx) i = t.Index(rng.Next());
    for (size_t base = 0; base < kN; base += kChunk) {
      for (size_t i = base; i < base + kChunk; ++i) __builtin_prefetch(&t.slots[idx[i]]);
      for (size_t i = base; i < base + kChunk; ++i) sum += t.slots[idx[i]].b;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kN));
}
BENCHMARK(BM_MachineRandomLineBatch);

// Each update moves an endpoint to another host (the changed path: unlink,
// relink, counts); the pools alternate so every update is a real move.
void BM_UpdateEndpointMove(benchmark::State& state) {
  GatewayDb& db = Big();
  constexpr int kPool = 65'536;
  std::vector<Endpoint> there, back;
  Rng rng;
  for (int k = 0; k < kPool; ++k) {
    uint64_t r = rng.Next();
    int v = static_cast<int>((r >> 32) % (kBig / kPerVpc));
    int i = static_cast<int>((r & 0xffffffff) % kPerVpc);
    there.push_back(MakeEndpoint(v, i, false, 1));
    back.push_back(MakeEndpoint(v, i, false, 0));
  }
  size_t k = 0;
  bool forth = true;
  uint64_t moved = 0;
  for (auto _ : state) {
    auto r = db.UpdateEndpoint(forth ? there[k] : back[k]);
    moved += r.ok() && r->moved;
    if (++k == there.size()) {
      k = 0;
      forth = !forth;
    }
  }
  state.counters["moved_fraction"] =
      static_cast<double>(moved) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UpdateEndpointMove);

// The same endpoint sent again (a replayed gw_update_endpoint): validation
// and comparison only.
void BM_UpdateEndpointUnchanged(benchmark::State& state) {
  GatewayDb& db = Big();
  Endpoint e = MakeEndpoint(3, 12345, false);
  if (!db.UpdateEndpoint(e).ok()) state.SkipWithError("update failed");
  for (auto _ : state) {
    auto r = db.UpdateEndpoint(e);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UpdateEndpointUnchanged);

}  // namespace
}  // namespace shortcut::gateway

BENCHMARK_MAIN();
