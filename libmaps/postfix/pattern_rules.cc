// postfix/pattern_rules.cc - a pattern table's text rule by rule, and the
// text diff of two tables (mapctl/pattern_rules.h).

#include "mapctl/pattern_rules.h"

#include <algorithm>

#include "mapctl/secrets.h"
#include "postfix/pattern_rule.h"
#include "postfix/pattern_source.h"
#include "util/read_file.h"

namespace mapctl {
namespace {

constexpr std::size_t kMaxCells = std::size_t{4} << 20;

std::string_view WithoutProxy(std::string_view name) {
  if (name.substr(0, 6) == "proxy:") name.remove_prefix(6);
  return name;
}

class ResultStream final : public EntryStream {
 public:
  explicit ResultStream(const std::vector<PatternRuleText>& rules)
      : rules_(rules) {}

  Result<bool> Next(std::string_view* key, std::string_view* value) override {
    while (next_ < rules_.size()) {
      const PatternRuleText& r = rules_[next_++];
      std::string_view text = r.text;
      const bool if_or_endif =
          r.result != std::string::npos && !text.empty() &&
          pattern::IsAlnum(text[0]);
      if (if_or_endif) continue;
      key_ = std::to_string(r.line);
      *key = key_;
      *value = r.result == std::string::npos ? text : text.substr(r.result);
      return true;
    }
    return false;
  }

 private:
  const std::vector<PatternRuleText>& rules_;
  std::size_t next_ = 0;
  std::string key_;
};

}  // namespace

bool IsPatternTableName(std::string_view name) {
  name = WithoutProxy(name);
  return name.substr(0, 7) == "regexp:" || name.substr(0, 5) == "pcre:";
}

Result<std::vector<PatternRuleText>> ReadPatternRules(std::string_view name) {
  name = WithoutProxy(name);
  const std::size_t colon = name.find(':');
  if (!IsPatternTableName(name) || colon + 1 >= name.size()) {
    return Status::InvalidArgument(std::string(name) +
                                   ": not a regexp: or pcre: table");
  }
  const pattern::PatternType type = name.substr(0, colon) == "pcre"
                                        ? pattern::PatternType::kPcre
                                        : pattern::PatternType::kRegexp;
  const std::string_view body = name.substr(colon + 1);
  std::string text;
  if (body[0] == '{') {
    std::uint32_t count = 0;
    Result<std::string> t =
        pattern::InlineRulesToText(pattern::TypeName(type), body, &count);
    if (!t) return t.error();
    text = std::move(t).value();
  } else {
    Result<std::string> t = ReadFile(
        std::string(body),
        ReadFileOptions{.limit = std::numeric_limits<std::size_t>::max(),
                        .directory_is_empty = true});
    if (!t) return t.error();
    text = std::move(t).value();
  }
  std::vector<PatternRuleText> rules;
  for (pattern::LogicalLine& l : pattern::SplitLogicalLines(text)) {
    PatternRuleText r;
    r.line = l.line;
    r.result = l.dropped ? std::string::npos
                         : pattern::ResultOffset(type, l.text);
    r.text = std::move(l.text);
    rules.push_back(std::move(r));
  }
  return rules;
}

std::string MaskedRuleText(const PatternRuleText& rule) {
  if (rule.result == std::string::npos) return "****";
  if (rule.result >= rule.text.size()) return rule.text;
  return rule.text.substr(0, rule.result) +
         MaskCredential(std::string_view(rule.text).substr(rule.result));
}

std::unique_ptr<EntryStream> StreamPatternResults(
    const std::vector<PatternRuleText>& rules) {
  return std::make_unique<ResultStream>(rules);
}

RuleDiff DiffPatternRules(const std::vector<PatternRuleText>& old_rules,
                          const std::vector<PatternRuleText>& new_rules) {
  RuleDiff diff;
  const std::size_t n = old_rules.size(), m = new_rules.size();
  std::size_t head = 0;
  while (head < n && head < m && old_rules[head].text == new_rules[head].text) {
    ++head;
  }
  std::size_t tail = 0;
  while (tail < n - head && tail < m - head &&
         old_rules[n - 1 - tail].text == new_rules[m - 1 - tail].text) {
    ++tail;
  }
  diff.same = head + tail;
  const std::size_t a = n - head - tail, b = m - head - tail;
  // lcs[i][j]: the longest common subsequence of old[i..a) and new[j..b)
  // of the middle part.
  std::vector<std::uint32_t> lcs;
  const bool exact = a > 0 && b > 0 && (a + 1) * (b + 1) <= kMaxCells;
  if (exact) {
    lcs.assign((a + 1) * (b + 1), 0);
    for (std::size_t i = a; i-- > 0;) {
      for (std::size_t j = b; j-- > 0;) {
        lcs[i * (b + 1) + j] =
            old_rules[head + i].text == new_rules[head + j].text
                ? lcs[(i + 1) * (b + 1) + j + 1] + 1
                : std::max(lcs[(i + 1) * (b + 1) + j],
                           lcs[i * (b + 1) + j + 1]);
      }
    }
  }
  std::size_t hunk = 0;
  bool in_hunk = false;
  std::vector<RuleEdit> added;  // of the current hunk, after its removals
  auto end_hunk = [&] {
    diff.edits.insert(diff.edits.end(), added.begin(), added.end());
    added.clear();
    if (in_hunk) ++hunk;
    in_hunk = false;
  };
  std::size_t i = 0, j = 0;
  while (i < a || j < b) {
    if (exact && i < a && j < b &&
        old_rules[head + i].text == new_rules[head + j].text) {
      end_hunk();
      ++diff.same;
      ++i;
      ++j;
    } else if (i < a && (j == b || !exact ||
                         lcs[(i + 1) * (b + 1) + j] >= lcs[i * (b + 1) + j + 1])) {
      in_hunk = true;
      diff.edits.push_back({RuleDiffOp::kRemoved, &old_rules[head + i], hunk});
      ++i;
    } else {
      in_hunk = true;
      added.push_back({RuleDiffOp::kAdded, &new_rules[head + j], hunk});
      ++j;
    }
  }
  end_hunk();
  return diff;
}

}  // namespace mapctl
