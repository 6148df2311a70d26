// Loads N endpoints into the Shortcut_Northbound database through NbStore,
// in transactions of B endpoints, against a private ovsdb-server started in
// a temp dir (as the tests do), and prints the time, the rate and this
// process's RSS (the typed replica holds every endpoint).
//
//   nb_store_bench --endpoints 1000000 --batch 50000
#include <malloc.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/manager/store.h"
#include "src/ovsdb/client.h"
#include "tests/ovsdb/ovsdb_server.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace shortcut;
using namespace shortcut::manager;

long RssMb() {
  std::string status = shortcut::testing::ReadFile("/proc/self/status");
  size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6) / 1024;
}

EndpointRow Ep(int i) {
  EndpointRow e;
  e.endpoint.key = absl::StrCat("vm-", i);
  e.endpoint.vpc = "bench";
  e.endpoint.network = "net";
  e.endpoint.ipv4 = absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255, ".", i & 255);
  e.endpoint.mac =
      absl::StrFormat("02:00:00:%02x:%02x:%02x", (i >> 16) & 255, (i >> 8) & 255, i & 255);
  e.endpoint.host = absl::StrCat("host-", i % 100);
  e.endpoint.iface_id = e.endpoint.key;
  return e;
}

asio::awaitable<int> Run(NbStore& store, int endpoints, int batch) {
  if (auto s = co_await store.WaitSynced(10000); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    co_return 1;
  }
  NbTxn setup;
  setup.InsertCluster(ClusterRow{.id = 1});
  for (int h = 0; h < 100; ++h) {
    setup.InsertHost(
        HostRow{.host = {.name = absl::StrCat("host-", h),
                         .underlay_ipv4 = absl::StrCat("192.168.", h / 256, ".", h % 256),
                         .openflow_target = "",
                         .ovsdb_target = ""}});
  }
  setup.InsertVpc(
      VpcRow{.vpc = {.id = "bench", .vni = 1, .router_mac = "02:00:00:00:00:01"}, .cluster_id = 1});
  setup.InsertNetwork(NetworkRow{
      .vpc = "bench", .network = {.id = "net", .ipv4_cidr = "10.0.0.0/8", .ipv6_cidr = ""}});
  if (auto s = co_await store.Commit(std::move(setup)); !s.ok()) {
    std::fprintf(stderr, "setup: %s\n", s.ToString().c_str());
    co_return 1;
  }
  std::printf("RSS before: %ld MB\n", RssMb());
  auto start = std::chrono::steady_clock::now();
  for (int first = 0; first < endpoints; first += batch) {
    NbTxn txn;
    for (int i = first; i < std::min(endpoints, first + batch); ++i) txn.InsertEndpoint(Ep(i));
    auto t0 = std::chrono::steady_clock::now();
    if (auto s = co_await store.Commit(std::move(txn)); !s.ok()) {
      std::fprintf(stderr, "batch at %d: %s\n", first, s.ToString().c_str());
      co_return 1;
    }
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  %d endpoints: batch %.2f s, RSS %ld MB\n", std::min(endpoints, first + batch),
                dt, RssMb());
    std::fflush(stdout);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("loaded %zu endpoints in batches of %d: %.2f s, %.0f endpoints/s, RSS %ld MB\n",
              store.state().endpoints.size(), batch, secs, endpoints / secs, RssMb());
  malloc_trim(0);
  std::printf("RSS after malloc_trim: %ld MB (the replica and its indexes)\n", RssMb());
  co_return 0;
}

// A named coroutine, not a lambda: the frame must not outlive a closure.
asio::awaitable<void> Main(NbStore& store, asio::io_context& io, int endpoints, int batch,
                           int* rc) {
  *rc = co_await Run(store, endpoints, batch);
  store.Stop();
  io.stop();
}

}  // namespace

int main(int argc, char** argv) {
  int endpoints = 100000;
  int batch = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--endpoints") == 0) endpoints = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--batch") == 0) batch = std::atoi(argv[i + 1]);
  }
  if (endpoints <= 0 || batch <= 0) {
    std::fprintf(stderr, "usage: nb_store_bench [--endpoints N] [--batch B]\n");
    return 2;
  }
  shortcut::testing::OvsdbServer server;
  auto started = server.Start(shortcut::testing::ReadFile(SHORTCUT_NB_SCHEMA));
  if (!started.ok()) {
    std::fprintf(stderr, "%s\n", started.ToString().c_str());
    return 1;
  }
  asio::io_context io;
  NbStore::Options o;
  o.servers = {*ovsdb::ParseOvsdbTarget(server.target())};
  o.commit_timeout = 600000;
  NbStore store(io.get_executor(), o);
  store.Start();
  int rc = 1;
  asio::co_spawn(io, Main(store, io, endpoints, batch, &rc), asio::detached);
  io.run();
  return rc;
}
