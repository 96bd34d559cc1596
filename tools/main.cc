// main.cc - the app: subcommands (their options in cli_commands.cc, their
// behaviour in cmd_<name>.cc over the public libmaps API), then parsing.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "cli_commands.h"
#include "cli_help.h"
#include "commands.h"
#include "report.h"

using namespace mapctl::cli;

namespace {

// A command line mapctl cannot run: the error, a hint, exit 2.
int UsageError(std::string_view message) {
  ReportError(message);
  ReportInfo("try 'mapctl --help'");
  return kExitTrouble;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Build, query and check Postfix lookup tables", "mapctl"};
  app.require_subcommand(1);
  app.set_version_flag("--version", MAPCTL_VERSION);

  const std::vector<Command> commands = {
      AddBuildCommand(app),   AddQueryCommand(app), AddQuerySenderCommand(app),
      AddDumpCommand(app),    AddDiffCommand(app),  AddCheckCommand(app),
      AddConvertCommand(app), AddVerifyCommand(app), AddWhatifCommand(app)};
  OneValuePerOption(commands);

  std::vector<std::string> words(argv + 1, argv + argc);
  // `mapctl help [COMMAND...]` is `mapctl [COMMAND...] --help`.
  if (!words.empty() && words[0] == "help") {
    words.erase(words.begin());
    words.push_back("--help");
  }
  if (!words.empty() && !words[0].empty() && words[0][0] != '-' &&
      !IsCommandName(commands, words[0])) {
    return UsageError(UnknownCommandMessage(commands, words[0]));
  }
  // "--name=" gives the empty value; CLI11 would take the next word.
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].size() > 3 && words[i].compare(0, 2, "--") == 0 &&
        words[i].back() == '=') {
      words[i].pop_back();
      words.insert(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, "");
      ++i;
    }
  }
  // Options may stand between the subcommand words: "query -c DIR sender
  // ADDR" is "query sender -c DIR ADDR".
  MoveSubcommandWord(words, "query", "sender", *commands[2].app);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "query" && words[i + 1] == "sender") {
      words[i] = "query-sender";
      words.erase(words.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      break;
    }
    if (!words[i].empty() && words[i][0] != '-') break;  // another command
  }
  // CLI11 checks for a missing subcommand before unknown options: name an
  // unknown option before the subcommand ourselves.
  if (!words.empty() && words[0].size() > 1 && words[0][0] == '-' &&
      words[0] != "-h" && words[0] != "--help" && words[0] != "--version") {
    return UsageError("unknown option: " + words[0]);
  }
  std::reverse(words.begin(), words.end());  // CLI11 parses from the back
  try {
    app.parse(words);
  } catch (const CLI::CallForHelp&) {
    PrintHelp(app, commands);
    return kExitOk;
  } catch (const CLI::ExtrasError& e) {
    return UsageError(UnknownOptionMessage(commands, e.what()));
  } catch (const CLI::ParseError& e) {
    // --version prints itself on stdout and exits 0 (so would anything
    // else CLI11 counts as success); CLI11's errors (codes 105, 106, ...)
    // exit 2, their words through the one reporter like every message.
    if (e.get_exit_code() == 0 || e.get_name() == "RuntimeError") {
      return app.exit(e) == 0 ? kExitOk : kExitTrouble;
    }
    return UsageError(e.what());
  }

  for (const Command& c : commands) {
    if (c.app->parsed()) return c.run(argc, argv);
  }
  return kExitTrouble;
}
