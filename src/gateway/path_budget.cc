#include "src/gateway/path_budget.h"

#include <algorithm>

namespace shortcut::gateway {

void PathBudget::SetMembers(uint16_t own_tag, absl::flat_hash_set<uint16_t> serving) {
  own_tag_ = own_tag;
  serving_ = std::move(serving);
}

void PathBudget::SetBudget(model::Ipv4 host, uint32_t budget) {
  if (budget == 0) {
    hosts_.erase(host);
    return;
  }
  hosts_[host].budget = budget;
}

uint32_t PathBudget::Limit(const HostState& h) const {
  const size_t members = std::max<size_t>(1, serving_.size());
  if (h.stale >= h.budget) return 0;
  return static_cast<uint32_t>((h.budget - h.stale) / members);
}

PathBudget::Decision PathBudget::Admit(model::Ipv4 host, const PathKey& key, Millis now) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return {true, {}};
  HostState& h = it->second;
  if (auto p = h.own.find(key); p != h.own.end()) {
    // Installed again (it may have idled out): the same slot.
    p->second.last_used = now;
    p->second.seq = ++h.seq;
    return {true, {}};
  }
  const uint32_t limit = Limit(h);
  Decision d;
  if (h.own.size() >= limit && action_ == Action::kEvict) {
    // Down to below the share (to nothing when there is none): the least
    // recently used as the reads saw them, O(own paths) each.
    while (!h.own.empty() && h.own.size() >= std::max<uint32_t>(limit, 1)) {
      auto victim = h.own.begin();
      for (auto p = h.own.begin(); p != h.own.end(); ++p) {
        const Path& a = p->second;
        const Path& b = victim->second;
        if (a.last_used < b.last_used ||
            (a.last_used == b.last_used && a.installed < b.installed)) {
          victim = p;
        }
      }
      d.evict.push_back(victim->first);
      h.own.erase(victim);
      ++h.evicted;
      ++evicted_;
    }
  }
  if (h.own.size() >= limit) {  // Refused, or no share at all.
    ++h.refused;
    ++refused_;
    return d;
  }
  h.own[key] = Path{now, now, 0, ++h.seq};
  d.install = true;
  return d;
}

uint64_t PathBudget::BeginRead(model::Ipv4 host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.seq;
}

void PathBudget::EndRead(model::Ipv4 host, uint64_t begun, const std::vector<ReadPath>& paths,
                         Millis now) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return;
  HostState& h = it->second;
  absl::flat_hash_map<PathKey, Path> own;
  size_t others = 0, stale = 0;
  for (const ReadPath& r : paths) {
    if (r.tag == own_tag_ && own_tag_ != 0) {
      Path p;
      if (auto prev = h.own.find(r.key); prev != h.own.end()) {
        p = prev->second;
        if (r.packets != p.packets) p.last_used = now;
      } else {
        // Ours but not known here (installed before a restart): as if
        // just used, so that known idle paths go first.
        p.installed = p.last_used = now;
      }
      p.packets = r.packets;
      own[r.key] = p;
    } else if (serving_.contains(r.tag)) {
      ++others;
    } else {
      ++stale;
    }
  }
  // Admitted after the read began: the switch may not have had them yet.
  for (const auto& [key, p] : h.own) {
    if (p.seq > begun && !own.contains(key)) own[key] = p;
  }
  h.own = std::move(own);
  h.others = others;
  h.stale = stale;
  ++h.reads;
}

std::optional<PathBudget::HostView> PathBudget::View(model::Ipv4 host) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return std::nullopt;
  const HostState& h = it->second;
  return HostView{h.budget, Limit(h),  h.own.size(), h.others,
                  h.stale,  h.evicted, h.refused,    h.reads};
}

std::vector<model::Ipv4> PathBudget::Hosts() const {
  std::vector<model::Ipv4> out;
  out.reserve(hosts_.size());
  for (const auto& [host, h] : hosts_) out.push_back(host);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace shortcut::gateway
