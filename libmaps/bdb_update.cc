// bdb_update.cc - postmap -i and -d on a hash: or btree: table, in place.
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
// The file is checked before Berkeley DB sees it (magic, version, type,
// page size, length), as the reader does: Berkeley DB trusts its file.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "bdb_meta.h"
#include "table_backends.h"
#include "update_backends.h"

#ifdef MAPCTL_HAVE_BDB
#include <db.h>
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

// Berkeley DB reports details through a callback without a user pointer;
// each call collects them here (one handle per call, one thread).
thread_local std::string* g_messages = nullptr;

void CollectMessage(const DB_ENV*, const char*, const char* msg) {
  if (g_messages == nullptr || msg == nullptr) return;
  if (!g_messages->empty()) g_messages->push_back('\n');
  g_messages->append(bdb::CleanDbMessage(msg));
}
void DropMessage(const DB_ENV*, const char*) {}

class MessageScope {
 public:
  MessageScope() : saved_(g_messages) { g_messages = &text_; }
  ~MessageScope() { g_messages = saved_; }
  std::string first() const { return text_.substr(0, text_.find('\n')); }

 private:
  std::string text_;
  std::string* saved_;
};

Status FromDb(int rc, const std::string& what, const MessageScope& scope) {
  const std::string detail = scope.first();
  if (rc > 0) {
    Status st = Status::IoError(what, rc);
    if (detail.empty()) return st;
    return Status(st.code(), st.message() + " (" + detail + ")");
  }
  std::string msg = what + ": " + db_strerror(rc);
  if (!detail.empty()) msg += " (" + detail + ")";
  if (rc == DB_RUNRECOVERY || rc == DB_PAGE_NOTFOUND || rc == DB_VERIFY_BAD) {
    return Status::Corruption(std::move(msg));
  }
  return Status(ErrorCode::kIoError, std::move(msg));
}

bool SameInode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

inline DBT ToDbt(const char* data, std::size_t size) {
  DBT d;
  std::memset(&d, 0, sizeof(d));
  d.data = const_cast<char*>(data);
  d.size = static_cast<u_int32_t>(size);
  return d;
}

// The table file under Postfix's exclusive flock, with a Berkeley DB
// handle on the same inode. Destruction closes the handle (writing the
// cache back) before the descriptor that carries the lock.
class LockedBdb {
 public:
  static Result<std::unique_ptr<LockedBdb> > Open(const TableSpec& spec,
                                                  std::uint64_t cache) {
    const std::string name = spec.FileName();
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<LockedBdb> t(new LockedBdb(name));
      t->fd_ = open(name.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
      if (t->fd_ < 0) return Status::IoError("open database " + name, errno);
      while (flock(t->fd_, LOCK_EX) != 0) {
        if (errno != EINTR) return Status::IoError("lock " + name, errno);
      }
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
      if (Result<bdb::MetaCheck> meta = bdb::CheckMeta(t->fd_, name, spec.type);
          !meta) {
        return meta.error();
      }
      MAPCTL_RETURN_IF_ERROR(t->OpenDb(spec.type, cache, ours));
      return t;
    }
  }

  ~LockedBdb() {
    if (db_ != nullptr) db_->close(db_, 0);
    if (fd_ >= 0) close(fd_);  // drops the flock
  }

  DB* db() const { return db_; }
  const std::string& name() const { return name_; }

  // Writes the cache back and closes Berkeley DB's handle (its own close
  // syncs), then flushes our descriptor too. The lock stays held until
  // destruction.
  Status Finish() {
    MessageScope scope;
    DB* db = std::exchange(db_, nullptr);
    if (int rc = db->close(db, 0); rc != 0) {
      return FromDb(rc, "close " + name_, scope);
    }
    if (fdatasync(fd_) != 0) return Status::IoError("sync " + name_, errno);
    return Status::Ok();
  }

 private:
  explicit LockedBdb(std::string name) : name_(std::move(name)) {}

