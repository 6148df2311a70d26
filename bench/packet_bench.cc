// Parsing cost per packet: a 64-byte TCP/IPv4 frame (a first packet of a
// flow, as a PACKET_IN carries it) and an ARP request. The gateway parses
// every first packet it is sent, so this bounds its packet-in rate per core.
#include <benchmark/benchmark.h>

#include "src/packet/packet.h"

namespace shortcut::packet {
namespace {

const MacAddr kA = MacAddr::FromU64(0x020000000001);
const MacAddr kB = MacAddr::FromU64(0x020000000002);
constexpr Ipv4Addr kIp1 = Ipv4Addr::FromOctets(10, 0, 0, 1);
constexpr Ipv4Addr kIp2 = Ipv4Addr::FromOctets(10, 0, 0, 2);

void Parse(benchmark::State& state, const std::vector<uint8_t>& frame) {
  for (auto _ : state) {
    absl::StatusOr<ParsedPacket> p = ParsePacket(frame);
    if (!p.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}

void BM_ParseTcpIpv4_64(benchmark::State& state) {
  // 14 + 20 + 20 + 10 bytes of payload = 64 (a minimum frame with its FCS
  // stripped would be 60).
  std::vector<uint8_t> frame = PacketBuilder()
                                   .Eth(kA, kB)
                                   .Ipv4(kIp1, kIp2)
                                   .Tcp(40000, 80, kTcpSyn)
                                   .Payload("0123456789")
                                   .Build();
  if (frame.size() != 64) state.SkipWithError("frame is not 64 bytes");
  Parse(state, frame);
}
BENCHMARK(BM_ParseTcpIpv4_64);

void BM_ParseArpRequest(benchmark::State& state) {
  std::vector<uint8_t> frame = PacketBuilder()
                                   .Eth(kA, MacAddr::Broadcast())
                                   .Arp(kArpRequest, kA, kIp1, MacAddr{}, kIp2)
                                   .Build();
  Parse(state, frame);
}
BENCHMARK(BM_ParseArpRequest);

void BM_BuildTcpIpv4_64(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<uint8_t> frame = PacketBuilder()
                                     .Eth(kA, kB)
                                     .Ipv4(kIp1, kIp2)
                                     .Tcp(40000, 80, kTcpSyn)
                                     .Payload("0123456789")
                                     .Build();
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildTcpIpv4_64);

}  // namespace
}  // namespace shortcut::packet

BENCHMARK_MAIN();
