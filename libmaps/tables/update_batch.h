// tables/update_batch.h - one postmap -i or -d batch as every in-place
// backend runs it (internal): the room it needs, its duplicates, and the
// key forms a delete tries. A backend gives the one put or delete its
// engine does; the rules around it stay the same for every type.

#ifndef MAPCTL_LIBMAPS_TABLES_UPDATE_BATCH_H_
#define MAPCTL_LIBMAPS_TABLES_UPDATE_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "mapctl/update.h"

namespace mapctl {

// The bytes `entries` bring to a table: keys and values plus `per_entry`
// for the engine's own record overhead. Sizes the engine's room before the
// batch starts.
std::uint64_t BatchBytes(std::span<const Entry> entries, std::size_t per_entry);

// Stores one entry under `key` and `value`, which carry the trailing NUL
// when options.nul asks for it. False: the key was stored already and
// nothing was written (only asked for when options.duplicates is not
// kLast). An error stops the batch; it names the entry's line.
using PutEntry = std::function<Result<bool>(
    const Entry& entry, std::string_view key, std::string_view value)>;

// Puts `entries` in input order, as postmap -i does: a key already in the
// table keeps its value, with a kDuplicate warning naming `origin` under
// kFirstWarn. The report counts the entries `put` wrote.
Result<UpdateReport> PutEntries(std::span<const Entry> entries,
                                const UpdateOptions& options,
                                std::string_view origin, const PutEntry& put);

// Deletes one stored key (exactly these bytes). True: it was there.
using DeleteKey = std::function<Result<bool>(std::string_view stored_key)>;

// Deletes `keys` as dict_db.c and dict_lmdb.c do for postmap -d: "key\0"
// first, then "key"; once one form hits, only that form is tried for the
// keys after it. Empty keys are skipped, and so are forms longer than
// `max_key_size` (a key the engine cannot hold is not there). Returns how
// many keys were deleted; the first error from `del` stops the batch.
Result<std::size_t> DeleteKeys(std::span<const std::string> keys, NulMode nul,
                               std::size_t max_key_size, const DeleteKey& del);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_UPDATE_BATCH_H_
