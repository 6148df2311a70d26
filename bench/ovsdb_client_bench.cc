// OVSDB client measurements against a running ovsdb-server holding the
// Open_vSwitch database (bench/ovsdb.sh starts one and fills it):
//   monitor   time and replica memory to load every Interface row
//             (LoadReplica: get_schema + monitor_cond of the columns
//             Shortcut reads), median of 5;
//   latency   one client updates an Interface, a ReplicaSession on another
//             connection sees it: per-change latency, N changes in turn;
//   inserts   small transactions (one QoS row each): one at a time, and
//             64 in flight on one connection.
// Usage: ovsdb_client_bench --db unix:/abs/db.sock [--changes N] [--inserts N]
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "src/ovsdb/client.h"
#include "src/ovsdb/ops.h"
#include "src/ovsdb/replica_session.h"
#include "src/ovsdb/vswitch.h"
#include "tests/fakes/ofp_peer.h"

namespace {

using namespace shortcut;
using namespace shortcut::ovsdb;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long RssKb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

asio::awaitable<void> Monitor(asio::any_io_executor ex, ofconn::Target target) {
  std::vector<double> times;
  long rss_kb = 0;
  size_t rows = 0;
  for (int round = 0; round < 5; ++round) {
    auto c = co_await OvsdbClient::Connect(ex, target, {});
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
      co_return;
    }
    long before = RssKb();
    auto t0 = Clock::now();
    std::vector<TableMonitor> tables = {VswitchMonitors()[3]};  // Interface.
    auto r = co_await LoadReplica(**c, kVswitchDb, std::move(tables));
    times.push_back(Ms(Clock::now() - t0));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      co_return;
    }
    rows = r->Rows("Interface").size();
    rss_kb = std::max(rss_kb, RssKb() - before);
    (*c)->Close();
  }
  std::printf("monitor: %zu Interface rows, median %.1f ms (min %.1f), replica +%ld KiB RSS\n",
              rows, Percentile(times, 0.5), Percentile(times, 0), rss_kb);
}

asio::awaitable<void> Latency(asio::any_io_executor ex, ofconn::Target target, int n) {
  ReplicaSession::Options so;
  so.db = kVswitchDb;
  so.tables = {{"Interface", {"name", "external_ids"}, nullptr}};
  auto session = ReplicaSession::Start(ex, target, so);
  auto c = co_await OvsdbClient::Connect(ex, target, {});
  if (!c.ok()) co_return;
  while (!session->synced()) co_await session->WaitForChange();
  session->replica()->TakeChanges();
  std::vector<double> seen, replied;
  for (int i = 0; i < n; ++i) {
    Json where = Json::array({Cond("name", "==", "iface0")});
    Json row = {{"external_ids", OvsMap({{"bench", std::to_string(i)}})}};
    Json ops = Json::array({op::Update("Interface", where, row)});
    auto t0 = Clock::now();
    auto r = co_await (*c)->Transact(kVswitchDb, std::move(ops));
    replied.push_back(Ms(Clock::now() - t0));
    if (!r.ok()) co_return;
    while (session->replica()->TakeChanges().empty()) co_await session->WaitForChange();
    seen.push_back(Ms(Clock::now() - t0));
  }
  std::printf(
      "latency: %d updates; transact reply median %.3f ms p99 %.3f ms; seen by the replica "
      "median %.3f ms p99 %.3f ms\n",
      n, Percentile(replied, 0.5), Percentile(replied, 0.99), Percentile(seen, 0.5),
      Percentile(seen, 0.99));
  session->Stop();
  (*c)->Close();
}

asio::awaitable<void> Inserts(asio::any_io_executor ex, ofconn::Target target, int n) {
  auto c = co_await OvsdbClient::Connect(ex, target, {});
  if (!c.ok()) co_return;
  auto insert = [&](int i) -> asio::awaitable<bool> {
    Json ops = Json::array({op::Insert(
        "QoS", {{"type", "bench"}, {"external_ids", OvsMap({{"i", std::to_string(i)}})}})});
    auto r = co_await (*c)->Transact(kVswitchDb, std::move(ops));
    co_return r.ok();
  };
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (!co_await insert(i)) co_return;
  }
  double serial = Ms(Clock::now() - t0);
  // 64 in flight: workers each inserting their share.
  int done = 0;
  t0 = Clock::now();
  const int kWindow = 64;
  for (int w = 0; w < kWindow; ++w) {
    asio::co_spawn(
        ex,
        [&, w]() -> asio::awaitable<void> {
          for (int i = w; i < n; i += kWindow) co_await insert(n + i);
          ++done;
        },
        asio::detached);
  }
  co_await testing::WaitUntil([&] { return done == kWindow; }, 600000);
  double windowed = Ms(Clock::now() - t0);
  std::printf("inserts: %d one at a time %.0f ms (%.0f/s); 64 in flight %.0f ms (%.0f/s)\n", n,
              serial, n / serial * 1000, windowed, n / windowed * 1000);
  (*c)->Close();
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  int changes = 1000, inserts = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--db") db = argv[i + 1];
    if (a == "--changes") changes = std::stoi(argv[i + 1]);
    if (a == "--inserts") inserts = std::stoi(argv[i + 1]);
  }
  auto target = ParseOvsdbTarget(db);
  if (!target.ok()) {
    std::fprintf(stderr, "usage: %s --db unix:/abs/db.sock [--changes N] [--inserts N]\n", argv[0]);
    return 2;
  }
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await Monitor(io.get_executor(), *target);
        co_await Latency(io.get_executor(), *target, changes);
        co_await Inserts(io.get_executor(), *target, inserts);
      },
      asio::detached);
  io.run();
  return 0;
}
