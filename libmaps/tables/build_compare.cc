// tables/build_compare.cc - CompareWithTable(): one pass over the table in
// place against the build plan.
//
// Both sides are raw records: the plan's keys and values with the NUL the
// writer would append, the table's as stored. The table is scanned once,
// under one read unit, and each record is matched in one of three modes:
//
//   lockstep  record i against planned entry i. A table built from the
//             same plan (every lmdb, btree and cdb table mapctl writes)
//             matches all the way: n memcmp's, nothing else.
//   merge     sorted tables (lmdb, btree) after the first difference:
//             both sides are in memcmp key order, so advancing the lesser
//             side counts added and removed entries exactly.
//   hashed    unsorted tables (hash always, cdb after a record out of
//             step): the rest of the plan goes into an open-addressing
//             index of {XXH3 tag, plan position} slots, each record looks
//             its key up, and a byte per planned entry marks it seen.
//
// Keys are unique in the plan (PlanBuild resolved duplicates); a table
// record whose key was already seen (a cdb file can hold duplicates)
// counts as removed. A sorted table whose keys go backwards cannot be
// merged: the comparison says "not the same" and stops.

#include "tables/build_compare.h"
#include "tables/stored_form.h"

#include <xxhash.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mapctl {
namespace {

class Comparer {
 public:
  Comparer(std::span<const Entry> entries, const BuildPlan& plan,
           std::size_t nul, bool sorted, bool count_all)
      : entries_(entries),
        order_(plan.order),
        nul_(nul),
        sorted_(sorted),
        count_all_(count_all) {}

  // One table record, in table order. False: stop the scan (a difference
  // was found and counts are not wanted, or the table cannot be merged).
  bool Visit(std::string_view key, std::string_view value) {
    // The plan visits entries out of source order (key order for lmdb and
    // btree): without fetching ahead, each record waits for memory twice,
    // for the Entry and for its bytes (the writer does the same). Written
    // out here: in a helper function of its own, GCC finds no side effect
    // and drops the call.
    constexpr std::size_t kEntryAhead = 16, kBytesAhead = 8;
    if (mode_ != Mode::kHashed) {
      const std::size_t n = order_.size();
      if (next_ + kEntryAhead < n) {
        __builtin_prefetch(&entries_[order_[next_ + kEntryAhead]]);
      }
      if (next_ + kBytesAhead < n) {
        const Entry& e = entries_[order_[next_ + kBytesAhead]];
        __builtin_prefetch(e.key().data());
        __builtin_prefetch(e.value().data());
      }
    }
    switch (mode_) {
      case Mode::kLockstep:
        if (next_ < order_.size() && key == PlannedKey(next_) &&
            value == PlannedValue(next_)) {
          ++next_;
          return true;
        }
        if (sorted_) {
          if (!count_all_) return Differ();
          mode_ = Mode::kMerge;
          return Merge(key, value);
        }
        mode_ = Mode::kHashed;
        BuildIndex();
        return Hashed(key, value);
      case Mode::kMerge:
        return Merge(key, value);
      case Mode::kHashed:
        return Hashed(key, value);
    }
    return false;
  }

  TableComparison Finish() {
    TableComparison c;
    c.readable = true;
    if (mode_ == Mode::kHashed) {
      added_ += (order_.size() - next_) - found_;
    } else {
      added_ += order_.size() - next_;
    }
    c.added = added_;
    c.removed = removed_;
    c.modified = modified_;
    c.same = !stopped_ && !broken_ && added_ == 0 && removed_ == 0 &&
             modified_ == 0;
    c.complete = !stopped_ && !broken_;
    return c;
  }

 private:
  enum class Mode : std::uint8_t { kLockstep, kMerge, kHashed };

  // The stored forms ("key\0" with a NUL), valid until the next call.
  std::string_view PlannedKey(std::size_t i) const {
    return planned_key_.Of(entries_[order_[i]].key(), nul_);
  }
  std::string_view PlannedValue(std::size_t i) const {
    return planned_value_.Of(entries_[order_[i]].value(), nul_);
  }

  bool Differ() {
    stopped_ = true;
    return false;
  }

