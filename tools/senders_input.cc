// senders_input.cc - `--senders FILE|-` (senders_input.h).

#include "senders_input.h"

#include <unistd.h>

#include <cerrno>

namespace mapctl::cli {

namespace {

Result<SenderList> ReadSenders(const std::string& file) {
  if (file != "-") return ReadSenderList(file);
  // In chunks: a maillog piped from journalctl is never held whole.
  SenderListReader reader("(standard input)");
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("read standard input", errno);
    if (n == 0) break;
    MAPCTL_RETURN_IF_ERROR(
        reader.Add(std::string_view(buf, static_cast<std::size_t>(n))));
  }
  return reader.Finish();
}

}  // namespace

Result<SenderList> ReadSendersOption(const std::string& file) {
  Result<SenderList> senders = ReadSenders(file);
  if (!senders) {
    return Status(senders.error().code(),
                  "--senders " + file + ": " + senders.error().message());
  }
  return senders;
}

}  // namespace mapctl::cli
