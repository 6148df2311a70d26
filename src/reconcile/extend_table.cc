#include "src/reconcile/extend_table.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shortcut::reconcile {
namespace {

// This abseil build has its own string_view; heterogeneous lookups need it.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

// ---- IdPool ----

IdPool::IdPool(uint32_t min, uint32_t max) : min_(std::max<uint32_t>(min, 1)), max_(max) {
  if (max_ < min_) max_ = min_ - 1;  // Empty range; only reachable with max == 0.
  if (max_ >= min_) free_.emplace(min_, max_);
  free_count_ = uint64_t{max_} + 1 - min_;
}

absl::StatusOr<uint32_t> IdPool::Allocate() {
  if (free_.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat("all ids in [", min_, ", ", max_, "] in use"));
  }
  auto it = free_.begin();
  const uint64_t id = it->first;
  const uint64_t end = it->second;
  free_.erase(it);
  if (id < end) free_.emplace(id + 1, end);
  --free_count_;
  return static_cast<uint32_t>(id);
}

bool IdPool::IsFree(uint32_t id) const {
  auto it = free_.upper_bound(id);
  if (it == free_.begin()) return false;
  --it;
  return id <= it->second;
}

absl::Status IdPool::Reserve(uint32_t id) {
  if (!Contains(id)) {
    return absl::OutOfRangeError(absl::StrCat("id ", id, " outside [", min_, ", ", max_, "]"));
  }
  auto it = free_.upper_bound(id);
  if (it == free_.begin()) return absl::AlreadyExistsError(absl::StrCat("id ", id, " in use"));
  --it;
  const uint64_t start = it->first;
  const uint64_t end = it->second;
  if (id > end) return absl::AlreadyExistsError(absl::StrCat("id ", id, " in use"));
  free_.erase(it);
  if (start < id) free_.emplace(start, uint64_t{id} - 1);
  if (id < end) free_.emplace(uint64_t{id} + 1, end);
  --free_count_;
  return absl::OkStatus();
}

void IdPool::Free(uint32_t id) {
  if (!Contains(id) || IsFree(id)) return;
  uint64_t start = id;
  uint64_t end = id;
  auto next = free_.find(uint64_t{id} + 1);
  if (next != free_.end()) {
    end = next->second;
    free_.erase(next);
  }
  auto prev = free_.lower_bound(id);
  if (prev != free_.begin()) {
    --prev;
    if (prev->second + 1 == id) {
      start = prev->first;
      free_.erase(prev);
    }
  }
  free_.emplace(start, end);
  ++free_count_;
}

// ---- ExtendTable ----

ExtendTable::ExtendTable(uint32_t min_id, uint32_t max_id) : pool_(min_id, max_id) {}

absl::StatusOr<uint32_t> ExtendTable::Assign(std::string_view spec, std::string_view owner) {
  uint32_t id = 0;
  if (auto it = desired_by_spec_.find(Av(spec)); it != desired_by_spec_.end()) {
    id = it->second;
  } else {
    auto ex = existing_by_spec_.find(Av(spec));
    if (ex != existing_by_spec_.end() && !desired_.contains(ex->second)) {
      // Installed already: reuse its id, which the existing side keeps taken.
      // (If that id is desired for another spec, the switch is about to be
      // corrected; this spec needs an id of its own.)
      id = ex->second;
    } else {
      auto allocated = pool_.Allocate();
      if (!allocated.ok()) return allocated.status();
      id = *allocated;
    }
    DesiredEntry& entry = desired_[id];
    entry.spec = std::string(spec);
    desired_by_spec_.emplace(entry.spec, id);
  }
  desired_[id].owners.emplace(owner);
  ids_by_owner_[std::string(owner)].insert(id);
  return id;
}

void ExtendTable::RemoveOwner(std::string_view owner) {
  auto it = ids_by_owner_.find(Av(owner));
  if (it == ids_by_owner_.end()) return;
  const absl::flat_hash_set<uint32_t> ids = std::move(it->second);
  ids_by_owner_.erase(it);
  for (uint32_t id : ids) {
    auto d = desired_.find(id);
    if (d == desired_.end()) continue;
    d->second.owners.erase(Av(owner));
    if (d->second.owners.empty()) {
      EraseDesired(id);
      ReleaseIfUnused(id);
    }
  }
}

