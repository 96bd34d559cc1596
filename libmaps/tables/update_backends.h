// tables/update_backends.h - in-place updates per table type (internal).

#ifndef MAPCTL_LIBMAPS_TABLES_UPDATE_BACKENDS_H_
#define MAPCTL_LIBMAPS_TABLES_UPDATE_BACKENDS_H_

#include <span>
#include <string>

#include "mapctl/update.h"

namespace mapctl {

// lmdb_update.cc. REQUIRES: the table file exists.
Result<UpdateReport> AddToLmdbTable(const TableSpec& spec,
                                    std::span<const Entry> entries,
                                    const UpdateOptions& options,
                                    std::string_view origin);
Result<std::size_t> DeleteFromLmdbTable(const TableSpec& spec,
                                        std::span<const std::string> keys,
                                        NulMode nul);

// bdb_update.cc: hash and btree, under an exclusive flock on the .db file
// for the whole batch. REQUIRES: the table file exists. Without Berkeley
// DB support compiled in, both return BdbUnavailable(type).
Result<UpdateReport> AddToBdbTable(const TableSpec& spec,
                                   std::span<const Entry> entries,
                                   const UpdateOptions& options,
                                   std::string_view origin);
Result<std::size_t> DeleteFromBdbTable(const TableSpec& spec,
                                       std::span<const std::string> keys,
                                       NulMode nul);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_UPDATE_BACKENDS_H_
