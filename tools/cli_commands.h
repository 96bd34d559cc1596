// cli_commands.h - the CLI11 wiring of each subcommand: its options, bound
// to its Args struct (commands.h), and what runs it once parsed.

#ifndef MAPCTL_TOOLS_CLI_COMMANDS_H_
#define MAPCTL_TOOLS_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace mapctl::cli {

// A subcommand added to the app. `run` reads argv again for what CLI11
// does not keep (which of -N/-n, -r/-w came last) and calls Run<Name>().
struct Command {
  CLI::App* app = nullptr;
  std::function<int(int argc, char** argv)> run;
};

// One per subcommand, in the order `mapctl --help` lists them.
Command AddBuildCommand(CLI::App& app);
Command AddQueryCommand(CLI::App& app);
// Hidden "query-sender": main() renames "query sender" to it.
Command AddQuerySenderCommand(CLI::App& app);
Command AddDumpCommand(CLI::App& app);
Command AddDiffCommand(CLI::App& app);
Command AddCheckCommand(CLI::App& app);
Command AddConvertCommand(CLI::App& app);
Command AddVerifyCommand(CLI::App& app);
Command AddWhatifCommand(CLI::App& app);

// A repeatable option (--set, --disable, -c of whatif, ...) takes one
// value each time it is given, never the words after it: `--set
// relayhost=x alice@example.com` must leave the address an address.
void OneValuePerOption(const std::vector<Command>& commands);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_CLI_COMMANDS_H_
