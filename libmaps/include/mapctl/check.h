// mapctl/check.h - consistency checks of a sender-dependent relay and SASL
// setup, and the freshness of the tables main.cf references.
//
// The relay and credential checks never judge keys by their shape: every
// key of sender_dependent_relayhost_maps and smtp_sasl_password_maps gets
// a representative sender that is resolved with SenderResolver (the
// library behind `mapctl query sender`), and the findings describe what
// Postfix would do with that sender (spec §6-§8). docs/checks.md lists
// each check with a failing example and its fix.

#ifndef MAPCTL_CHECK_H_
#define MAPCTL_CHECK_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/export.h"
#include "mapctl/sender.h"
#include "mapctl/source.h"
#include "mapctl/status.h"

namespace mapctl {

// A span of a Finding's message where the caller may put its own words.
// The library states the fact in Postfix's terms ("named as requiring
// authentication", "run postmap"); a caller that supplied the fact
// through one of its options, or has its own command for the remedy, may
// replace message[begin, begin + size) with words that name them.
enum class HintCode : std::uint8_t {
  kAuthRequired,  // the next hop is in CheckOptions::auth_required
  kMxUnknown,     // MX host names are not looked up (no resolve_mx)
  kBuildTable,    // how to build the table from its source
  kConvertTable,  // how to move a Berkeley DB table (Finding::key) to lmdb
};

struct MessageHint {
  HintCode code = HintCode::kAuthRequired;
  std::uint32_t begin = 0;
  std::uint32_t size = 0;
};

// One problem found. `message` never holds a credential value or the
// text of an inline: credential table; a relay value is quoted only when
// it parses as a relay form; it names Postfix parameters and files, never
// a caller's options (see hints).
struct Finding {
  std::string file;        // a source, a table file, main.cf or master.cf
  std::uint32_t line = 0;  // 0: no line
  Severity severity = Severity::kWarning;
  std::string check;               // a name from CheckNames()
  std::optional<std::string> key;  // the map key (or table) concerned
  std::string message;
  std::vector<MessageHint> hints;  // in message order, not overlapping
};

// The stable names of the checks, in docs/checks.md order.
MAPCTL_EXPORT const std::vector<std::string_view>& CheckNames();

struct CheckOptions {
  // Sources-only mode: no built table is looked at; the maps are read
  // from their sources, and the checks about deployed files (stale,
  // world-readable, group-readable) are off.
  bool sources_only = false;
  // Sources-only: the relay and credential table lists (bare paths are
  // sources; texthash:, inline: and pattern types allowed, an indexed type
  // is kInvalidArgument). Unset: main.cf's parameter, each file table read
  // from its source as MapSourcePath() says.
  std::optional<std::string> relay_maps;
  std::optional<std::string> password_maps;
  // Next hops known to require AUTH, as written in the maps: evidence
  // for the relay-credentials rule.
  std::vector<std::string> auth_required;
  // master.cf text (for -o overrides); empty when there is none.
  std::string master_cf_text;
  // Findings about parameters carry the line MainConfig::Line() gives.
  std::string main_cf_path;    // as findings name it
  std::string master_cf_path;  // as findings name it
  // Checks that are not run.
  std::set<std::string, std::less<>> disabled;
  // As for `query sender`. own_address is called from several threads
  // when the senders are resolved in parallel (see `threads`).
  LocalDomainMatcher::OwnAddressFn own_address;
  MxResolver resolve_mx;  // unset: MX hosts are unknown
  // Threads that load the tables and resolve the representative senders.
  // 0: one per core, and senders are resolved in parallel only when there
  // are enough of them to pay; 1: everything on the calling thread. The
  // findings are the same for every value. With resolve_mx set, senders
  // are resolved on the calling thread.
  unsigned threads = 0;
  // Senders to resolve besides the representatives of the maps' keys
  // (`--senders FILE`: the addresses that really send), each as
  // `query sender` takes it; "<>" is the null sender.
  std::vector<std::string> senders;
  // Bound on connecting to and on each query of the SQL tables
  // (TableContext::timeout).
  std::chrono::milliseconds table_timeout = kDefaultTableTimeout;
};

struct CheckReport {
  // Ordered by file, then line (findings without a line first).
  std::vector<Finding> findings;
  // Informational lines: sources-only path mappings, skipped checks.
  std::vector<std::string> notes;
  // Files that exist but could not be read or are corrupt: the run is
  // incomplete (the CLI exits 2 after printing the findings).
  std::vector<Status> trouble;
  // False when the setup names no relay, credential map or indexed table.
  bool checked_anything = false;
};

// Runs every check not in options.disabled. Errors: a table list that
// cannot be parsed, an indexed table given where a source is expected,
// an unreadable myorigin file.
MAPCTL_EXPORT Result<CheckReport> RunChecks(const MainConfig& config,
                                            const CheckOptions& options);

// Sources-only mode with a main.cf kept in a repository at `config_dir`:
// the source file a main.cf table name refers to. "proxy:" and the type
// are removed, a .lmdb/.cdb/.db suffix too, and a literal "/etc/postfix/"
// prefix becomes config_dir ($config_directory already expands to it).
MAPCTL_EXPORT std::string MapSourcePath(std::string_view table_name,
                                        std::string_view config_dir);

}  // namespace mapctl

#endif  // MAPCTL_CHECK_H_
