// known_findings.h - the open findings of docs/fuzzing.md, and how a long
// run looks past them.
//
// A fuzz target stops at its first finding, so one that is easy to hit
// (a main.cf loop) would end every long run within seconds. With
// MAPCTL_FUZZ_SKIP_KNOWN=1 in the environment, the targets leave out the
// inputs that reach an open finding and keep looking for new ones. CI
// and the regression replays (tests/fuzz/regressions/) never set it, so
// they fail until each finding is fixed. Remove a filter with its fix.

#ifndef MAPCTL_TESTS_FUZZ_KNOWN_FINDINGS_H_
#define MAPCTL_TESTS_FUZZ_KNOWN_FINDINGS_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "mapctl/config.h"

namespace mapctl::fuzz {

inline bool SkipKnown() {
  static const bool skip = [] {
    const char* v = std::getenv("MAPCTL_FUZZ_SKIP_KNOWN");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return skip;
}

// Findings F1 and F2 (config.cc): how many expansion steps MainConfig
// makes for a parameter, following its rules (a step per $name, "too
// deep" past 100 levels, an unset mydomain derived from myhostname by a
// fresh Get()), without expanding anything. F1: the fresh Get() restarts
// the depth count, so a myhostname that uses $mydomain recurses until the
// stack overflows. F2: past the depth limit the expansion goes on, so
// "a = $a$a" takes 2^100 steps. Either counts as more than `limit`.
class ExpansionCost {
 public:
  ExpansionCost(const MainConfig& config, std::size_t limit)
      : config_(config), limit_(limit) {}

  std::size_t OfParameter(std::string_view name) {
    if (name == "mydomain" && !config_.IsSet(name)) {
      return OfParameter("myhostname");
    }
    return Of(std::string(name), config_.GetRaw(name), 0);
  }
  std::size_t OfText(std::string_view text) { return Steps(text, 0); }

 private:
  std::size_t Add(std::size_t a, std::size_t b) const {
    return a + b > limit_ ? limit_ + 1 : a + b;
  }

  // Steps of Expand(GetRaw(name), depth), remembered per (name, depth).
  std::size_t Of(const std::string& name, const std::string& raw, int depth) {
    auto key = std::make_pair(name, depth);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    if (!active_.insert(key).second) return limit_ + 1;  // never ends (F1)
    std::size_t n = Steps(raw, depth);
    active_.erase(key);
    memo_[key] = n;
    return n;
  }

  std::size_t Steps(std::string_view text, int depth) {
    std::size_t n = 1;
    if (depth > 100) return n;
    for (std::size_t i = 0; i + 1 < text.size() && n <= limit_; ++i) {
      if (text[i] != '$') continue;
      if (text[i + 1] == '$') {
        ++i;
        continue;
      }
      std::size_t start = i + 1;
      if (text[start] == '{' || text[start] == '(') ++start;
      std::size_t end = start;
      while (end < text.size() && IsNameChar(text[end])) ++end;
      if (end == start) continue;
      std::string name(text.substr(start, end - start));
      if (name == "mydomain" && !config_.IsSet(name)) {
        n = Add(n, Of("myhostname", config_.GetRaw("myhostname"), 0));
      } else {
        n = Add(n, Of(name, config_.GetRaw(name), depth + 1));
      }
    }
    return n;
  }

  static bool IsNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
  }

  const MainConfig& config_;
  std::size_t limit_;
  std::map<std::pair<std::string, int>, std::size_t> memo_;
  std::set<std::pair<std::string, int>> active_;
};

// F3 (secrets.cc, CredentialTablePaths): a master.cf "-o { name = value }"
// value is cut at its first whitespace, a comment line inside the braces
// hides the override, and '\r', '\f' and '\v' are not separators there
// as they are in ParseMasterCf(), nor is '}' part of a value; when
// skipping, master_cf_fuzz checks only overrides without whitespace or
// braces in files without '#', '\r', '\f' or '\v'.
// F4 (relay.cc, SplitDestinations): '\f' and '\v' separate destinations
// there but not in ParseDestinations (nor in smtp(8)); relay_value_fuzz
// compares the two only on values without them when skipping.

// Whether Get() of any parameter named in `text` (main.cf lines) or of
// mydomain reaches F1 or F2.
inline bool ReachesConfigFindings(const MainConfig& config,
                                  std::string_view text) {
  constexpr std::size_t kLimit = 100000;
  ExpansionCost cost(config, kLimit);
  if (cost.OfParameter("mydomain") > kLimit) return true;
  if (cost.OfText(text) > kLimit) return true;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::size_t eq = line.find('=');
    std::size_t end = line.find_first_of(" \t=");
    if (eq == std::string_view::npos || end == 0) continue;
    if (cost.OfParameter(line.substr(0, end)) > kLimit) return true;
  }
  return false;
}

}  // namespace mapctl::fuzz

#endif  // MAPCTL_TESTS_FUZZ_KNOWN_FINDINGS_H_
