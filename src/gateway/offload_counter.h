// The threshold offload policy's bookkeeping (model::OffloadPolicy
// kThreshold): which (sending host, VNI, destination) flows the gateways
// carry while they count, and which crossed their VPC's threshold.
//
// The counting happens in the data plane: the forwarder puts a counting
// flow on the gateway's bridge for each tracked key (pipeline::
// GatewayCountFlowAdd, which forwards without a copy to the daemon), reads
// the counting flows' counters every poll and hands them to OnRead. A key
// crosses when, within its VPC's window, its flow carried more than
// `packets` packets or more than `bytes` bytes: the difference between the
// counters now and the newest sample at least a window old (or the
// counting flow's start at zero). A key the read no longer finds (idled
// out, or its add failed) is forgotten unless it was tracked after the read
// began; a crossed key starts counting afresh.
//
// Pure bookkeeping; the caller sends the flow_mods and injects `now`.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "src/common/clock.h"
#include "src/model/types.h"
#include "src/pipeline/gateway_pipeline.h"

namespace shortcut::gateway {

class OffloadCounter {
 public:
  using Key = pipeline::CountFlowKey;
  struct Read {
    Key key;
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  struct Crossed {
    Key key;
    uint32_t src_ip = 0;  // The source of the packet-in that started the count.
  };
  // The policy of a VNI; nullopt when the VPC is gone.
  using PolicyOf = std::function<std::optional<model::OffloadPolicy>(uint32_t vni)>;

  bool Tracked(const Key& key) const { return keys_.contains(key); }
  // Starts counting `key` (its counting flow is being added).
  void Track(const Key& key, uint32_t src_ip, Millis now);
  void Untrack(const Key& key) { keys_.erase(key); }
  // Forgets every key toward (vni, dst) or of `vni` (their counting flows
  // are deleted with them).
  void ForgetDst(uint32_t vni, uint32_t dst);
  void ForgetVpc(uint32_t vni);

  uint64_t BeginRead() const { return seq_; }
  // A read of every counting flow; returns the keys that crossed, in the
  // read's order. A key whose VPC no longer has a threshold policy crosses
  // at once (its counting flow would keep it on the gateways).
  std::vector<Crossed> EndRead(uint64_t begun, const std::vector<Read>& reads, Millis now,
                               const PolicyOf& policy_of);

  size_t size() const { return keys_.size(); }
  // Tracked keys per VNI (flows the gateways carry).
  absl::flat_hash_map<uint32_t, uint64_t> PerVni() const;

 private:
  struct Sample {
    Millis at = 0;
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return absl::HashOf(k.src_host, k.vni, k.dst_ipv4); }
  };
  struct Entry {
    uint32_t src_ip = 0;
    uint64_t seq = 0;
    std::deque<Sample> samples;  // Oldest first; the first is the baseline.
  };
  absl::flat_hash_map<Key, Entry, KeyHash> keys_;
  uint64_t seq_ = 0;
};

}  // namespace shortcut::gateway
