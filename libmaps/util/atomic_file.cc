// util/atomic_file.cc - temporary file + flock + rename, and the mode rules.

#include "util/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace mapctl {
namespace {

constexpr std::string_view kTempInfix = ".mapctl-";
constexpr int kSuffixLength = 6;

// "dir/name" -> ("dir", "name"); "name" -> (".", "name").
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string RandomSuffix() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[kSuffixLength];
  std::size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without getrandom the O_EXCL retry loop still keeps names unique;
      // they are just guessable, which O_EXCL|O_NOFOLLOW makes harmless.
      for (std::size_t i = got; i < sizeof(bytes); ++i) {
        bytes[i] = static_cast<unsigned char>(getpid() + i * 7 + got);
      }
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  std::string s;
  for (unsigned char b : bytes) s += kAlphabet[b % (sizeof(kAlphabet) - 1)];
  return s;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

Status FsyncDirectory(const std::string& dir) {
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::IoError("open directory " + dir, errno);
  Status st;
  // Some file systems refuse fsync on directories; they have nothing to
  // make durable that way, so EINVAL is not an error.
  if (fsync(dfd) != 0 && errno != EINVAL) {
    st = Status::IoError("fsync directory " + dir, errno);
  }
  close(dfd);
  return st;
}

}  // namespace

FileAttrs ComputeFileAttrs(const AtomicFileOptions& options,
                           const struct stat* existing, uid_t euid) {
  FileAttrs attrs;
  // A source that is not a regular file (a pipe) has no meaningful mode:
  // treat it as 0644, i.e. no extra restriction, as postmap does when it
  // cannot stat a regular source.
  const std::uint32_t source_mode =
      options.source.regular ? (options.source.mode & 07777) : 0644;
  if (existing == nullptr) {
    // postmap's umask rule (spec 5.5), computed without touching the
    // process umask: group/other bits only as far as the source grants
    // read access, never more than 0644.
    attrs.mode =
        options.copy_source_mode ? 0644 & ~(022 | (~source_mode & 077)) : 0644;
    if (euid == 0 && options.take_source_owner && options.source.regular) {
      attrs.uid = options.source.uid;
      attrs.gid = options.source.gid;
    }
    return attrs;
  }
  // Replacing: postmap updates the inode in place, so the table keeps its
  // owner and mode. We keep them too, but a source that grants "other"
  // nothing must not end up world-readable in its table (the issue's
  // rule, stricter than postmap). Set-id bits are never carried over.
  attrs.mode = existing->st_mode & 01777;
  if (options.copy_source_mode) attrs.mode &= ~(07 & ~source_mode);
  if (euid == 0) {
    attrs.uid = existing->st_uid;
    attrs.gid = existing->st_gid;
  } else {
    // A non-root user cannot give a file away: the new table is owned by
    // the builder. Keeping the group is attempted (it works when the
    // builder belongs to it); Create() ignores EPERM for that fchown.
    attrs.gid = existing->st_gid;
  }
  return attrs;
}

AtomicFile::AtomicFile(std::string target, std::string temp_path,
                       int fd) noexcept
    : target_(std::move(target)), temp_path_(std::move(temp_path)), fd_(fd) {}

AtomicFile::~AtomicFile() {
  if (!committed_) unlink(temp_path_.c_str());
  if (fd_ >= 0) close(fd_);
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::Create(
    const std::string& target, const AtomicFileOptions& options) {
  if (options.remove_leftovers) RemoveAtomicLeftovers(target);

  struct stat existing;
  bool have_existing = false;
  if (lstat(target.c_str(), &existing) == 0) {
    have_existing = S_ISREG(existing.st_mode);
  } else if (errno != ENOENT) {
    return Status::IoError("stat " + target, errno);
  }
  const FileAttrs attrs =
      ComputeFileAttrs(options, have_existing ? &existing : nullptr, geteuid());

  std::unique_ptr<AtomicFile> file;
  for (int attempt = 0; file == nullptr; ++attempt) {
    std::string temp = target;
    temp += kTempInfix;
    temp += RandomSuffix();
    int fd = open(temp.c_str(),
                  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST && attempt < 100) continue;
      return Status::IoError("create " + temp, errno);
    }
    file.reset(new AtomicFile(target, temp, fd));
    if (flock(fd, LOCK_EX) != 0) {
      return Status::IoError("flock " + temp, errno);
    }
    // Another build's leftover sweep may have locked and unlinked our file
    // between open() and flock(): then the name is gone or someone else's.
    struct stat by_fd, by_name;
    if (fstat(fd, &by_fd) != 0) return Status::IoError("fstat " + temp, errno);
    if (lstat(temp.c_str(), &by_name) != 0 || !SameFile(by_fd, by_name)) {
      file->committed_ = true;  // not ours to unlink any more
      file.reset();
      if (attempt >= 100) return Status::IoError("create " + temp, EEXIST);
    }
  }

  // Owner first: chown clears set-id bits, and fchmod then sets the mode.
  if (attrs.uid != static_cast<uid_t>(-1) ||
      attrs.gid != static_cast<gid_t>(-1)) {
    if (fchown(file->fd_, attrs.uid, attrs.gid) != 0) {
      if (!(errno == EPERM && geteuid() != 0)) {
        return Status::IoError("fchown " + file->temp_path_, errno);
      }
    }
  }
  if (fchmod(file->fd_, attrs.mode) != 0) {
    return Status::IoError("fchmod " + file->temp_path_, errno);
  }
  return file;
}

Status AtomicFile::Commit() {
  if (committed_) return Status::InvalidArgument("commit twice: " + target_);
  if (fsync(fd_) != 0) return Status::IoError("fsync " + temp_path_, errno);
  if (rename(temp_path_.c_str(), target_.c_str()) != 0) {
    return Status::IoError("rename " + temp_path_ + " to " + target_, errno);
  }
  committed_ = true;
  Status st = FsyncDirectory(SplitPath(target_).first);
  if (!st.ok()) {
    return Status(st.code(), target_ + " was replaced, but " + st.message());
  }
  return Status::Ok();
}

int RemoveAtomicLeftovers(const std::string& target) {
  auto [dir, base] = SplitPath(target);
  const std::string prefix = base + std::string(kTempInfix);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  int dfd = dirfd(d);
  int removed = 0;
  while (struct dirent* de = readdir(d)) {
    std::string_view name(de->d_name);
    if (name.size() != prefix.size() + kSuffixLength ||
        name.substr(0, prefix.size()) != prefix) {
      continue;
    }
    int fd = openat(dfd, de->d_name,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) continue;
    struct stat by_fd, by_name;
    // Only a regular file whose flock is free (its build is dead), and only
    // if the name still points to the inode we locked.
    if (fstat(fd, &by_fd) == 0 && S_ISREG(by_fd.st_mode) &&
        flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        fstatat(dfd, de->d_name, &by_name, AT_SYMLINK_NOFOLLOW) == 0 &&
        SameFile(by_fd, by_name) && unlinkat(dfd, de->d_name, 0) == 0) {
      ++removed;
    }
    close(fd);  // releases the flock
  }
  closedir(d);
  return removed;
}

}  // namespace mapctl
