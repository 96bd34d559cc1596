// postfix/pattern_source.h - the text of a pattern table: logical lines, and
// the inline form "{ {rule}, {rule} }" turned into lines (internal).

#ifndef MAPCTL_LIBMAPS_POSTFIX_PATTERN_SOURCE_H_
#define MAPCTL_LIBMAPS_POSTFIX_PATTERN_SOURCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/status.h"

namespace mapctl::pattern {

// One logical line as Postfix's readllines() (util/readlline.c) builds it
// and dict_regexp/dict_pcre then trim it.
struct LogicalLine {
  std::uint32_t line = 0;  // first non-blank, non-comment physical line
  // Physical lines joined verbatim (a continuation keeps its leading
  // whitespace), cut at the first NUL, trailing whitespace trimmed. Never
  // empty unless `dropped`.
  std::string text;
  // The logical line started with whitespace (continuation text without a
  // line to continue) and was dropped; `text` then holds readllines'
  // warning quote: the first 30 bytes (up to a NUL), plus "..." when the
  // line was longer.
  bool dropped = false;
};

// Splits `text` into logical lines in file order, dropped ones included:
// - a line that starts with whitespace continues the previous one;
// - comment lines (first non-blank byte '#') and blank lines are skipped,
//   even between a line and its continuations;
// - lines end at LF; CR and other bytes are data (trailing CR is trimmed
//   with the other trailing whitespace); a missing final LF is fine.
std::vector<LogicalLine> SplitLogicalLines(std::string_view text);

// The in-memory file of an inline table, as util/dict_stream.c builds it:
// `name` is "{ {rule}, {rule} ... }" (rules separated by commas and/or
// " \t\r\n", braces inside a rule balanced, whitespace inside each rule's
// braces stripped), giving one line per rule. `rules` gets their number.
// Errors (kParseError, Postfix's fatal text): "TYPE map: no '{' at start
// of text in \"...\"", "... missing '}' in ...", "... syntax error after
// '}' in ...".
Result<std::string> InlineRulesToText(std::string_view type,
                                      std::string_view name,
                                      std::uint32_t* rules);

// Postfix's ISSPACE(): ASCII space, \t, \n, \v, \f, \r (C locale).
inline bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Postfix's ISALNUM(): ASCII letters and digits only.
inline bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

}  // namespace mapctl::pattern

#endif  // MAPCTL_LIBMAPS_POSTFIX_PATTERN_SOURCE_H_
