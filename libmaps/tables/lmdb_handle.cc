// tables/lmdb_handle.cc - LMDB handle wrappers and the MDB code -> Status seam.

#include "tables/lmdb_handle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tables/table_backends.h"

namespace mapctl::lmdb {

Status FromMdb(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  if (rc > 0) return Status::IoError(what, rc);  // an errno value
  std::string msg(what);
  msg += ": ";
  msg += mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL:
      return Status(ErrorCode::kTableFull, std::move(msg));
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      return Status::Corruption(std::move(msg));
    case MDB_BAD_VALSIZE:
    case MDB_KEYEXIST:  // MDB_APPEND saw unsorted or duplicate keys
      return Status::InvalidArgument(std::move(msg));
    case MDB_VERSION_MISMATCH:
      return Status::Unsupported(std::move(msg));
    default:
      return Status::Corruption(std::move(msg));
  }
}

Result<EnvPtr> OpenEnv(const std::string& path, unsigned flags,
                       std::size_t map_size, unsigned mode) {
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != MDB_SUCCESS) {
    return FromMdb(rc, "mdb_env_create");
  }
  EnvPtr env(raw);  // owns it from here on, whatever happens next
  if (int rc = mdb_env_set_mapsize(env.get(), map_size); rc != MDB_SUCCESS) {
    return FromMdb(rc, "mdb_env_set_mapsize " + path);
  }
  if (int rc = mdb_env_open(env.get(), path.c_str(),
                            flags | MDB_NOSUBDIR | MDB_NOLOCK,
                            static_cast<mdb_mode_t>(mode));
      rc != MDB_SUCCESS) {
    return FromMdb(rc, "open database " + path);
  }
  return env;
}

Result<Txn> Txn::Begin(MDB_env* env, unsigned flags) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, flags, &txn); rc != MDB_SUCCESS) {
    return FromMdb(rc, "mdb_txn_begin");
  }
  return Txn(txn);
}

Status Txn::Commit() {
  int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  return FromMdb(rc, "mdb_txn_commit");
}

Status Txn::Renew() { return FromMdb(mdb_txn_renew(txn_), "mdb_txn_renew"); }

Result<Cursor> Cursor::Open(MDB_txn* txn, MDB_dbi dbi) {
  MDB_cursor* cur = nullptr;
  if (int rc = mdb_cursor_open(txn, dbi, &cur); rc != MDB_SUCCESS) {
    return FromMdb(rc, "mdb_cursor_open");
  }
  return Cursor(cur);
}

}  // namespace mapctl::lmdb

