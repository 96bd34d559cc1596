// tables/lmdb_handle.h - owning wrappers for LMDB's C handles (internal).
//
// Only lmdb_*.cc include <lmdb.h>; everything above this layer sees
// mapctl::Status, never an MDB_* return code. FromMdb() is the one place
// that maps LMDB's codes to ours.

#ifndef MAPCTL_LIBMAPS_TABLES_LMDB_HANDLE_H_
#define MAPCTL_LIBMAPS_TABLES_LMDB_HANDLE_H_

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl::lmdb {

// "what: <mdb_strerror(rc)>" with the matching ErrorCode: MDB_MAP_FULL is
// kTableFull; MDB_INVALID, MDB_CORRUPTED and MDB_PAGE_NOTFOUND are
// kCorruption; MDB_BAD_VALSIZE is kInvalidArgument; positive codes are
// errno values (kIoError, errno kept). MDB_SUCCESS gives OK.
Status FromMdb(int rc, std::string_view what);

struct EnvCloser {
  void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
};
using EnvPtr = std::unique_ptr<MDB_env, EnvCloser>;

// Creates an environment, sets `map_size` and opens `path` as a single
// file (MDB_NOSUBDIR | MDB_NOLOCK are always added: Postfix's layout, and
// never a "-lock" file). `mode` is used only if LMDB creates the file.
Result<EnvPtr> OpenEnv(const std::string& path, unsigned flags,
                       std::size_t map_size, unsigned mode = 0600);

// A transaction; aborted on destruction unless committed. Read-only
// transactions can be parked with Reset() and reused with Renew().
// Not thread-safe.
class Txn {
 public:
  Txn() noexcept = default;
  static Result<Txn> Begin(MDB_env* env, unsigned flags);

  Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  Txn& operator=(Txn&& other) noexcept {
    if (this != &other) {
      Abort();
      txn_ = std::exchange(other.txn_, nullptr);
    }
    return *this;
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { Abort(); }

  MDB_txn* get() const noexcept { return txn_; }
  explicit operator bool() const noexcept { return txn_ != nullptr; }

  // The handle is gone afterwards whatever the outcome (LMDB frees it).
  Status Commit();
  void Abort() noexcept {
    if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
  }
  // Read-only transactions only.
  void Reset() noexcept { mdb_txn_reset(txn_); }
  Status Renew();

 private:
  explicit Txn(MDB_txn* txn) noexcept : txn_(txn) {}
  MDB_txn* txn_ = nullptr;
};

// A cursor, closed on destruction. REQUIRES: it is destroyed before its
// transaction ends (write cursors die with their transaction in LMDB).
class Cursor {
 public:
  Cursor() noexcept = default;
  static Result<Cursor> Open(MDB_txn* txn, MDB_dbi dbi);

  Cursor(Cursor&& other) noexcept : cur_(std::exchange(other.cur_, nullptr)) {}
  Cursor& operator=(Cursor&& other) noexcept {
    if (this != &other) {
      Close();
      cur_ = std::exchange(other.cur_, nullptr);
    }
    return *this;
  }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor() { Close(); }

  MDB_cursor* get() const noexcept { return cur_; }
  void Close() noexcept {
    if (cur_ != nullptr) mdb_cursor_close(std::exchange(cur_, nullptr));
  }
  // Drops the handle without closing it, for a cursor whose write
  // transaction already ended (LMDB freed it then).
  void Forget() noexcept { cur_ = nullptr; }

 private:
  explicit Cursor(MDB_cursor* cur) noexcept : cur_(cur) {}
  MDB_cursor* cur_ = nullptr;
};

inline MDB_val ToVal(const char* data, std::size_t size) noexcept {
  return MDB_val{size, const_cast<char*>(data)};
}
inline std::string_view FromVal(const MDB_val& v) noexcept {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// LMDB 0.9's on-disk format, as far as mapctl checks it before trusting a
// file (lmdb_reader.cc) and walks it (lmdb_verify.cc). Native byte order
// and word size, 64-bit page numbers. Offsets in bytes:
//   page header (16): pgno u64 @0, pad u16 @8, flags u16 @10, then
//     lower u16 @12 / upper u16 @14 (or an overflow run's page count u32
//     @12); node offsets (u16, from the page start) follow @16.
//   node (8 + key + data): data size lo u16 @0 / hi u16 @2 (on branch
//     pages the child page number, with bits 32-47 in flags), flags u16
//     @4, key size u16 @6, key @8, then data or (F_BIGDATA) the u64 first
//     page of an overflow run.
//   meta page: pages 0 and 1, MDB_meta at offset 16: magic u32 @0,
//     version u32 @4, fixed address @8, mapsize u64 @16, two 48-byte DB
//     records @24 (free DB) and @72 (main DB), last page u64 @120,
//     txnid u64 @128. The page size is the free DB record's pad field.
//   DB record (48): pad u32 @0, flags u16 @4, depth u16 @6, branch pages
//     @8, leaf pages @16, overflow pages @24, entries @32, root @40 (u64
//     each; an empty tree's root is all ones).
namespace layout {
inline constexpr std::uint32_t kMagic = 0xBEEFC0DE;
inline constexpr std::uint32_t kDataVersion = 1;
inline constexpr std::size_t kPageHeader = 16;
inline constexpr std::size_t kNodeHeader = 8;
inline constexpr std::size_t kMetaOffset = 16;
inline constexpr std::size_t kMetaSize = 136;
inline constexpr std::uint64_t kNoPage = ~std::uint64_t{0};
inline constexpr std::uint16_t kBranch = 0x01, kLeaf = 0x02, kOverflow = 0x04,
                               kMetaPage = 0x08, kLeaf2 = 0x20, kSubPage = 0x40;
inline constexpr std::uint16_t kBigData = 0x01, kSubData = 0x02,
                               kDupData = 0x04;
inline constexpr std::uint16_t kIntegerKey = 0x08;  // MDB_INTEGERKEY

template <typename T>
inline T Load(const unsigned char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace layout

struct DbRecord {
  std::uint32_t pad = 0;
  std::uint16_t flags = 0;
  std::uint16_t depth = 0;
  std::uint64_t branch_pages = 0;
  std::uint64_t leaf_pages = 0;
  std::uint64_t overflow_pages = 0;
  std::uint64_t entries = 0;
  std::uint64_t root = layout::kNoPage;
};

struct MetaInfo {
  std::uint16_t page_flags = 0;
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  std::uint64_t mapsize = 0;
  DbRecord free_db;
  DbRecord main_db;
  std::uint64_t last_pg = 0;
  std::uint64_t txnid = 0;
};

// Decodes a meta page. REQUIRES: `page` holds kMetaOffset + kMetaSize bytes.
MetaInfo ParseMeta(const unsigned char* page) noexcept;

// What CheckFile() learned about a file it accepted.
struct FileCheck {
  std::uint64_t file_size = 0;
  std::uint32_t page_size = 0;
  int newest = 0;  // which meta page (0 or 1) has the higher txnid
  MetaInfo meta;   // the newest one
  MetaInfo metas[2];
};

// The checks made before LMDB sees a file, on an open descriptor: a
// regular file, not empty, both meta pages with LMDB's magic, format
// version 1 and a sane page size, at least (last_pg + 1) pages as the
// newest meta page says, and the root page of both trees (a leaf or
// branch page where the meta page says). Cheap (three preads), not
// complete: VerifyLmdbImage() is. Errors name `name`: kInvalidArgument
// (not a regular file), kCorruption (everything else), kIoError.
Result<FileCheck> CheckFile(int fd, const std::string& name);

// VerifyLmdbTable()'s walk over an in-memory image of a whole file
// (lmdb_verify.cc); appends one string per problem. Never crashes.
void VerifyLmdbImage(const unsigned char* data, std::size_t size,
                     std::vector<std::string>* problems);
// The same walk over the first `size` bytes of the file open on `fd`
// (mapped read-only for the walk). Errors: mmap, naming `name`.
Status VerifyLmdbFile(int fd, std::uint64_t size, const std::string& name,
                      std::vector<std::string>* problems);

// Knobs of WriteLmdbTable() for tests and benchmarks; zero means "the
// writer decides" (map size from the input, batch by entries and bytes).
struct WriterTuning {
  std::size_t initial_map_size = 0;
  std::size_t batch_entries = 0;
};

}  // namespace mapctl::lmdb

namespace mapctl {
// WriteLmdbTable() with explicit tuning (lmdb_writer.cc).
Status WriteLmdbTableTuned(const TableSpec& spec,
                           std::span<const Entry> entries,
                           const BuildPlan& plan, const BuildOptions& options,
                           const SourceFileInfo& source,
                           const lmdb::WriterTuning& tuning);
}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_LMDB_HANDLE_H_
