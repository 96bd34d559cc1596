// tables/lmdb_reader.cc - OpenLmdbTable(): checked, read-only, Postfix-locked.
//
// LMDB trusts its file completely: a damaged meta page or a truncated file
// can crash the reader. So before mdb_env_open() sees a file we read both
// meta pages ourselves (LMDB 0.9's MDB_meta layout, below) and check the
// magic, the format version, the page size and that the file holds every
// page the newest meta page claims.
//
// Locking follows Postfix's lmdb_table(5) protocol: a whole-file fcntl
// F_RDLCK around each read transaction, so a postmap build (which takes
// F_WRLCK to prove no reader holds an old snapshot) waits for us. fcntl
// locks belong to the process and vanish when *any* descriptor of the file
// is closed; so locking uses LMDB's descriptor, and the descriptor used
// for the checks stays open until the environment is closed.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tables/lmdb_handle.h"
#include "mapctl/table.h"
#include "tables/table_backends.h"

namespace mapctl {
namespace {

// One opened file: the checked descriptor, LMDB's environment over it,
// and the fcntl lock shared by the units reading it.
struct EnvState {
  ~EnvState() {
    env.reset();
    if (check_fd >= 0) close(check_fd);
  }
  lmdb::EnvPtr env;
  MDB_dbi dbi = 0;
  int check_fd = -1;
  int lmdb_fd = -1;
  std::uint64_t identity = 0;  // from the inode, see version()
  // Units alive on this state. fcntl locks do not nest, so the lock is
  // taken when this goes 0 -> 1 and dropped when it returns to 0.
  int active_units = 0;
  lmdb::Txn parked;  // a reset read txn, ready for Renew()
};

Status Lock(int fd, short type, const std::string& name) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;  // start 0, length 0: the whole file
  while (fcntl(fd, type == F_UNLCK ? F_SETLK : F_SETLKW, &fl) != 0) {
    if (errno != EINTR) return Status::IoError("lock " + name, errno);
  }
  return Status::Ok();
}

// Walks every page of the checked file (OpenOptions::verify) under a read
// lock, so that a writer's commit cannot tear what the walk reads. The
// lock is an open-file-description lock on `fd`: taking and dropping it
// leaves the process's fcntl locks (a reader unit's) alone, and it still
// conflicts with a writer's F_WRLCK.
Status VerifyBeforeUse(int fd, std::uint64_t size, const std::string& name) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  while (fcntl(fd, F_OFD_SETLKW, &fl) != 0) {
    if (errno != EINTR) return Status::IoError("lock " + name, errno);
  }
  std::vector<std::string> problems;
  Status st = lmdb::VerifyLmdbFile(fd, size, name, &problems);
  fl.l_type = F_UNLCK;
  (void)fcntl(fd, F_OFD_SETLK, &fl);
  MAPCTL_RETURN_IF_ERROR(st);
  if (!problems.empty()) return DamagedTable(name, problems);
  return Status::Ok();
}

