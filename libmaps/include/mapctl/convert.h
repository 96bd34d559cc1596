// mapctl/convert.h - re-encoding a table as another type (migration off
// Berkeley DB: hash:/btree: to lmdb: or cdb:).

#ifndef MAPCTL_CONVERT_H_
#define MAPCTL_CONVERT_H_

#include <cstddef>

#include "mapctl/export.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

// Reads every entry of `from` (any type mapctl reads) as Postfix reads it
// (key and value up to the first NUL) and writes them to `to` as postmap
// writes that type (its NUL convention unless options.nul says otherwise),
// built aside and renamed like any build. The new table's mode and owner
// follow the build rules, taken from the text source `from.path` when it
// exists — so a legacy world-readable .db does not pass its mode on — and
// from the old table file otherwise. Returns the number of entries.
MAPCTL_EXPORT Result<std::size_t> ConvertTable(const TableSpec& from,
                                               const TableSpec& to,
                                               const BuildOptions& options);

}  // namespace mapctl

#endif  // MAPCTL_CONVERT_H_
