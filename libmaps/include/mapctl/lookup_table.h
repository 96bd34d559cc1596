// mapctl/lookup_table.h - one Postfix lookup table of any type, as a main.cf
// parameter names it: the one interface behind `query TABLE KEY`, the
// table lists (map_list.h), the sender search and check.
//
// Postfix opens "type:name" through its dict layer (util/dict_open.c) and
// asks it with dict_get(); each type decides how the key is matched. This
// interface mirrors that: OpenLookupTable() strips "proxy:" (proxymap(8)
// asks the same table), applies the bare-path rule and hands the name to
// the type's implementation. Every type mapctl knows has one: indexed
// files (lmdb, cdb, hash, btree) and texthash are read; inline: and
// static: are held in memory; unionmap: and pipemap: are composites of
// their members (Postfix 3.7 semantics, checked with postmap -q); the
// others (regexp, pcre, cidr, tcp, socketmap, ldap, mysql, ...) open as
// tables that answer kNotEvaluated and say why. docs/architecture.md says
// where a new type goes.

#ifndef MAPCTL_LOOKUP_TABLE_H_
#define MAPCTL_LOOKUP_TABLE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/fold.h"
#include "mapctl/source.h"
#include "mapctl/span.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

class MainConfig;

// The one family of outcomes: of a table lookup, of a query key in a
// search, and of a whole search (sender.h).
enum class Outcome : std::uint8_t {
  kFound,
  kNotFound,
  kSkipped,       // not asked: a partial key and a pattern table (maps.c),
                  // or a search the configuration turns off
  kDunno,         // relay search: the value was DUNNO, which ends it
  kError,         // the table failed, or (maps.c) holds an empty value
  kNotEvaluated,  // mapctl cannot answer for this table; nothing guessed
};

// "found", "not found", "skipped", "dunno", "error", "unsupported".
MAPCTL_EXPORT std::string_view OutcomeName(Outcome outcome) noexcept;

// Whether a search that ended with `outcome` has an answer: it was
// neither stopped by a failing table nor by one mapctl cannot evaluate.
inline bool Concluded(Outcome outcome) noexcept {
  return outcome != Outcome::kError && outcome != Outcome::kNotEvaluated;
}

// What Postfix itself distinguishes about a table.
struct TableTraits {
  // DICT_FLAG_FIXED: asked with partial keys too (user@domain, user,
  // @domain: global/mail_addr_find.c). False is DICT_FLAG_PATTERN: asked
  // with the full address only.
  bool fixed_keys = true;
  // Every entry can be listed (ForEach): check needs this to find keys.
  bool enumerable = false;
  // Answer::where names the entry or rule that matched (file:line).
  bool has_lines = false;
  // False: Find() always answers kNotEvaluated (NotEvaluatedReason()).
  bool evaluated = true;
};

struct SourceLocation {
  std::string file;
  std::uint32_t line = 0;
};

// A warning of a table, at open or for one lookup, worded twice.
struct TableWarning {
  // For mapctl's own messages and check's findings: the table's file and
  // line (0: none); never quotes a value or the value part of a line.
  Diagnostic diagnostic;
  // What postmap logs after "postmap: warning: " (may quote values: for
  // `query TABLE KEY`, which prints values anyway).
  std::string postfix_text;
  // postfix_text without postmap's "pcre map FILE, line N: " prefix, for a
  // printer that puts diagnostic's FILE:LINE in front instead; empty when
  // postfix_text has no such prefix.
  std::string postfix_message;
};

// One answer of LookupTable::Find().
struct Answer {
  Outcome outcome = Outcome::kNotFound;
  // kFound: the value Postfix gets (up to its first NUL; may be empty).
  // Valid until the next Find() or EndBatch() on the same table.
  std::string_view value;
  // kError, kNotEvaluated: why. Names the table, never quotes a value.
  Status error;
  // kNotFound: the key was refused unasked, being invalid UTF-8 while
  // smtputf8 checks are on (Postfix logs a warning and reports not found).
  bool invalid_key = false;
  // Postfix's warnings for this lookup, in its order (a rule the engine
  // gave up on, a value that is not UTF-8, a database host that failed).
  std::vector<TableWarning> warnings;
  // traits().has_lines: the rule or entry that matched.
  std::optional<SourceLocation> where;
  // What ran to answer (a query with the key filled in, secrets masked)
  // for table types that run something; empty otherwise.
  std::string detail;
};

// How bare paths (no "type:") read.
enum class MapListMode : std::uint8_t {
  kMainCf,   // as main.cf means it: default_database_type:PATH
  kSources,  // mapctl's source options: the source file (texthash:PATH)
};

// Opens a file table; OpenTable() (table.h) when empty. Tests and check
// inject other readers.
using TableOpener = std::function<Result<std::unique_ptr<TableReader>>(
    const TableSpec&, const OpenOptions&)>;

// How long a network table (SQL) may take to connect and to answer each
// query unless the caller says otherwise. Postfix has no such bound; 30 s
// keeps `query sender` and `check` from hanging on a dead server
// (docs/compatibility.md). mapctl's --sql-timeout changes it.
inline constexpr std::chrono::milliseconds kDefaultTableTimeout{30000};

