// check/line_index.h - where each key of a parsed source was first written,
// kept after the parse is gone.
//
// check points its findings at source lines, but holding a million-entry
// source whole (its text and entries, over 100 MB) for the few keys a
// finding names is too dear. The index keeps a 64-bit hash and a line per
// distinct key (12 bytes), and the keys themselves only where two of them
// share a hash.

#ifndef MAPCTL_LIBMAPS_CHECK_LINE_INDEX_H_
#define MAPCTL_LIBMAPS_CHECK_LINE_INDEX_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapctl/page_allocator.h"
#include "mapctl/source.h"

namespace mapctl::check {

class LineIndex {
 public:
  // Indexes `entries` (in source order), replacing what was there, and
  // returns the positions of the entries that repeat an earlier key, in
  // order.
  std::vector<std::uint32_t> Build(std::span<const Entry> entries);

  // The line of the first entry with `key`; 0 when no entry has it. Exact
  // for every key of the source; a key the source does not have matches
  // another's line only if their 64-bit hashes are equal (odds about
  // n / 2^64 a query).
  std::uint32_t LineOf(std::string_view key) const;

 private:
  // Large arrays (mapctl/page_allocator.h). hashes_: ascending, one per
  // distinct key; lines_: by position, 0 meaning "look in shared_".
  std::vector<std::uint64_t, PageAllocator<std::uint64_t>> hashes_;
  std::vector<std::uint32_t, PageAllocator<std::uint32_t>> lines_;
  // Keys whose hash another key shares, with their lines: sorted.
  std::vector<std::pair<std::string, std::uint32_t>> shared_;
};

}  // namespace mapctl::check

#endif  // MAPCTL_LIBMAPS_CHECK_LINE_INDEX_H_
