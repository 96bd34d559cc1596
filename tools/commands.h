// commands.h - one Args struct and one Run* function per subcommand.

#ifndef MAPCTL_TOOLS_COMMANDS_H_
#define MAPCTL_TOOLS_COMMANDS_H_

#include <string>
#include <vector>

#include "mapctl/table.h"

namespace mapctl::cli {

// postmap's flags shared by build, query and dump.
struct TableFlags {
  std::string config_dir;  // -c; empty: $MAIL_CONFIG, else /etc/postfix
  bool no_fold = false;    // -f
  NulMode nul = NulMode::kDefault;  // -N / -n, the last one given wins
  bool no_utf8 = false;    // -u
  bool keep_utf8_checks = false;  // -U (only matters with postmap -b/-h)
  int verbose = 0;         // -v, repeatable
  // Parsing aids: -N/-n were given (the last one decides `nul`).
  bool nul_with_seen = false;
  bool nul_without_seen = false;
};

struct BuildArgs {
  TableFlags flags;
  DuplicatePolicy duplicates = DuplicatePolicy::kFirstWarn;  // -r / -w
  bool keep_root = false;   // -o
  bool plain_mode = false;  // -p
  bool strict = false;      // --strict
  bool replace_seen = false;  // -r given (the last of -r/-w decides)
  bool ignore_seen = false;   // -w given
  std::vector<std::string> tables;
};
int RunBuild(const BuildArgs& args);

struct QueryArgs {
  TableFlags flags;
  bool json = false;  // -j / --json
  std::string table;
  std::vector<std::string> keys;  // "-": keys from stdin
};
int RunQuery(const QueryArgs& args);

struct DumpArgs {
  TableFlags flags;
  bool json = false;
  std::vector<std::string> tables;
};
int RunDump(const DumpArgs& args);

struct DiffArgs {
  TableFlags flags;
  DuplicatePolicy duplicates = DuplicatePolicy::kFirstWarn;  // -r / -w
  bool json = false;
  bool secrets = false;       // --secrets: mask both sides
  bool show_secrets = false;  // --show-secrets: mask nothing
  bool replace_seen = false;  // -r / -w given (the last one decides)
  bool ignore_seen = false;
  std::string old_side;       // a source path, or TYPE:PATH for a table
  std::string new_side;
};
int RunDiff(const DiffArgs& args);

struct VerifyArgs {
  TableFlags flags;
  std::vector<std::string> tables;
};
int RunVerify(const VerifyArgs& args);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_COMMANDS_H_
