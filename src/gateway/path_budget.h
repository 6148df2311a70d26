// A host's direct-path budget as one gateway of its cluster keeps it
// (seed 004, section 1: few rules on compute nodes).
//
// A host may hold at most D direct paths (model::Host::direct_path_budget,
// or the gateway's default). Every gateway of the cluster installs direct
// paths on it (whichever saw the first packet), so each tags its own
// (pipeline::DirectPathAdd's `tag`) and keeps to an equal share of what is
// left once paths tagged by no serving member are counted:
//
//   own limit = (D - stale) / serving members
//
// where `stale` are the host's direct paths from gateways that no longer
// serve (or untagged ones): nobody adds to them, so the sum over members
// plus the stale paths never exceeds D, without the members talking to each
// other. What a host holds is read from the switch (EndRead, by the
// forwarder every scan period): the gateway's own paths with their packet
// counters, and how many others. Between reads, paths installed here count
// at once; paths idled out count until the next read (an overestimate:
// safe).
//
// At its limit, a new path either evicts this gateway's least recently used
// ones on that host down to below its share (`kEvict`: the path whose packet
// counter changed longest ago, as seen by the reads; ties: the oldest) or
// is refused (`kRefuse`: the flow stays on the gateways; paths above a
// share that shrank stay until they idle out). Standing rules are never counted nor
// evicted: only direct paths.
//
// Pure bookkeeping; the caller sends the flow_mods and injects `now`.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "src/common/clock.h"
#include "src/model/address.h"

namespace shortcut::gateway {

class PathBudget {
 public:
  enum class Action { kEvict, kRefuse };
  struct PathKey {
    uint32_t vni = 0;
    model::Ipv4 dst = 0;
    friend bool operator==(const PathKey&, const PathKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const PathKey& k) {
      return H::combine(std::move(h), k.vni, k.dst);
    }
  };
  struct Decision {
    bool install = false;
    // This gateway's paths to delete first, least recently used first:
    // one at its share, more when its share shrank (a member joined, or
    // stale paths appeared) since they were installed.
    std::vector<PathKey> evict;
  };
  // A direct path as a read of the host's table found it.
  struct ReadPath {
    PathKey key;
    uint16_t tag = 0;
    uint64_t packets = 0;
  };
  struct HostView {
    uint32_t budget = 0;  // D.
    uint32_t limit = 0;   // This gateway's share.
    size_t own = 0;       // This gateway's paths, as counted now.
    size_t others = 0;    // Serving members' paths at the last read.
    size_t stale = 0;     // Paths of no serving member at the last read.
    uint64_t evicted = 0;
    uint64_t refused = 0;
    uint64_t reads = 0;
  };

  explicit PathBudget(Action action = Action::kEvict) : action_(action) {}

  void set_action(Action action) { action_ = action; }
  Action action() const { return action_; }
  // This gateway's tag and the serving members' (self included if it
  // serves).
  void SetMembers(uint16_t own_tag, absl::flat_hash_set<uint16_t> serving);
  uint16_t own_tag() const { return own_tag_; }
  // The host's budget D; 0: none (and the host's bookkeeping goes).
  void SetBudget(model::Ipv4 host, uint32_t budget);
  bool Limited(model::Ipv4 host) const { return hosts_.contains(host); }

  // A direct path toward `key` is wanted on `host`.
  Decision Admit(model::Ipv4 host, const PathKey& key, Millis now);
  // A read of the host's table starts: its result is given to EndRead with
  // the value returned here (paths installed after it stay counted even if
  // the read misses them).
  uint64_t BeginRead(model::Ipv4 host) const;
  void EndRead(model::Ipv4 host, uint64_t begun, const std::vector<ReadPath>& paths, Millis now);

  std::optional<HostView> View(model::Ipv4 host) const;
  std::vector<model::Ipv4> Hosts() const;
  uint64_t evicted() const { return evicted_; }
  uint64_t refused() const { return refused_; }

 private:
  struct Path {
    Millis installed = 0;
    Millis last_used = 0;
    uint64_t packets = 0;
    uint64_t seq = 0;  // When it was admitted (the host's sequence).
  };
  struct HostState {
    uint32_t budget = 0;
    absl::flat_hash_map<PathKey, Path> own;
    size_t others = 0;
    size_t stale = 0;
    uint64_t seq = 0;
    uint64_t evicted = 0;
    uint64_t refused = 0;
    uint64_t reads = 0;
  };
  uint32_t Limit(const HostState& h) const;

  Action action_;
  uint16_t own_tag_ = 0;
  absl::flat_hash_set<uint16_t> serving_;
  absl::flat_hash_map<model::Ipv4, HostState> hosts_;
  uint64_t evicted_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace shortcut::gateway
