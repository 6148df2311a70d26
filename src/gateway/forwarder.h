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
// Offload policy (model::OffloadPolicy, per VPC): `first-packet` sets up a
// flow's direct path on its first packet-in, as above. `threshold` puts a
// counting flow on the gateway's bridge instead (OffloadCounter: the
// gateways carry the flow, with no more copies to the daemon) and sets up
// the direct path once a read of the counting flows (PollThresholds, every
// quarter window) shows more than the VPC's packets or bytes within its
// window; a flow below it stays on the gateways until it idles out.
//
// Host budgets (PathBudget): on a host with a budget, each path a round
// would install is admitted first; at this gateway's share, the least
// recently used of its own paths there is evicted in the same batch, or
// the path is refused (the flow stays on the gateways). ScanBudgets reads
// the hosts' direct paths and their counters every `budget_scan_ms`. The
// direct paths this gateway installs carry its tag (its tunnel port's
// ofport less pipeline::kTunnelOfport).
//
// Thread-safety: none; the executor given at construction, like Gateway.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "src/common/clock.h"
#include "src/gateway/gateway.h"
#include "src/gateway/offload_counter.h"
#include "src/gateway/path_budget.h"
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
    // Host budgets: D of hosts whose Host::direct_path_budget is 0 (0: no
    // budget), what a path beyond a full share does, how often hosts'
    // direct paths are read.
    uint32_t direct_path_budget = 0;
    PathBudget::Action budget_action = PathBudget::Action::kEvict;
    Millis budget_scan_ms = 1000;
    // Counting flows idle out after max(this, 2 windows).
    uint16_t count_idle_timeout_s = 10;
  };
  struct Counters {
    uint64_t packet_ins = 0;
    uint64_t bursts = 0;          // Bursts of packet-ins looked up as one batch.
    uint64_t malformed = 0;       // Missing tunnel metadata, or a frame that does not parse.
    uint64_t not_ipv4 = 0;        // Only IPv4 destinations get direct paths.
    uint64_t lookup_misses = 0;   // Destination not in the DB.
    uint64_t unknown_source = 0;  // Source not in the DB, or not on the host it came from.
    uint64_t same_host = 0;       // Source and destination on one host.
    uint64_t merged = 0;
    uint64_t shed = 0;
    uint64_t setups = 0;  // Both paths confirmed.
    uint64_t failures = 0;
    // Threshold policy.
    uint64_t counting = 0;            // Packet-ins of flows already being counted.
    uint64_t counts_started = 0;      // Counting flows asked for.
    uint64_t threshold_offloads = 0;  // Flows that crossed their threshold.
    uint64_t count_reads = 0;
    uint64_t count_read_failures = 0;
    // Host budgets.
    uint64_t paths_evicted = 0;
    uint64_t paths_refused = 0;  // Paths not installed: their host's share was full.
    uint64_t budget_reads = 0;
    uint64_t budget_read_failures = 0;
  };
  // Per VPC (VNI): flows given direct paths, and flows the gateways carry.
  struct VpcCounters {
    uint64_t setups = 0;
    uint64_t threshold_offloads = 0;
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
  ~Forwarder();

  // Runs PollThresholds and ScanBudgets periodically (the daemon; tests
  // call them directly).
  void Start();
  // One read of the gateway bridge's counting flows; the flows that crossed
  // their threshold are queued for setup.
  asio::awaitable<absl::Status> PollThresholds();
  // One read of every budgeted host's direct paths (hosts where this
  // gateway has paths, or never read).
  asio::awaitable<void> ScanBudgets();
  // Waits until no setup is queued or in a round.
  asio::awaitable<void> Drain();

  // Takes one packet-in; the setup (if any) runs on its own.
  void OnPacketIn(const of::PacketIn& pin);
  // Takes a burst (the packet-ins one read of the gateway bridge brought),
  // with their destinations and sources looked up in one batch; the same
  // outcome as OnPacketIn on each in order.
  void OnPacketIns(std::span<const of::PacketIn> pins);
  // The same, awaited (tests, benchmarks): OK also when merged or ignored.
  asio::awaitable<absl::Status> Handle(of::PacketIn pin);

  const Counters& counters() const { return counters_; }
  const absl::flat_hash_map<uint32_t, VpcCounters>& vpc_counters() const { return vpc_counters_; }
  // Flows the gateways carry while counting, per VNI.
  absl::flat_hash_map<uint32_t, uint64_t> CountingPerVni() const { return counter_.PerVni(); }
  // As of the last round or scan (budgets follow the cluster there).
  const PathBudget& budget() const { return budget_; }
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
    uint64_t round = 0;         // The pump round that completes it.
    bool installed_fwd = true;  // False: refused by the host's budget.
    bool installed_rev = true;
  };
  struct Queued {
    Key key;
    uint64_t round = 0;
  };
  // Decides what to do with a packet-in: nullopt when nothing is to be set
  // up; else the setup is queued.
  std::optional<Queued> Classify(const of::PacketIn& pin);
  // Classify's halves: the packet-in's key (nullopt, counted, when it has
  // none), and the decision once its destination and source are looked up.
  std::optional<Setup> Parse(const of::PacketIn& pin);
  std::optional<Queued> Decide(Setup s, std::optional<PathTarget> dst,
                               std::optional<PathTarget> src);
  // Queues a classified setup (bounded, merged); nullopt when not queued.
  std::optional<Queued> Enqueue(Setup s, Millis now);
  // Admits a path on `host` against its budget; adds the eviction to `mods`.
  bool AdmitPath(Ipv4 host, uint32_t vni, Ipv4 dst, Millis now, std::vector<of::FlowMod>& mods);
  void RefreshCluster();
  asio::awaitable<void> Every(Millis (Forwarder::*period)() const, bool thresholds,
                              std::shared_ptr<bool> alive);
  Millis ThresholdPeriod() const;
  Millis BudgetPeriod() const { return options_.budget_scan_ms; }
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
  absl::flat_hash_map<uint32_t, VpcCounters> vpc_counters_;
  OffloadCounter counter_;
  PathBudget budget_;
  uint16_t tag_ = 0;  // This gateway's tag on the direct paths it installs.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shortcut::gateway
