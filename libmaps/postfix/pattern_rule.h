// postfix/pattern_rule.h - one rule of a regexp: or pcre: table, parsed and
// compiled from its logical line (internal).
//
// The forms are those of regexp_table(5) and pcre_table(5) as Postfix 3.7
// implements them (util/dict_regexp.c, util/dict_pcre.c):
//   [!...]DELIM regex DELIM [flags] [result]      a match rule
//   /p1/[flags]![!...]/p2/[flags] [result]         regexp only: p1 and not p2
//   if [!...]DELIM regex DELIM [flags]             (any case) opens a block
//   endif                                          (any case) closes it
// The delimiter is whatever byte follows the '!'s and spaces; a '\'
// escapes the next byte for the search but stays in the regex.

#ifndef MAPCTL_LIBMAPS_POSTFIX_PATTERN_RULE_H_
#define MAPCTL_LIBMAPS_POSTFIX_PATTERN_RULE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "postfix/pattern_engine.h"
#include "postfix/pattern_result.h"
#include "postfix/pattern_source.h"

namespace mapctl::pattern {

enum class PatternType : std::uint8_t { kRegexp, kPcre };

// "regexp" or "pcre": the table type as main.cf writes it.
std::string_view TypeName(PatternType type);

enum class RuleOp : std::uint8_t { kMatch, kIf, kEndif };

inline constexpr std::size_t kNoEndif = static_cast<std::size_t>(-1);

struct Rule {
  RuleOp op = RuleOp::kMatch;
  std::uint32_t line = 0;  // first physical line of the rule
  // kMatch and kIf: the (first) pattern and whether it must match (true)
  // or must not match (an odd number of '!').
  std::unique_ptr<CompiledRegex> regex;
  bool positive = true;
  // kMatch, regexp only: the second pattern of /p1/!/p2/, or null.
  std::unique_ptr<CompiledRegex> second;
  bool second_positive = true;
  // kMatch: the result.
  ResultTemplate result;
  // kIf: index of the matching kEndif rule, kNoEndif when the file ends
  // first (the block then runs to the end).
  std::size_t endif = kNoEndif;
};

struct RuleContext {
  PatternType type = PatternType::kRegexp;
  const Engine* engine = nullptr;
  // DICT_FLAG_NO_REGSUB: a rule whose result uses $n is skipped (Postfix
  // opens sender_dependent_relayhost_maps and transport_maps this way).
  bool no_regsub = false;
};

// Where the text Postfix takes as the result (or, after IF and ENDIF,
// as extra text) starts in a logical line: text.size() when there is
// none; npos when the line is no rule Postfix reads (no closing
// delimiter, an unrecognized request), so none of it can be shown as
// pattern only. Nothing is compiled.
std::size_t ResultOffset(PatternType type, std::string_view text);

// Parses and compiles the rule on `line`. `open_ifs` is the number of IF
// rules still open above it (an ENDIF without one is skipped). Returns
// nothing when the line yields no rule; `problems` gets Postfix's
// warnings for the line, in Postfix's order, also for rules that are kept
// ("no replacement text: using empty string", extra text after IF or
// ENDIF, "ignoring obsolete regexp option").
std::optional<Rule> ParseRule(const RuleContext& context,
                              const LogicalLine& line, std::size_t open_ifs,
                              std::vector<RuleProblem>* problems);

}  // namespace mapctl::pattern

#endif  // MAPCTL_LIBMAPS_POSTFIX_PATTERN_RULE_H_
