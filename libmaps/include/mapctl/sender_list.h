// mapctl/sender_list.h - the senders of `--senders FILE`: a list of
// addresses, or the senders a Postfix maillog shows.
//
// The format is told from the content, never from the file name: gzip by
// its magic bytes (a rotated maillog.N.gz), then a maillog by its qmgr(8)
// lines. qmgr logs every message it takes into the active queue as
// "QUEUEID: from=<SENDER>, size=N, nrcpt=N (queue active)" (and an expired
// one as "QUEUEID: from=<SENDER>, status=expired, ..."), behind whatever
// prefix the logger writes: postlogd's or syslog's "... postfix/qmgr[PID]: ",
// an instance's "postfix-out/qmgr[PID]: ", RFC 5424's "postfix PID - - ", or
// none (journalctl -o cat). Lines of other daemons (pickup's
// "uid=0 from=<...>", smtpd's rejects) are never taken.

#ifndef MAPCTL_SENDER_LIST_H_
#define MAPCTL_SENDER_LIST_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/status.h"

namespace mapctl {

enum class SenderListFormat {
  kAddresses,  // one address per line; '#' lines and blank lines skipped
  kMaillog,    // a Postfix maillog: the distinct qmgr from=<...> senders
};

struct SenderList {
  // Each as `query sender` takes it; "<>" is the null sender. A maillog
  // gives each sender once, in first-seen order; an address list keeps
  // every line, in order (its repeats are the caller's choice).
  std::vector<std::string> senders;
  SenderListFormat format = SenderListFormat::kAddresses;
  bool gzip = false;            // the bytes were gzip-compressed
  std::size_t log_lines = 0;    // kMaillog: qmgr from= lines read
};

// Reads a stream in chunks of any size (a file, a pipe from journalctl),
// so a large maillog is never held whole: only its senders are kept.
// `name` names the input in error messages. Not thread-safe.
class MAPCTL_EXPORT SenderListReader {
 public:
  explicit SenderListReader(std::string name);
  ~SenderListReader();
  SenderListReader(const SenderListReader&) = delete;
  SenderListReader& operator=(const SenderListReader&) = delete;

  // The next bytes of the input. Errors (kParseError): damaged gzip data,
  // or a NUL byte in the text (a binary file given by mistake); after an
  // error the reader stays failed.
  Status Add(std::string_view bytes);
  // The end of the input: the senders. Errors: those of Add(), and gzip
  // data that ends inside a member (a truncated file).
  Result<SenderList> Finish();

 private:
  struct Rep;
  Rep* rep_;
};

// The whole input at once, as SenderListReader reads it.
MAPCTL_EXPORT Result<SenderList> ParseSenderList(std::string_view bytes,
                                                 std::string_view name);

// Reads the file at `path` as SenderListReader does. Errors: kIoError
// when it cannot be read, else as SenderListReader.
MAPCTL_EXPORT Result<SenderList> ReadSenderList(const std::string& path);

}  // namespace mapctl

#endif  // MAPCTL_SENDER_LIST_H_
