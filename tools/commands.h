// commands.h - one Args struct and one Run* function per subcommand.

#ifndef MAPCTL_TOOLS_COMMANDS_H_
#define MAPCTL_TOOLS_COMMANDS_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mapctl/lookup_table.h"
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
  bool force = false;       // --force: write even an unchanged table
  bool json = false;        // -j / --json: one object per table on stdout
  bool replace_seen = false;  // -r given (the last of -r/-w decides)
  bool ignore_seen = false;   // -w given
  bool incremental = false;   // -i: add entries from stdin, in place
  std::vector<std::string> delete_keys;  // -d KEY (repeatable); "-": stdin
  std::vector<std::string> tables;
};
int RunBuild(const BuildArgs& args);
// -i and -d: in-place updates under Postfix's lock (cmd_update.cc).
int RunUpdate(const BuildArgs& args);

// --sql-timeout SECONDS (query, query sender, check, whatif): the bound
// on connecting to an SQL server and on each query (TableContext::timeout).
using SqlTimeout = std::chrono::milliseconds;

struct QueryArgs {
  TableFlags flags;
  bool json = false;  // -j / --json
  SqlTimeout sql_timeout = kDefaultTableTimeout;
  std::string table;
  std::vector<std::string> keys;  // "-": keys from stdin
};
int RunQuery(const QueryArgs& args);

// `mapctl query sender`: which relay and credentials Postfix uses.
struct SenderArgs {
  std::string config_dir;  // -c; see docs/query-sender.md for the rule
  bool json = false;
  bool explain = false;       // every key tried, per table
  bool show_secrets = false;  // passwords unmasked
  bool resolve = false;       // allow DNS for MX-routed next hops
  SqlTimeout sql_timeout = kDefaultTableTimeout;
  std::string recipient;      // decides the next hop without a relay
  // Explicit settings; any of them without -c/MAIL_CONFIG means "no
  // main.cf": Postfix 3.7 defaults, pinned, each assumption printed.
  std::optional<std::string> relayhost;
  std::optional<std::string> relay_maps;     // sources unless TYPE:
  std::optional<std::string> password_maps;  // sources unless TYPE:
  std::optional<std::string> recipient_delimiter;
  std::optional<std::string> myhostname;
  std::optional<std::string> myorigin;
  std::vector<std::string> set;  // NAME=VALUE, applied last
  std::vector<std::string> addresses;  // "-": one per stdin line
  // --senders FILE ("-": stdin): an address list or a maillog
  // (senders_input.h); instead of addresses (query sender), besides the
  // representatives (check).
  std::string senders_file;
};
int RunQuerySender(const SenderArgs& args);

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

// `mapctl check`: the sender-dependent relay and SASL setup, and stale
// tables (docs/checks.md).
struct CheckArgs {
  // -c, --relayhost, --relay-maps, --password-maps, --set, --resolve and
  // the other settings, shared with query sender (addresses unused).
  SenderArgs setup;
  bool sources_only = false;  // --sources-only
  bool json = false;
  bool strict = false;                     // warnings exit 1 too
  std::vector<std::string> auth_required;  // next hops, as written
  std::vector<std::string> disable;        // check names
  std::vector<std::string> ignore;         // CHECK:KEY
  std::vector<std::string> ignore_files;   // files of CHECK:KEY lines
};
int RunCheck(const CheckArgs& args);

// `mapctl whatif`: two configurations over the same senders
// (docs/whatif.md): the deployed tables of one config dir against their
// sources (one -c), or two config dirs (two -c).
struct WhatifArgs {
  std::vector<std::string> config_dirs;  // -c, at most twice
  std::string senders_file;              // --senders FILE|-, required
  bool sources_only = false;  // two dirs: read both from their sources
  bool json = false;
  bool resolve = false;
  SqlTimeout sql_timeout = kDefaultTableTimeout;
  std::string recipient;
  std::vector<std::string> auth_required;  // next hops, as written
};
int RunWhatif(const WhatifArgs& args);

// `mapctl convert FROM TO`: any readable type to any writable type.
struct ConvertArgs {
  TableFlags flags;
  bool keep_root = false;   // -o
  bool plain_mode = false;  // -p
  std::string from;         // TYPE:PATH (bare: default_database_type)
  std::string to;           // TYPE:PATH, or TYPE: for FROM's path
};
int RunConvert(const ConvertArgs& args);

struct VerifyArgs {
  TableFlags flags;
  std::vector<std::string> tables;
};
int RunVerify(const VerifyArgs& args);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_COMMANDS_H_
