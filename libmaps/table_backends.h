// table_backends.h - what each table type implements (internal).
//
// table.cc dispatches on TableType to these. Each backend lives in its own
// files and is the only user of its engine's headers.

#ifndef MAPCTL_LIBMAPS_TABLE_BACKENDS_H_
#define MAPCTL_LIBMAPS_TABLE_BACKENDS_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mapctl/table.h"

namespace mapctl {

// LMDB (lmdb_reader.cc, lmdb_writer.cc, lmdb_verify.cc).
// Longest key LMDB stores, the trailing NUL included (MDB_MAXKEYSIZE).
inline constexpr std::size_t kLmdbMaxKeySize = 511;
Result<std::unique_ptr<TableReader>> OpenLmdbTable(const TableSpec& spec);
Status WriteLmdbTable(const TableSpec& spec, std::span<const Entry> entries,
                      const BuildPlan& plan, const BuildOptions& options,
                      const SourceFileInfo& source);
Status VerifyLmdbTable(const TableSpec& spec,
                       std::vector<std::string>* problems);

// texthash (texthash_table.cc): the source parsed into memory at open.
Result<std::unique_ptr<TableReader>> OpenTexthashTable(
    const TableSpec& spec, const OpenOptions& options);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLE_BACKENDS_H_
