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
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"
#include "util/atomic_file.h"

#ifdef MAPCTL_HAVE_BDB
#include "tables/bdb_handle.h"
#include "tables/ordered_batches.h"
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
// Postfix builds with berkeley_db_create_buffer_size, 16 MiB; so does a
// presized hash table filled by bucket (below). For btree, and a hash
// table that cannot be presized, a cache about as large as the data keeps
// pages from being written back and read again (docs/table-formats.md);
// the cap bounds the memory a huge table can take.
constexpr std::uint32_t kMinBuildCache = 16u << 20;
constexpr std::uint64_t kMaxBuildCache = 256ull << 20;
constexpr std::size_t kProgressEvery = 65536;

// Berkeley DB's default hash function for DB_HASH (FNV-1 with a zero
// basis; hash/hash_func.c), over the bytes stored.
// `nul`: the stored NUL after the text (the hash of "key\0").
inline std::uint32_t DefaultBdbHash(std::string_view text, std::size_t nul) {
  std::uint32_t h = 0;
  for (char c : text) {
    h *= 16777619u;
    h ^= static_cast<unsigned char>(c);
  }
  for (std::size_t i = 0; i < nul; ++i) h *= 16777619u;  // ^= '\0'
  return h;
}

// The shape of a presized hash table. Berkeley DB splits the next bucket
// in line whenever an insert needs an overflow page, and when a bucket
// page holds more pairs than the fill factor or the table averages more
// than that; a split past a power of two reserves the next doubling of
// the file. The bucket count wanted fills bucket pages to about 70% on
// average (postmap's end up about 60% full); the table is created with
// the power of two at or below it and grows the rest of the way by the
// splits overflows cause, which walk the buckets front to back just as
// the inserts do. (Created at the power of two above, the table was
// half empty, and the first overflow still doubled the file's apparent
// size.) The fill factor is twice what an average page holds, so that
// only overflows split. Berkeley DB makes 2^ceil(log2((nelem - 1) /
// ffactor + 1)) buckets (__ham_init_meta), hence nelem.
struct HashShape {
  std::uint32_t ffactor = 0;
  std::uint32_t nelem = 0;
  std::uint32_t buckets = 0;
};

HashShape PresizedShape(std::uint64_t stored_bytes, std::size_t entries) {
  HashShape shape;
  if (entries == 0) return shape;
  // A pair costs its bytes, two 2-byte index slots and two item headers.
  const std::uint64_t per_pair = stored_bytes / entries + 8;
  const std::uint64_t per_page =
      std::max<std::uint64_t>(1, (kPageSize - 32) / per_pair);
  const std::uint64_t wanted = entries * 10 / (per_page * 7) + 1;
  std::uint64_t buckets = 2;
  while (buckets * 2 <= wanted) buckets <<= 1;
  const std::uint64_t ffactor = std::min<std::uint64_t>(2 * per_page, 65535);
  if (buckets > (1u << 30) || (buckets - 1) * ffactor + 1 > UINT32_MAX) {
    return shape;  // beyond what set_h_nelem takes: let it grow
  }
  shape.ffactor = static_cast<std::uint32_t>(ffactor);
  shape.nelem = static_cast<std::uint32_t>((buckets - 1) * ffactor + 1);
  shape.buckets = static_cast<std::uint32_t>(buckets);
  return shape;
}

// Insert order for a presized hash table: by bucket of the table as
// created, source order within one. Berkeley DB then fills its bucket pages
// front to back instead of jumping between them, so the cache holds the pages
// being written and not the whole file. A wrong guess of the bucket (another
// hash function, another bucket count) costs only speed: Berkeley DB places
// every entry itself. buckets must be a power of two, as a presized table's is.
std::vector<std::uint32_t> BucketOrder(std::span<const Entry> entries,
                                       std::span<const std::uint32_t> order,
                                       std::size_t nul, std::uint32_t buckets) {
  const std::uint32_t mask = buckets - 1;
  std::vector<std::uint32_t> bucket_of(order.size());
  std::vector<std::uint32_t> start(static_cast<std::size_t>(buckets) + 1, 0);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Entry& e = entries[order[i]];
    bucket_of[i] = DefaultBdbHash(e.key(), nul) & mask;
    ++start[bucket_of[i] + 1];
  }
  for (std::uint32_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  std::vector<std::uint32_t> out(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    out[start[bucket_of[i]]++] = order[i];
  }
  return out;
}

