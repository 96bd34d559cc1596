// tables/bdb_table.cc - hash: and btree: tables through Berkeley DB 5.3.
//
// What Postfix writes (util/dict_db.c, global/mkmap_db.c; spec 4.5): one
// file <name>.db, DB_HASH or DB_BTREE with 4096-byte pages and the default
// hash function and key comparison, key + NUL and value + NUL unless -n.
// postmap truncates the .db in place under an exclusive flock; we build a
// new file beside it and rename it over (readers notice st_nlink == 0 as
// they do for cdb).
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
//
// Reading: Berkeley DB trusts its file, so the metadata page is checked
// first (magic, version, type, page size, length), and a btree file named
// as hash: (or the reverse) is refused with a message saying what it is.
// Each ReadUnit holds a shared flock, as Postfix's dict_db does around each
// lookup, so it never reads a table postmap is rewriting in place; a file
// that changed since the handle was opened is opened again.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "util/atomic_file.h"
#include "mapctl/table.h"
#include "tables/bdb_meta.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"

#ifdef MAPCTL_HAVE_BDB
#include <db.h>
#endif

namespace mapctl {

Status BdbUnavailable(TableType type) {
  return Status::Unsupported(std::string(TableTypeName(type)) +
                             ": tables are not available: mapctl was built "
                             "without Berkeley DB support (meson -Dbdb)");
}

#ifndef MAPCTL_HAVE_BDB

Result<std::unique_ptr<TableReader>> OpenBdbTable(const TableSpec& spec, bool) {
  return BdbUnavailable(spec.type);
}
Status WriteBdbTable(const TableSpec& spec, std::span<const Entry>,
                     const BuildPlan&, const BuildOptions&,
                     const SourceFileInfo&) {
  return BdbUnavailable(spec.type);
}
Status VerifyBdbTable(const TableSpec& spec, std::vector<std::string>*) {
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
constexpr std::uint32_t kReadCache = 128u
                                     << 10;  // berkeley_db_read_buffer_size
constexpr std::size_t kProgressEvery = 65536;
constexpr std::size_t kMaxProblems = 200;

// Berkeley DB reports details through a callback without a user pointer;
// each call collects them here (one handle per call, one thread).
thread_local std::string* g_messages = nullptr;

void CollectMessage(const DB_ENV*, const char*, const char* msg) {
  if (g_messages == nullptr || msg == nullptr) return;
  if (!g_messages->empty()) g_messages->push_back('\n');
  g_messages->append(bdb::CleanDbMessage(msg));
}

// Informational output (verify prints page dumps this way) would go to
// stdout; the library never prints, so it is dropped.
void DropMessage(const DB_ENV*, const char*) {}

// Routes a handle's errors to the collector and drops its chatter.
void Quiet(DB* db) {
  db->set_errcall(db, CollectMessage);
  db->set_msgcall(db, DropMessage);
}

class MessageScope {
 public:
  MessageScope() : saved_(g_messages) { g_messages = &text_; }
  ~MessageScope() { g_messages = saved_; }
  const std::string& text() const { return text_; }
  void clear() { text_.clear(); }

 private:
  std::string text_;
  std::string* saved_;
};

// "what: <errno text or Berkeley DB text> (<first library message>)".
Status FromDb(int rc, const std::string& what, const MessageScope* scope) {
  std::string detail;
  if (scope != nullptr && !scope->text().empty()) {
    detail = scope->text().substr(0, scope->text().find('\n'));
  }
  if (rc > 0) {  // an errno: kept in the Status
    if (detail.empty()) return Status::IoError(what, rc);
    return Status::IoError(what + " (" + detail + ")", rc);
  }
  std::string msg = what + ": " + db_strerror(rc);
  if (!detail.empty()) msg += " (" + detail + ")";
  switch (rc) {
    case DB_VERIFY_BAD:
    case DB_RUNRECOVERY:
    case DB_PAGE_NOTFOUND:
    case DB_SECONDARY_BAD:
      return Status::Corruption(std::move(msg));
    case DB_OLD_VERSION:
      return Status::Unsupported(std::move(msg));
    default:
      return Status(ErrorCode::kIoError, std::move(msg));
  }
}

struct DbCloser {
  void operator()(DB* db) const noexcept { db->close(db, 0); }
};
using DbPtr = std::unique_ptr<DB, DbCloser>;

Result<DbPtr> NewHandle(const std::string& name, std::uint32_t cache,
                        const MessageScope& scope) {
  DB* raw = nullptr;
  if (int rc = db_create(&raw, nullptr, 0); rc != 0) {
    return FromDb(rc, "db_create for " + name, &scope);
  }
  DbPtr db(raw);
  Quiet(raw);
  if (int rc = db->set_cachesize(raw, 0, cache, 1); rc != 0) {
    return FromDb(rc, "set cache size for " + name, &scope);
  }
  return db;
}

DBTYPE DbType(TableType type) {
  return type == TableType::kBtree ? DB_BTREE : DB_HASH;
}

bool SameInode(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

// The Berkeley DB metadata page (page 0; dbinc/db_page.h DBMETA): magic
// u32 @12, version u32 @16, page size u32 @20, encryption u8 @24, page
// type u8 @25 (8 hash, 9 btree), last page number u32 @32. Native byte
// order, or the other one for a file from a machine of the other
// endianness (Berkeley DB swaps those).

static std::uint32_t Swap32(std::uint32_t v) { return __builtin_bswap32(v); }

Result<MetaCheck> CheckMeta(int fd, const std::string& name, TableType wanted) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::IoError("stat " + name, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("open database " + name +
                                   ": not a regular file");
  }
  MetaCheck mc;
  mc.file_size = static_cast<std::uint64_t>(st.st_size);
  if (mc.file_size == 0) {
    return Status::Corruption(name +
                              ": empty file (zero length), not a Berkeley "
                              "DB table");
  }
  unsigned char page[72];
  if (mc.file_size < sizeof(page)) {
    return Status::Corruption(name + ": not a Berkeley DB file (" +
                              std::to_string(mc.file_size) + " bytes)");
  }
  ssize_t n = pread(fd, page, sizeof(page), 0);
  if (n < 0) return Status::IoError("read " + name, errno);
  if (static_cast<std::size_t>(n) != sizeof(page)) {
    return Status::Corruption(name + ": truncated (short read)");
  }
  auto load = [&page](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, page + at, 4);
    return v;
  };
  std::uint32_t magic = load(12), version = load(16), psize = load(20),
                last = load(32);
  if (magic == Swap32(DB_HASHMAGIC) || magic == Swap32(DB_BTREEMAGIC)) {
    magic = Swap32(magic);
    version = Swap32(version);
    psize = Swap32(psize);
    last = Swap32(last);
  }
  std::uint32_t old_version, new_version, page_type;
  if (magic == DB_HASHMAGIC) {
    mc.type = TableType::kHash;
    old_version = DB_HASHOLDVER;
    new_version = DB_HASHVERSION;
    page_type = 8;  // P_HASHMETA
  } else if (magic == DB_BTREEMAGIC) {
    mc.type = TableType::kBtree;
    old_version = DB_BTREEOLDVER;
    new_version = DB_BTREEVERSION;
    page_type = 9;  // P_BTREEMETA
  } else {
    return Status::Corruption(name + ": not a Berkeley DB hash or btree file");
  }
  if (mc.type != wanted) {
    const std::string is(TableTypeName(mc.type));
    return Status::InvalidArgument(
        "open database " + name + ": it is a Berkeley DB " + is +
        " table, not " + std::string(TableTypeName(wanted)) + " (name it " +
        is + ":)");
  }
  if (version < old_version || version > new_version) {
    return Status::Corruption(name + ": unsupported Berkeley DB " +
                              std::string(TableTypeName(mc.type)) +
                              " version " + std::to_string(version));
  }
  if (page[25] != page_type) {
    return Status::Corruption(name + ": bad metadata page type " +
                              std::to_string(page[25]));
  }
  if (page[24] != 0) {
    return Status::Unsupported(name +
                               ": encrypted Berkeley DB tables are "
                               "not supported");
  }
  if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0) {
    return Status::Corruption(name + ": bad page size " +
                              std::to_string(psize));
  }
  mc.page_size = psize;
  const std::uint64_t needed = (std::uint64_t{last} + 1) * psize;
  if (mc.file_size < needed) {
    return Status::Corruption(
        name + ": truncated (" + std::to_string(mc.file_size) +
        " bytes, the table needs " + std::to_string(needed) + ")");
  }
  return mc;
}

