// cli_config.h - how the CLI finds main.cf and names tables.

#ifndef MAPCTL_TOOLS_CLI_CONFIG_H_
#define MAPCTL_TOOLS_CLI_CONFIG_H_

#include <functional>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "mapctl/config.h"
#include "mapctl/lookup_table.h"
#include "mapctl/sender.h"
#include "mapctl/table.h"

namespace mapctl::cli {

// main.cf as postmap finds it: -c DIR, else $MAIL_CONFIG, else
// /etc/postfix. A missing main.cf or a line Postfix would reject is an
// error (reported here); the caller exits 2.
Result<MainConfig> LoadPostmapConfig(const TableFlags& flags);

// main.cf for subcommands that can run without one (diff): -c DIR or
// $MAIL_CONFIG must hold a main.cf; otherwise /etc/postfix/main.cf is used
// when it exists, else mapctl's pinned defaults (Postfix 3.7's, with
// compatibility_level = 3.6 as Debian's main.cf sets it, and myhostname =
// localhost.localdomain), which `pinned` reports so the caller can say so.
struct OptionalConfig {
  MainConfig config;
  bool pinned = false;
};
Result<OptionalConfig> LoadOptionalConfig(const TableFlags& flags);
// The note printed when the pinned defaults are used.
void ReportPinnedDefaults(const MainConfig& config);

// Loads main.cf as postmap does, then runs `each` on every table argument
// in turn, going on after a failure (as sqlite3 without -bail); the worst
// exit code wins. A missing main.cf is reported and ends it (exit 2).
int ForEachTable(
    const TableFlags& flags, const std::vector<std::string>& tables,
    const std::function<int(const MainConfig&, const std::string&)>& each);

// A table argument: "type:path", or a bare path meaning
// default_database_type:path (the one rule for bare table paths). A
// leading "proxy:" is dropped when `for_reading` (proxymap reads the same
// file) and refused otherwise, as postmap refuses to build through it.
Result<TableSpec> TableArgument(std::string_view text, const MainConfig& config,
                                bool for_reading);

// Tables postmap opens for lookups only, and how it refuses the rest:
// regexp:, pcre: and the SQL types (sqlite:, pgsql:, mysql:). `argument`
// as for TableArgument() (a leading "proxy:" ignored).
bool IsLookupOnlyTable(std::string_view argument);
// Other types postmap cannot update or list (observed with 3.7.11):
// cidr:, inline:, unionmap: and pipemap: are O_RDONLY tables for -d;
// static: and environ: answer -d with "delete operation is not
// supported"; none of them (inline: aside, which postmap lists) with -s.
enum class NoUpdate : std::uint8_t { kNone, kReadOnly, kNoDelete };
NoUpdate UpdateRefusal(std::string_view argument);
bool RefusesSequence(std::string_view argument);
// postmap -d on kNoDelete: "table TYPE:NAME: delete operation is not
// supported".
Status RefuseDelete(std::string_view argument);
// The name those refusals print: as given, but static:**** (its text is
// its answer).
std::string RefusedTableName(std::string_view argument);
// postmap -d: "TYPE:NAME map requires O_RDONLY access mode", refused
// before the table is opened (util/dict_open.c). An inline table is named
// "TYPE:{...}": its text holds results, maybe passwords.
Status RefuseUpdate(std::string_view argument);
// postmap -s, after the table opened: "table TYPE:NAME: sequence
// operation is not supported" (util/dict.c's dict_seq_notsup), with
// `display` the table's printable name.
Status RefuseSequence(std::string_view display);

// The folding and NUL options the flags and main.cf give for reading,
// and query's --sql-timeout.
struct ReadSettings {
  FoldMode fold;
  bool check_utf8;
  NulMode nul;
  SqlTimeout timeout = kDefaultTableTimeout;
};
ReadSettings ReadSettingsFor(const TableFlags& flags, const MainConfig& config);

// The table of `query TABLE KEY`: any type the library's table interface
// evaluates, opened at its first key (as postmap -q opens it).
// TableArgument()'s rules and words for the names it refuses; a type
// mapctl cannot evaluate is refused with its reason.
// `config` must outlive the table.
Result<std::unique_ptr<LookupTable>> OpenQueryTable(
    std::string_view text, const MainConfig& config,
    const ReadSettings& settings);

// main.cf for the sender commands (query sender, check): -c DIR or
// $MAIL_CONFIG must hold one; without them, any of --relayhost,
// --relay-maps, --password-maps means no main.cf: Postfix 3.7's defaults
// pinned (compatibility_level = 3.6, myhostname = localhost.localdomain)
// and each assumption listed; otherwise /etc/postfix/main.cf. The explicit
// options and --set NAME=VALUE are applied on top.
struct SenderSetup {
  MainConfig config;
  std::vector<Warning> assumptions;
  bool pinned = false;  // no main.cf was read: Postfix defaults, pinned
};
Result<SenderSetup> LoadSenderConfig(const SenderArgs& args);

// Whether `ip` is an address of this host (inet_interfaces = all).
bool IsOwnAddress(std::string_view ip);
// MX host names of `domain`, best preference first (--resolve).
Result<std::vector<std::string>> ResolveMx(std::string_view domain);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_CLI_CONFIG_H_
