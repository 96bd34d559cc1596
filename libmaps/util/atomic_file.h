// util/atomic_file.h - build a file beside its target and rename it over it.
//
// Every table type builds through this: a temporary "TARGET.mapctl-XXXXXX"
// in the target's directory, created exclusively and flocked for the
// whole build, given the table's final mode and owner up front, then
// synced and renamed over the target. Until Commit() the target is never
// touched; an uncommitted file is unlinked by the destructor, and one left
// by a killed build is removed by the next build (its flock is gone).

#ifndef MAPCTL_LIBMAPS_UTIL_ATOMIC_FILE_H_
#define MAPCTL_LIBMAPS_UTIL_ATOMIC_FILE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

// Inputs of the mode and owner rules (see ComputeFileAttrs).
struct AtomicFileOptions {
  SourceFileInfo source;
  bool copy_source_mode = true;   // false: postmap -p
  bool take_source_owner = true;  // false: postmap -o
  // Remove TARGET.mapctl-* leftovers that nobody holds locked first.
  bool remove_leftovers = true;
};

// The options of a table build: the source's mode and owner as `build`
// says (postmap -p: copy_source_mode, -o: take_source_owner).
inline AtomicFileOptions BuildFileOptions(const BuildOptions& build,
                                          const SourceFileInfo& source) {
  AtomicFileOptions o;
  o.source = source;
  o.copy_source_mode = build.copy_source_mode;
  o.take_source_owner = build.take_source_owner;
  return o;
}

// What the finished file should look like. uid/gid -1: leave as created.
struct FileAttrs {
  std::uint32_t mode = 0644;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// The mode and owner rules, pure (no I/O). `existing` is the target's
// lstat() result, or null when there is no regular file to replace;
// `euid` is the process's effective uid.
//   new table:  0644 & ~(022 | (~source_mode & 077)), or 0644 with -p or a
//               source that is not a regular file; as root, the source's
//               owner and group unless -o.
//   replacing:  the existing owner, group and permission bits, minus the
//               "other" bits the source does not grant (none with -p).
FileAttrs ComputeFileAttrs(const AtomicFileOptions& options,
                           const struct stat* existing, uid_t euid);

// Not thread-safe; one object per build.
class AtomicFile {
 public:
  // Creates the temporary file beside `target`, takes its flock, applies
  // ComputeFileAttrs(). Errors are kIoError naming the file.
  static Result<std::unique_ptr<AtomicFile>> Create(
      const std::string& target, const AtomicFileOptions& options);

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Unlinks the temporary file unless committed; closes the descriptor,
  // which releases the flock.
  ~AtomicFile();

  // Read-write descriptor of the temporary file (owned by this object).
  int fd() const noexcept { return fd_; }
  const std::string& temp_path() const noexcept { return temp_path_; }
  const std::string& target() const noexcept { return target_; }

  // fsync(file), rename(temp, target), fsync(directory). After an error
  // the target is as it was, except when only the directory sync failed
  // (the rename happened; the message says so).
  Status Commit();

 private:
  AtomicFile(std::string target, std::string temp_path, int fd) noexcept;

  std::string target_;
  std::string temp_path_;
  int fd_;
  bool committed_ = false;
};

// Removes "TARGET.mapctl-*" files in the target's directory that can be
// flocked without waiting, i.e. that no running build holds. Best effort:
// failures are skipped. Returns how many were removed.
int RemoveAtomicLeftovers(const std::string& target);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_UTIL_ATOMIC_FILE_H_
