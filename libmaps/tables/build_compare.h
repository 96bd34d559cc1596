// tables/build_compare.h - the planned entries against the table in place
// (internal; BuildTable() in mapctl/build.h is the public face).

#ifndef MAPCTL_LIBMAPS_TABLES_BUILD_COMPARE_H_
#define MAPCTL_LIBMAPS_TABLES_BUILD_COMPARE_H_

#include <cstddef>
#include <span>

#include "mapctl/source.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

struct TableComparison {
  // The table could be opened; without it the other fields are zero.
  bool readable = false;
  // It holds exactly the planned entries, byte for byte.
  bool same = false;
  // Every difference was counted (count_all, and the table's key order
  // was as its type promises).
  bool complete = false;
  std::size_t added = 0;     // planned keys the table lacks
  std::size_t removed = 0;   // table records whose key is not planned
  std::size_t modified = 0;  // same key, other value
};

// The NUL byte the writers append to keys and values: lmdb, hash and
// btree unless -n, cdb only with -N (postmap's defaults per type).
std::size_t StoredNulBytes(TableType type, NulMode nul) noexcept;

// Reads spec's table once, in its own order, and compares its raw
// records with `plan` as the writer would store them. Sorted tables
// (lmdb, btree) are merged with the key-ordered plan; cdb is first walked
// in lockstep with the plan (a table built from the same source has its
// records in plan order), and hash, or cdb after the first record out of
// step, is matched through a hash index of the rest of the plan. O(n)
// either way. Without `count_all` it stops at the first difference.
// The table is verified first (OpenOptions::verify): a damaged one, like
// one that cannot be opened, is not an error (readable stays false);
// errors are reads that fail once the table is open.
Result<TableComparison> CompareWithTable(const TableSpec& spec,
                                         std::span<const Entry> entries,
                                         const BuildPlan& plan, NulMode nul,
                                         bool count_all);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_BUILD_COMPARE_H_
