// check/check_internal.h - the model `mapctl check` works on, shared by the
// check_*.cc files: every table the setup names, with its source, its
// built file and the keys Postfix would see.

#ifndef MAPCTL_LIBMAPS_CHECK_CHECK_INTERNAL_H_
#define MAPCTL_LIBMAPS_CHECK_CHECK_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "check/line_index.h"
#include "check/memory_table.h"
#include "mapctl/diff.h"
#include "mapctl/check.h"
#include "mapctl/config.h"
#include "mapctl/lookup_table.h"
#include "mapctl/map_list.h"
#include "mapctl/source.h"
#include "mapctl/table.h"
#include "util/ascii.h"

namespace mapctl::check {

// The stale comparison of a source with its built file. At namespace
// scope, not nested in FileTable: clang does not see a nested struct's
// default member initializers until the enclosing class is complete, so
// std::optional<Nested>::emplace() would not compile there.
struct TableStaleness {
  Status error;  // the comparison failed: trouble
  DiffCounts counts;
  std::string first_key;        // the first key that differs
  bool matches_with_r = false;  // identical if built with -r
};

// One file table named anywhere in the setup (deduplicated by spec).
struct FileTable {
  TableSpec spec;      // as Postfix names it (texthash: for sources)
  std::string source;  // the source path; "" when there is none
  std::string file;    // the built file; "" in sources-only mode
  std::vector<std::string> parameters;  // where it is named
  bool source_exists = false;
  bool file_exists = false;
  bool readable_type = true;                 // mapctl can read the built type
  bool credential = false;                   // named by smtp_sasl_password_maps
  // What check keeps of the source once parsed (ParseSource() drops the
  // parse itself: a million-entry source is over 100 MB).
  bool parsed = false;                       // the source could be parsed
  std::vector<Diagnostic> diagnostics;       // the parser's, line order
  // Entries that repeat an earlier key (line, key), in source order.
  std::vector<std::pair<std::uint32_t, std::string>> duplicates;
  LineIndex lines;                           // first line of each key
  // The stale comparison of the source with the built file, made while
  // the source was parsed (when the stale check is on and both exist).
  std::optional<TableStaleness> staleness;
  std::shared_ptr<MemoryTable> built;        // the built file's entries (LoadBuilt)
  std::shared_ptr<MemoryTable> from_source;  // the source, first key wins
  // Problems met reading the source and the built file (RunChecks
  // reports them in table order).
  std::vector<Status> parse_trouble;
  std::vector<Status> load_trouble;
  // The entries Postfix sees: the built file's when it could be read, else
  // the source's (as it would be built).
  const MemoryTable* view() const {
    return built ? built.get() : from_source.get();
  }
  // Where a finding about `key` points: the source line when known.
  std::string FileFor() const { return source.empty() ? file : source; }
  std::uint32_t LineOf(std::string_view key) const {
    return lines.LineOf(key);
  }
};

// One element of a relay or credential table list.
struct ListTable {
  std::string display;  // safe to print
  bool evaluated = true;  // LookupTable::traits().evaluated
  FileTable* file = nullptr;                    // a file table
  std::shared_ptr<MemoryTable> inline_entries;  // inline:
  // A regexp: or pcre: table: its name (ReadPatternRules()); its rules are
  // judged by the senders that reach them.
  std::string pattern;
  // What opening the pattern table gave: a status (the file is missing,
  // unreadable) and the warnings Postfix would log (rules it skips).
  Status pattern_open;
  std::vector<TableWarning> pattern_warnings;
  // An SQL table (sqlite:, pgsql:, mysql:): its .cf file.
  std::string sql_config;
  // Written "proxy:NAME": NAME as proxymap(8) is asked for it.
  std::string proxied_name;

  // The entries the model holds: the file table's (FileTable::view()) or
  // the inline table's; null for the others.
  const MemoryTable* entries() const {
    return file != nullptr ? file->view() : inline_entries.get();
  }
};

struct TableList {
  std::string parameter;
  std::string value;  // as given to the resolver
  bool from_options = false;
  std::vector<ListTable> tables;
};

struct Model {
  const MainConfig* config = nullptr;
  const CheckOptions* options = nullptr;
  CheckReport* report = nullptr;
  FoldMode fold = FoldMode::kUtf8;
  bool check_utf8 = true;
  unsigned threads = 1;  // options->threads resolved (>= 1)
  std::map<std::string, std::unique_ptr<FileTable>> files;  // by spec
  TableList relay;
  TableList password;
  struct Reference {
    std::string table;  // "hash:/etc/postfix/x" as written
    std::string file;   // main.cf or master.cf
    std::uint32_t line = 0;
    std::string parameter;
  };
  std::vector<Reference> references;  // every type:table in main/master.cf

  bool Enabled(std::string_view check) const {
    return options->disabled.find(check) == options->disabled.end();
  }
  void Add(Finding f) { report->findings.push_back(std::move(f)); }
  void Add(std::string file, std::uint32_t line, Severity severity,
           std::string_view check, std::optional<std::string> key,
           std::string message, std::vector<MessageHint> hints = {}) {
    if (!Enabled(check)) return;
    Add(Finding{std::move(file), line, severity, std::string(check),
                std::move(key), std::move(message), std::move(hints)});
  }
  std::string MainCf() const { return options->main_cf_path; }
  // The main.cf line that sets `name`; 0 when it is not set there.
  std::uint32_t ParamLine(std::string_view name) const {
    return config->Line(name);
  }
};

// A message being written, with the spans a caller may reword
// (MessageHint).
struct HintedText {
  std::string text;
  std::vector<MessageHint> hints;

  HintedText& operator+=(std::string_view s) {
    text.append(s);
    return *this;
  }
  // Appends `words`, the library's wording of a fact `code` stands for.
  HintedText& Hint(HintCode code, std::string_view words) {
    hints.push_back({code, static_cast<std::uint32_t>(text.size()),
                     static_cast<std::uint32_t>(words.size())});
    text.append(words);
    return *this;
  }
  // Puts `prefix` in front, moving the spans.
  void Prepend(std::string_view prefix) {
    text.insert(0, prefix);
    for (MessageHint& h : hints) {
      h.begin += static_cast<std::uint32_t>(prefix.size());
    }
  }
};

// check_model.cc: reads main.cf's references, the lists, the sources and
// the built tables. Errors: see RunChecks.
Status BuildModel(Model* m);

// check_consistency.cc: relay-credentials, default-relay-credentials,
// null-sender, domain-fallthrough, auth-disabled, plaintext-auth, scope.
Status CheckConsistency(Model* m);

// check_values.cc: bad-value, duplicate-key, syntax.
void CheckValues(Model* m);

// check_files.cc: FileTable::staleness for `parsed`, the source of `t`.
void CompareWithSource(FileTable* t, const ParsedMap& parsed);

// check_files.cc: stale, missing-table, not-checked, world-readable,
// group-readable, berkeley-db.
void CheckFiles(Model* m);

}  // namespace mapctl::check

#endif  // MAPCTL_LIBMAPS_CHECK_CHECK_INTERNAL_H_
