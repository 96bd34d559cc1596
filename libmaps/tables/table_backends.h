// tables/table_backends.h - what each table type implements (internal).
//
// table.cc dispatches on TableType to these. Each backend lives in its own
// files and is the only user of its engine's headers.

#ifndef MAPCTL_LIBMAPS_TABLES_TABLE_BACKENDS_H_
#define MAPCTL_LIBMAPS_TABLES_TABLE_BACKENDS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/table.h"

namespace mapctl {

// The error OpenOptions::verify gives for a table with `problems`
// (non-empty): kCorruption naming `name` and the first problem.
Status DamagedTable(const std::string& name,
                    const std::vector<std::string>& problems);

// The size of the table file open on `fd` (named `name`), checked before
// any engine trusts the file: a regular file ("open database NAME: not a
// regular file", kInvalidArgument) that is not empty ("NAME: empty file
// (zero length), not KIND table", kCorruption; `kind` is "an LMDB", "a
// Berkeley DB"). kIoError if fstat fails.
Result<std::uint64_t> TableFileSize(int fd, const std::string& name,
                                    std::string_view kind);

// The warning for a duplicate key at `line` whose first occurrence is on
// `first_line` (plan_build.cc; the cdb writer gives the same).
Diagnostic DuplicateWarning(std::string_view origin, std::uint32_t line,
                            std::string_view key, std::uint32_t first_line);

// Whether the read units of `type` return views into a map of the file
// that stay valid for the life of the unit (lmdb and cdb map their files),
// not into a buffer the next call reuses (Berkeley DB).
inline bool UnitsViewTheMap(TableType type) noexcept {
  return type == TableType::kLmdb || type == TableType::kCdb;
}

// LMDB (lmdb_reader.cc, lmdb_writer.cc, lmdb_verify.cc).
// Longest key LMDB stores, the trailing NUL included (MDB_MAXKEYSIZE).
inline constexpr std::size_t kLmdbMaxKeySize = 511;
// `verify`: OpenOptions::verify.
Result<std::unique_ptr<TableReader>> OpenLmdbTable(const TableSpec& spec,
                                                   bool verify = false);
Status WriteLmdbTable(const TableSpec& spec, std::span<const Entry> entries,
                      const BuildPlan& plan, const BuildOptions& options,
                      const SourceFileInfo& source);
Status VerifyLmdbTable(const TableSpec& spec,
                       std::vector<std::string>* problems);

// cdb (cdb_reader.cc, cdb_writer.cc, cdb_verify.cc; layout in cdb_format.h).
Result<std::unique_ptr<TableReader>> OpenCdbTable(const TableSpec& spec);
Status WriteCdbTable(const TableSpec& spec, std::span<const Entry> entries,
                     const BuildPlan& plan, const BuildOptions& options,
                     const SourceFileInfo& source);
Status VerifyCdbTable(const TableSpec& spec,
                      std::vector<std::string>* problems);
// BuildTableFromSource() for cdb (cdb_build.cc).
Status BuildCdbFromSource(const TableSpec& spec, const std::string& source_path,
                          const ParseOptions& parse, const BuildOptions& options,
                          const SourceFileInfo& source, bool strict,
                          SourceBuildResult* result);
namespace cdb {
inline constexpr std::size_t kHeaderSize = 2048;
// The cdb hash of a key: h = 5381, then h = ((h << 5) + h) ^ byte.
std::uint32_t Hash(std::string_view key) noexcept;
// Hash() of keys[0..n), n <= 4, four at a time when n == 4.
void Hash4(const std::string_view* keys, int n, std::uint32_t* out) noexcept;
// VerifyCdbTable()'s walk over an in-memory image of a whole file; one
// string per problem. Never crashes (tests/fuzz/cdb_verify_fuzz.cc).
void VerifyCdbImage(const unsigned char* data, std::size_t size,
                    std::vector<std::string>* problems);
}  // namespace cdb

// Berkeley DB hash and btree (bdb_reader.cc, bdb_writer.cc, bdb_verify.cc;
// the seam to libdb in bdb_handle.h). Without Berkeley DB support
// compiled in (meson -Dbdb=disabled), every call returns
// BdbUnavailable(type).
inline constexpr bool kHaveBdb =
#ifdef MAPCTL_HAVE_BDB
    true;
#else
    false;
#endif
Status BdbUnavailable(TableType type);
Result<std::unique_ptr<TableReader>> OpenBdbTable(const TableSpec& spec,
                                                  bool verify = false);
Status WriteBdbTable(const TableSpec& spec, std::span<const Entry> entries,
                     const BuildPlan& plan, const BuildOptions& options,
                     const SourceFileInfo& source);
Status VerifyBdbTable(const TableSpec& spec,
                      std::vector<std::string>* problems);
namespace bdb {
// Knobs of WriteBdbTable() for tests and benchmarks; zero means "the
// writer decides".
struct WriterTuning {
  std::uint64_t cache_bytes = 0;
};
Status WriteBdbTableTuned(const TableSpec& spec, std::span<const Entry> entries,
                          const BuildPlan& plan, const BuildOptions& options,
                          const SourceFileInfo& source,
                          const WriterTuning& tuning);
}  // namespace bdb

// texthash (texthash_table.cc): the source parsed into memory at open.
Result<std::unique_ptr<TableReader>> OpenTexthashTable(
    const TableSpec& spec, const OpenOptions& options);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_TABLE_BACKENDS_H_