std::string CleanDbMessage(std::string_view text) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '0' && i + 1 < text.size() &&
        (text[i + 1] == 'x' || text[i + 1] == 'X') &&
        (i == 0 || !hex(text[i - 1]))) {
      std::size_t j = i + 2;
      while (j < text.size() && hex(text[j])) ++j;
      if (j - (i + 2) >= 5) {
        out += "<pointer>";
        i = j;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

Status Flock(int fd, int op, const std::string& name) {
  while (flock(fd, op) != 0) {
    if (errno != EINTR) return Status::IoError("lock " + name, errno);
  }
  return Status::Ok();
}

namespace {

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
      return FromDb(rc, "open database " + name, &scope);
    }
    state->db = std::move(db).value();
    int dbfd = -1;
    if (int rc = raw->fd(raw, &dbfd); rc != 0) {
      return FromDb(rc, "open database " + name, &scope);
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

inline DBT ToDbt(const char* data, std::size_t size) {
  DBT d;
  std::memset(&d, 0, sizeof(d));
  d.data = const_cast<char*>(data);
  d.size = static_cast<u_int32_t>(size);
  return d;
}
inline std::string_view FromDbt(const DBT& d) {
  return {static_cast<const char*>(d.data), d.size};
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
    if (rc != 0) return FromDb(rc, "read " + name_, &scope);
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
        return FromDb(rc, "read " + name_, &scope);
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
    if (rc != DB_NOTFOUND) return FromDb(rc, "read " + name_, &scope);
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

  AtomicFileOptions fopts;
  fopts.source = source;
  fopts.copy_source_mode = options.copy_source_mode;
  fopts.take_source_owner = options.take_source_owner;
  Result<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(target, fopts);
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;

  const std::size_t total = plan.order.size();
  std::uint64_t cache = tuning.cache_bytes;
  if (cache == 0) {
    cache = std::clamp<std::uint64_t>(bytes, kMinBuildCache, kMaxBuildCache);
  }
  MessageScope scope;
  DB* raw = nullptr;
  if (int rc = db_create(&raw, nullptr, 0); rc != 0) {
    return FromDb(rc, "db_create for " + out.temp_path(), &scope);
  }
  DbPtr db(raw);
  Quiet(raw);
  if (int rc =
          raw->set_cachesize(raw, static_cast<u_int32_t>(cache >> 30),
                             static_cast<u_int32_t>(cache & 0x3FFFFFFF), 1);
      rc != 0) {
    return FromDb(rc, "set cache size for " + out.temp_path(), &scope);
  }
  if (int rc = raw->set_pagesize(raw, kPageSize); rc != 0) {
    return FromDb(rc, "set page size for " + out.temp_path(), &scope);
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
        FromDb(rc, "open database " + out.temp_path(), &scope), out.fd(),
        target);
  }
  scope.clear();  // its complaint about the empty file is expected
  int dbfd = -1;
  if (int rc = raw->fd(raw, &dbfd); rc != 0) {
    return FromDb(rc, "open database " + out.temp_path(), &scope);
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
                 &scope),
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
    return ExplainBuildFailure(FromDb(rc, "close " + out.temp_path(), &scope),
                               out.fd(), target);
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

namespace bdb {
namespace {

// Whether a page of type `t` can be part of a table of `type` as Postfix
// builds them: hash (8 meta, 2 and 13 buckets) or btree (9 meta, 3
// internal, 5 leaf), overflow pages (7), off-page duplicate trees (3, 12)
// and free pages (0). The metadata page is page 0 only.
bool PageTypeBelongs(TableType type, std::uint64_t pgno, unsigned char t) {
  const unsigned char meta = type == TableType::kHash ? 8 : 9;
  if (pgno == 0) return t == meta;
  switch (t) {
    case 0: case 3: case 7: case 12:
      return true;
    case 2: case 13:
      return type == TableType::kHash;
    case 5:
      return type == TableType::kBtree;
    default:
      return false;
  }
}

// libdb's verifier trusts each page's type byte (offset 25) and hands the
// page to that type's verifier: a heap page (15) in a btree file makes
// __heap_vrfy free memory twice (docs/fuzzing.md, F5), and queue or recno
// pages reach other verifiers made for other files. One pass over the
// file, which DB->verify reads anyway, refuses such pages before libdb
// sees them.
Status CheckPageTypes(int fd, const std::string& name, const MetaCheck& check,
                      TableType type, std::vector<std::string>* problems) {
  const std::uint64_t pages = check.file_size / check.page_size;
  constexpr std::size_t kChunkPages = 256;
  std::vector<unsigned char> buf(kChunkPages * check.page_size);
  std::size_t found = 0;
  for (std::uint64_t first = 0; first < pages; first += kChunkPages) {
    const std::uint64_t n = std::min<std::uint64_t>(kChunkPages, pages - first);
    const std::size_t want = static_cast<std::size_t>(n * check.page_size);
    ssize_t got = pread(fd, buf.data(), want,
                        static_cast<off_t>(first * check.page_size));
    if (got < 0) return Status::IoError("read " + name, errno);
    if (static_cast<std::size_t>(got) != want) {
      return Status::Corruption(name + ": truncated (short read)");
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      const unsigned char t = buf[i * check.page_size + 25];
      if (PageTypeBelongs(type, first + i, t)) continue;
      problems->push_back("page " + std::to_string(first + i) + ": type " +
                          std::to_string(t) + ", which a " +
                          std::string(TableTypeName(type)) +
                          " table never holds");
      if (++found >= kMaxProblems) return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace
}  // namespace bdb

// Berkeley DB's own DB->verify, after our metadata check. verify()
// consumes its handle whatever the outcome, so it gets a fresh one, never
// a reader's.
Status VerifyBdbTable(const TableSpec& spec,
                      std::vector<std::string>* problems) {
  const std::string name = spec.FileName();
  int fd = open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Status::IoError("open database " + name, errno);
  if (Status st = bdb::Flock(fd, LOCK_SH, name); !st.ok()) {
    close(fd);
    return st;
  }
  Result<bdb::MetaCheck> check = bdb::CheckMeta(fd, name, spec.type);
  if (!check) {
    // Refused before Berkeley DB sees it, as a reader refuses it: an
    // error (exit 2), like lmdb's pre-trust checks.
    close(fd);
    return std::move(check).error();
  }
  const std::size_t known = problems->size();
  if (Status st = bdb::CheckPageTypes(fd, name, *check, spec.type, problems);
      !st.ok() || problems->size() > known) {
    close(fd);
    return st;
  }
  bdb::MessageScope scope;
  DB* raw = nullptr;
  int rc = db_create(&raw, nullptr, 0);
  if (rc == 0) {
    bdb::Quiet(raw);
    rc = raw->verify(raw, name.c_str(), nullptr, nullptr, 0);  // frees raw
  }
  close(fd);  // releases the lock
  if (rc == 0) return Status::Ok();
  if (rc != DB_VERIFY_BAD) return bdb::FromDb(rc, "verify " + name, &scope);
  std::size_t start = 0;
  const std::string& text = scope.text();
  std::size_t reported = 0;
  while (start < text.size() && reported < bdb::kMaxProblems) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    problems->push_back(text.substr(start, end - start));
    ++reported;
    start = end + 1;
  }
  if (reported == 0) {
    problems->push_back("Berkeley DB's verify found damage");
  }
  return Status::Ok();
}

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
