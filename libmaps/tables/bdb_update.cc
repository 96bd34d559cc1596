// tables/bdb_update.cc - postmap -i and -d on a hash: or btree: table, in place.
//
// Postfix's protocol for .db files (util/dict_db.c, spec 4.5): a writer
// holds an exclusive flock on the .db file while it changes it, readers a
// shared one around each lookup. We hold the exclusive lock for the whole
// batch, open the file through Berkeley DB without creating or truncating
// it, write, sync, close, and only then unlock. A reader therefore sees the
// table before or after the batch. Berkeley DB without a transaction
// environment cannot make the batch atomic on disk: a crash in the middle
// leaves a partial update, as it does for postmap -i.
//
// A full disk is found before anything is written: the cache is sized to
// hold every page the batch touches, so libdb writes nothing until the
// end; then the growth the batch needs is reserved with fallocate, and
// only then does libdb write its pages. If the reservation (or the batch)
// fails while nothing was written yet, the batch is discarded: libdb's
// writes at close are sent to /dev/null (it opened the file through a
// /proc/self/fd name of ours, which we point there) and the file is cut
// back to its old size. The one change libdb makes to the file during a
// batch is to cut off trailing pages it frees (db_meta.c truncates the
// file rather than list its last page as free); the last pages are kept
// aside to be written back on a discard. A batch too large for the cache
// (256 MiB) may have pages written before a failure: then the table may
// be partly updated, and the message says so (docs/compatibility.md).
//
// The file is checked before Berkeley DB sees it (magic, version, type,
// page size, length), as the reader does: Berkeley DB trusts its file.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "tables/bdb_meta.h"
#include "tables/table_backends.h"
#include "tables/update_backends.h"
#include "tables/update_batch.h"
#include "tables/write_error.h"

#ifdef MAPCTL_HAVE_BDB
#include "tables/bdb_handle.h"
#endif

