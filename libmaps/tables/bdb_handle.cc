// tables/bdb_handle.cc - Berkeley DB's codes and messages as Status
// (bdb_handle.h), and the error of a build without Berkeley DB.

#include <sys/stat.h>

#include <string>

#include "tables/table_backends.h"

#ifdef MAPCTL_HAVE_BDB
#include "tables/bdb_handle.h"
#include "tables/bdb_meta.h"
#endif

namespace mapctl {

Status BdbUnavailable(TableType type) {
  return Status::Unsupported(std::string(TableTypeName(type)) +
                             ": tables are not available: mapctl was built "
                             "without Berkeley DB support (meson -Dbdb)");
}

#ifdef MAPCTL_HAVE_BDB

namespace bdb {
namespace {

// The collector of the innermost MessageScope of this thread.
thread_local std::string* g_messages = nullptr;

void CollectMessage(const DB_ENV*, const char*, const char* msg) {
  if (g_messages == nullptr || msg == nullptr) return;
  if (!g_messages->empty()) g_messages->push_back('\n');
  g_messages->append(CleanDbMessage(msg));
}

void DropMessage(const DB_ENV*, const char*) {}

}  // namespace

MessageScope::MessageScope() : saved_(g_messages) { g_messages = &text_; }
MessageScope::~MessageScope() { g_messages = saved_; }

void Quiet(DB* db) {
  db->set_errcall(db, CollectMessage);
  db->set_msgcall(db, DropMessage);
}

Status FromDb(int rc, const std::string& what, std::string_view detail) {
  if (rc > 0) {  // an errno: kept in the Status
    if (detail.empty()) return Status::IoError(what, rc);
    return Status::IoError(what + " (" + std::string(detail) + ")", rc);
  }
  std::string msg = what + ": " + db_strerror(rc);
  if (!detail.empty()) msg += " (" + std::string(detail) + ")";
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

Result<DbPtr> NewHandle(const std::string& name, std::uint64_t cache,
                        const MessageScope& scope) {
  DB* raw = nullptr;
  if (int rc = db_create(&raw, nullptr, 0); rc != 0) {
    return FromDb(rc, "db_create for " + name, scope.first());
  }
  DbPtr db(raw);
  Quiet(raw);
  if (int rc =
          raw->set_cachesize(raw, static_cast<u_int32_t>(cache >> 30),
                             static_cast<u_int32_t>(cache & 0x3FFFFFFF), 1);
      rc != 0) {
    return FromDb(rc, "set cache size for " + name, scope.first());
  }
  return db;
}

bool SameInode(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace bdb

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