// Opens and checks `name`, then has LMDB open the same inode.
Result<std::shared_ptr<EnvState>> OpenState(const std::string& name,
                                            bool verify) {
  for (int attempt = 0;; ++attempt) {
    auto state = std::make_shared<EnvState>();
    state->check_fd =
        open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (state->check_fd < 0) {
      return Status::IoError("open database " + name, errno);
    }
    Result<lmdb::FileCheck> check = lmdb::CheckFile(state->check_fd, name);
    if (!check) return std::move(check).error();
    if (verify) {
      MAPCTL_RETURN_IF_ERROR(
          VerifyBeforeUse(state->check_fd, check->file_size, name));
    }

    // Read-only, never creates anything. The map covers the whole file
    // with room to spare, so that a table grown in place by postmap -i
    // rarely needs a remap (the reservation costs address space only).
    std::size_t map_size = std::max<std::size_t>(
        check->file_size + std::max<std::size_t>(check->file_size, 64 << 20),
        check->meta.mapsize);
    map_size =
        (map_size + check->page_size - 1) / check->page_size * check->page_size;
    Result<lmdb::EnvPtr> env =
        lmdb::OpenEnv(name, MDB_RDONLY, std::max<std::size_t>(map_size, 1));
    if (!env) return std::move(env).error();
    state->env = std::move(env).value();

    struct stat a, b;
    if (int rc = mdb_env_get_fd(state->env.get(), &state->lmdb_fd);
        rc != MDB_SUCCESS) {
      return lmdb::FromMdb(rc, "open database " + name);
    }
    if (fstat(state->check_fd, &a) != 0 || fstat(state->lmdb_fd, &b) != 0) {
      return Status::IoError("open database " + name, errno);
    }
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
      // Replaced between our check and LMDB's open: check the new one.
      if (attempt < 5) continue;
      return Status::IoError("open database " + name + " (keeps changing)",
                             EAGAIN);
    }
    std::uint64_t h = (static_cast<std::uint64_t>(a.st_dev) << 32) ^
                      static_cast<std::uint64_t>(a.st_ino);
    h *= 0x9E3779B97F4A7C15ull;
    state->identity = h;

    Result<lmdb::Txn> txn = lmdb::Txn::Begin(state->env.get(), MDB_RDONLY);
    if (!txn) return std::move(txn).error();
    if (int rc = mdb_dbi_open(txn->get(), nullptr, 0, &state->dbi);
        rc != MDB_SUCCESS) {
      return lmdb::FromMdb(rc, "open database " + name);
    }
    txn->Reset();
    state->parked = std::move(txn).value();
    return state;
  }
}

class LmdbReadUnit final : public ReadUnit {
 public:
  LmdbReadUnit(std::shared_ptr<EnvState> state, lmdb::Txn txn, std::string name)
      : state_(std::move(state)), txn_(std::move(txn)), name_(std::move(name)) {
    txnid_ = mdb_txn_id(txn_.get());
  }

  ~LmdbReadUnit() override {
    cursor_.Close();
    if (!state_->parked) {
      txn_.Reset();
      state_->parked = std::move(txn_);
    } else {
      txn_.Abort();
    }
    if (--state_->active_units == 0) {
      (void)Lock(state_->lmdb_fd, F_UNLCK, name_);
    }
  }

  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    MDB_val k = lmdb::ToVal(key.data(), key.size());
    MDB_val v;
    int rc = mdb_get(txn_.get(), state_->dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
    if (rc != MDB_SUCCESS) return lmdb::FromMdb(rc, "read " + name_);
    return std::optional<std::string_view>(lmdb::FromVal(v));
  }

  Status Scan(ScanCursor& cursor, std::size_t limit,
              const RawVisitor& visit) override {
    if (cursor.done || limit == 0) return Status::Ok();
    if (cursor_.get() == nullptr) {
      Result<lmdb::Cursor> c = lmdb::Cursor::Open(txn_.get(), state_->dbi);
      if (!c) return std::move(c).error();
      cursor_ = std::move(c).value();
    }
    MDB_val k, v;
    int rc;
    if (!cursor.started) {
      rc = mdb_cursor_get(cursor_.get(), &k, &v, MDB_FIRST);
    } else {
      // Resume after the last key seen, which a new snapshot may have
      // deleted: position at the first key >= it and skip an exact match.
      k = lmdb::ToVal(cursor.token.data(), cursor.token.size());
      rc = cursor.token.empty()
               ? mdb_cursor_get(cursor_.get(), &k, &v, MDB_FIRST)
               : mdb_cursor_get(cursor_.get(), &k, &v, MDB_SET_RANGE);
      if (rc == MDB_SUCCESS && lmdb::FromVal(k) == cursor.token) {
        rc = mdb_cursor_get(cursor_.get(), &k, &v, MDB_NEXT);
      }
    }
    std::size_t visited = 0;
    while (rc == MDB_SUCCESS) {
      std::string_view key = lmdb::FromVal(k);
      cursor.token.assign(key.data(), key.size());
      cursor.started = true;
      ++visited;
      if (!visit(key, lmdb::FromVal(v)) || visited >= limit) {
        return Status::Ok();
      }
      rc = mdb_cursor_get(cursor_.get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_NOTFOUND) return lmdb::FromMdb(rc, "read " + name_);
    cursor.started = true;
    cursor.done = true;
    return Status::Ok();
  }

  // Transaction ids restart at 1 in every file mapctl builds, so the
  // inode's identity goes into the high bits.
  std::uint64_t version() const override {
    return (state_->identity & 0xFFFFFF0000000000ull) ^
           (static_cast<std::uint64_t>(txnid_) & 0xFFFFFFFFFFull);
  }

 private:
  std::shared_ptr<EnvState> state_;
  lmdb::Txn txn_;
  lmdb::Cursor cursor_;
  std::string name_;
  std::size_t txnid_ = 0;
};

class LmdbReader final : public TableReader {
 public:
  LmdbReader(TableSpec spec, std::string name, std::shared_ptr<EnvState> state,
             bool verify)
      : TableReader(std::move(spec)),
        name_(std::move(name)),
        state_(std::move(state)),
        verify_(verify) {}

