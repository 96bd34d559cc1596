// test_util.cc - TempDir and file helpers for unit tests.

#include "test_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mapctl::testing {

TempDir::TempDir() {
  std::string tmpl = ::testing::TempDir() + "mapctl-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::WriteFile(std::string_view name,
                               std::string_view contents,
                               unsigned mode) const {
  std::string full = (path_ / name).string();
  int fd = open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    ADD_FAILURE() << "open " << full << ": " << std::strerror(errno);
    return full;
  }
  std::size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = write(fd, contents.data() + off, contents.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  fchmod(fd, mode);
  close(fd);
  return full;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mapctl::testing