// The bucket count of the table Berkeley DB just created; 0 if unknown.
std::uint32_t CreatedBuckets(DB* db) {
  DB_HASH_STAT* st = nullptr;
  if (db->stat(db, nullptr, &st, DB_FAST_STAT) != 0 || st == nullptr) return 0;
  const std::uint32_t buckets = st->hash_buckets;
  std::free(st);
  return buckets;
}

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
  // For the cache size and the hash table's shape; dropped duplicates
  // included (a sequential pass).
  std::uint64_t data_bytes = 0;
  for (const Entry& e : entries) {
    data_bytes += e.key().size() + e.value().size();
  }
  const std::uint64_t bytes = data_bytes + 32 * entries.size();
  const std::uint64_t stored_bytes = data_bytes + 2 * nul * entries.size();

  Result<std::unique_ptr<AtomicFile> > file =
      AtomicFile::Create(target, BuildFileOptions(options, source));
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;

  const std::size_t total = plan.order.size();
  const HashShape shape = spec.type == TableType::kHash
                              ? PresizedShape(stored_bytes, total)
                              : HashShape{};
  std::uint64_t cache = tuning.cache_bytes;
  if (cache == 0) {
    // Inserted by bucket, a presized hash table needs only the pages
    // being filled in memory: Postfix's own 16 MiB is plenty.
    cache = shape.buckets != 0 ? kMinBuildCache
                               : std::clamp<std::uint64_t>(
                                     bytes, kMinBuildCache, kMaxBuildCache);
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
    // Presized (PresizedShape): with both the element count and a fill
    // factor Berkeley DB creates the buckets up front, and only overflows
    // split one while we insert (postmap gives 4096 and no fill factor, a
    // hint it ignores, so its table grows by splitting buckets all along).
    if (shape.buckets == 0) {
      (void)raw->set_h_nelem(raw, 4096);  // as mkmap_db.c: a hint only
    } else if (int rc = raw->set_h_ffactor(raw, shape.ffactor); rc != 0) {
      return FromDb(rc, "set fill factor for " + out.temp_path(),
                    scope.first());
    } else if (int rc2 = raw->set_h_nelem(raw, shape.nelem); rc2 != 0) {
      return FromDb(rc2, "set size for " + out.temp_path(), scope.first());
    }
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
  std::vector<std::uint32_t> by_bucket;
  if (spec.type == TableType::kHash) {
    if (shape.buckets != 0 && CreatedBuckets(raw) == shape.buckets) {
      by_bucket = BucketOrder(entries, plan.order, nul, shape.buckets);
    }
  }
  const std::span<const std::uint32_t> order =
      by_bucket.empty() ? std::span<const std::uint32_t>(plan.order)
                        : std::span<const std::uint32_t>(by_bucket);
  // Both orders visit the entries out of source order: a second thread
  // gathers them (tables/ordered_batches.h).
  constexpr std::size_t kGatherEntries = 8192;
  constexpr std::size_t kGatherBytes = 2u << 20;
  OrderedBatches batches(entries, order, nul, kGatherEntries, kGatherBytes);
  std::size_t next_progress = kProgressEvery;
  std::size_t done = 0;
  while (const OrderedBatches::Batch* batch = batches.Next()) {
    for (const OrderedBatches::Record& r : batch->records) {
      DBT k = ToDbt(batch->key(r), r.key_size);
      DBT v = ToDbt(batch->value(r), r.value_size);
      if (int rc = raw->put(raw, nullptr, &k, &v, 0); rc != 0) {
        return ExplainBuildFailure(
            FromDb(rc,
                   "write " + out.temp_path() + " (entry at line " +
                       std::to_string(entries[r.index].line()) + ")",
                   scope.first()),
            out.fd(), target);
      }
    }
    done += batch->records.size();
    if (options.progress && done >= next_progress) {
      options.progress(done, total);
      while (next_progress <= done) next_progress += kProgressEvery;
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
