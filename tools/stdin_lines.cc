// stdin_lines.cc - standard input in blocks of lines (stdin_lines.h).

#include "stdin_lines.h"

#include <unistd.h>

#include <cerrno>
#include <string>

#include "report.h"

namespace mapctl::cli {

bool ForEachStdinBlock(const LineBlock& block) {
  std::string pending;
  std::vector<char> buf(1 << 16);
  for (bool eof = false; !eof;) {
    ssize_t n = read(STDIN_FILENO, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ReportError(Status::IoError("read standard input", errno));
      return false;
    }
    eof = n == 0;
    pending.append(buf.data(), static_cast<std::size_t>(n));
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      lines.push_back(std::string_view(pending).substr(start, nl - start));
    }
    if (eof && start < pending.size()) {
      lines.push_back(std::string_view(pending).substr(start));
      start = pending.size();
    }
    if (!lines.empty() && !block(lines)) return false;
    pending.erase(0, start);
  }
  return true;
}

}  // namespace mapctl::cli
