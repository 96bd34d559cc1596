// senders_input.cc - `--senders FILE|-` (senders_input.h).

#include "senders_input.h"

#include <unistd.h>

#include <cerrno>

namespace mapctl::cli {

Result<SenderList> ReadSendersOption(const std::string& file) {
  if (file != "-") return ReadSenderList(file);
  // The whole stream first: the format (gzip, maillog or address list) is
  // told from the content, and a maillog's senders are made distinct.
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("read standard input", errno);
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  return ParseSenderList(bytes, "(standard input)");
}

}  // namespace mapctl::cli
