// tables/build_table.cc - BuildTable(): compare first, write only a change.
//
// What Postfix notices (util/dict.c, observed with 3.7.11; the table is in
// docs/building.md): a daemon restarts when the mtime of the table it has
// open changes (hash, btree, cdb; never lmdb) or when that inode loses
// its last name (every type: a rename over it). So an unchanged table is
// left exactly as it is, and its mtime is moved only when the source is
// newer: otherwise Postfix would warn that the database is older than
// its source, at every open, once the source is 100 s old.

#include "mapctl/build.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tables/build_compare.h"
#include "util/atomic_file.h"

namespace mapctl {
namespace {

bool SameVersion(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
         a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

bool Newer(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}

enum class InPlace : std::uint8_t { kDone, kRewrite };

// Applies WriteTable()'s replace rule for mode (and, as root, owner) and
// the mtime rule to the table left in place, through a descriptor on the
// inode that was compared. kRewrite: the file is not the one compared any
// more, or an attribute cannot be set without owning it; a rewrite then
// gives the same result the old way.
InPlace UpdateInPlace(const TableSpec& spec, const std::string& target,
                      const struct stat& compared, const BuildOptions& options,
                      const SourceFileInfo& source, BuildResult* result) {
  int fd = open(target.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return InPlace::kRewrite;
  InPlace outcome = InPlace::kDone;
  struct stat st;
  if (fstat(fd, &st) != 0 || !SameVersion(st, compared)) {
    outcome = InPlace::kRewrite;
  }
  if (outcome == InPlace::kDone) {
    const FileAttrs attrs = ComputeFileAttrs(BuildFileOptions(options, source),
                                             &st, geteuid());
    // Owner first: chown clears set-id bits, and the mode comes last.
    const bool uid_differs =
        attrs.uid != static_cast<uid_t>(-1) && attrs.uid != st.st_uid;
    const bool gid_differs =
        attrs.gid != static_cast<gid_t>(-1) && attrs.gid != st.st_gid;
    if (geteuid() == 0 && (uid_differs || gid_differs)) {
      if (fchown(fd, attrs.uid, attrs.gid) != 0) outcome = InPlace::kRewrite;
      else result->mode_updated = true;
    }
    if (outcome == InPlace::kDone && (st.st_mode & 07777) != attrs.mode) {
      if (fchmod(fd, attrs.mode) != 0) outcome = InPlace::kRewrite;
      else result->mode_updated = true;
    }
    // Postfix compares the source's mtime with the table's (dict_lmdb.c,
    // dict_db.c, dict_cdb.c); "now" is what a rebuild would give it.
    struct stat src;
    if (outcome == InPlace::kDone && stat(spec.path.c_str(), &src) == 0 &&
        Newer(src.st_mtim, st.st_mtim)) {
      const struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
      if (futimens(fd, times) != 0) outcome = InPlace::kRewrite;
      else result->mtime_updated = true;
    }
  }
  close(fd);
  return outcome;
}

}  // namespace

Result<BuildResult> BuildTable(const TableSpec& spec,
                               Span<const Entry> entries,
                               const BuildPlan& plan,
                               const BuildOptions& options,
                               const SourceFileInfo& source,
                               const RebuildOptions& rebuild) {
  MAPCTL_RETURN_IF_ERROR(CheckWritable(spec.type));
  BuildResult result;
  result.changed = true;
  result.added = plan.order.size();
  const std::string target = spec.FileName();

  struct stat before;
  const bool in_place =
      lstat(target.c_str(), &before) == 0 && S_ISREG(before.st_mode);
  if (in_place && !rebuild.force) {
    Result<TableComparison> c = CompareWithTable(
        spec, entries, plan, options.nul, rebuild.count_changes);
    struct stat after;
    // A table rewritten during the comparison (postmap -i, another build)
    // was not the one compared: the result says nothing, write.
    if (c && c->readable && lstat(target.c_str(), &after) == 0 &&
        SameVersion(before, after)) {
      result.compared = true;
      result.changed = !c->same;
      result.added = c->added;
      result.removed = c->removed;
      result.modified = c->modified;
      if (c->same) {
        BuildResult tentative = result;
        if (UpdateInPlace(spec, target, before, options, source,
                          &tentative) == InPlace::kDone) {
          // What a write would have done first (AtomicFile::Create): the
          // temporary files of killed builds go, whatever the outcome.
          RemoveAtomicLeftovers(target);
          return tentative;
        }
      }
    }
  }
  MAPCTL_RETURN_IF_ERROR(WriteTable(spec, entries, plan, options, source));
  result.written = true;
  return result;
}

}  // namespace mapctl