void ExtendTable::ClearDesired() {
  std::vector<uint32_t> ids;
  ids.reserve(desired_.size());
  for (const auto& [id, entry] : desired_) ids.push_back(id);
  desired_.clear();
  desired_by_spec_.clear();
  ids_by_owner_.clear();
  for (uint32_t id : ids) ReleaseIfUnused(id);
}

void ExtendTable::ClearExisting() {
  std::vector<uint32_t> ids;
  ids.reserve(existing_.size());
  for (const auto& [id, spec] : existing_) ids.push_back(id);
  existing_.clear();
  existing_by_spec_.clear();
  duplicate_existing_ = 0;
  for (uint32_t id : ids) ReleaseIfUnused(id);
}

void ExtendTable::MarkInstalled(uint32_t id) {
  auto d = desired_.find(id);
  if (d == desired_.end()) return;
  auto ex = existing_.find(id);
  if (ex != existing_.end()) {
    if (ex->second == d->second.spec) return;
    EraseExisting(id);
  }
  InsertExisting(id, d->second.spec);
}

void ExtendTable::MarkRemoved(uint32_t id) {
  if (!existing_.contains(id)) return;
  EraseExisting(id);
  ReleaseIfUnused(id);
}

absl::Status ExtendTable::SetExisting(uint32_t id, std::string spec) {
  if (!pool_.Contains(id)) {
    return absl::OutOfRangeError(
        absl::StrCat("id ", id, " outside [", pool_.min(), ", ", pool_.max(), "]"));
  }
  if (existing_.contains(id)) {
    EraseExisting(id);
  } else if (!desired_.contains(id)) {
    if (absl::Status s = pool_.Reserve(id); !s.ok()) return s;
  }
  InsertExisting(id, std::move(spec));
  return absl::OkStatus();
}

std::optional<uint32_t> ExtendTable::FindDesired(std::string_view spec) const {
  auto it = desired_by_spec_.find(Av(spec));
  if (it == desired_by_spec_.end()) return std::nullopt;
  return it->second;
}

const std::string* ExtendTable::DesiredSpec(uint32_t id) const {
  auto it = desired_.find(id);
  return it == desired_.end() ? nullptr : &it->second.spec;
}

const std::string* ExtendTable::ExistingSpec(uint32_t id) const {
  auto it = existing_.find(id);
  return it == existing_.end() ? nullptr : &it->second;
}

void ExtendTable::ReleaseIfUnused(uint32_t id) {
  if (!desired_.contains(id) && !existing_.contains(id)) pool_.Free(id);
}

void ExtendTable::EraseDesired(uint32_t id) {
  auto it = desired_.find(id);
  if (it == desired_.end()) return;
  auto by_spec = desired_by_spec_.find(it->second.spec);
  if (by_spec != desired_by_spec_.end() && by_spec->second == id) desired_by_spec_.erase(by_spec);
  desired_.erase(it);
}

void ExtendTable::InsertExisting(uint32_t id, std::string spec) {
  if (!existing_by_spec_.emplace(spec, id).second) ++duplicate_existing_;
  existing_.emplace(id, std::move(spec));
}

void ExtendTable::EraseExisting(uint32_t id) {
  auto it = existing_.find(id);
  if (it == existing_.end()) return;
  auto by_spec = existing_by_spec_.find(it->second);
  if (by_spec != existing_by_spec_.end() && by_spec->second == id) {
    existing_by_spec_.erase(by_spec);
    if (duplicate_existing_ > 0) {
      // Another existing id holds the same spec; keep it findable.
      for (const auto& [other, spec] : existing_) {
        if (other != id && spec == it->second) {
          existing_by_spec_.emplace(spec, other);
          --duplicate_existing_;
          break;
        }
      }
    }
  } else if (duplicate_existing_ > 0) {
    --duplicate_existing_;
  }
  existing_.erase(it);
}

}  // namespace shortcut::reconcile
