// util/read_file.cc - reading a small file whole.

#include "util/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mapctl {

Result<std::string> ReadFile(const std::string& path,
                             const ReadFileOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path, errno);
  std::string data;
  char buf[65536];
  while (data.size() < options.limit) {
    const std::size_t want =
        std::min(sizeof buf, options.limit - data.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EISDIR && options.directory_is_empty) break;
      int e = errno;
      ::close(fd);
      return Status::IoError("read " + path, e);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

}  // namespace mapctl
