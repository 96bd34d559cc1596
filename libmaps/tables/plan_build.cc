// tables/plan_build.cc - PlanBuild(): key order, duplicates, key-size limits.
//
// LMDB wants keys in memcmp order, shorter first on a common prefix. Keys
// never contain NUL, so that is also the order of "key\0" (what is
// stored), and a key padded with zero bytes sorts like the key itself.
//
// The sort is a most-significant-chunk radix: every entry gets a 16-byte
// slot {next 12 key bytes as a big-endian 64-bit and 32-bit word, index};
// slots are sorted by (chunk, index) with integer compares only; runs of
// equal chunks are refilled with the following 12 bytes and sorted again.
// The first fill reads entries and keys in source order; only the refills
// touch them out of order, and they are prefetched. 12 bytes rather than
// 8 because sender keys share their first 8 ("user1234", "@tenant5")
// often enough that an 8-byte chunk sent nearly every slot through a
// refill, i.e. a cache miss per entry; not 16, because the slots are the
// plan's peak memory beside the source and its entries. A run whose keys
// all end within the chunk just compared holds equal keys: a duplicate
// group, already in source order because the index breaks ties.
//
// Memory matters here (the whole source is in memory already): the slots
// live in their own anonymous mapping, returned to the system before the
// writer starts, whatever malloc's trim thresholds are.
//
// Types whose writer does not want key order (cdb: records in source
// order, as postmap writes them) skip the sort: duplicates are found with
// an open-addressing hash table of {XXH3 tag, index} slots, about twice
// as many slots as entries, filled in source order. Only a tag match
// looks at the keys. The plan is then source order minus the losers, and
// the warnings come out in line order by construction, with the same
// texts and winners as the sorted path.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mapctl/table.h"
#include "tables/key_hash_index.h"
#include "tables/table_backends.h"
#include "util/pages.h"

namespace mapctl {
namespace {

constexpr std::uint32_t kChunkBytes = 12;

struct Slot {
  // key bytes [offset, offset+12), big-endian words, 0-padded
  std::uint64_t hi;
  std::uint32_t lo;
  std::uint32_t index;  // into entries (source order)

