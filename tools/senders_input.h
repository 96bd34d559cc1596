// senders_input.h - `--senders FILE` for query sender, check and whatif:
// a file or "-" (standard input, so that `journalctl -u postfix -o cat`
// can feed it), read as mapctl/sender_list.h describes.

#ifndef MAPCTL_TOOLS_SENDERS_INPUT_H_
#define MAPCTL_TOOLS_SENDERS_INPUT_H_

#include <string>

#include "mapctl/sender_list.h"

namespace mapctl::cli {

// Errors are worded for the CLI ("--senders FILE: ...").
Result<SenderList> ReadSendersOption(const std::string& file);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_SENDERS_INPUT_H_
