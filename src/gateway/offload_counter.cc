#include "src/gateway/offload_counter.h"

#include "absl/container/flat_hash_set.h"
#include "src/model/offload.h"

namespace shortcut::gateway {

void OffloadCounter::Track(const Key& key, uint32_t src_ip, Millis now) {
  Entry& e = keys_[key];
  e.src_ip = src_ip;
  e.seq = ++seq_;
  e.samples.assign(1, Sample{now, 0, 0});  // The counting flow starts at zero.
}

void OffloadCounter::ForgetDst(uint32_t vni, uint32_t dst) {
  absl::erase_if(keys_,
                 [&](const auto& kv) { return kv.first.vni == vni && kv.first.dst_ipv4 == dst; });
}

void OffloadCounter::ForgetVpc(uint32_t vni) {
  absl::erase_if(keys_, [&](const auto& kv) { return kv.first.vni == vni; });
}

std::vector<OffloadCounter::Crossed> OffloadCounter::EndRead(uint64_t begun,
                                                             const std::vector<Read>& reads,
                                                             Millis now,
                                                             const PolicyOf& policy_of) {
  std::vector<Crossed> crossed;
  absl::flat_hash_set<Key, KeyHash> seen;
  for (const Read& r : reads) {
    auto it = keys_.find(r.key);
    if (it == keys_.end()) continue;  // Not ours to judge (a predecessor's, or forgotten).
    seen.insert(r.key);
    Entry& e = it->second;
    std::optional<model::OffloadPolicy> policy = policy_of(r.key.vni);
    if (!policy) continue;  // The VPC is going; its flows go with it.
    if (policy->mode != model::OffloadMode::kThreshold) {
      crossed.push_back({r.key, e.src_ip});
      e.samples.assign(1, Sample{now, r.packets, r.bytes});
      continue;
    }
    const Millis window = model::OffloadWindowMs(*policy);
    // The baseline: the newest sample at least a window old, else the oldest.
    while (e.samples.size() > 1 && now - e.samples[1].at >= window) e.samples.pop_front();
    const Sample& base = e.samples.front();
    const uint64_t packets = r.packets >= base.packets ? r.packets - base.packets : r.packets;
    const uint64_t bytes = r.bytes >= base.bytes ? r.bytes - base.bytes : r.bytes;
    if ((policy->packets != 0 && packets > policy->packets) ||
        (policy->bytes != 0 && bytes > policy->bytes)) {
      crossed.push_back({r.key, e.src_ip});
      e.samples.assign(1, Sample{now, r.packets, r.bytes});
      continue;
    }
    e.samples.push_back(Sample{now, r.packets, r.bytes});
  }
  absl::erase_if(
      keys_, [&](const auto& kv) { return kv.second.seq <= begun && !seen.contains(kv.first); });
  return crossed;
}

absl::flat_hash_map<uint32_t, uint64_t> OffloadCounter::PerVni() const {
  absl::flat_hash_map<uint32_t, uint64_t> out;
  for (const auto& [key, e] : keys_) ++out[key.vni];
  return out;
}

}  // namespace shortcut::gateway
