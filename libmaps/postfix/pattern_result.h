// postfix/pattern_result.h - a pattern rule's result text with its $n
// references, split once when the table is opened (internal).
//
// Postfix splits the result with util/mac_parse.c: "$$" is a literal "$";
// "$NAME" takes the longest run of letters, digits and '_'; "$(...)" and
// "${...}" take everything up to the matching bracket (nested brackets of
// the same kind count). Every NAME must be a number >= 1 (several digits
// allowed, "${01}" is group 1). dict_regexp.c and dict_pcre.c check this
// when the table is loaded and skip a rule whose result fails.

#ifndef MAPCTL_LIBMAPS_POSTFIX_PATTERN_RESULT_H_
#define MAPCTL_LIBMAPS_POSTFIX_PATTERN_RESULT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "postfix/pattern_engine.h"

namespace mapctl::pattern {

// A problem found in a rule: why it is skipped, or what is odd about it.
struct RuleProblem {
  // mac_parse()'s own warnings ("truncated macro reference", "empty macro
  // name") carry no map name and no line in Postfix's log.
  bool bare = false;
  std::string text;  // Postfix's text; may quote the result
  std::string safe;  // the same without the result's bytes
};

class ResultTemplate {
 public:
  // Splits `text`. False when the result is unusable; `problems` then
  // holds Postfix's warnings in Postfix's order (the caller adds "bad
  // replacement syntax: skipping this rule"). `hyphenated` selects
  // regexp's wording "out-of-range replacement index" for $0.
  static bool Parse(std::string_view text, bool hyphenated, ResultTemplate* out,
                    std::vector<RuleProblem>* problems);

  // The largest $n, 0 when the result uses none. Wider than any group
  // count so that "$99999999999" keeps Postfix's arithmetic (atoi()).
  std::uint64_t max_sub() const noexcept { return max_sub_; }

  // REQUIRES: max_sub() == 0. The whole result, "$$" already made "$".
  const std::string& literal() const noexcept { return literal_; }

  // Appends the result with each $n replaced by group n of `subject`; a
  // group that took no part in the match, or matched nothing, adds
  // nothing. REQUIRES: groups.size() > max_sub().
  void Expand(std::string_view subject, std::span<const Span> groups,
              std::string* out) const;

 private:
  struct Piece {
    std::string text;         // literal text when group == 0
    std::uint64_t group = 0;  // $n (checked against the group count)
  };
  std::vector<Piece> pieces_;
  std::string literal_;
  std::uint64_t max_sub_ = 0;
};

}  // namespace mapctl::pattern

#endif  // MAPCTL_LIBMAPS_POSTFIX_PATTERN_RESULT_H_