  bool Merge(std::string_view key, std::string_view value) {
    // Views of some engines (Berkeley DB) die at the next record: the
    // previous key is a copy.
    if (have_last_ && key <= std::string_view(last_key_)) {
      broken_ = true;
      return false;
    }
    last_key_.assign(key.data(), key.size());
    have_last_ = true;
    while (next_ < order_.size() && PlannedKey(next_) < key) {
      ++added_;
      ++next_;
    }
    if (next_ < order_.size() && PlannedKey(next_) == key) {
      if (PlannedValue(next_) != value) ++modified_;
      ++next_;
    } else {
      ++removed_;
    }
    return true;
  }

  void BuildIndex() {
    const std::size_t n = order_.size() - next_;
    std::size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    mask_ = capacity - 1;
    slots_.assign(capacity, 0);
    seen_.assign(n, 0);
    for (std::size_t i = next_; i < order_.size(); ++i) {
      const std::string_view key = PlannedKey(i);
      const std::uint64_t h = XXH3_64bits(key.data(), key.size());
      const std::uint64_t mine =
          (h >> 32) << 32 | static_cast<std::uint64_t>(i - next_ + 1);
      std::uint64_t pos = h & mask_;
      while (slots_[pos] != 0) pos = (pos + 1) & mask_;
      slots_[pos] = mine;
    }
  }

  bool Hashed(std::string_view key, std::string_view value) {
    const std::uint64_t h = XXH3_64bits(key.data(), key.size());
    const std::uint64_t tag = h >> 32;
    for (std::uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const std::uint64_t s = slots_[pos];
      if (s == 0) break;
      if (s >> 32 != tag) continue;
      const std::size_t rel = static_cast<std::uint32_t>(s) - 1;
      if (PlannedKey(next_ + rel) != key) continue;
      if (seen_[rel] != 0) break;  // a second record under this key
      seen_[rel] = 1;
      ++found_;
      if (PlannedValue(next_ + rel) == value) return true;
      ++modified_;
      return count_all_ || Differ();
    }
    ++removed_;
    return count_all_ || Differ();
  }

  std::span<const Entry> entries_;
  const PlanOrder& order_;
  const std::size_t nul_;
  mutable StoredForm planned_key_, planned_value_;
  const bool sorted_;
  const bool count_all_;

  Mode mode_ = Mode::kLockstep;
  std::size_t next_ = 0;  // lockstep/merge: next planned entry; hashed:
                          // where the index starts
  std::size_t added_ = 0, removed_ = 0, modified_ = 0;
  bool stopped_ = false;  // left early at a difference (!count_all)
  bool broken_ = false;   // a sorted table out of order
  std::string last_key_;
  bool have_last_ = false;
  std::vector<std::uint64_t> slots_;  // {tag << 32 | index + 1}; 0: empty
  std::uint64_t mask_ = 0;
  std::vector<std::uint8_t> seen_;
  std::size_t found_ = 0;  // distinct planned keys met in hashed mode
};

}  // namespace

std::size_t StoredNulBytes(TableType type, NulMode nul) noexcept {
  if (type == TableType::kCdb) return nul == NulMode::kWith ? 1 : 0;
  return nul == NulMode::kWithout ? 0 : 1;
}

Result<TableComparison> CompareWithTable(const TableSpec& spec,
                                         std::span<const Entry> entries,
                                         const BuildPlan& plan, NulMode nul,
                                         bool count_all) {
  for (std::uint32_t idx : plan.order) {
    if (idx >= entries.size()) {
      return Status::InvalidArgument("build plan does not match its entries");
    }
  }
  // A damaged file can crash LMDB or Berkeley DB in a scan (docs/
  // compatibility.md, "Reading tables"), and a build must still replace
  // it: every page is checked first, as mapctl dump does.
  OpenOptions open;
  open.verify = true;
  Result<std::unique_ptr<TableReader>> reader = OpenTable(spec, open);
  if (!reader) return TableComparison{};
  Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
  if (!unit) return TableComparison{};

  Comparer comparer(entries, plan, StoredNulBytes(spec.type, nul),
                    (*reader)->sorted(), count_all);
  ScanCursor cursor;
  MAPCTL_RETURN_IF_ERROR((*unit)->Scan(
      cursor, SIZE_MAX, [&comparer](std::string_view k, std::string_view v) {
        return comparer.Visit(k, v);
      }));
  return comparer.Finish();
}

}  // namespace mapctl
