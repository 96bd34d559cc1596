// tables/bdb_reader.cc - hash: and btree: tables read through Berkeley DB
// 5.3.
//
// Berkeley DB trusts its file, so the metadata page is checked first
// (bdb_meta.h: magic, version, type, page size, length), and a btree file
// named as hash: (or the reverse) is refused with a message saying what it
// is. Each ReadUnit holds a shared flock, as Postfix's dict_db does around
// each lookup (util/dict_db.c), so it never reads a table postmap is
// rewriting in place; a file that changed since the handle was opened is
// opened again. mapctl's own writer renames a new file over the table
// (bdb_writer.cc): readers notice st_nlink == 0 as they do for cdb.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"

#ifdef MAPCTL_HAVE_BDB
#include "tables/bdb_handle.h"
#include "tables/bdb_meta.h"
#endif

namespace mapctl {

#ifndef MAPCTL_HAVE_BDB

Result<std::unique_ptr<TableReader>> OpenBdbTable(const TableSpec& spec, bool) {
  return BdbUnavailable(spec.type);
}

#else  // MAPCTL_HAVE_BDB

namespace bdb {
namespace {

constexpr std::uint32_t kReadCache = 128u
                                     << 10;  // berkeley_db_read_buffer_size

// One opened file: our checked descriptor (which carries the shared
// flock), Berkeley DB's handle on the same inode.
struct DbState {
  ~DbState() {
    db.reset();
    if (fd >= 0) close(fd);
  }
  int fd = -1;
  DbPtr db;
  struct stat opened {};
  std::uint64_t identity = 0;
  int active_units = 0;
};

bool Unchanged(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
         a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Opens, locks (shared), checks and hands `name` to Berkeley DB. Returns
// with the lock held.
Result<std::shared_ptr<DbState>> OpenState(const std::string& name,
                                           TableType type) {
  for (int attempt = 0;; ++attempt) {
    auto state = std::make_shared<DbState>();
    state->fd =
        open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (state->fd < 0) return Status::IoError("open database " + name, errno);
    MAPCTL_RETURN_IF_ERROR(Flock(state->fd, LOCK_SH, name));
    Result<MetaCheck> check = CheckMeta(state->fd, name, type);
    if (!check) return std::move(check).error();

    MessageScope scope;
    Result<DbPtr> db = NewHandle(name, kReadCache, scope);
    if (!db) return std::move(db).error();
    DB* raw = db->get();
    if (int rc = raw->open(raw, nullptr, name.c_str(), nullptr, DbType(type),
                           DB_RDONLY, 0);
        rc != 0) {
      db->release();  // a failed open leaves the handle to be closed
      raw->close(raw, 0);
      return FromDb(rc, "open database " + name, scope.first());
    }
    state->db = std::move(db).value();
    int dbfd = -1;
    if (int rc = raw->fd(raw, &dbfd); rc != 0) {
      return FromDb(rc, "open database " + name, scope.first());
    }
    if (!SameInode(state->fd, dbfd)) {
      // Replaced between our check and Berkeley DB's open.
      if (attempt < 5) continue;
      return Status::IoError("open database " + name + " (keeps changing)",
                             EAGAIN);
    }
    fstat(state->fd, &state->opened);
    const struct stat& st = state->opened;
    std::uint64_t h = (static_cast<std::uint64_t>(st.st_dev) << 32) ^
                      static_cast<std::uint64_t>(st.st_ino) ^
                      (static_cast<std::uint64_t>(st.st_mtim.tv_nsec) << 20) ^
                      static_cast<std::uint64_t>(st.st_mtim.tv_sec) ^
                      (static_cast<std::uint64_t>(st.st_size) << 40);
    state->identity = h * 0x9E3779B97F4A7C15ull;
    return state;
  }
}

class BdbReadUnit final : public ReadUnit {
 public:
  BdbReadUnit(std::shared_ptr<DbState> state, const std::string& name,
              bool sorted)
      : state_(std::move(state)), name_(name), sorted_(sorted) {}

  ~BdbReadUnit() override {
    if (cursor_ != nullptr) cursor_->close(cursor_);
    if (--state_->active_units == 0) {
      (void)Flock(state_->fd, LOCK_UN, name_);
    }
  }

  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    MessageScope scope;
    DB* db = state_->db.get();
    DBT k = ToDbt(key.data(), key.size());
    DBT v = ToDbt(nullptr, 0);
    int rc = db->get(db, nullptr, &k, &v, 0);
    if (rc == DB_NOTFOUND) return std::optional<std::string_view>();
    if (rc != 0) return FromDb(rc, "read " + name_, scope.first());
    // Berkeley DB reuses that memory on the next call; views must live as
    // long as the unit.
    values_.emplace_back(FromDbt(v));
    return std::optional<std::string_view>(values_.back());
  }

  // Key order for btree, bucket order for hash. The token is the last key
  // visited.
  Status Scan(ScanCursor& cursor, std::size_t limit,
              const RawVisitor& visit) override {
    if (cursor.done || limit == 0) return Status::Ok();
    MessageScope scope;
    DB* db = state_->db.get();
    if (cursor_ == nullptr) {
      if (int rc = db->cursor(db, nullptr, &cursor_, 0); rc != 0) {
        cursor_ = nullptr;
        return FromDb(rc, "read " + name_, scope.first());
      }
      positioned_ = false;
    }
    DBT k = ToDbt(nullptr, 0), v = ToDbt(nullptr, 0);
    int rc;
    if (!cursor.started) {
      rc = cursor_->get(cursor_, &k, &v, DB_FIRST);
    } else if (positioned_) {
      rc = cursor_->get(cursor_, &k, &v, DB_NEXT);
    } else {
      // A new unit resumes after the last key seen.
      k = ToDbt(cursor.token.data(), cursor.token.size());
      rc = cursor_->get(cursor_, &k, &v, sorted_ ? DB_SET_RANGE : DB_SET);
      if (rc == DB_NOTFOUND && !sorted_) {
        return Status(ErrorCode::kChanged,
                      name_ + " changed while it was being read");
      }
      if (rc == 0 && FromDbt(k) == cursor.token) {
        rc = cursor_->get(cursor_, &k, &v, DB_NEXT);
      }
    }
    std::size_t visited = 0;
    while (rc == 0) {
      positioned_ = true;
      std::string_view key = FromDbt(k);
      cursor.token.assign(key.data(), key.size());
      cursor.started = true;
      ++visited;
      if (!visit(key, FromDbt(v)) || visited >= limit) return Status::Ok();
      rc = cursor_->get(cursor_, &k, &v, DB_NEXT);
    }
    if (rc != DB_NOTFOUND) return FromDb(rc, "read " + name_, scope.first());
    cursor.started = true;
    cursor.done = true;
    return Status::Ok();
  }

  std::uint64_t version() const override { return state_->identity; }

 private:
  std::shared_ptr<DbState> state_;
  std::string name_;  // a copy: a unit may outlive its reader
  bool sorted_;
  DBC* cursor_ = nullptr;
  bool positioned_ = false;
  std::deque<std::string> values_;
};

class BdbReader final : public TableReader {
 public:
  BdbReader(TableSpec spec, std::string name, std::shared_ptr<DbState> state)
      : TableReader(std::move(spec)),
        name_(std::move(name)),
        state_(std::move(state)) {}

