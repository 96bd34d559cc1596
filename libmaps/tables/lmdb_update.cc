// tables/lmdb_update.cc - postmap -i and -d on an lmdb table, in place.
//
// Postfix's lmdb protocol (lmdb_table(5)): writers hold an exclusive fcntl
// lock on the whole file while they change it, readers a shared one around
// each lookup. Without LMDB's own lock file, that lock is what keeps a
// reader off pages a writer is reusing. We hold it for one transaction
// that covers the whole batch.
//
// A batch that fails (a full disk, the file size limit, an I/O error)
// leaves the table as it was: LMDB writes the meta page last, so the
// committed tree is the old one. The pages the batch wrote past the old
// end of the file are then garbage that would keep the disk full, and are
// cut off again (CutBack below says when that is safe).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "tables/lmdb_handle.h"
#include "tables/table_backends.h"
#include "tables/update_backends.h"
#include "tables/update_batch.h"
#include "tables/write_error.h"

namespace mapctl {
namespace {

constexpr int kMaxGrowths = 40;

// An open table file with Postfix's exclusive lock; LMDB opened through
// our descriptor. Closing LMDB's descriptors drops the process's fcntl
// locks on the file, so the environment is closed last, after the commit
// (and after any cut-back).
class LockedLmdb {
 public:
  // `extra`: bytes the batch may add to the file; the map gets room for
  // twice that and grows on MDB_MAP_FULL.
  static Result<LockedLmdb> Open(const TableSpec& spec, std::size_t extra) {
    LockedLmdb t;
    t.name_ = spec.path + ".lmdb";
    t.fd_ = open(t.name_.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (t.fd_ < 0) return Status::IoError("open database " + t.name_, errno);
    if (Result<lmdb::FileCheck> check = lmdb::CheckFile(t.fd_, t.name_);
        !check) {
      return check.error();
    }
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (fcntl(t.fd_, F_SETLKW, &lock) != 0) {
      if (errno != EINTR) return Status::IoError("lock " + t.name_, errno);
    }
    // Again under the lock: another writer may have committed meanwhile.
    Result<lmdb::FileCheck> check = lmdb::CheckFile(t.fd_, t.name_);
    if (!check) return check.error();
    t.size_before_ = check->file_size;
    t.txnid_before_ = check->meta.txnid;
    t.page_size_ = check->page_size;
    t.map_size_ =
        static_cast<std::size_t>(check->file_size) + 2 * extra + (1 << 20);
    std::string proc = "/proc/self/fd/" + std::to_string(t.fd_);
    Result<lmdb::EnvPtr> env = lmdb::OpenEnv(
        access(proc.c_str(), F_OK) == 0 ? proc : t.name_, 0, t.map_size_);
    if (!env) {
      return Status(env.error().code(),
                    "open database " + t.name_ + ": " + env.error().message());
    }
    t.env_ = std::move(env).value();
    return t;
  }

  LockedLmdb() = default;
  LockedLmdb(LockedLmdb&& o) noexcept
      : name_(std::move(o.name_)),
        fd_(std::exchange(o.fd_, -1)),
        map_size_(o.map_size_),
        size_before_(o.size_before_),
        txnid_before_(o.txnid_before_),
        page_size_(o.page_size_),
        env_(std::move(o.env_)) {}
  ~LockedLmdb() {
    env_.reset();
    if (fd_ >= 0) close(fd_);
  }

  const std::string& name() const { return name_; }
  std::uint64_t size_before() const { return size_before_; }
  std::uint32_t page_size() const { return page_size_; }

  // Runs `body(txn, dbi)` (returning Status) in one write transaction and
  // commits it, then syncs. On MDB_MAP_FULL, from the body or the commit,
  // the transaction is rolled back, the map doubled and the body run
  // again. On any other failure the file is cut back (CutBack) and the
  // error names the table; `verb` is "update" or "delete from".
  template <typename Body>
  Status Run(std::string_view verb, Body body) {
    const std::string what = std::string(verb) + " " + name_;
    for (int growths = 0;; ++growths) {
      Status st = RunOnce(body);
      if (st.code() == ErrorCode::kTableFull && growths < kMaxGrowths) {
        map_size_ *= 2;
        st = lmdb::FromMdb(mdb_env_set_mapsize(env_.get(), map_size_),
                           "mdb_env_set_mapsize");
        if (st.ok()) continue;
      }
      if (st.ok()) break;
      const int cause = WriteFailureCause(st, fd_);  // before space is freed
      const bool cut = CutBack();
      return NameWriteFailure(st, cause, what, cut ? "table unchanged" : "");
    }
    // Committed. LMDB synced before it wrote the meta page; this makes the
    // meta page itself durable.
    if (Status st = lmdb::FromMdb(mdb_env_sync(env_.get(), 1), "sync");
        !st.ok()) {
      return NameWriteFailure(st, WriteFailureCause(st, fd_), "sync " + name_,
                              "");
    }
    return Status::Ok();
  }

 private:
  template <typename Body>
  Status RunOnce(Body& body) {
    Result<lmdb::Txn> txn = lmdb::Txn::Begin(env_.get(), 0);
    if (!txn) return txn.error();
    MDB_dbi dbi = 0;
    if (int rc = mdb_dbi_open(txn->get(), nullptr, 0, &dbi);
        rc != MDB_SUCCESS) {
      return lmdb::FromMdb(rc, "mdb_dbi_open");
    }
    MAPCTL_RETURN_IF_ERROR(body(txn->get(), dbi));
    return txn->Commit();  // the handle is gone either way
  }

  // After a failed batch: truncates the file back to its size before the
  // batch, and says whether the table is as it was. That is safe when the
  // newest meta page on file is still the one the batch started from (the
  // commit never reached it): then neither meta page refers to a page
  // past the old end, and we hold the exclusive lock, so no reader is on
  // the file. If LMDB failed while writing the meta page itself and could
  // not restore it, the meta page shows another transaction and the file
  // is left as it is.
  bool CutBack() {
    Result<lmdb::FileCheck> now = lmdb::CheckFile(fd_, name_);
    if (!now) return false;
    for (const lmdb::MetaInfo& m : now->metas) {
      if (m.txnid > txnid_before_ ||
          (m.last_pg + 1) * static_cast<std::uint64_t>(now->page_size) >
              size_before_) {
        return false;
      }
    }
    if (now->file_size <= size_before_) return true;
    return ftruncate(fd_, static_cast<off_t>(size_before_)) == 0;
  }

  std::string name_;
  int fd_ = -1;
  std::size_t map_size_ = 0;
  std::uint64_t size_before_ = 0;
  std::uint64_t txnid_before_ = 0;
  std::uint32_t page_size_ = 4096;
  lmdb::EnvPtr env_;
};

// What a batch that touches `records` leaf entries may add to a file of
// `file_size` bytes besides the records' own bytes: each one can copy a
// page, and no batch copies more than the whole tree.
std::size_t CopiedPages(std::size_t records, std::uint64_t file_size) {
  return static_cast<std::size_t>(
      std::min<std::uint64_t>(file_size, std::uint64_t{records} * 4096));
}

}  // namespace

Result<UpdateReport> AddToLmdbTable(const TableSpec& spec,
                                    std::span<const Entry> entries,
                                    const UpdateOptions& options,
                                    std::string_view origin) {
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;
  for (const Entry& e : entries) {
    if (e.key().size() + nul > kLmdbMaxKeySize) {
      return Status::InvalidArgument(
          std::string(origin) + ":" + std::to_string(e.line()) +
          ": key is too long for lmdb after folding (" +
          std::to_string(e.key().size()) + " bytes, limit " +
          std::to_string(kLmdbMaxKeySize - nul) + ")");
    }
  }
  struct stat st;
  const std::uint64_t size = stat((spec.path + ".lmdb").c_str(), &st) == 0
                                 ? static_cast<std::uint64_t>(st.st_size)
                                 : 0;
  Result<LockedLmdb> table =
      LockedLmdb::Open(spec, static_cast<std::size_t>(BatchBytes(entries, 64)) +
                                 CopiedPages(entries.size(), size));
  if (!table) return table.error();

  UpdateReport report;
  const unsigned flags =
      options.duplicates == DuplicatePolicy::kLast ? 0 : MDB_NOOVERWRITE;
  MAPCTL_RETURN_IF_ERROR(
      table->Run("update", [&](MDB_txn* txn, MDB_dbi dbi) -> Status {
        Result<UpdateReport> batch = PutEntries(
            entries, options, origin,
            [&](const Entry& e, std::string_view key,
                std::string_view value) -> Result<bool> {
              MDB_val k = lmdb::ToVal(key.data(), key.size());
              MDB_val v = lmdb::ToVal(value.data(), value.size());
              int rc = mdb_put(txn, dbi, &k, &v, flags);
              if (rc == MDB_KEYEXIST) return false;
              if (rc != MDB_SUCCESS) {
                return lmdb::FromMdb(rc, "mdb_put (entry at line " +
                                             std::to_string(e.line()) + ")");
              }
              return true;
            });
        if (!batch) return std::move(batch).error();
        report = std::move(batch).value();
        return Status::Ok();
      }));
  return report;
}

Result<std::size_t> DeleteFromLmdbTable(const TableSpec& spec,
                                        std::span<const std::string> keys,
                                        NulMode nul) {
  struct stat st;
  const std::uint64_t size = stat((spec.path + ".lmdb").c_str(), &st) == 0
                                 ? static_cast<std::uint64_t>(st.st_size)
                                 : 0;
  // Deleting copies the pages it changes as adding does; merged pages go
  // to the free list, which LMDB writes at the commit.
  Result<LockedLmdb> table =
      LockedLmdb::Open(spec, CopiedPages(keys.size(), size));
  if (!table) return table.error();
  std::size_t deleted = 0;
  MAPCTL_RETURN_IF_ERROR(
      table->Run("delete from", [&](MDB_txn* txn, MDB_dbi dbi) -> Status {
        Result<std::size_t> n =
            DeleteKeys(keys, nul, kLmdbMaxKeySize,
                       [&](std::string_view k) -> Result<bool> {
                         MDB_val v = lmdb::ToVal(k.data(), k.size());
                         int rc = mdb_del(txn, dbi, &v, nullptr);
                         if (rc == MDB_SUCCESS) return true;
                         if (rc == MDB_NOTFOUND) return false;
                         return lmdb::FromMdb(rc, "mdb_del");
                       });
        if (!n) return std::move(n).error();
        deleted = *n;
        return Status::Ok();
      }));
  return deleted;
}

}  // namespace mapctl
