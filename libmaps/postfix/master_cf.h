// postfix/master_cf.h - the services of master.cf, as far as mapctl needs them
// (internal): the one master.cf parser of the library.
//
// master(5): one service per logical line (a line that starts with
// whitespace continues the one before; a line whose first non-blank byte
// is '#' is a comment, also inside a continuation): name, type, private,
// unpriv, chroot, wakeup, maxproc, command and its arguments. Words are
// separated by whitespace; a {...} group is one word (Postfix 3.0+), so
// "-o { name = value with spaces }" is one override, like "-o name=value".

#ifndef MAPCTL_LIBMAPS_POSTFIX_MASTER_CF_H_
#define MAPCTL_LIBMAPS_POSTFIX_MASTER_CF_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mapctl {

// One "-o name=value" of a service; the value is not $-expanded.
struct MasterOverride {
  std::string name;
  std::string value;
  std::uint32_t line = 0;  // the physical line of the "-o"
};

struct MasterService {
  std::string name;     // "smtp", "relay", "127.0.0.1:25" ...
  std::string type;     // "unix", "inet", "pass", ...
  std::string command;  // the program: "smtp", "lmtp", "pipe" ...
  std::uint32_t line = 0;  // where the service starts
  std::vector<MasterOverride> overrides;  // in order
};

// The services of `text`, in order. Lines with fewer than eight fields
// are not services and are left out (master(8) would refuse to start).
std::vector<MasterService> ParseMasterCf(std::string_view text);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_POSTFIX_MASTER_CF_H_
