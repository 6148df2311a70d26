// Id allocation for groups and meters whose ids are not fixed by design.
//
// IdPool hands out the lowest free id of a range [min, max] (0 is never a
// valid id). ExtendTable keys entries by their full specification (a canonical
// text of a group or meter) and keeps two sides per id, as OVN's extend table
// does: "desired" (what the callers currently want, with the owners that asked
// for it) and "existing" (what the switch holds, as far as we know). An entry
// keeps its id while either side holds it; the id returns to the pool only when
// neither does. That one rule is what the Open vSwitch/OVN bugs listed in
// DESIGN.md ("The extend table") broke in turn.
//
// Callers walk the differences as lists, not callbacks:
//
//   for (const ExtendEntry& e : table.Uninstalled()) { ... add or modify e.id }
//   for (const ExtendEntry& e : table.Undesired())   { ... delete e.id }
//
// Their specs are views into the table: any mutation (MarkInstalled,
// MarkRemoved, Assign, ...) invalidates them, so collect ids first when a
// loop must mutate.
//
// Thread-safety: none; one table belongs to one switch's reconciler.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shortcut::reconcile {

// Free ids of [min, max] as disjoint intervals, so that a 32-bit range costs
// memory in proportion to its fragmentation, not its size.
class IdPool {
 public:
  // REQUIRES: min <= max. A min of 0 is raised to 1 (0 is never valid).
  IdPool(uint32_t min, uint32_t max);

  // The lowest free id; ResourceExhausted when none is left.
  absl::StatusOr<uint32_t> Allocate();
  // Takes a specific id: OutOfRange outside [min, max], AlreadyExists if taken.
  absl::Status Reserve(uint32_t id);
  // Returns an id to the pool; ids outside the range or already free are ignored.
  void Free(uint32_t id);

  bool Contains(uint32_t id) const { return id >= min_ && id <= max_; }
  bool IsFree(uint32_t id) const;
  uint32_t min() const { return min_; }
  uint32_t max() const { return max_; }
  // Number of ids taken.
  uint64_t used() const { return uint64_t{max_} - min_ + 1 - free_count_; }

 private:
  uint32_t min_;
  uint32_t max_;
  // start -> end (inclusive) of each free interval; kept in uint64_t so that
  // end + 1 never wraps at the top of the 32-bit range.
  std::map<uint64_t, uint64_t> free_;
  uint64_t free_count_;
};

// One entry of a view: an id and its specification. `spec` points into the
// table and lives as long as the entry does.
struct ExtendEntry {
  uint32_t id = 0;
  std::string_view spec;
};

class ExtendTable {
 public:
  // Ids are taken from [min_id, max_id].
  ExtendTable(uint32_t min_id, uint32_t max_id);

  // The id for `spec`, with `owner` added as a holder of the desired entry.
  // An entry already desired or existing with the same spec keeps its id;
  // otherwise a new id is allocated (ResourceExhausted when none is left).
  absl::StatusOr<uint32_t> Assign(std::string_view spec, std::string_view owner);
  // Drops `owner` from every desired entry; an entry with no owner left is no
  // longer desired (and its id is freed unless the switch still holds it).
  void RemoveOwner(std::string_view owner);
  // Forgets the desired side (e.g. before recomputing it from scratch). Ids of
  // installed entries stay taken.
  void ClearDesired();
  // Forgets the existing side (e.g. after a switch restart). Ids of desired
  // entries stay taken, so they are never handed out a second time.
  void ClearExisting();

  // The desired entry `id` was confirmed on the switch (barrier reply).
  void MarkInstalled(uint32_t id);
  // `id` was deleted from the switch.
  void MarkRemoved(uint32_t id);
  // The switch holds `id` with `spec` (from a dump after connecting); the id
  // is reserved. OutOfRange if `id` is outside the pool's range.
  absl::Status SetExisting(uint32_t id, std::string spec);

  // Lookups.
  std::optional<uint32_t> FindDesired(std::string_view spec) const;
  const std::string* DesiredSpec(uint32_t id) const;
  const std::string* ExistingSpec(uint32_t id) const;
  bool IsDesired(uint32_t id) const { return desired_.contains(id); }
  bool IsExisting(uint32_t id) const { return existing_.contains(id); }
  size_t desired_size() const { return desired_.size(); }
  size_t existing_size() const { return existing_.size(); }
  const IdPool& pool() const { return pool_; }

  // Desired entries the switch does not hold with the same spec, by id.
  // (Vectors of views into the table rather than lazy std::views over
  // absl::btree_map, which clang 14 with libstdc++ 12 does not take as a
  // range.) Valid until the table changes.
  std::vector<ExtendEntry> Uninstalled() const {
    std::vector<ExtendEntry> out;
    for (const auto& [id, entry] : desired_) {
      const std::string* e = ExistingSpec(id);
      if (e == nullptr || *e != entry.spec) out.push_back(ExtendEntry{id, entry.spec});
    }
    return out;
  }
  // Entries the switch holds that nobody desires under that id, by id.
  std::vector<ExtendEntry> Undesired() const {
    std::vector<ExtendEntry> out;
    for (const auto& [id, spec] : existing_) {
      if (!desired_.contains(id)) out.push_back(ExtendEntry{id, spec});
    }
    return out;
  }
  // All desired entries, by id.
  std::vector<ExtendEntry> Desired() const {
    std::vector<ExtendEntry> out;
    out.reserve(desired_.size());
    for (const auto& [id, entry] : desired_) out.push_back(ExtendEntry{id, entry.spec});
    return out;
  }

 private:
  struct DesiredEntry {
    std::string spec;
    absl::flat_hash_set<std::string> owners;
  };

  // Returns `id` to the pool if neither side holds it.
  void ReleaseIfUnused(uint32_t id);
  void EraseDesired(uint32_t id);
  void EraseExisting(uint32_t id);
  void InsertExisting(uint32_t id, std::string spec);

  IdPool pool_;
  absl::btree_map<uint32_t, DesiredEntry> desired_;
  absl::btree_map<uint32_t, std::string> existing_;
  // Reverse indexes. Two existing ids may hold the same spec (seen in a dump);
  // the index then names one of them.
  absl::flat_hash_map<std::string, uint32_t> desired_by_spec_;
  absl::flat_hash_map<std::string, uint32_t> existing_by_spec_;
  // Existing entries whose spec another existing id already indexes.
  size_t duplicate_existing_ = 0;
  absl::flat_hash_map<std::string, absl::flat_hash_set<uint32_t>> ids_by_owner_;
};

}  // namespace shortcut::reconcile
