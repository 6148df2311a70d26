// The forwarding module's control path (seed 5.2): a packet-in from the
// gateway bridge (the metered copy of a packet the bridge already
// forwarded) becomes a direct path on the sending host and the reverse path
// on the destination host, each confirmed by its host's barrier.
//
//   packet-in → parse (tunnel metadata from the match: metadata/tun_id = VNI,
//   tun_src = sending host; inner frame: packet::ParsePacket) → look up the
//   destination (GatewayDb::LookupByVniIp) and the source (it must live on
//   the host the packet came from) → DirectPathAdd on both hosts, in
//   parallel, through their HostProgrammers' batchers.
//
// Merging: a packet-in is keyed by (sending host, VNI, destination). A
// setup covers two keys: its own, the path on the sending host, and its
// reverse (destination host, VNI, source), the path it installs on the
// destination host. A packet-in whose own key is covered by a setup in
// flight, or confirmed less than `merge_window_ms` ago, is counted as
// merged and costs nothing more: a duplicate, or a reply that overtook its
// reverse path. Sharing a setup's reverse key is not enough: A→Y after A→X
// (X and Y on one host) share the reverse path toward A on that host, but
// A's host has no path toward Y, so A→Y is a setup of its own. Bounded: at most
// `max_in_flight` setups queued or in progress; beyond that packet-ins are
// shed and counted. The data plane keeps forwarding either way: nothing
// waits here.
//
// Batching: one pump takes every queued setup at once, sends each host its
// flow_mods as one batch (HostProgrammer::SendDirectPaths, all hosts in
// parallel) and completes the setups when the barriers are back; setups
// queued meanwhile form the next round. So the cost per setup is its
// classification and two encodings, not coroutines or round trips. A host
// batch that fails fails the setups that touched that host.
//
// Thread-safety: none; the executor given at construction, like Gateway.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "src/common/clock.h"
#include "src/gateway/gateway.h"
#include "src/ofconn/signal.h"
#include "src/openflow/message.h"

namespace shortcut::gateway {

class Forwarder {
 public:
  struct Options {
    size_t max_in_flight = 4096;
    Millis merge_window_ms = 1000;
    size_t recent_paths = 256;                 // Setups kept for ListPaths.
    const Clock* clock = &SystemClock::Get();  // The merge window's time.
  };
  struct Counters {
    uint64_t packet_ins = 0;
    uint64_t malformed = 0;       // Missing tunnel metadata, or a frame that does not parse.
    uint64_t not_ipv4 = 0;        // Only IPv4 destinations get direct paths.
    uint64_t lookup_misses = 0;   // Destination not in the DB.
    uint64_t unknown_source = 0;  // Source not in the DB, or not on the host it came from.
    uint64_t same_host = 0;       // Source and destination on one host.
    uint64_t merged = 0;
    uint64_t shed = 0;
    uint64_t setups = 0;  // Both paths confirmed.
    uint64_t failures = 0;
  };
  // One direct-path setup, for operators (shortcutctl gateway paths).
  struct PathRecord {
    std::string src_host;
    std::string dst_host;
    uint32_t vni = 0;
    Ipv4 src_ip = 0;
    Ipv4 dst_ip = 0;
    int64_t setup_us = 0;      // Packet-in to both barriers.
    int64_t unix_time_ms = 0;  // When it was confirmed (or failed).
    std::string error;         // Empty: installed.
  };

  Forwarder(asio::any_io_executor ex, Gateway& gateway, Options options);

  // Takes one packet-in; the setup (if any) runs on its own.
  void OnPacketIn(const of::PacketIn& pin);
  // The same, awaited (tests, benchmarks): OK also when merged or ignored.
  asio::awaitable<absl::Status> Handle(of::PacketIn pin);

  const Counters& counters() const { return counters_; }
  // Setups queued or in a round.
  size_t in_flight() const { return in_flight_; }
  const std::deque<PathRecord>& recent() const { return recent_; }
  // Setup time percentiles (µs) over the last setups; 0 when none.
  int64_t SetupPercentileUs(double p) const;
  // Called with the time (µs) of every setup confirmed (metrics).
  void set_setup_hook(std::function<void(int64_t us)> hook) { on_setup_ = std::move(hook); }

 private:
  struct Key {
    Ipv4 src_host = 0;
    uint32_t vni = 0;
    Ipv4 dst = 0;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.src_host, k.vni, k.dst);
    }
  };
  struct Setup {
    Key key;
    HostProgrammer* src = nullptr;
    HostProgrammer* dst = nullptr;
    Ipv4 src_ip = 0, dst_ip = 0, src_underlay = 0, dst_underlay = 0;
    uint32_t vni = 0;
    int64_t start_us = 0;
    uint64_t round = 0;  // The pump round that completes it.
  };
  struct Queued {
    Key key;
    uint64_t round = 0;
  };
  // Decides what to do with a packet-in: nullopt when nothing is to be set
  // up; else the setup is queued.
  std::optional<Queued> Classify(const of::PacketIn& pin);
  asio::awaitable<void> Pump();
  void Complete(const Setup& s, const absl::Status& status);
  void ForgetOld(Millis now);
  // Covered by a setup in flight, or confirmed within the merge window.
  bool Recent(const Key& key, Millis now) const;
  // The key of the path a setup installs on the destination host.
  static Key Reverse(const Setup& s) { return Key{s.dst_underlay, s.vni, s.src_ip}; }
  HostProgrammer* ProgrammerOf(Ipv4 underlay);

  asio::any_io_executor ex_;
  Gateway& gw_;
  Options options_;
  // Keys covered by the setups queued or in a round (each setup's own and
  // its reverse), with how many of them cover each: A→X and A→Y (X and Y
  // on one host) share their reverse.
  absl::flat_hash_map<Key, uint32_t> covered_;
  size_t in_flight_ = 0;  // Setups queued or in a round.
  std::vector<Setup> queue_;
  bool pumping_ = false;
  uint64_t round_ = 1;       // The round queued setups will go in.
  uint64_t done_round_ = 0;  // The last round completed.
  ofconn::Signal round_done_;
  absl::flat_hash_set<Key> awaited_;                // Keys Handle() waits for,
  absl::flat_hash_map<Key, absl::Status> handled_;  // and their outcomes.
  // Host underlay → its programmer, rebuilt when the cluster changes.
  absl::flat_hash_map<Ipv4, HostProgrammer*> programmers_;
  uint64_t cluster_version_ = 0;
  absl::flat_hash_map<Key, Millis> confirmed_;  // Key → when.
  std::deque<PathRecord> recent_;
  std::vector<int64_t> setup_us_;  // Ring of the last setups' times.
  std::function<void(int64_t)> on_setup_;
  size_t setup_next_ = 0;
  size_t swept_size_ = 0;
  Counters counters_;
};

}  // namespace shortcut::gateway