namespace mapctl {

#ifndef MAPCTL_HAVE_BDB

Result<UpdateReport> AddToBdbTable(const TableSpec& spec,
                                   std::span<const Entry>, const UpdateOptions&,
                                   std::string_view) {
  return BdbUnavailable(spec.type);
}
Result<std::size_t> DeleteFromBdbTable(const TableSpec& spec,
                                       std::span<const std::string>, NulMode) {
  return BdbUnavailable(spec.type);
}

#else  // MAPCTL_HAVE_BDB

namespace {

constexpr std::uint64_t kMinCache = 1u << 20;
constexpr std::uint64_t kMaxCache = 256ull << 20;
constexpr int kMaxReopens = 5;
constexpr std::uint64_t kKeptTail = 1u << 20;  // see Discard()

using bdb::MessageScope;
using bdb::ToDbt;

void ReplaceAll(std::string* s, const std::string& from,
                const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = s->find(from); at != std::string::npos;
       at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

// bdb::FromDb() with the first library message as its detail. libdb's
// messages name the file as it was opened: `alias` there becomes `name`.
Status FromDb(int rc, const std::string& what, const MessageScope& scope,
              const std::string& alias = "", const std::string& name = "") {
  std::string detail = scope.first();
  ReplaceAll(&detail, alias, name);
  return bdb::FromDb(rc, what, detail);
}

bool SameInode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The table file under Postfix's exclusive flock, with a Berkeley DB
// handle on the same inode. Destruction closes the handle (writing the
// cache back) before the descriptor that carries the lock.
class LockedBdb {
 public:
  // `extra`: cache bytes on top of the file's size, for the batch's own.
  static Result<std::unique_ptr<LockedBdb> > Open(const TableSpec& spec,
                                                  std::uint64_t extra) {
    const std::string name = spec.FileName();
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<LockedBdb> t(new LockedBdb(name));
      t->fd_ = open(name.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
      if (t->fd_ < 0) return Status::IoError("open database " + name, errno);
      MAPCTL_RETURN_IF_ERROR(bdb::Flock(t->fd_, LOCK_EX, name));
      // A writer that replaces the file by rename (mapctl build) may have
      // done so while we waited: lock the file the name now refers to.
      struct stat ours, by_name;
      if (fstat(t->fd_, &ours) != 0) {
        return Status::IoError("stat " + name, errno);
      }
      if (ours.st_nlink == 0 || stat(name.c_str(), &by_name) != 0 ||
          !SameInode(ours, by_name)) {
        if (attempt < kMaxReopens) continue;
        return Status::IoError("open database " + name + " (keeps changing)",
                               EAGAIN);
      }
      Result<bdb::MetaCheck> meta = bdb::CheckMeta(t->fd_, name, spec.type);
      if (!meta) return meta.error();
      t->size_before_ = meta->file_size;
      t->tail_.resize(std::min(meta->file_size, kKeptTail));
      const off_t tail_at =
          static_cast<off_t>(meta->file_size - t->tail_.size());
      if (pread(t->fd_, t->tail_.data(), t->tail_.size(), tail_at) !=
          static_cast<ssize_t>(t->tail_.size())) {
        t->tail_.clear();  // a discard is then only possible without a cut
      }
      // Room for every page the batch can touch, so that nothing is
      // written before Finish(); libdb allocates cache memory as it
      // uses it.
      const std::uint64_t cache = std::clamp<std::uint64_t>(
          meta->file_size + extra, kMinCache, kMaxCache);
      MAPCTL_RETURN_IF_ERROR(t->OpenDb(spec.type, cache, ours));
      return t;
    }
  }

  ~LockedBdb() {
    if (db_ != nullptr) db_->close(db_, 0);
    if (alias_fd_ >= 0) close(alias_fd_);
    if (fd_ >= 0) close(fd_);  // drops the flock
  }

  DB* db() const { return db_; }
  const std::string& name() const { return name_; }

  // libdb's error for `what`, the table named as the admin knows it.
  Status Error(int rc, const std::string& what, const MessageScope& scope) {
    return FromDb(rc, what, scope, alias_, name_);
  }

  // After a failed put or delete: discards the batch if nothing of it was
  // written yet; either way the message says what became of the table.
  Status Fail(const Status& st, std::string_view what) {
    const int cause = WriteFailureCause(st, fd_);  // before space is freed
    return NameWriteFailure(
        st, cause, what,
        Discard() ? "table unchanged" : "table may be partly updated");
  }

  // Reserves the growth, writes the cache back and closes Berkeley DB's
  // handle (its own close syncs), then flushes our descriptor too. The
  // lock stays held until destruction.
  Status Finish(std::string_view what) {
    MessageScope scope;
    DB_MPOOLFILE* mpf = db_->get_mpf(db_);
    db_pgno_t last = 0;
    u_int32_t page_size = 0;
    if (int rc = mpf->get_last_pgno(mpf, &last); rc != 0) {
      return Fail(Error(rc, "get_last_pgno", scope), what);
    }
    if (int rc = db_->get_pagesize(db_, &page_size); rc != 0) {
      return Fail(Error(rc, "get_pagesize", scope), what);
    }
    const std::uint64_t needed = (std::uint64_t{last} + 1) * page_size;
    struct stat st;
    if (fstat(fd_, &st) != 0) return Fail(Status::IoError("stat", errno), what);
    const std::uint64_t now = static_cast<std::uint64_t>(st.st_size);
    if (needed > now) {
      int rc = posix_fallocate(fd_, static_cast<off_t>(now),
                               static_cast<off_t>(needed - now));
      if (rc != 0) return Fail(Status::IoError("fallocate", rc), what);
    }
    DB* db = std::exchange(db_, nullptr);
    if (int rc = db->close(db, 0); rc != 0) {
      Status st = Error(rc, "close", scope);
      return NameWriteFailure(st, WriteFailureCause(st, fd_), what,
                              "table may be partly updated");
    }
    if (fdatasync(fd_) != 0) {
      Status st = Status::IoError("sync", errno);
      return NameWriteFailure(st, WriteFailureCause(st, fd_), what, "");
    }
    return Status::Ok();
  }

 private:
  explicit LockedBdb(std::string name) : name_(std::move(name)) {}

  // Pages libdb has written to the file since it opened it.
  std::uintmax_t PagesWritten() const {
    DB_ENV* env = db_->get_env(db_);
    DB_MPOOL_STAT* gsp = nullptr;
    if (env == nullptr || env->memp_stat(env, &gsp, nullptr, 0) != 0 ||
        gsp == nullptr) {
      return ~std::uintmax_t{0};  // unknown: assume the worst
    }
    std::uintmax_t n = gsp->st_page_out;
    free(gsp);
    return n;
  }

  // Drops the batch, if libdb has not written any of it: its descriptor
  // and the /proc name it reopens at close are pointed at /dev/null, so
  // the cache it writes back goes nowhere; then the file gets back the
  // size it had, and any last pages libdb cut off. False (and nothing
  // done) when that cannot be promised.
  bool Discard() {
    if (db_ == nullptr || alias_fd_ < 0 || PagesWritten() != 0) return false;
    struct stat now;
    if (fstat(fd_, &now) != 0) return false;
    const std::uint64_t size = static_cast<std::uint64_t>(now.st_size);
    if (size < size_before_ && size_before_ - size > tail_.size()) return false;
    int dbfd = -1;
    if (db_->fd(db_, &dbfd) != 0 || dbfd < 0) return false;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) return false;
    const bool pointed = dup3(null_fd, dbfd, O_CLOEXEC) >= 0 &&
                         dup3(null_fd, alias_fd_, O_CLOEXEC) >= 0;
    close(null_fd);
    if (!pointed) return false;  // cannot happen: both descriptors are open
    MessageScope quiet;          // its fsync of /dev/null fails: expected
    DB* db = std::exchange(db_, nullptr);
    (void)db->close(db, 0);
    if (size < size_before_) {
      // Pages before `size` are as they were (nothing was written), the
      // kept tail covers the rest.
      const std::uint64_t at = size_before_ - tail_.size();
      return pwrite(fd_, tail_.data(), tail_.size(), static_cast<off_t>(at)) ==
             static_cast<ssize_t>(tail_.size());
    }
    return size == size_before_ ||
           ftruncate(fd_, static_cast<off_t>(size_before_)) == 0;
  }

  Status OpenDb(TableType type, std::uint64_t cache, const struct stat& ours) {
    MessageScope scope;
    // libdb opens the file through a name of ours (a second descriptor of
    // the same open file), so that Discard() can redirect it.
    alias_fd_ = fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (alias_fd_ >= 0) {
      alias_ = "/proc/self/fd/" + std::to_string(alias_fd_);
      if (access(alias_.c_str(), F_OK) != 0) {
        close(alias_fd_);
        alias_fd_ = -1;
        alias_.clear();
      }
    }
    const std::string& path = alias_.empty() ? name_ : alias_;
    Result<bdb::DbPtr> handle = bdb::NewHandle(name_, cache, scope);
    if (!handle) return std::move(handle).error();
    DB* raw = handle->release();
    // No DB_CREATE, no DB_TRUNCATE: the checked file or nothing.
    if (int rc = raw->open(raw, nullptr, path.c_str(), nullptr,
                           bdb::DbType(type), 0, 0);
        rc != 0) {
      raw->close(raw, 0);
      return Error(rc, "open database " + name_, scope);
    }
    db_ = raw;
    int dbfd = -1;
    struct stat theirs;
    if (int rc = raw->fd(raw, &dbfd); rc != 0) {
      return Error(rc, "open database " + name_, scope);
    }
    if (fstat(dbfd, &theirs) != 0 || !SameInode(ours, theirs)) {
      // Cannot happen while we hold the lock against mapctl and postmap;
      // someone ignoring the lock replaced the file.
      return Status::IoError("open database " + name_ + " (replaced)", EAGAIN);
    }
    return Status::Ok();
  }

  std::string name_;
  std::string alias_;  // "/proc/self/fd/N", libdb's name for the file
  int fd_ = -1;
  int alias_fd_ = -1;
  std::uint64_t size_before_ = 0;
  std::string tail_;  // the file's last bytes before the batch
  DB* db_ = nullptr;
};

}  // namespace

Result<UpdateReport> AddToBdbTable(const TableSpec& spec,
                                   std::span<const Entry> entries,
                                   const UpdateOptions& options,
                                   std::string_view origin) {
  Result<std::unique_ptr<LockedBdb> > table =
      LockedBdb::Open(spec, 2 * BatchBytes(entries, 32) + kMinCache);
  if (!table) return std::move(table).error();
  LockedBdb& t = **table;
  const std::string what = "update " + t.name();
  DB* db = t.db();
  const u_int32_t flags =
      options.duplicates == DuplicatePolicy::kLast ? 0 : DB_NOOVERWRITE;
  MessageScope scope;
  Result<UpdateReport> report = PutEntries(
      entries, options, origin,
      [&](const Entry& e, std::string_view key,
          std::string_view value) -> Result<bool> {
        DBT k = ToDbt(key.data(), key.size());
        DBT v = ToDbt(value.data(), value.size());
        int rc = db->put(db, nullptr, &k, &v, flags);
        if (rc == DB_KEYEXIST) return false;
        if (rc != 0) {
          return t.Fail(
              t.Error(rc,
                      "put (entry at line " + std::to_string(e.line()) + ")",
                      scope),
              what);
        }
        return true;
      });
  if (!report) return report;
  MAPCTL_RETURN_IF_ERROR(t.Finish(what));
  return report;
}

Result<std::size_t> DeleteFromBdbTable(const TableSpec& spec,
                                       std::span<const std::string> keys,
                                       NulMode nul) {
  Result<std::unique_ptr<LockedBdb> > table = LockedBdb::Open(spec, kMinCache);
  if (!table) return std::move(table).error();
  LockedBdb& t = **table;
  const std::string what = "delete from " + t.name();
  DB* db = t.db();
  MessageScope scope;
  // Berkeley DB takes a key of any length.
  Result<std::size_t> deleted =
      DeleteKeys(keys, nul, SIZE_MAX, [&](std::string_view k) -> Result<bool> {
        DBT d = ToDbt(k.data(), k.size());
        int rc = db->del(db, nullptr, &d, 0);
        if (rc == 0) return true;
        if (rc == DB_NOTFOUND) return false;
        return t.Fail(t.Error(rc, "del", scope), what);
      });
  if (!deleted) return deleted;
  MAPCTL_RETURN_IF_ERROR(t.Finish(what));
  return deleted;
}

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
