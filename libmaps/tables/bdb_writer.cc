// tables/bdb_writer.cc - hash: and btree: tables written through Berkeley
// DB 5.3.
//
// What Postfix writes (util/dict_db.c, global/mkmap_db.c; spec 4.5): one
// file <name>.db, DB_HASH or DB_BTREE with 4096-byte pages and the default
// hash function and key comparison, key + NUL and value + NUL unless -n.
// postmap truncates the .db in place under an exclusive flock; we build a
// new file beside it and rename it over (readers notice st_nlink == 0 as
// they do for cdb: bdb_reader.cc).
//
// The temporary file: AtomicFile creates it exclusively (O_EXCL,
// O_NOFOLLOW) and holds its flock. Berkeley DB then opens that same path
// with DB_CREATE: it finds a zero-length file, takes it for one it is
// creating and initialises it in place (open O_RDWR|O_CREAT, no unlink,
// seen with strace), so the mode and owner AtomicFile set stay. Before
// writing we check that Berkeley DB's descriptor is our inode, so a name
// swapped in between cannot receive the table.
//
// No DB_ENV: a standalone handle has a private cache and never reads a
// DB_CONFIG file (Postfix's environment, homed in the table's directory,
// would). Postfix's readers do not care how the file was made.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "mapctl/table.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"
#include "util/atomic_file.h"

#ifdef MAPCTL_HAVE_BDB
#include "tables/bdb_handle.h"
#endif

namespace mapctl {

#ifndef MAPCTL_HAVE_BDB

Status WriteBdbTable(const TableSpec& spec, std::span<const Entry>,
                     const BuildPlan&, const BuildOptions&,
                     const SourceFileInfo&) {
  return BdbUnavailable(spec.type);
}

#else  // MAPCTL_HAVE_BDB

namespace bdb {
namespace {

constexpr std::uint32_t kPageSize = 4096;  // mkmap_db.c
// Postfix builds with berkeley_db_create_buffer_size, 16 MiB. A cache about
// as large as the data keeps most pages from being written back and read
// again while the hash splits its buckets: on the 1M-entry map, 16 MiB
// costs 5.9 s of CPU, 128 MiB 2.0 s, 256 MiB 1.9 s (docs/table-formats.md).
// The cap bounds the memory a huge table can take.
constexpr std::uint32_t kMinBuildCache = 16u << 20;
constexpr std::uint64_t kMaxBuildCache = 256ull << 20;
constexpr std::size_t kProgressEvery = 65536;

}  // namespace

Status WriteBdbTableTuned(const TableSpec& spec, std::span<const Entry> entries,
                          const BuildPlan& plan, const BuildOptions& options,
                          const SourceFileInfo& source,
                          const WriterTuning& tuning) {
  const std::string target = spec.FileName();
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;
  for (std::uint32_t idx : plan.order) {
    if (idx >= entries.size()) {
      return Status::InvalidArgument("build plan does not match its entries");
    }
  }
  // For the cache size; dropped duplicates included (a sequential pass).
  std::uint64_t bytes = 0;
  for (const Entry& e : entries)
    bytes += e.key().size() + e.value().size() + 32;

  Result<std::unique_ptr<AtomicFile>> file =
      AtomicFile::Create(target, BuildFileOptions(options, source));
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;

  const std::size_t total = plan.order.size();
  std::uint64_t cache = tuning.cache_bytes;
  if (cache == 0) {
    cache = std::clamp<std::uint64_t>(bytes, kMinBuildCache, kMaxBuildCache);
  }
  MessageScope scope;
  Result<DbPtr> handle = NewHandle(out.temp_path(), cache, scope);
  if (!handle) return std::move(handle).error();
  DbPtr db = std::move(handle).value();
  DB* raw = db.get();
  if (int rc = raw->set_pagesize(raw, kPageSize); rc != 0) {
    return FromDb(rc, "set page size for " + out.temp_path(), scope.first());
  }
  if (spec.type == TableType::kHash) {
    // As mkmap_db.c does; without a fill factor it is only a hint.
    (void)raw->set_h_nelem(raw, 4096);
  }
  // The file exists (empty): Berkeley DB initialises it in place.
  if (int rc = raw->open(raw, nullptr, out.temp_path().c_str(), nullptr,
                         DbType(spec.type), DB_CREATE, 0600);
      rc != 0) {
    db.release();
    raw->close(raw, 0);
    // libdb writes the meta page here: a full disk shows up already.
    return ExplainBuildFailure(
        FromDb(rc, "open database " + out.temp_path(), scope.first()), out.fd(),
        target);
  }
  scope.clear();  // its complaint about the empty file is expected
  int dbfd = -1;
  if (int rc = raw->fd(raw, &dbfd); rc != 0) {
    return FromDb(rc, "open database " + out.temp_path(), scope.first());
  }
  if (!SameInode(out.fd(), dbfd)) {
    return Status::IoError(
        "open database " + out.temp_path() + " (replaced while opening)",
        EEXIST);
  }

  // btree: PlanBuild's order is key order, which is also the default
  // comparator's order of "key\0"; sorted inserts fill pages well.
  const std::uint32_t* idx = plan.order.data();
  std::size_t next_progress = kProgressEvery;
  for (std::size_t i = 0; i < total; ++i) {
    const Entry& e = entries[idx[i]];
    // Entry guarantees a NUL just past each view.
    DBT k = ToDbt(e.key().data(), e.key().size() + nul);
    DBT v = ToDbt(e.value().data(), e.value().size() + nul);
    if (int rc = raw->put(raw, nullptr, &k, &v, 0); rc != 0) {
      return ExplainBuildFailure(
          FromDb(rc,
                 "write " + out.temp_path() + " (entry at line " +
                     std::to_string(e.line()) + ")",
                 scope.first()),
          out.fd(), target);
    }
    if (options.progress && i + 1 >= next_progress) {
      options.progress(i + 1, total);
      next_progress += kProgressEvery;
    }
  }
  // Close writes the cache back; Commit() then syncs the same inode.
  db.release();
  if (int rc = raw->close(raw, 0); rc != 0) {
    return ExplainBuildFailure(
        FromDb(rc, "close " + out.temp_path(), scope.first()), out.fd(),
        target);
  }
  if (options.progress) options.progress(total, total);
  return out.Commit();
}

}  // namespace bdb

Status WriteBdbTable(const TableSpec& spec, std::span<const Entry> entries,
                     const BuildPlan& plan, const BuildOptions& options,
                     const SourceFileInfo& source) {
  return bdb::WriteBdbTableTuned(spec, entries, plan, options, source,
                                 bdb::WriterTuning{});
}

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