  Status OpenDb(TableType type, std::uint64_t cache, const struct stat& ours) {
    MessageScope scope;
    DB* raw = nullptr;
    if (int rc = db_create(&raw, nullptr, 0); rc != 0) {
      return FromDb(rc, "db_create for " + name_, scope);
    }
    raw->set_errcall(raw, CollectMessage);
    raw->set_msgcall(raw, DropMessage);
    if (int rc =
            raw->set_cachesize(raw, static_cast<u_int32_t>(cache >> 30),
                               static_cast<u_int32_t>(cache & 0x3FFFFFFF), 1);
        rc != 0) {
      raw->close(raw, 0);
      return FromDb(rc, "set cache size for " + name_, scope);
    }
    // No DB_CREATE, no DB_TRUNCATE: the checked file or nothing.
    if (int rc =
            raw->open(raw, nullptr, name_.c_str(), nullptr,
                      type == TableType::kBtree ? DB_BTREE : DB_HASH, 0, 0);
        rc != 0) {
      raw->close(raw, 0);
      return FromDb(rc, "open database " + name_, scope);
    }
    db_ = raw;
    int dbfd = -1;
    struct stat theirs;
    if (int rc = raw->fd(raw, &dbfd); rc != 0) {
      return FromDb(rc, "open database " + name_, scope);
    }
    if (fstat(dbfd, &theirs) != 0 || !SameInode(ours, theirs)) {
      // Cannot happen while we hold the lock against mapctl and postmap;
      // someone ignoring the lock replaced the file.
      return Status::IoError("open database " + name_ + " (replaced)", EAGAIN);
    }
    return Status::Ok();
  }

  std::string name_;
  int fd_ = -1;
  DB* db_ = nullptr;
};

}  // namespace

Result<UpdateReport> AddToBdbTable(const TableSpec& spec,
                                   std::span<const Entry> entries,
                                   const UpdateOptions& options,
                                   std::string_view origin) {
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;
  std::uint64_t bytes = 0;
  for (const Entry& e : entries) {
    bytes += e.key().size() + e.value().size() + 32;
  }
  Result<std::unique_ptr<LockedBdb> > table = LockedBdb::Open(
      spec, std::clamp<std::uint64_t>(2 * bytes, kMinCache, kMaxCache));
  if (!table) return std::move(table).error();
  DB* db = (*table)->db();
  const u_int32_t flags =
      options.duplicates == DuplicatePolicy::kLast ? 0 : DB_NOOVERWRITE;
  UpdateReport report;
  MessageScope scope;
  for (const Entry& e : entries) {
    // Entry keeps a NUL just past each view: "key\0" without a copy.
    DBT k = ToDbt(e.key().data(), e.key().size() + nul);
    DBT v = ToDbt(e.value().data(), e.value().size() + nul);
    int rc = db->put(db, nullptr, &k, &v, flags);
    if (rc == DB_KEYEXIST) {
      if (options.duplicates == DuplicatePolicy::kFirstWarn) {
        report.diagnostics.push_back(
            {Severity::kWarning, DiagnosticKind::kDuplicate,
             std::string(origin), e.line(),
             "duplicate entry: \"" + Excerpt(e.key()) + "\""});
      }
      continue;
    }
    if (rc != 0) {
      return FromDb(rc,
                    "update " + (*table)->name() + " (entry at line " +
                        std::to_string(e.line()) + ")",
                    scope);
    }
    ++report.written;
  }
  MAPCTL_RETURN_IF_ERROR((*table)->Finish());
  return report;
}

Result<std::size_t> DeleteFromBdbTable(const TableSpec& spec,
                                       std::span<const std::string> keys,
                                       NulMode nul) {
  Result<std::unique_ptr<LockedBdb> > table = LockedBdb::Open(spec, kMinCache);
  if (!table) return std::move(table).error();
  DB* db = (*table)->db();
  MessageScope scope;
  // As dict_db deletes: "key\0" first, then "key"; the first form that
  // hits is the only one tried afterwards.
  bool with_nul = nul != NulMode::kWithout;
  bool without_nul = nul != NulMode::kWith;
  std::size_t deleted = 0;
  std::string buf;
  auto del = [&](const std::string& k) -> Result<bool> {
    DBT d = ToDbt(k.data(), k.size());
    int rc = db->del(db, nullptr, &d, 0);
    if (rc == 0) return true;
    if (rc == DB_NOTFOUND) return false;
    return FromDb(rc, "delete from " + (*table)->name(), scope);
  };
  for (const std::string& key : keys) {
    if (key.empty()) continue;
    if (with_nul) {
      buf.assign(key);
      buf.push_back('\0');
      Result<bool> hit = del(buf);
      if (!hit) return std::move(hit).error();
      if (*hit) {
        ++deleted;
        without_nul = false;
        continue;
      }
    }
    if (without_nul) {
      Result<bool> hit = del(key);
      if (!hit) return std::move(hit).error();
      if (*hit) {
        ++deleted;
        with_nul = false;
      }
    }
  }
  MAPCTL_RETURN_IF_ERROR((*table)->Finish());
  return deleted;
}

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
