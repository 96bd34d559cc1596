// tables/cdb_writer.h - the cdb writer: records out as they come, the
// hash tables at the end (internal).
//
// Both build paths use it: WriteCdbTable() (a parsed source and its plan)
// and the streaming build (cdb_build.cc), which hands it each chunk's
// entries as they are parsed. It keeps 8 bytes per record (hash and
// position), 4 more for the line when duplicates are warned about, and
// never a key: duplicates are found at the end, in the slot fill, where
// two records with the same 32-bit hash meet in one probe chain; only
// those are read back from the file and compared. A duplicate that must
// not stay (the later one by default and with -w, the earlier one with
// -r) is cut out of the file by one pass that moves the records after it
// down, as tinycdb's CDB_PUT_REPLACE does record by record; the file then
// has the bytes it would have had without the duplicates.

#ifndef MAPCTL_LIBMAPS_TABLES_CDB_WRITER_H_
#define MAPCTL_LIBMAPS_TABLES_CDB_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/status.h"
#include "mapctl/table.h"
#include "tables/cdb_format.h"

namespace mapctl::cdb {

struct WriterOptions {
  // Whether to look for repeated keys at all: false when a plan has
  // already resolved them (WriteCdbTable).
  bool find_duplicates = true;
  DuplicatePolicy duplicates = DuplicatePolicy::kFirstWarn;
  // Bytes of trailing NUL included in each key given to Add (0 or 1); the
  // warnings quote the key without it.
  std::size_t nul = 0;
  // For messages: the table ("NAME.cdb") and the source ("ORIGIN:LINE").
  std::string target;
  std::string origin;
  // The largest file allowed; tests lower it to reach the limit.
  std::uint64_t max_file_size = kMaxFileSize;
};

// Writes one cdb file to `fd`, an empty file open for reading and
// writing (the temporary file of an AtomicFile). Not thread-safe.
class Writer {
 public:
  Writer(int fd, std::string file_name, WriterOptions options);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends up to four records (n <= 4; four are hashed side by side).
  // keys[i] and values[i] are the stored bytes, NUL included if any;
  // they are copied before the call returns. Errors: I/O (kIoError
  // naming the file), or a file that would pass max_file_size
  // (kInvalidArgument).
  Status Add(const std::string_view* keys, const std::string_view* values,
             const std::uint32_t* lines, int n);

  // Resolves duplicates, writes the hash tables and the header. Appends
  // one kDuplicate warning per dropped record to `warnings` (kFirstWarn
  // only), in line order. The file is complete, not synced.
  Status Finish(std::vector<Diagnostic>* warnings);

  // Records added so far, duplicates included.
  std::size_t added() const noexcept;
  // Records in the finished file.
  std::size_t written() const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapctl::cdb

#endif  // MAPCTL_LIBMAPS_TABLES_CDB_WRITER_H_