  bool sorted() const noexcept override {
    return spec().type == TableType::kBtree;
  }

  Result<std::unique_ptr<ReadUnit>> Begin() override {
    if (state_->active_units == 0) {
      MAPCTL_RETURN_IF_ERROR(Flock(state_->fd, LOCK_SH, name_));
      // Under the lock nobody rewrites the file. If it was rewritten in
      // place (postmap) or replaced (mapctl) since we opened it, our
      // handle's cache is stale: start over on the current file.
      struct stat now, by_name;
      if (fstat(state_->fd, &now) != 0 || now.st_nlink == 0 ||
          !Unchanged(now, state_->opened) ||
          stat(name_.c_str(), &by_name) != 0 || by_name.st_ino != now.st_ino ||
          by_name.st_dev != now.st_dev) {
        (void)Flock(state_->fd, LOCK_UN, name_);
        Result<std::shared_ptr<DbState>> fresh = OpenState(name_, spec().type);
        if (!fresh) return std::move(fresh).error();
        state_ = std::move(fresh).value();  // locked
      }
    }
    ++state_->active_units;
    return std::unique_ptr<ReadUnit>(new BdbReadUnit(state_, name_, sorted()));
  }

 private:
  std::string name_;
  std::shared_ptr<DbState> state_;
};

}  // namespace
}  // namespace bdb

Result<std::unique_ptr<TableReader>> OpenBdbTable(const TableSpec& spec,
                                                  bool verify) {
  std::string name = spec.FileName();
  if (verify) {
    // Berkeley DB's own walk (DB->verify), which reads a damaged file
    // safely where a cursor over it can crash.
    std::vector<std::string> problems;
    MAPCTL_RETURN_IF_ERROR(VerifyBdbTable(spec, &problems));
    if (!problems.empty()) return DamagedTable(name, problems);
  }
  Result<std::shared_ptr<bdb::DbState>> state = bdb::OpenState(name, spec.type);
  if (!state) return std::move(state).error();
  (void)bdb::Flock((*state)->fd, LOCK_UN, name);
  return std::unique_ptr<TableReader>(
      new bdb::BdbReader(spec, std::move(name), std::move(state).value()));
}

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
