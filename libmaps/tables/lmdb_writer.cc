// tables/lmdb_writer.cc - WriteLmdbTable(): a sorted plan into a fresh LMDB file.
//
// The table is built in an AtomicFile (temporary file, renamed at the
// end), so atomicity comes from the rename and not from LMDB: the writer
// commits every batch to keep LMDB's dirty pages, which live in malloc'd
// memory until commit, small. Entries arrive in key order and go in with
// MDB_APPEND, which fills every leaf page completely (postmap's random
// inserts leave pages about 70% full).
//
// Environment flags: MDB_NOSUBDIR|MDB_NOLOCK like Postfix (no "-lock"
// file ever), MDB_NOSYNC|MDB_NOMETASYNC because one fsync at the end is
// enough for a file nobody can see yet. Never MDB_WRITEMAP: it extends
// the file to the whole map size.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "util/atomic_file.h"
#include "tables/lmdb_handle.h"
#include "tables/ordered_batches.h"
#include "mapctl/table.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"

namespace mapctl {
namespace {

constexpr std::size_t kProgressEvery = 65536;
constexpr std::size_t kBatchEntries = 32768;
constexpr std::size_t kBatchBytes = 8u << 20;  // bounds dirty memory
constexpr std::size_t kGatherEntries = 8192;
constexpr std::size_t kGatherBytes = 2u << 20;
constexpr int kMaxGrowths = 40;

struct Sizer {
  std::size_t page_size;
  std::size_t node_max;  // LMDB puts data on overflow pages at this size
};

// Bytes a leaf node takes on its page (pointer included) and overflow
// pages it needs, following LMDB 0.9's layout: an 8-byte node header,
// key, data inline or an 8-byte overflow page number, 2-byte aligned.
inline void AddEntrySize(const Sizer& z, std::size_t ks, std::size_t vs,
                         std::size_t* leaf_bytes, std::size_t* ov_pages) {
  std::size_t node = 8 + ks + vs;
  if (node >= z.node_max) {
    node = 8 + ks + 8;
    *ov_pages += (16 - 1 + vs) / z.page_size + 1;
  }
  *leaf_bytes += ((node + 1) & ~std::size_t{1}) + 2;
}

// The map size: the estimated file size with headroom. Pages are nearly
// full in append mode; 80% is assumed for leaves, branch pages are
// sized for separator keys as long as the average key, and each batch
// commit may copy a root-to-leaf path and some free-list pages that are
// reused only later. Growth on MDB_MAP_FULL covers any shortfall.
std::size_t EstimateMapSize(const Sizer& z, std::span<const Entry> entries,
                            std::size_t nul) {
  std::size_t leaf_bytes = 0, ov_pages = 0, key_bytes = 0;
  for (const Entry& e : entries) {
    const std::size_t ks = e.key().size() + nul;
    key_bytes += ks;
    AddEntrySize(z, ks, e.value().size() + nul, &leaf_bytes, &ov_pages);
  }
  const std::size_t usable = z.page_size - 16;
  const std::size_t leaf_pages = leaf_bytes * 5 / 4 / usable + 1;
  const std::size_t avg_key = entries.empty() ? 0 : key_bytes / entries.size();
  const std::size_t branch_pages = leaf_pages * (avg_key + 10) * 2 / usable + 8;
  const std::size_t batches = entries.size() / kBatchEntries + 1;
  const std::size_t pages =
      2 + leaf_pages + branch_pages + ov_pages + batches * 16 + 256;
  return pages * z.page_size;
}

std::string LineNote(const Entry& e) {
  return " (entry at line " + std::to_string(e.line()) + ")";
}

}  // namespace

Status WriteLmdbTableTuned(const TableSpec& spec,
                           std::span<const Entry> entries,
                           const BuildPlan& plan, const BuildOptions& options,
                           const SourceFileInfo& source,
                           const lmdb::WriterTuning& tuning) {
  const std::string target = spec.path + ".lmdb";
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;
  for (std::uint32_t idx : plan.order) {
    if (idx >= entries.size()) {
      return Status::InvalidArgument("build plan does not match its entries");
    }
  }

  Result<std::unique_ptr<AtomicFile>> file =
      AtomicFile::Create(target, BuildFileOptions(options, source));
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;

  long os_page = sysconf(_SC_PAGESIZE);
  Sizer z;
  z.page_size = os_page > 0 ? static_cast<std::size_t>(os_page) : 4096;
  z.node_max = (((z.page_size - 16) / 2) & ~std::size_t{1}) - 2;
  std::size_t map_size = tuning.initial_map_size != 0
                             ? tuning.initial_map_size
                             : EstimateMapSize(z, entries, nul);
  map_size = std::max(map_size, 4 * z.page_size);

  // LMDB opens its file by name (twice: data and meta). Giving it our own
  // descriptor's /proc name means a symlink planted under the temporary
  // name in the meantime is never followed.
  std::string proc_path = "/proc/self/fd/" + std::to_string(out.fd());
  const std::string& open_path =
      access(proc_path.c_str(), F_OK) == 0 ? proc_path : out.temp_path();
  Result<lmdb::EnvPtr> env = lmdb::OpenEnv(
      open_path, MDB_NOSYNC | MDB_NOMETASYNC, map_size, 0600);
  if (!env) {
    // LMDB writes the first meta pages here: a full disk shows up already.
    if (WriteFailureCause(env.error(), out.fd()) != 0) {
      return ExplainBuildFailure(env.error(), out.fd(), target);
    }
    return Status(env.error().code(),
                  "open database " + out.temp_path() + ": " +
                      env.error().message().substr(
                          std::min(env.error().message().size(),
                                   ("open database " + open_path + ": ").size())));
  }
  // Without /proc, LMDB opened the file by name: make sure it is the inode
  // we created and hold locked, not something swapped in under that name.
  {
    int lmdb_fd = -1;
    struct stat ours, theirs;
    if (int rc = mdb_env_get_fd(env->get(), &lmdb_fd); rc != MDB_SUCCESS) {
      return lmdb::FromMdb(rc, "mdb_env_get_fd " + out.temp_path());
    }
    if (fstat(out.fd(), &ours) != 0 || fstat(lmdb_fd, &theirs) != 0) {
      return Status::IoError("fstat " + out.temp_path(), errno);
    }
    if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) {
      return Status::IoError(
          "open database " + out.temp_path() + " (replaced while opening)",
          EEXIST);
    }
  }

