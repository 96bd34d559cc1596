// mapctl/update.h - changing a table in place, as postmap -i and -d do.
//
// A build replaces a table; an update changes it where it is, under
// Postfix's exclusive lock for the type (fcntl for lmdb, as postmap -d
// takes it; flock for .db files), so Postfix's readers and other
// lock-taking writers stay correct. For lmdb one transaction covers the
// whole batch: a reader sees the table before or after it, never in
// between (postmap commits each record separately). cdb tables cannot be
// changed in place (postmap cannot either): rebuild them.

#ifndef MAPCTL_UPDATE_H_
#define MAPCTL_UPDATE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/source.h"
#include "mapctl/span.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

struct UpdateOptions {
  NulMode nul = NulMode::kDefault;  // kDefault writes the type's default
  // An entry whose key is already in the table (or earlier in the batch)
  // is a duplicate, as in postmap -i: kFirstWarn keeps the table's value
  // and warns, kFirst keeps it silently (-w), kLast replaces it (-r).
  DuplicatePolicy duplicates = DuplicatePolicy::kFirstWarn;
  // For a table -i has to create: the build rules (postmap -p / -o).
  bool copy_source_mode = true;
  bool take_source_owner = true;
};

struct UpdateReport {
  std::size_t written = 0;              // entries added or replaced
  std::vector<Diagnostic> diagnostics;  // kDuplicate warnings, line order
};

// postmap -i: adds `entries` (keys already folded, in input order) to the
// table. A table that does not exist is built from them, as a build would
// (temporary file and rename). `origin` names the input in diagnostics.
// Errors: kUnsupported for cdb and types mapctl cannot write, I/O, a key
// too long for the type, a table that fails the checks made before
// trusting it.
MAPCTL_EXPORT Result<UpdateReport> AddToTable(const TableSpec& spec,
                                              Span<const Entry> entries,
                                              const UpdateOptions& options,
                                              const SourceFileInfo& input,
                                              std::string_view origin);

// postmap -d: deletes each key (already folded), trying "key\0" and then
// "key" as a Postfix reader would. Returns how many keys were deleted.
// Errors: a missing table (postmap 3.7 creates an empty one: mapctl does
// not), kUnsupported for cdb, I/O.
MAPCTL_EXPORT Result<std::size_t> DeleteFromTable(
    const TableSpec& spec, Span<const std::string> keys, NulMode nul);

}  // namespace mapctl

#endif  // MAPCTL_UPDATE_H_