  bool sorted() const noexcept override { return true; }

  Result<std::unique_ptr<ReadUnit>> Begin() override {
    // A table replaced by rename (mapctl's and cdb's way of building)
    // leaves our inode unlinked: follow the name to the new table, as
    // Postfix daemons do by restarting (dict.c checks st_nlink == 0).
    struct stat st;
    if (fstat(state_->lmdb_fd, &st) == 0 && st.st_nlink == 0) {
      MAPCTL_RETURN_IF_ERROR(Reopen());
    }
    for (int attempt = 0;; ++attempt) {
      std::shared_ptr<EnvState> state = state_;
      if (state->active_units == 0) {
        MAPCTL_RETURN_IF_ERROR(Lock(state->lmdb_fd, F_RDLCK, name_));
      }
      ++state->active_units;
      lmdb::Txn txn;
      int rc = MDB_SUCCESS;
      if (state->parked) {
        txn = std::move(state->parked);
        rc = mdb_txn_renew(txn.get());
      } else {
        Result<lmdb::Txn> t = lmdb::Txn::Begin(state->env.get(), MDB_RDONLY);
        if (!t) {
          if (--state->active_units == 0) {
            (void)Lock(state->lmdb_fd, F_UNLCK, name_);
          }
          return std::move(t).error();
        }
        txn = std::move(t).value();
      }
      if (rc == MDB_SUCCESS) {
        return std::unique_ptr<ReadUnit>(
            new LmdbReadUnit(std::move(state), std::move(txn), name_));
      }
      txn.Abort();
      if (--state->active_units == 0) {
        (void)Lock(state->lmdb_fd, F_UNLCK, name_);
      }
      // The file grew beyond our map (an in-place writer such as
      // postmap -i). Remap it, which LMDB allows only while no transaction
      // uses the map. (Reopening instead would open and later close a
      // second descriptor on this inode, dropping our fcntl locks.)
      if (rc == MDB_MAP_RESIZED && attempt < 3 && state->active_units == 0) {
        struct stat now;
        if (fstat(state->lmdb_fd, &now) != 0) {
          return Status::IoError("stat " + name_, errno);
        }
        state->parked.Abort();
        const auto grown = static_cast<std::size_t>(now.st_size) * 2;
        if (int grc = mdb_env_set_mapsize(state->env.get(), grown);
            grc != MDB_SUCCESS) {
          return lmdb::FromMdb(grc, "read " + name_);
        }
        continue;
      }
      return lmdb::FromMdb(rc, "read " + name_);
    }
  }

 private:
  Status Reopen() {
    Result<std::shared_ptr<EnvState>> fresh = OpenState(name_, verify_);
    if (!fresh) return std::move(fresh).error();
    // Units still reading the old file keep their state alive.
    state_ = std::move(fresh).value();
    return Status::Ok();
  }

  std::string name_;
  std::shared_ptr<EnvState> state_;
  bool verify_;  // a replacement file is walked before use too
};

}  // namespace

Result<std::unique_ptr<TableReader>> OpenLmdbTable(const TableSpec& spec,
                                                   bool verify) {
  std::string name = spec.path + ".lmdb";
  Result<std::shared_ptr<EnvState>> state = OpenState(name, verify);
  if (!state) return std::move(state).error();
  return std::unique_ptr<TableReader>(
      new LmdbReader(spec, std::move(name), std::move(state).value(), verify));
}

}  // namespace mapctl
