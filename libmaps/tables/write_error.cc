// write_error.cc - the real cause of a failed table write.

#include "tables/write_error.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

namespace mapctl {

int WriteFailureCause(const Status& st, int fd) {
  if (st.ok()) return 0;
  const int e = st.sys_errno();
  if (e == ENOSPC || e == EDQUOT || e == EFBIG) return e;
  if (e != 0 && e != EIO) return 0;
  constexpr unsigned long long kSlack = 1ULL << 20;
  struct stat file;
  struct rlimit limit;
  if (fstat(fd, &file) == 0 && getrlimit(RLIMIT_FSIZE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY &&
      static_cast<unsigned long long>(file.st_size) + kSlack >=
          static_cast<unsigned long long>(limit.rlim_cur)) {
    return EFBIG;
  }
  struct statvfs vfs;
  if (fstatvfs(fd, &vfs) == 0) {
    const unsigned long long blocks =
        geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail;
    if (blocks * vfs.f_frsize < kSlack) return ENOSPC;
  }
  return 0;
}

Status NameWriteFailure(const Status& st, int cause, std::string_view what,
                        std::string_view note) {
  std::string head(what);
  if (!note.empty()) {
    head += " (";
    head += note;
    head += ')';
  }
  if (cause != 0) return Status::IoError(head, cause);
  return Status(st.code(), head + ": " + st.message());
}

Status ExplainBuildFailure(Status st, int fd, const std::string& target) {
  if (st.ok()) return st;
  const int cause = WriteFailureCause(st, fd);
  if (cause == 0) return st;
  return Status::IoError("write " + target + " (previous table untouched)",
                         cause);
}

}  // namespace mapctl