  bool SameChunk(const Slot& o) const noexcept {
    return hi == o.hi && lo == o.lo;
  }
};
static_assert(sizeof(Slot) == 16);

using SlotArray = MappedArray<Slot>;

// A function object, not a function: std::sort given a function pointer
// may call through it for every comparison (GCC 12 did, here).
struct SlotLess {
  bool operator()(const Slot& a, const Slot& b) const noexcept {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    return a.index < b.index;
  }
};

inline std::uint64_t LoadChunk(const char* key, std::uint32_t size,
                               std::uint32_t offset) {
  if (offset >= size) return 0;
  std::uint32_t n = std::min<std::uint32_t>(8, size - offset);
  std::uint64_t v = 0;
  if (n == 8) {
    std::memcpy(&v, key + offset, 8);
  } else {
    unsigned char buf[8] = {};
    std::memcpy(buf, key + offset, n);
    std::memcpy(&v, buf, 8);
  }
  return __builtin_bswap64(v);  // big-endian: integer order = byte order
}

inline void FillSlot(Slot* slot, std::string_view key, std::uint32_t offset) {
  const auto size = static_cast<std::uint32_t>(key.size());
  slot->hi = LoadChunk(key.data(), size, offset);
  slot->lo =
      static_cast<std::uint32_t>(LoadChunk(key.data(), size, offset + 8) >> 32);
}

struct Range {
  std::uint32_t begin, end, offset;
};

using Groups = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

// Sorts s[begin, end) fully; appends [begin, end) of each duplicate group
// to dups.
void SortSlots(std::span<const Entry> entries, Slot* s, std::uint32_t begin,
               std::uint32_t end, Groups* dups) {
  std::vector<Range> stack;
  stack.push_back({begin, end, 0});
  while (!stack.empty()) {
    Range r = stack.back();
    stack.pop_back();
    std::sort(s + r.begin, s + r.end, SlotLess{});
    const std::uint32_t next = r.offset + kChunkBytes;
    for (std::uint32_t i = r.begin; i < r.end;) {
      std::uint32_t j = i + 1;
      while (j < r.end && s[j].SameChunk(s[i])) ++j;
      if (j - i > 1) {
        // Equal chunks: the keys agree on bytes [0, next). If one ended
        // inside, its zero padding means all did (keys hold no NUL); then
        // they are equal. Otherwise compare the next 12 bytes.
        constexpr std::uint32_t kAhead = 8;
        for (std::uint32_t k = i; k < j && k < i + kAhead; ++k) {
          __builtin_prefetch(&entries[s[k].index]);
        }
        bool longer = false;
        for (std::uint32_t k = i; k < j; ++k) {
          if (k + kAhead < j) __builtin_prefetch(&entries[s[k + kAhead].index]);
          if (k + kAhead / 2 < j) {
            __builtin_prefetch(entries[s[k + kAhead / 2].index].key().data() +
                               next);
          }
          std::string_view key = entries[s[k].index].key();
          longer |= key.size() > next;
          FillSlot(&s[k], key, next);
        }
        if (longer) {
          stack.push_back({i, j, next});
        } else {
          dups->push_back({i, j});
        }
      }
      i = j;
    }
  }
}

// SortSlots() on both cores for a large table: the slots are split by
// their first 8 key bytes at a sampled median, so that a run of equal
// chunks (and with it every duplicate group) stays on one side, and the
// two sides are sorted apart. The sort is most of a plan's time.
void SortSlotsParallel(std::span<const Entry> entries, SlotArray& slots,
                       Groups* dups) {
  Slot* s = slots.data();
  const auto n = static_cast<std::uint32_t>(slots.size());
  constexpr std::uint32_t kMinParallel = 1u << 18;  // below: not worth a thread
  constexpr std::uint32_t kSamples = 1024;
  if (n < kMinParallel || std::thread::hardware_concurrency() < 2) {
    SortSlots(entries, s, 0, n, dups);
    return;
  }
  std::vector<std::uint64_t> sample(kSamples);
  for (std::uint32_t i = 0; i < kSamples; ++i) {
    sample[i] = s[static_cast<std::uint64_t>(i) * n / kSamples].hi;
  }
  std::nth_element(sample.begin(), sample.begin() + kSamples / 2, sample.end());
  const std::uint64_t pivot = sample[kSamples / 2];
  const auto below = [pivot](const Slot& x) { return x.hi < pivot; };
  const auto mid =
      static_cast<std::uint32_t>(std::partition(s, s + n, below) - s);
  Groups upper;
  std::thread worker([&] { SortSlots(entries, s, mid, n, &upper); });
  SortSlots(entries, s, 0, mid, dups);
  worker.join();
  dups->insert(dups->end(), upper.begin(), upper.end());
}

// The writers that want key order: LMDB (MDB_APPEND) and btree (sorted
// inserts fill its pages). cdb writes records in source order; hash
// buckets have nothing to do with key order.
bool WantsKeyOrder(TableType type) {
  return type == TableType::kLmdb || type == TableType::kBtree;
}

// Duplicates by hashing, for writers that take source order (see the file
// comment). Fills `order` (source order, losers left out) and `skipped`
// ((duplicate, kept) pairs in source order of the duplicate, for
// kFirstWarn only).
Status PlanBySourceOrder(
    std::span<const Entry> entries, DuplicatePolicy policy,
    std::string_view origin, PlanOrder* order,
    std::vector<std::pair<std::uint32_t, std::uint32_t>>* skipped) {
  KeyHashIndex index;
  if (!index.Allocate(entries)) {
    return Status::IoError("plan " + std::string(origin), errno);
  }
  order->reserve(entries.size());
  std::vector<std::uint8_t> dropped;  // kLast: earlier records replaced
  index.InsertAll([&](std::uint32_t j) { order->push_back(j); },
                  [&](std::uint32_t j, std::uint32_t seen) {
                    switch (policy) {
                      case DuplicatePolicy::kFirstWarn:
                        skipped->emplace_back(j, seen);
                        break;
                      case DuplicatePolicy::kFirst:
                        break;
                      case DuplicatePolicy::kLast:
                        // The later record replaces the earlier one (postmap
                        // -r; for cdb, CDB_PUT_REPLACE drops the earlier
                        // record).
                        if (dropped.empty()) dropped.resize(entries.size());
                        dropped[seen] = 1;
                        order->push_back(j);
                        return OnDuplicate::kReplaceSeen;
                    }
                    return OnDuplicate::kKeepSeen;
                  });
  index.Release();
  if (!dropped.empty()) {
    std::erase_if(*order, [&](std::uint32_t i) { return dropped[i] != 0; });
  }
  return Status::Ok();
}

std::string TooLongMessage(std::string_view origin, std::uint32_t line,
                           std::size_t size, std::size_t limit) {
  std::string msg(origin);
  msg += ':';
  msg += std::to_string(line);
  msg += ": key is too long for lmdb after folding (";
  msg += std::to_string(size);
  msg += " bytes, limit ";
  msg += std::to_string(limit);
  msg += ")";
  return msg;
}

// The sort (see the file comment), for writers that want key order.
// Fills `order` (key order, losers left out) and `skipped` ((duplicate,
// kept) pairs, for kFirstWarn only, in no particular order).
Status PlanByKeyOrder(
    std::span<const Entry> entries, DuplicatePolicy policy, bool lmdb,
    std::size_t nul, std::string_view origin, PlanOrder* order,
    std::vector<std::pair<std::uint32_t, std::uint32_t>>* skipped) {
  SlotArray slots;
  if (!slots.Allocate(entries.size())) {
    return Status::IoError("plan " + std::string(origin), errno);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::size_t key_size = e.key().size();
    // Postfix dies with MDB_BAD_VALSIZE at the first key LMDB refuses, so
    // the first such key in source order is the one reported. The value
    // is never quoted (sources hold secrets); the key is not quoted
    // either: at that length it is not readable anyway.
    if (lmdb && key_size + nul > kLmdbMaxKeySize) {
      return Status::InvalidArgument(
          TooLongMessage(origin, e.line(), key_size, kLmdbMaxKeySize - nul));
    }
    FillSlot(&slots.data()[i], e.key(), 0);
    slots.data()[i].index = static_cast<std::uint32_t>(i);
  }

  Groups groups;
  SortSlotsParallel(entries, slots, &groups);

  // Duplicate groups are few; mark the slots to skip, with the kept slot.
  constexpr std::uint32_t kDrop = UINT32_MAX;
  for (auto [b, e] : groups) {
    std::uint32_t keep = policy == DuplicatePolicy::kLast ? e - 1 : b;
    for (std::uint32_t k = b; k < e; ++k) {
      if (k == keep) continue;
      if (policy == DuplicatePolicy::kFirstWarn) {
        const std::uint32_t dup = slots.data()[k].index;
        const std::uint32_t kept = slots.data()[keep].index;
        skipped->emplace_back(dup, kept);
      }
      slots.data()[k].index = kDrop;
    }
  }
  // The order is compacted into the front of the slots' own memory (index
  // j is written at byte 4j, never past slot j, which is read already),
  // the rest of the mapping goes back to the system, and only then is the
  // order vector allocated: the slots and the order are the plan's peak
  // beside the source and its entries, and need not be held together.
  auto* compact = reinterpret_cast<std::uint32_t*>(slots.data());
  std::size_t kept = 0;
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const std::uint32_t index = slots.data()[k].index;
    if (index != kDrop) compact[kept++] = index;
  }
  const std::size_t used = kept * sizeof(std::uint32_t);
  DiscardMappedPages(slots.data(), used, slots.size() * sizeof(Slot) - used);
  order->assign(compact, compact + kept);
  slots.Release();  // back to the system before the writer starts

