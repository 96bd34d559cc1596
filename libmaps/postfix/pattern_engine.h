// postfix/pattern_engine.h - the seam between pattern-table rules and the
// regular expression library that matches them (internal).
//
// Postfix matches regexp: tables with libc's regcomp()/regexec() and pcre:
// tables with PCRE2 (util/dict_regexp.c, util/dict_pcre.c). mapctl calls
// the same libraries with the same options, so that a pattern means here
// exactly what it means to Postfix: byte-wise, in the "C" locale (Postfix
// never calls setlocale(), and neither may mapctl), PCRE2 without UTF mode.
// Only regexp_engine.cc includes <regex.h> and only pcre_engine.cc includes
// <pcre2.h>; everything above sees these classes.

#ifndef MAPCTL_LIBMAPS_POSTFIX_PATTERN_ENGINE_H_
#define MAPCTL_LIBMAPS_POSTFIX_PATTERN_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mapctl/status.h"

namespace mapctl::pattern {

// [begin, end) of one capture group within the subject; begin == kUnset
// when the group took no part in the match.
struct Span {
  std::size_t begin;
  std::size_t end;
};
inline constexpr std::size_t kUnset = static_cast<std::size_t>(-1);

// Per-thread working memory of one engine (PCRE2 match data, regmatch_t
// arrays). A compiled pattern may be shared between threads; scratch not.
class EngineScratch {
 public:
  virtual ~EngineScratch() = default;
};

enum class MatchResult : std::uint8_t {
  kMatch,
  kNoMatch,
  kError,  // the engine gave up (PCRE2's match limit, a (*UTF) pattern on
           // invalid UTF-8): Postfix warns and counts it as no match
};

// One compiled regular expression. Immutable; Match() is const.
class CompiledRegex {
 public:
  virtual ~CompiledRegex() = default;

  // Number of capture groups: re_nsub, or PCRE2_INFO_CAPTURECOUNT.
  virtual std::uint32_t group_count() const = 0;

  // Matches `subject` from its start. Fills groups[0..groups.size()) (0 is
  // the whole match) on kMatch; `error` gets the engine's text on kError.
  // REQUIRES: subject.data()[subject.size()] == '\0' (regexec takes a C
  // string); groups.size() <= group_count() + 1; `scratch` comes from the
  // same engine's NewScratch() with at least groups.size() groups.
  virtual MatchResult Match(std::string_view subject, EngineScratch& scratch,
                            std::span<Span> groups,
                            std::string* error) const = 0;
};

// What one flag byte after the closing delimiter did.
enum class FlagEffect : std::uint8_t {
  kToggled,   // the option bit was flipped
  kObsolete,  // accepted with "ignoring obsolete regexp option" (pcre X)
  kUnknown,   // "unknown regexp option": the rule is skipped
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Compile options before any flag: REG_EXTENDED|REG_ICASE for regexp,
  // PCRE2_CASELESS|PCRE2_DOTALL for pcre.
  virtual unsigned default_options() const = 0;

  // Each flag toggles one option (so "ii" is the default again).
  virtual FlagEffect ApplyFlag(char flag, unsigned* options) const = 0;

  // Compiles `regex` (NUL-free). `need_groups` false lets regcomp skip
  // sub-match bookkeeping (REG_NOSUB), as Postfix does when the result
  // uses no $n. Errors: kParseError whose message is the text Postfix
  // prints after "line N: " (regerror(), or PCRE2's "error in regex at
  // offset N: ...").
  virtual Result<std::unique_ptr<CompiledRegex>> Compile(
      const std::string& regex, unsigned options, bool need_groups) const = 0;

  // Scratch able to hold `max_groups` groups plus the whole match.
  virtual std::unique_ptr<EngineScratch> NewScratch(
      std::uint32_t max_groups) const = 0;
};

// glibc's POSIX regular expressions. Always available.
const Engine& RegexpEngine();

// PCRE2 (8-bit). kUnsupported "pcre: support not built in" when mapctl
// was built without libpcre2-8 (meson -Dpcre=disabled or not found).
Result<const Engine*> PcreEngine();

}  // namespace mapctl::pattern

#endif  // MAPCTL_LIBMAPS_POSTFIX_PATTERN_ENGINE_H_
