// mapctl/diff.h - comparing two maps entry by entry.
//
// Either side is a built table or a source parsed as postmap would build
// it. Entries compare by content: the key and the value as Postfix reads
// them (up to the first NUL), so a table built with a trailing NUL equals
// one built without (-n). Results are exact: every equality is a byte
// comparison.

#ifndef MAPCTL_DIFF_H_
#define MAPCTL_DIFF_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "mapctl/export.h"
#include "mapctl/source.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

// One side of a diff: entries in bytewise key order, each key once.
// Not thread-safe.
class MAPCTL_EXPORT EntryStream {
 public:
  virtual ~EntryStream();
  // Advances to the next entry; false at the end. The views stay valid
  // until the next call.
  virtual Result<bool> Next(std::string_view* key, std::string_view* value) = 0;
};

// The entries of a parsed source as postmap would store them: keys as
// parsed (already folded), duplicates resolved by `policy`. Borrows
// `parsed`, which must outlive the stream.
MAPCTL_EXPORT std::unique_ptr<EntryStream> StreamSource(
    const ParsedMap& parsed, DuplicatePolicy policy);

// The entries of a table. A table whose Scan is in key order is read in
// chunks of `chunk_entries`, each under its own read unit and copied out,
// so no lock is held between calls; an unordered table is read whole and
// sorted. A table rewritten in place between chunks is kChanged. Borrows
// `reader`.
MAPCTL_EXPORT std::unique_ptr<EntryStream> StreamTable(
    TableReader& reader, std::size_t chunk_entries = 65536);

enum class DiffOp : std::uint8_t { kAdded, kRemoved, kChanged };

struct DiffCounts {
  std::size_t added = 0;
  std::size_t removed = 0;
  std::size_t changed = 0;
  std::size_t same = 0;
  bool identical() const { return added == 0 && removed == 0 && changed == 0; }
};

// Calls `visit` for each difference, in key order: kAdded (only in
// `new_side`: new_value set), kRemoved (only in `old_side`: old_value
// set), kChanged (both). Returning false from `visit` stops early (the
// counts are then partial). Errors come from the streams.
using DiffVisitor = std::function<bool(DiffOp op, std::string_view key,
                                       std::string_view old_value,
                                       std::string_view new_value)>;
MAPCTL_EXPORT Result<DiffCounts> DiffStreams(EntryStream& old_side,
                                             EntryStream& new_side,
                                             const DiffVisitor& visit);

}  // namespace mapctl

#endif  // MAPCTL_DIFF_H_