  return Status::Ok();
}

}  // namespace

Diagnostic DuplicateWarning(std::string_view origin, std::uint32_t line,
                            std::string_view key, std::uint32_t first_line) {
  Diagnostic d;
  d.severity = Severity::kWarning;
  d.kind = DiagnosticKind::kDuplicate;
  d.file = std::string(origin);
  d.line = line;
  d.message = "duplicate entry: \"";
  d.message += Excerpt(key);
  d.message += "\" (first seen on line ";
  d.message += std::to_string(first_line);
  d.message += ")";
  return d;
}

Result<BuildPlan> PlanBuild(const TableSpec& spec, Span<const Entry> entries,
                            const BuildOptions& options,
                            std::string_view origin) {
  if (entries.size() >= UINT32_MAX) {
    return Status::InvalidArgument("too many entries in " +
                                   std::string(origin));
  }
  const bool lmdb = spec.type == TableType::kLmdb;
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;

  BuildPlan plan;
  // (duplicate index, kept index) pairs for diagnostics.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> skipped;
  if (!WantsKeyOrder(spec.type)) {
    MAPCTL_RETURN_IF_ERROR(PlanBySourceOrder(entries, options.duplicates,
                                             origin, &plan.order, &skipped));
  } else {
    MAPCTL_RETURN_IF_ERROR(PlanByKeyOrder(entries, options.duplicates, lmdb,
                                          nul, origin, &plan.order, &skipped));
  }

  std::sort(skipped.begin(), skipped.end());
  plan.diagnostics.reserve(skipped.size());
  for (auto [dup, first] : skipped) {
    plan.diagnostics.push_back(DuplicateWarning(origin, entries[dup].line(),
                                                entries[dup].key(),
                                                entries[first].line()));
  }
  return plan;
}

}  // namespace mapctl