namespace mapctl::lmdb {
namespace {

DbRecord ParseDb(const unsigned char* p) noexcept {
  using layout::Load;
  DbRecord db;
  db.pad = Load<std::uint32_t>(p);
  db.flags = Load<std::uint16_t>(p + 4);
  db.depth = Load<std::uint16_t>(p + 6);
  db.branch_pages = Load<std::uint64_t>(p + 8);
  db.leaf_pages = Load<std::uint64_t>(p + 16);
  db.overflow_pages = Load<std::uint64_t>(p + 24);
  db.entries = Load<std::uint64_t>(p + 32);
  db.root = Load<std::uint64_t>(p + 40);
  return db;
}

bool SanePageSize(std::uint32_t ps) {
  return ps >= 512 && ps <= 65536 && (ps & (ps - 1)) == 0;
}

// The root page of one tree, the first page LMDB reads in it: inside the
// file, numbered as its offset says, a leaf (depth 1) or a branch page
// with sane free-space bounds and at least one node. One pread.
Status CheckRoot(int fd, const std::string& name, const FileCheck& fc,
                 const DbRecord& db, std::string_view which) {
  if (db.root == layout::kNoPage) return Status::Ok();  // an empty tree
  const std::string what = name + ": bad " + std::string(which) + " root";
  if (db.root < 2 || db.root > fc.meta.last_pg) {
    return Status::Corruption(what + " (page " + std::to_string(db.root) +
                              ", the table has " +
                              std::to_string(fc.meta.last_pg + 1) + ")");
  }
  if (db.depth < 1 || db.depth > 32) {
    return Status::Corruption(what + " (tree depth " +
                              std::to_string(db.depth) + ")");
  }
  unsigned char h[layout::kPageHeader];
  ssize_t n =
      pread(fd, h, sizeof(h), static_cast<off_t>(db.root * fc.page_size));
  if (n < 0) return Status::IoError("read " + name, errno);
  if (static_cast<std::size_t>(n) != sizeof(h)) {
    return Status::Corruption(name + ": truncated (short read)");
  }
  using layout::Load;
  const std::uint16_t flags = Load<std::uint16_t>(h + 10);
  const std::uint16_t lower = Load<std::uint16_t>(h + 12);
  const std::uint16_t upper = Load<std::uint16_t>(h + 14);
  const std::uint16_t want = db.depth == 1 ? layout::kLeaf : layout::kBranch;
  if (Load<std::uint64_t>(h) != db.root || flags != want ||
      lower < layout::kPageHeader + 2 || (lower & 1) || upper > fc.page_size ||
      lower > upper) {
    return Status::Corruption(what + " (page " + std::to_string(db.root) + ")");
  }
  return Status::Ok();
}

}  // namespace

MetaInfo ParseMeta(const unsigned char* page) noexcept {
  using layout::Load;
  MetaInfo m;
  m.page_flags = Load<std::uint16_t>(page + 10);
  const unsigned char* p = page + layout::kMetaOffset;
  m.magic = Load<std::uint32_t>(p);
  m.version = Load<std::uint32_t>(p + 4);
  m.mapsize = Load<std::uint64_t>(p + 16);
  m.free_db = ParseDb(p + 24);
  m.main_db = ParseDb(p + 72);
  m.last_pg = Load<std::uint64_t>(p + 120);
  m.txnid = Load<std::uint64_t>(p + 128);
  return m;
}

Result<FileCheck> CheckFile(int fd, const std::string& name) {
  Result<std::uint64_t> size = TableFileSize(fd, name, "an LMDB");
  if (!size) return size.error();
  FileCheck fc;
  fc.file_size = *size;
  unsigned char buf[layout::kMetaOffset + layout::kMetaSize];
  std::uint64_t offset = 0;
  for (int i = 0; i < 2; ++i) {
    if (offset + sizeof(buf) > fc.file_size) {
      return Status::Corruption(
          i == 0 ? name + ": not an LMDB file (too short)"
                 : name + ": truncated (second meta page missing)");
    }
    ssize_t n = pread(fd, buf, sizeof(buf), static_cast<off_t>(offset));
    if (n < 0) return Status::IoError("read " + name, errno);
    if (static_cast<std::size_t>(n) != sizeof(buf)) {
      return Status::Corruption(name + ": truncated (short read)");
    }
    MetaInfo m = ParseMeta(buf);
    if (m.magic != layout::kMagic || !(m.page_flags & layout::kMetaPage)) {
      return Status::Corruption(name + ": not an LMDB file" +
                                (i == 1 ? " (bad second meta page)" : ""));
    }
    if (m.version != layout::kDataVersion) {
      return Status::Corruption(name + ": unsupported LMDB version " +
                                std::to_string(m.version));
    }
    const std::uint32_t ps = m.free_db.pad;
    if (!SanePageSize(ps) || (i == 1 && ps != fc.page_size)) {
      return Status::Corruption(name + ": bad page size " + std::to_string(ps));
    }
    fc.page_size = ps;
    fc.metas[i] = m;
    offset += ps;
  }
  fc.newest = fc.metas[1].txnid > fc.metas[0].txnid ? 1 : 0;
  fc.meta = fc.metas[fc.newest];
  const std::uint64_t last = fc.meta.last_pg;
  if (last < 1 || last > (UINT64_MAX / fc.page_size) - 1 ||
      (last + 1) * fc.page_size > fc.file_size) {
    return Status::Corruption(
        name + ": truncated (" + std::to_string(fc.file_size) +
        " bytes, the table needs " +
        std::to_string((last + 1) * static_cast<std::uint64_t>(fc.page_size)) +
        ")");
  }
  MAPCTL_RETURN_IF_ERROR(CheckRoot(fd, name, fc, fc.meta.main_db, "main"));
  MAPCTL_RETURN_IF_ERROR(CheckRoot(fd, name, fc, fc.meta.free_db, "free list"));
  return fc;
}

}  // namespace mapctl::lmdb
