// tables/bdb_meta.h - checks made on a Berkeley DB file before libdb sees it, and
// the flock Postfix takes on .db files (internal; bdb_meta.cc, shared by
// the reader, verify and in-place updates). Needs no <db.h>.

#ifndef MAPCTL_LIBMAPS_TABLES_BDB_META_H_
#define MAPCTL_LIBMAPS_TABLES_BDB_META_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mapctl/table.h"

namespace mapctl::bdb {

// What CheckMeta() learned about a file it accepted.
struct MetaCheck {
  TableType type;
  std::uint32_t page_size;
  std::uint64_t file_size;
};

// The metadata page of `fd` (named `name` in messages) is a hash or btree
// of a supported version, unencrypted, of type `wanted`, and the file is
// as long as its last page says. Errors: kInvalidArgument (not a regular
// file, the other type), kCorruption, kUnsupported (encrypted), kIoError.
Result<MetaCheck> CheckMeta(int fd, const std::string& name, TableType wanted);

// flock(2) retried on EINTR; `op` is LOCK_SH, LOCK_EX or LOCK_UN.
Status Flock(int fd, int op, const std::string& name);

// Berkeley DB's error text as a message may quote it. libdb prints buffer
// addresses in some ("BDB0137 write: 0x56203b706b70, 4096: No space left
// on device"); a pointer value means nothing to an admin and tells an
// attacker where the heap is, so every "0x" with 5 or more hex digits
// becomes "<pointer>" (shorter ones, flag values, stay).
std::string CleanDbMessage(std::string_view text);

}  // namespace mapctl::bdb

#endif  // MAPCTL_LIBMAPS_TABLES_BDB_META_H_
