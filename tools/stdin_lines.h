// stdin_lines.h - standard input as blocks of lines, for the subcommands
// that read "-" as one key or address a line (postmap -q -).

#ifndef MAPCTL_TOOLS_STDIN_LINES_H_
#define MAPCTL_TOOLS_STDIN_LINES_H_

#include <functional>
#include <string_view>
#include <vector>

namespace mapctl::cli {

// Calls `block` with the whole lines each read() completes, only the LF
// removed; a last line without LF comes at the end of input. Lines are
// never held longer than one block, so answers flow while input arrives.
// The views are valid during the call only. False: a read failed
// (reported) or `block` returned false.
using LineBlock = std::function<bool(const std::vector<std::string_view>&)>;
bool ForEachStdinBlock(const LineBlock& block);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_STDIN_LINES_H_