  MDB_dbi dbi = 0;
  {
    Result<lmdb::Txn> txn = lmdb::Txn::Begin(env->get(), 0);
    if (!txn) return std::move(txn).error();
    if (int rc = mdb_dbi_open(txn->get(), nullptr, 0, &dbi);
        rc != MDB_SUCCESS) {
      return lmdb::FromMdb(rc, "mdb_dbi_open " + out.temp_path());
    }
    MAPCTL_RETURN_IF_ERROR(txn->Commit());
  }

  const std::size_t total = plan.order.size();
  const std::size_t batch_entries =
      tuning.batch_entries != 0 ? tuning.batch_entries : kBatchEntries;
  // The plan's random reads of the entries happen on the gather thread
  // (tables/ordered_batches.h), in batches smaller than a transaction:
  // two of them are in memory at once, beside the source and entries.
  const std::size_t gather_entries = std::min(batch_entries, kGatherEntries);
  std::optional<OrderedBatches> batches;
  batches.emplace(entries, plan.order, nul, gather_entries, kGatherBytes);
  std::size_t done = 0;
  std::size_t next_progress = kProgressEvery;
  int growths = 0;
  while (done < total) {
    Result<lmdb::Txn> txn = lmdb::Txn::Begin(env->get(), 0);
    if (!txn) return std::move(txn).error();
    Result<lmdb::Cursor> cur = lmdb::Cursor::Open(txn->get(), dbi);
    if (!cur) return std::move(cur).error();

    const std::size_t limit = std::min(total, done + batch_entries);
    std::size_t position = done;
    std::size_t bytes = 0;
    int rc = MDB_SUCCESS;
    const OrderedBatches::Record* failed = nullptr;
    while (rc == MDB_SUCCESS && position < limit && bytes < kBatchBytes) {
      const OrderedBatches::Batch* batch = batches->Next();
      if (batch == nullptr) break;
      for (const OrderedBatches::Record& r : batch->records) {
        // LMDB copies both onto its page: no copy of ours outlives the put.
        MDB_val k = lmdb::ToVal(batch->key(r), r.key_size);
        MDB_val v = lmdb::ToVal(batch->value(r), r.value_size);
        bytes += k.mv_size + v.mv_size + 16;
        rc = mdb_cursor_put(cur->get(), &k, &v, MDB_APPEND);
        if (rc != MDB_SUCCESS) {
          failed = &r;
          break;
        }
      }
      position = batch->first + batch->records.size();
    }
    cur->Close();
    Status st = rc == MDB_SUCCESS
                    ? txn->Commit()
                    : lmdb::FromMdb(rc, "write " + out.temp_path() +
                                            LineNote(entries[failed->index]));
    if (st.code() == ErrorCode::kTableFull && growths < kMaxGrowths) {
      // The transaction was rolled back (abort, or a commit that failed);
      // grow the map between transactions and redo it, gathering again
      // from its first entry.
      txn->Abort();
      ++growths;
      map_size *= 2;
      if (int grc = mdb_env_set_mapsize(env->get(), map_size);
          grc != MDB_SUCCESS) {
        return lmdb::FromMdb(grc, "mdb_env_set_mapsize " + out.temp_path());
      }
      batches.reset();
      batches.emplace(entries, plan.order, nul, gather_entries, kGatherBytes,
                      done);
      continue;
    }
    if (!st.ok()) return ExplainBuildFailure(std::move(st), out.fd(), target);
    if (position == done) {
      return Status::InvalidArgument("write " + out.temp_path() +
                              ": the gather stopped before the plan's end");
    }
    done = position;
    if (options.progress && (done >= next_progress || done == total)) {
      options.progress(done, total);
      while (next_progress <= done) next_progress += kProgressEvery;
    }
  }
  if (total == 0 && options.progress) options.progress(0, 0);

  if (int rc = mdb_env_sync(env->get(), 1); rc != MDB_SUCCESS) {
    return ExplainBuildFailure(lmdb::FromMdb(rc, "sync " + out.temp_path()),
                               out.fd(), target);
  }
  env->reset();  // close LMDB's descriptors before the rename
  return out.Commit();
}

Status WriteLmdbTable(const TableSpec& spec, std::span<const Entry> entries,
                      const BuildPlan& plan, const BuildOptions& options,
                      const SourceFileInfo& source) {
  return WriteLmdbTableTuned(spec, entries, plan, options, source,
                             lmdb::WriterTuning{});
}

}  // namespace mapctl
