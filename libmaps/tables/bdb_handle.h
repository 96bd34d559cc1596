// tables/bdb_handle.h - Berkeley DB's handles and messages as mapctl sees
// them (internal; only with MAPCTL_HAVE_BDB).
//
// Only bdb_*.cc include <db.h>; everything above this layer sees
// mapctl::Status, never a Berkeley DB return code. FromDb() is the one
// place that maps Berkeley DB's codes to ours, MessageScope the one
// collector of the text libdb reports through its error callback. The
// reader, the writer, verify and in-place updates share them.

#ifndef MAPCTL_LIBMAPS_TABLES_BDB_HANDLE_H_
#define MAPCTL_LIBMAPS_TABLES_BDB_HANDLE_H_

#include <db.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl::bdb {

// Collects what Berkeley DB reports (through the callbacks Quiet() sets)
// while it lives, each message cleaned by CleanDbMessage() (bdb_meta.h).
// libdb's callback has no user pointer, so the collector is per thread;
// scopes nest, the innermost collects. One handle per call, one thread.
class MessageScope {
 public:
  MessageScope();
  ~MessageScope();
  MessageScope(const MessageScope&) = delete;
  MessageScope& operator=(const MessageScope&) = delete;

  // The messages so far, one a line.
  const std::string& text() const { return text_; }
  // The first of them, or "".
  std::string first() const { return text_.substr(0, text_.find('\n')); }
  void clear() { text_.clear(); }

 private:
  std::string text_;
  std::string* saved_;
};

// Routes a handle's errors to the current MessageScope and drops its
// informational output (verify prints page dumps that way; the library
// never prints).
void Quiet(DB* db);

// "what: <errno text or Berkeley DB text> (<detail>)", detail left out
// when empty. Positive codes are errno values (kIoError, errno kept);
// DB_VERIFY_BAD, DB_RUNRECOVERY, DB_PAGE_NOTFOUND and DB_SECONDARY_BAD are
// kCorruption, DB_OLD_VERSION kUnsupported, the rest kIoError.
Status FromDb(int rc, const std::string& what, std::string_view detail);

struct DbCloser {
  void operator()(DB* db) const noexcept { db->close(db, 0); }
};
using DbPtr = std::unique_ptr<DB, DbCloser>;

// A standalone handle (no DB_ENV: a private cache, never a DB_CONFIG
// file) with Quiet() callbacks and a cache of `cache` bytes. `name` is for
// messages; errors take their detail from `scope`.
Result<DbPtr> NewHandle(const std::string& name, std::uint64_t cache,
                        const MessageScope& scope);

inline DBTYPE DbType(TableType type) {
  return type == TableType::kBtree ? DB_BTREE : DB_HASH;
}

// Whether two descriptors are open on the same inode (ours, and the one
// Berkeley DB opened by name).
bool SameInode(int a, int b);

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

}  // namespace mapctl::bdb

#endif  // MAPCTL_LIBMAPS_TABLES_BDB_HANDLE_H_
