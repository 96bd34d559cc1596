// mapctl/build.h - builds that leave an unchanged table alone.
//
// BuildTable() writes a planned build the idempotent way. It reads the
// table in place and compares it, entry by entry, with what WriteTable()
// would write. Only when they differ (or with `force`) is a new file
// written and renamed over the old one. An unchanged table keeps its
// inode and its bytes, so Postfix daemons and checksumming tools see no
// change. Two attributes may still be updated in place: the mode (the
// rule WriteTable() applies when it replaces a table) and, when the
// source is newer than the table, the mtime, which stops Postfix warning
// "database ... is older than source file ..." (docs/building.md).
//
// The comparison is over entries, never bytes. Berkeley DB writes a
// random file id into every hash and btree file, so no two builds are
// byte-identical even when their entries are.

#ifndef MAPCTL_BUILD_H_
#define MAPCTL_BUILD_H_

#include <cstddef>
#include <span>

#include "mapctl/export.h"
#include "mapctl/source.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

struct RebuildOptions {
  // Write a new table without reading the one in place (mapctl build
  // --force): also the way past a table that the comparison cannot read.
  bool force = false;
  // Count every difference, for reports (-v, -j). Without it the
  // comparison stops at the first difference.
  bool count_changes = false;
};

struct BuildResult {
  // A readable table was in place and was compared with the plan.
  bool compared = false;
  // The entries differ from the table in place, or it was not compared
  // (none, unreadable, or `force`).
  bool changed = false;
  // A new file was renamed into place (a new inode).
  bool written = false;
  // Only for a table left in place: its mode was updated, or its mtime
  // moved to the present because the source was newer.
  bool mode_updated = false;
  bool mtime_updated = false;
  // Entries only in the plan, only in the old table, and under the same
  // key with another value. Exact when `compared` and count_changes was
  // set; without a readable table, `added` is every planned entry.
  std::size_t added = 0;
  std::size_t removed = 0;
  std::size_t modified = 0;
};

// Compares (unless `force`), then either updates
// the table in place or calls WriteTable(). Raw bytes are compared: the
// key and value as the writer stores them under options.nul, so a table
// built with another NUL convention counts as changed. A table that is
// missing, not a regular file, or cannot be read (damaged, wrong type)
// is simply rebuilt, as before. When an attribute cannot be updated in
// place (EPERM), the table is rewritten instead. Errors: those of
// WriteTable(); the previous table is then untouched.
MAPCTL_EXPORT Result<BuildResult> BuildTable(const TableSpec& spec,
                                             std::span<const Entry> entries,
                                             const BuildPlan& plan,
                                             const BuildOptions& options,
                                             const SourceFileInfo& source,
                                             const RebuildOptions& rebuild);

}  // namespace mapctl

#endif  // MAPCTL_BUILD_H_
