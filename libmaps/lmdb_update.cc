// lmdb_update.cc - postmap -i and -d on an lmdb table, in place.
//
// Postfix's lmdb protocol (lmdb_table(5)): writers hold an exclusive fcntl
// lock on the whole file while they change it, readers a shared one around
// each lookup. Without LMDB's own lock file, that lock is what keeps a
// reader off pages a writer is reusing. We hold it for one transaction
// that covers the whole batch.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "lmdb_handle.h"
#include "table_backends.h"
#include "update_backends.h"

namespace mapctl {
namespace {

// An open table file with Postfix's exclusive lock; LMDB opened through
// our descriptor. Closing LMDB's descriptors drops the process's fcntl
// locks on the file, so the environment is closed last, after the commit.
class LockedLmdb {
 public:
  static Result<LockedLmdb> Open(const TableSpec& spec, std::size_t extra) {
    LockedLmdb t;
    t.name_ = spec.path + ".lmdb";
    t.fd_ = open(t.name_.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (t.fd_ < 0) return Status::IoError("open database " + t.name_, errno);
    Result<lmdb::FileCheck> check = lmdb::CheckFile(t.fd_, t.name_);
    if (!check) return check.error();
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (fcntl(t.fd_, F_SETLKW, &lock) != 0) {
      if (errno != EINTR) return Status::IoError("lock " + t.name_, errno);
    }
    struct stat st;
    if (fstat(t.fd_, &st) != 0) return Status::IoError("stat " + t.name_, errno);
    t.map_size_ = static_cast<std::size_t>(st.st_size) + 2 * extra + (1 << 20);
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
        env_(std::move(o.env_)) {}
  ~LockedLmdb() {
    env_.reset();
    if (fd_ >= 0) close(fd_);
  }

  MDB_env* env() const { return env_.get(); }
  const std::string& name() const { return name_; }

  // After MDB_MAP_FULL, between transactions.
  Status Grow() {
    map_size_ *= 2;
    return lmdb::FromMdb(mdb_env_set_mapsize(env_.get(), map_size_),
                         "mdb_env_set_mapsize " + name_);
  }

  Status Sync() {
    return lmdb::FromMdb(mdb_env_sync(env_.get(), 1), "sync " + name_);
  }

 private:
  std::string name_;
  int fd_ = -1;
  std::size_t map_size_ = 0;
  lmdb::EnvPtr env_;
};

constexpr int kMaxGrowths = 40;

}  // namespace

Result<UpdateReport> AddToLmdbTable(const TableSpec& spec,
                                    std::span<const Entry> entries,
                                    const UpdateOptions& options,
                                    std::string_view origin) {
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;
  std::size_t bytes = 0;
  for (const Entry& e : entries) {
    if (e.key().size() + nul > kLmdbMaxKeySize) {
      return Status::InvalidArgument(
          std::string(origin) + ":" + std::to_string(e.line()) +
          ": key is too long for lmdb after folding (" +
          std::to_string(e.key().size()) + " bytes, limit " +
          std::to_string(kLmdbMaxKeySize - nul) + ")");
    }
    bytes += e.key().size() + e.value().size() + 64;
  }
  Result<LockedLmdb> table = LockedLmdb::Open(spec, bytes);
  if (!table) return table.error();

  for (int growths = 0;; ++growths) {
    UpdateReport report;
    Result<lmdb::Txn> txn = lmdb::Txn::Begin(table->env(), 0);
    if (!txn) return txn.error();
    MDB_dbi dbi = 0;
    if (int rc = mdb_dbi_open(txn->get(), nullptr, 0, &dbi); rc != MDB_SUCCESS) {
      return lmdb::FromMdb(rc, "mdb_dbi_open " + table->name());
    }
    const unsigned flags =
        options.duplicates == DuplicatePolicy::kLast ? 0 : MDB_NOOVERWRITE;
    int rc = MDB_SUCCESS;
    for (const Entry& e : entries) {
      // Entry keeps a NUL just past each view: "key\0" without a copy.
      MDB_val k = lmdb::ToVal(e.key().data(), e.key().size() + nul);
      MDB_val v = lmdb::ToVal(e.value().data(), e.value().size() + nul);
      rc = mdb_put(txn->get(), dbi, &k, &v, flags);
      if (rc == MDB_KEYEXIST) {
        if (options.duplicates == DuplicatePolicy::kFirstWarn) {
          report.diagnostics.push_back(
              {Severity::kWarning, DiagnosticKind::kDuplicate,
               std::string(origin), e.line(),
               "duplicate entry: \"" + Excerpt(e.key()) + "\""});
        }
        rc = MDB_SUCCESS;
        continue;
      }
      if (rc != MDB_SUCCESS) break;
      ++report.written;
    }
    Status st = rc == MDB_SUCCESS ? txn->Commit()
                                  : lmdb::FromMdb(rc, "update " + table->name());
    if (st.code() == ErrorCode::kTableFull && growths < kMaxGrowths) {
      txn->Abort();
      MAPCTL_RETURN_IF_ERROR(table->Grow());
      continue;
    }
    MAPCTL_RETURN_IF_ERROR(st);
    MAPCTL_RETURN_IF_ERROR(table->Sync());
    return report;
  }
}

Result<std::size_t> DeleteFromLmdbTable(const TableSpec& spec,
                                        std::span<const std::string> keys,
                                        NulMode nul) {
  Result<LockedLmdb> table = LockedLmdb::Open(spec, 0);
  if (!table) return table.error();
  Result<lmdb::Txn> txn = lmdb::Txn::Begin(table->env(), 0);
  if (!txn) return txn.error();
  MDB_dbi dbi = 0;
  if (int rc = mdb_dbi_open(txn->get(), nullptr, 0, &dbi); rc != MDB_SUCCESS) {
    return lmdb::FromMdb(rc, "mdb_dbi_open " + table->name());
  }
  // As dict_lmdb deletes: "key\0" first, then "key"; the first form that
  // hits is the only one tried afterwards.
  bool with_nul = nul != NulMode::kWithout;
  bool without_nul = nul != NulMode::kWith;
  std::size_t deleted = 0;
  std::string buf;
  for (const std::string& key : keys) {
    if (key.empty()) continue;
    if (with_nul && key.size() + 1 <= kLmdbMaxKeySize) {
      buf.assign(key);
      buf.push_back('\0');
      MDB_val k = lmdb::ToVal(buf.data(), buf.size());
      int rc = mdb_del(txn->get(), dbi, &k, nullptr);
      if (rc == MDB_SUCCESS) {
        ++deleted;
        without_nul = false;
        continue;
      }
      if (rc != MDB_NOTFOUND) return lmdb::FromMdb(rc, "delete " + table->name());
    }
    if (without_nul && key.size() <= kLmdbMaxKeySize) {
      MDB_val k = lmdb::ToVal(key.data(), key.size());
      int rc = mdb_del(txn->get(), dbi, &k, nullptr);
      if (rc == MDB_SUCCESS) {
        ++deleted;
        with_nul = false;
        continue;
      }
      if (rc != MDB_NOTFOUND) return lmdb::FromMdb(rc, "delete " + table->name());
    }
  }
  MAPCTL_RETURN_IF_ERROR(txn->Commit());
  MAPCTL_RETURN_IF_ERROR(table->Sync());
  return deleted;
}

}  // namespace mapctl
