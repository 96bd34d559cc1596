// tables/key_hash_index.h - parsed entries found by key through an
// open-addressing hash table, for the paths that take source order.
//
// A slot is {the key's XXH3 upper 32 bits, entry index + 1}, 0 meaning
// empty, with at least twice as many slots as entries; only a tag match
// looks at the key bytes. Two users: PlanBuild's duplicate pass for
// writers that keep source order (cdb, hash), and texthash: tables, whose
// lookups then cost one hash and about one cache miss instead of a binary
// search's twenty.
//
// The slots live in their own anonymous mapping, so that a build can
// return them to the system before its writer starts, whatever malloc's
// trim thresholds are.

#ifndef MAPCTL_TABLES_KEY_HASH_INDEX_H_
#define MAPCTL_TABLES_KEY_HASH_INDEX_H_

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mapctl/source.h"
#include "util/pages.h"

namespace mapctl {

// A fixed-size, zero-filled array in an anonymous mapping.
template <typename T>
class MappedArray {
 public:
  MappedArray() = default;
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  MappedArray(MappedArray&& other) noexcept
      : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  ~MappedArray() { Release(); }

  bool Allocate(std::size_t n) {
    Release();
    if (n == 0) return true;
    void* p = MapPages(n * sizeof(T));
    if (p == nullptr) return false;
    data_ = static_cast<T*>(p);
    size_ = n;
    return true;
  }
  void Release() {
    UnmapPages(data_, size_ * sizeof(T));
    data_ = nullptr;
    size_ = 0;
  }
  T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// What Insert's caller decides when a key is already there.
enum class OnDuplicate { kKeepSeen, kReplaceSeen };

class KeyHashIndex {
 public:
  // Room for `entries.size()` keys; false (errno set) when the mapping
  // fails. `entries` must outlive the index.
  bool Allocate(std::span<const Entry> entries) {
    entries_ = entries;
    std::size_t capacity = 16;
    while (capacity < 2 * entries.size()) capacity *= 2;
    mask_ = capacity - 1;
    // Random probes over megabytes: the mapping's huge pages (util/pages.h)
    // spare a TLB miss per probe and most page faults.
    return slots_.Allocate(capacity);
  }

  // Inserts every entry in source order. A new key calls fresh(j); a key
  // seen before at `seen` calls duplicate(j, seen), whose answer says
  // which of the two the index keeps.
  template <typename Fresh, typename Duplicate>
  void InsertAll(Fresh&& fresh, Duplicate&& duplicate) {
    // Hash kAhead entries ahead of the one placed and prefetch its slot:
    // the table is far larger than the caches, and every probe would
    // otherwise wait for memory.
    constexpr std::size_t kAhead = 16;
    std::uint64_t ring[kAhead];
    const std::size_t n = entries_.size();
    for (std::size_t i = 0; i < n + kAhead; ++i) {
      // Place entry i - kAhead first: its hash is in the ring slot that
      // entry i's takes.
      if (i >= kAhead) {
        const std::size_t j = i - kAhead;
        Place(static_cast<std::uint32_t>(j), ring[i % kAhead], fresh,
              duplicate);
      }
      if (i < n) {
        const std::uint64_t h = Hash(entries_[i].key());
        ring[i % kAhead] = h;
        __builtin_prefetch(&slots_.data()[h & mask_], 1);
      }
    }
  }

  // The index of the entry kept under `key`.
  std::optional<std::uint32_t> Find(std::string_view key) const {
    if (slots_.data() == nullptr) return std::nullopt;
    const std::uint64_t h = Hash(key);
    const std::uint64_t tag = h >> 32;
    for (std::uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const std::uint64_t s = slots_.data()[pos];
      if (s == 0) return std::nullopt;
      if (s >> 32 != tag) continue;
      const auto seen = static_cast<std::uint32_t>(s) - 1;
      if (entries_[seen].key() == key) return seen;
    }
  }

  void Release() { slots_.Release(); }

 private:
  static std::uint64_t Hash(std::string_view key) {
    return XXH3_64bits(key.data(), key.size());
  }

  template <typename Fresh, typename Duplicate>
  void Place(std::uint32_t j, std::uint64_t h, Fresh& fresh,
             Duplicate& duplicate) {
    const std::string_view key = entries_[j].key();
    const std::uint64_t tag = h >> 32;
    const std::uint64_t mine = tag << 32 | (std::uint64_t{j} + 1);
    std::uint64_t* slots = slots_.data();
    for (std::uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const std::uint64_t s = slots[pos];
      if (s == 0) {
        slots[pos] = mine;
        fresh(j);
        return;
      }
      if (s >> 32 != tag) continue;
      const auto seen = static_cast<std::uint32_t>(s) - 1;
      if (entries_[seen].key() != key) continue;
      if (duplicate(j, seen) == OnDuplicate::kReplaceSeen) slots[pos] = mine;
      return;
    }
  }

  std::span<const Entry> entries_;
  MappedArray<std::uint64_t> slots_;
  std::uint64_t mask_ = 0;
};

}  // namespace mapctl

#endif  // MAPCTL_TABLES_KEY_HASH_INDEX_H_
