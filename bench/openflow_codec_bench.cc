// Throughput of the OpenFlow codec on a typical flow_mod (a few match
// fields, three actions): encode, decode, and both. The reconciler sends
// tens of thousands of these per convergence, so the target is >= 2M
// encode+decode per second per core.
#include <benchmark/benchmark.h>

#include "src/openflow/codec.h"

namespace shortcut::of {
namespace {

Message TypicalFlowMod() {
  FlowMod fm;
  fm.table_id = 10;
  fm.priority = 1000;
  fm.cookie = 0x1234abcd;
  fm.match.Set(Field::kInPort, 5);
  fm.match.Set(Field::kEthType, 0x0800);
  fm.match.SetIpv4Masked(Field::kIpv4Dst, 0x0a000000, 0xffffff00);
  fm.match.Set(Field::kReg0, 7);
  fm.instructions.apply_actions = {
      ActionSetField{Field::kEthDst, FieldBytesFromU64(Field::kEthDst, 0x020000000001)},
      ActionResubmit{kPortInPort, 20},
      ActionOutput{3, 0},
  };
  return Message{kVersion13, 42, fm};
}

void BM_EncodeFlowMod(benchmark::State& state) {
  Message m = TypicalFlowMod();
  Bytes out;
  for (auto _ : state) {
    out.clear();
    if (!Encode(m, out).ok()) state.SkipWithError("encode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodeFlowMod);

void BM_DecodeFlowMod(benchmark::State& state) {
  Bytes bytes;
  if (!Encode(TypicalFlowMod(), bytes).ok()) state.SkipWithError("encode failed");
  for (auto _ : state) {
    absl::StatusOr<Message> m = Decode(bytes);
    if (!m.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_DecodeFlowMod);

void BM_EncodeDecodeFlowMod(benchmark::State& state) {
  Message m = TypicalFlowMod();
  Bytes out;
  for (auto _ : state) {
    out.clear();
    if (!Encode(m, out).ok()) state.SkipWithError("encode failed");
    absl::StatusOr<Message> back = Decode(out);
    if (!back.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(back);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeDecodeFlowMod);

void BM_EncodeBundleAdd(benchmark::State& state) {
  Message m = TypicalFlowMod();
  Bytes out;
  uint32_t xid = 0;
  for (auto _ : state) {
    out.clear();
    if (!EncodeBundleAdd(++xid, 1, kBundleAtomic, m, out).ok()) state.SkipWithError("failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeBundleAdd);

}  // namespace
}  // namespace shortcut::of

BENCHMARK_MAIN();
