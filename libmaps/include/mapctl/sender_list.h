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

// Reads `bytes` (the whole file or stream). `name` names the input in
// error messages. Errors: kParseError for damaged gzip data, or text with
// a NUL byte (a binary file given by mistake).
MAPCTL_EXPORT Result<SenderList> ParseSenderList(std::string_view bytes,
                                                 std::string_view name);

// Reads the file at `path` and parses it as ParseSenderList() does.
// Errors: kIoError when it cannot be read, else as ParseSenderList().
MAPCTL_EXPORT Result<SenderList> ReadSenderList(const std::string& path);

}  // namespace mapctl

#endif  // MAPCTL_SENDER_LIST_H_
