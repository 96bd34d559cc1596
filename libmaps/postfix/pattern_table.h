// postfix/pattern_table.h - regexp: and pcre: tables: the rules of a text
// file (or of an inline "{ {rule}, ... }" text) compiled once, then asked
// for keys as Postfix asks them (internal).
//
// Behaviour is Postfix 3.7.11's, checked against the real postmap
// (regexp_table(5), pcre_table(5), util/dict_regexp.c, util/dict_pcre.c,
// util/dict_utf8.c; docs/compatibility.md lists the surprises):
// - rules are tried in file order and the first match wins; IF blocks
//   nest; a bad rule (or a bad IF, which drops its block's guard) is
//   skipped with Postfix's warning and the rest of the table still works;
// - keys are matched whole and byte-wise, never folded;
// - a result may be empty: Find() reports it as found with an empty value,
//   because postmap prints it while Postfix's daemons treat it as a table
//   error (maps_find()); the caller decides which it is.
// The table never prints: every warning is a PatternWarning.

#ifndef MAPCTL_LIBMAPS_POSTFIX_PATTERN_TABLE_H_
#define MAPCTL_LIBMAPS_POSTFIX_PATTERN_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/status.h"
#include "postfix/pattern_rule.h"

namespace mapctl::pattern {

struct PatternOptions {
  // smtputf8_enable = yes and no postmap -u (Postfix's dict_utf8 layer): a
  // key that is not valid UTF-8 is not looked up (a warning, not found),
  // and a result that is not valid UTF-8 is a table error.
  bool check_utf8 = true;
  // Postfix's no_regsub open flag: rules whose result uses $n are skipped
  // at open with a warning. trivial-rewrite opens
  // sender_dependent_relayhost_maps (and transport_maps) this way; smtp
  // opens smtp_sasl_password_maps without it.
  bool no_regsub = false;
  // Every load warning becomes an error (Severity::kError), and Find()
  // refuses a table that has any.
  bool strict = false;
  // The `file` of diagnostics. Empty: the path, or for an inline table
  // "TYPE:{ N rules }" (its text holds results, maybe passwords).
  std::string origin;
};

// One warning, worded for each kind of printer. Texts are raw bytes: the
// printer replaces non-printable ones with '?' (as Postfix does).
struct PatternWarning {
  // For mapctl's own messages ("mapctl: FILE:LINE: warning: TEXT"): file
  // is the origin, line the rule's first physical line (0: none), and the
  // message never quotes result text or the value part of a line (check,
  // query sender).
  Diagnostic diagnostic;
  // Postmap's wording after its "pcre map FILE, line N: " (or "pcre:FILE:
  // ", "FILE: ") prefix, e.g. "no regexp: skipping this rule". May quote
  // result text: for printers that show values anyway (query TABLE KEY).
  std::string postfix_message;
  // Exactly what postmap logs after "postmap: warning: ", prefix included.
  std::string postfix_text;
};

enum class PatternOutcome : std::uint8_t { kNotFound, kFound, kError };

struct PatternAnswer {
  PatternOutcome outcome = PatternOutcome::kNotFound;
  // kFound: the result, "$n" substituted; may be empty. Points into the
  // table or the scratch; valid until the next Find() with that scratch.
  std::string_view value;
  // kFound: the first physical line of the rule that matched.
  std::uint32_t line = 0;
  // kError: why there is no answer (a non-UTF-8 result, a strict table
  // with bad rules). Postfix defers mail on this; postmap dies.
  Status error;
  // Warnings of this lookup: a non-UTF-8 key, a match the engine gave up
  // on (the rule counted as not matched), a non-UTF-8 result.
  std::vector<PatternWarning> warnings;
};

struct RuleInfo {
  RuleOp op;
  std::uint32_t line;
};

// Per-thread lookup state: engine scratch and result buffers. Callers
// only create it (NewScratch()) and pass it to Find().
class PatternScratch {
 private:
  friend class PatternTable;
  std::string key_;    // the key as a C string, for regexec()
  std::string value_;  // a result with $n substituted
  std::vector<Span> groups_;
  std::unique_ptr<EngineScratch> engine_;
};

// Immutable once opened. Find() with a scratch per thread may run on
// several threads at once; the scratch-less Find() may not.
class PatternTable {
 public:
  // Opens "TYPE:NAME" as Postfix would: NAME is a file (read whole, then
  // closed) or, when it starts with '{', an inline table. Errors, worded
  // as postmap's fatal messages: the file cannot be opened ("open NAME:
  // No such file or directory", kIoError); an inline text that does not
  // parse ("pcre map: missing '}' in ...", kParseError); pcre without
  // PCRE2 ("pcre: support not built in", kUnsupported). Bad rules are
  // not errors: see warnings().
  static Result<std::unique_ptr<PatternTable>> Open(
      PatternType type, std::string_view name, const PatternOptions& options);

  // The same for `text` as the contents of a file called `name`.
  static Result<std::unique_ptr<PatternTable>> FromText(
      PatternType type, std::string name, std::string_view text,
      const PatternOptions& options);

  ~PatternTable();
  PatternTable(const PatternTable&) = delete;
  PatternTable& operator=(const PatternTable&) = delete;

  PatternType type() const noexcept { return type_; }
  // NAME as Postfix names the table in its messages (path or inline text).
  const std::string& name() const noexcept { return name_; }
  const std::string& origin() const noexcept { return origin_; }

  // Load warnings, in the order postmap prints them.
  const std::vector<PatternWarning>& warnings() const noexcept {
    return warnings_;
  }
  // The rules that were kept, in file order.
  std::vector<RuleInfo> rules() const;

  std::unique_ptr<PatternScratch> NewScratch() const;

  // Looks `key` up (up to its first NUL, as Postfix sees a C string).
  PatternAnswer Find(std::string_view key, PatternScratch& scratch) const;
  // The same with the table's own scratch (not thread-safe).
  PatternAnswer Find(std::string_view key);

 private:
  PatternTable() = default;
  bool Holds(const Rule& rule, const CompiledRegex& regex, bool positive,
             std::size_t groups, PatternScratch& scratch,
             PatternAnswer* answer) const;
  // postfix_text = prefix + message. `load`: a load warning (an error
  // when strict), else a lookup's.
  PatternWarning Warning(std::uint32_t line, std::string_view prefix,
                         std::string message, std::string safe,
                         bool load = true) const;

  PatternType type_ = PatternType::kRegexp;
  std::string name_;
  std::string origin_;
  PatternOptions options_;
  const Engine* engine_ = nullptr;
  std::vector<Rule> rules_;
  std::uint32_t max_groups_ = 0;
  std::vector<PatternWarning> warnings_;
  std::unique_ptr<PatternScratch> own_scratch_;
};

}  // namespace mapctl::pattern

#endif  // MAPCTL_LIBMAPS_POSTFIX_PATTERN_TABLE_H_
