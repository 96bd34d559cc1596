// mapctl/pattern_rules.h - the text of a regexp: or pcre: table rule by
// rule, and a text diff of two of them (`mapctl diff`).
//
// A pattern table is not a set of keys: its rules are tried in file order
// and the first match wins, so two tables compare as sequences of rules.
// A rule is one logical line as Postfix reads it (util/readlline.c):
// continuation lines joined, comments and blank lines left out. Rules
// compare as text, byte for byte; nothing is compiled.

#ifndef MAPCTL_PATTERN_RULES_H_
#define MAPCTL_PATTERN_RULES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/diff.h"
#include "mapctl/export.h"
#include "mapctl/status.h"

namespace mapctl {

struct PatternRuleText {
  std::uint32_t line = 0;  // the rule's first physical line
  std::string text;        // the logical line, trailing whitespace trimmed
  // Where the result starts in `text` (after IF or ENDIF: their extra
  // text); text.size() when there is none; npos when the line is no rule
  // Postfix reads, so no part of it is known to be pattern only.
  std::size_t result = 0;
};

// Whether `name` is a regexp: or pcre: table (a leading "proxy:"
// allowed).
MAPCTL_EXPORT bool IsPatternTableName(std::string_view name);

// The rules of "regexp:FILE", "pcre:FILE" or an inline "pcre:{...}", in
// file order. A logical line Postfix drops (leading whitespace on the
// first line) is a rule too, result npos. Errors: the file cannot be read
// ("open FILE: ..."), bad inline syntax (Postfix's words).
MAPCTL_EXPORT Result<std::vector<PatternRuleText>> ReadPatternRules(
    std::string_view name);

// The rule with its result masked as a credential (MaskCredential():
// "user:****"); a line that is no rule shows as "****".
MAPCTL_EXPORT std::string MaskedRuleText(const PatternRuleText& rule);

// The results as diff entries (key: the line number, value: the result;
// IF and ENDIF lines left out, a line that is no rule gives its whole
// text), for HoldsCredentialValues(). Borrows `rules`.
MAPCTL_EXPORT std::unique_ptr<EntryStream> StreamPatternResults(
    const std::vector<PatternRuleText>& rules);

enum class RuleDiffOp : std::uint8_t { kRemoved, kAdded };

struct RuleEdit {
  RuleDiffOp op;
  const PatternRuleText* rule;  // into the old side (kRemoved) or new
  std::size_t hunk;  // edits between the same two unchanged rules
};

struct RuleDiff {
  std::vector<RuleEdit> edits;  // in file order; removals first per hunk
  std::size_t same = 0;         // rules in both, in order
};

// A text diff of two rule sequences: a longest common subsequence of
// equal texts stays, the rest is removed or added. Exact up to about
// 2,000 x 2,000 differing rules (after the common head and tail), beyond
// which the differing middle is reported removed and added whole.
MAPCTL_EXPORT RuleDiff DiffPatternRules(
    const std::vector<PatternRuleText>& old_rules,
    const std::vector<PatternRuleText>& new_rules);

}  // namespace mapctl

#endif  // MAPCTL_PATTERN_RULES_H_
