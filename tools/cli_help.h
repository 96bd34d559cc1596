// cli_help.h - help and the messages for words the CLI does not know:
// `mapctl help COMMAND`, usage that names `query sender` as typed, and the
// nearest valid subcommand or option for a mistyped one.

#ifndef MAPCTL_TOOLS_CLI_HELP_H_
#define MAPCTL_TOOLS_CLI_HELP_H_

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli_commands.h"

namespace mapctl::cli {

bool IsCommandName(const std::vector<Command>& commands, std::string_view word);
// `unknown command "biuld" (did you mean "build"?)`.
std::string UnknownCommandMessage(const std::vector<Command>& commands,
                                  std::string_view word);
// From CLI11's "The following arguments were not expected: ..." for the
// subcommand that was parsed: `unknown option --strcit (did you mean
// --strict?)`.
std::string UnknownOptionMessage(const std::vector<Command>& commands,
                                 std::string_view what);
// When `words` start with `first`, then only options of `sub` (with their
// values), then `second`: moves `second` right after `first`.
void MoveSubcommandWord(std::vector<std::string>& words,
                        std::string_view first, std::string_view second,
                        const CLI::App& sub);
// The usage of the subcommand asked for (or of mapctl), on stdout.
void PrintHelp(const CLI::App& app, const std::vector<Command>& commands);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_CLI_HELP_H_