// Everything a table needs besides its name; one per configuration.
struct TableContext {
  MapListMode mode = MapListMode::kMainCf;
  // Type of bare paths in kMainCf mode (main.cf's default_database_type).
  std::string default_database_type = "hash";
  // Key folding and UTF-8 checks (KeyFoldMode, ChecksUtf8 of main.cf;
  // postmap -f and -u change them).
  FoldMode fold = FoldMode::kUtf8;
  bool check_utf8 = true;
  // NUL convention of indexed tables (postmap -N / -n).
  NulMode nul = NulMode::kDefault;
  // DICT_FLAG_NO_REGSUB: pattern rules whose result uses $n are skipped
  // (trivial-rewrite opens sender_dependent_relayhost_maps so).
  bool no_regsub = false;
  // Load warnings are errors: a table that has any answers kError.
  bool strict = false;
  // Bound on connecting to and on each query of a network table (SQL).
  std::chrono::milliseconds timeout = kDefaultTableTimeout;
  // main.cf, for types configured by its parameters ("mysql:NAME" reads
  // NAME_hosts, ...); may be null. Must outlive the tables.
  const MainConfig* config = nullptr;
  TableOpener open;
};

// `base` with the open flags Postfix's daemon gives the tables of
// `parameter`: no_regsub for sender_dependent_relayhost_maps and
// transport_maps (trivial-rewrite's resolve.c and transport.c open them
// with DICT_FLAG_NO_REGSUB), off for every other parameter, among them
// smtp_sasl_password_maps (smtp_sasl_glue.c). MapList::Parse() applies it.
MAPCTL_EXPORT TableContext ContextForParameter(const TableContext& base,
                                               std::string_view parameter);

// One table. Not thread-safe: a table reads in units that last until
// EndBatch() (locks and snapshots); call it after a batch of lookups and
// before waiting for input or writing output.
class MAPCTL_EXPORT LookupTable {
 public:
  virtual ~LookupTable();
  LookupTable(const LookupTable&) = delete;
  LookupTable& operator=(const LookupTable&) = delete;

  // "type:name" as written, "proxy:" removed, a bare path with its type
  // ("lmdb:/etc/postfix/relay"). Holds passwords for inline:, static:
  // and composite credential tables: print display() instead.
  const std::string& name() const noexcept;
  // name() with values hidden ("inline:{ 2 entries }", "static:{...}"):
  // safe to print.
  const std::string& display() const noexcept;
  // "lmdb", "inline", "unionmap", "pcre", ...
  const std::string& type() const noexcept;
  // Named through "proxy:".
  bool proxied() const noexcept;
  const TableTraits& traits() const noexcept;

  // Indexed and texthash tables: the file; null for the rest.
  virtual const TableSpec* spec() const noexcept;
  // Warnings met opening the table (bad rules skipped, .cf settings),
  // in the order postmap prints them; complete after Open().
  virtual const std::vector<TableWarning>& warnings() const noexcept;
  // !traits().evaluated: why mapctl cannot answer (the type and what
  // mapctl reads); Ok otherwise.
  virtual Status NotEvaluatedReason() const;

  // Opens what the table reads now rather than at the first Find() (file
  // tables open lazily). Errors are those Find() would report.
  virtual Status Open();

  // Postfix's dict_get() for this type: the key folded as the type folds
  // it, NUL forms tried, UTF-8 checked; the value up to its first NUL.
  // The empty key is not found. Failures are answers (kError), not
  // Status: a search records them and goes on deciding.
  virtual Answer Find(std::string_view key) = 0;

  // Tells the table which keys a coming run of Find() calls may ask, so
  // that a table behind a database connection (pgsql:, mysql:) can fetch
  // their answers in one run instead of one wait per key: the sender
  // search's batch (SenderResolver::Prefetch). Find() answers as it would
  // without it, except that within one command an answer may be that of
  // the prefetch's moment. Errors are not lost: a key whose prefetch
  // failed is asked again by Find(), which reports it. Views are used
  // during the call only. Does nothing by default.
  virtual void Prefetch(Span<const std::string_view> keys);

  // Ends the read units of the current batch.
  virtual void EndBatch();

  // Visits every entry (traits().enumerable), keys as stored (folded),
  // values up to their first NUL, `line` the source line or 0. Views are
  // valid during the call only. A visitor returning false stops. Errors:
  // the table cannot be read; kUnsupported for tables that cannot list.
  using Visitor = std::function<bool(std::string_view key,
                                     std::string_view value,
                                     std::uint32_t line)>;
  virtual Status ForEach(const Visitor& visit);

 protected:
  LookupTable(std::string type, std::string name, std::string display,
              TableTraits traits);

 private:
  friend struct TableRegistry;  // sets proxied_

  std::string type_;
  std::string name_;
  std::string display_;
  TableTraits traits_;
  bool proxied_ = false;
};

// Opens one table as a main.cf parameter names it ("proxy:lmdb:/x",
// "inline:{a=b}", "/path" for the bare-path rule of context.mode).
// Nothing is read yet. Errors: an empty name ("table name is empty:"),
// a type Postfix does not have (kInvalidArgument, "unsupported dictionary
// type"), bad inline:/static:/unionmap:/pipemap: syntax (kParseError, as
// Postfix words it). A Postfix type mapctl cannot evaluate is no error:
// its table answers kNotEvaluated.
MAPCTL_EXPORT Result<std::unique_ptr<LookupTable>> OpenLookupTable(
    std::string_view name, const TableContext& context);

}  // namespace mapctl

#endif  // MAPCTL_LOOKUP_TABLE_H_
