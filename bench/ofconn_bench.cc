// One OpenFlow connection's throughput: N small flow_mods sent back to back
// to a peer (tests/fakes/ofp_peer.h, which decodes only what it must
// answer), then a barrier; every message must arrive. Over a Unix socket,
// one io_context on one thread.
#include <benchmark/benchmark.h>

#include <asio/io_context.hpp>
#include <memory>

#include "src/ofconn/connection.h"
#include "src/ofconn/target.h"
#include "tests/fakes/ofp_peer.h"

namespace shortcut::ofconn {
namespace {

void BM_FlowModsThenBarrier(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    asio::io_context io;
    auto peer = testing::OfpPeer::Start(io.get_executor(), {.record = false});
    if (!peer.ok()) {
      state.SkipWithError("peer did not start");
      return;
    }
    bool whole = false;
    testing::RunCoroutine(
        io,
        [&]() -> asio::awaitable<void> {
          auto target = ParseTarget((*peer)->target());
          Connection::Options o;
          o.probe_interval = 0;
          auto conn = co_await Connection::Connect(io.get_executor(), *target, o);
          if (!conn.ok()) co_return;
          for (int i = 0; i < n; ++i) {
            of::FlowMod fm;
            fm.cookie = static_cast<uint64_t>(i);
            of::Message m{.body = fm};
            if (!(co_await (*conn)->Send(std::move(m))).ok()) co_return;
          }
          whole = (co_await (*conn)->Barrier(60'000)).ok() &&
                  (*peer)->messages_received() == static_cast<uint64_t>(n) + 3;
          (*conn)->Close();
          (*peer)->Stop();
        },
        120'000);
    if (!whole) {
      state.SkipWithError("not every message arrived");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_FlowModsThenBarrier)->Arg(200'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace shortcut::ofconn

BENCHMARK_MAIN();
