// postfix/master_cf.h - the services of master.cf, as far as mapctl needs them
// (internal). master(5): one service per logical line (whitespace-led
// lines continue it, '#' lines are comments): name, type, private,
// unpriv, chroot, wakeup, maxproc, command and its arguments, among them
// "-o name=value" or "-o { name = value }" parameter overrides.

#ifndef MAPCTL_LIBMAPS_POSTFIX_MASTER_CF_H_
#define MAPCTL_LIBMAPS_POSTFIX_MASTER_CF_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mapctl {

struct MasterService {
  std::string name;     // "smtp", "relay", "127.0.0.1:25" ...
  std::string type;     // "unix", "inet", "pass", ...
  std::string command;  // the program: "smtp", "lmtp", "pipe" ...
  std::vector<std::pair<std::string, std::string>> overrides;  // -o
};

std::vector<MasterService> ParseMasterCf(std::string_view text);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_POSTFIX_MASTER_CF_H_
