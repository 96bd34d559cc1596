// postfix/pattern_rule.cc - parsing and compiling one rule of a pattern
// table, with Postfix 3.7's checks in Postfix's order, so that warnings
// come out as dict_regexp_parseline() and dict_pcre_parse_rule() log them.

#include "postfix/pattern_rule.h"

#include <strings.h>

namespace mapctl::pattern {
namespace {

// Moves *p to the first unescaped `delim` in `s` (a '\\' escapes the
// next byte). False when there is none.
bool ScanToDelimiter(std::string_view s, char delim, bool pcre,
                     std::size_t* p) {
  while (*p < s.size()) {
    if (s[*p] == '\\') {
      if (*p + 1 == s.size()) {
        // dict_regexp stops *on* a final backslash and takes it for the
        // closing delimiter; dict_pcre runs off the end.
        return !pcre;
      }
      ++*p;
    } else if (s[*p] == delim) {
      return true;
    }
    ++*p;
  }
  return false;
}

// Past "[!...]DELIM regex DELIM flags" from *p; false when it does not
// close.
bool SkipPattern(std::string_view s, bool pcre, std::size_t* p) {
  while (*p < s.size() && (s[*p] == '!' || IsSpace(s[*p]))) ++*p;
  if (*p == s.size()) return false;
  const char delim = s[(*p)++];
  if (!ScanToDelimiter(s, delim, pcre, p)) return false;
  ++*p;
  while (*p < s.size() && !IsSpace(s[*p]) && (pcre || s[*p] != '!')) ++*p;
  return true;
}

struct PatternText {
  std::string regex;
  unsigned options = 0;
  bool positive = true;
};

class RuleParser {
 public:
  RuleParser(const RuleContext& context, std::string_view text,
             std::vector<RuleProblem>* problems)
      : c_(context), s_(text), problems_(problems) {}

  std::optional<Rule> Parse(std::uint32_t line, std::size_t open_ifs);

 private:
  bool pcre() const { return c_.type == PatternType::kPcre; }

  void Warn(std::string text) { problems_->push_back({false, text, text}); }

  void SkipSpace() {
    while (p_ < s_.size() && IsSpace(s_[p_])) ++p_;
  }

  bool TakePattern(PatternText* out);
  std::optional<Rule> MatchRule();
  std::optional<Rule> IfRule();
  std::optional<Rule> EndifRule(std::size_t open_ifs);

  const RuleContext& c_;
  std::string_view s_;
  std::size_t p_ = 0;
  std::vector<RuleProblem>* problems_;
};

// dict_regexp_get_pat() / dict_pcre_get_pattern(): negation, delimiter,
// regex, flags. Leaves p_ after the flags.
bool RuleParser::TakePattern(PatternText* out) {
  out->positive = true;
  for (; p_ < s_.size(); ++p_) {
    if (s_[p_] == '!') {
      out->positive = !out->positive;
    } else if (!IsSpace(s_[p_])) {
      break;
    }
  }
  if (p_ == s_.size()) {
    Warn("no regexp: skipping this rule");
    return false;
  }
  const char delim = s_[p_++];
  const std::size_t start = p_;
  const bool closed = ScanToDelimiter(s_, delim, pcre(), &p_);
  if (!closed) {
    Warn(std::string("no closing regexp delimiter \"") + delim +
         "\": " + (pcre() ? "ignoring this rule" : "skipping this rule"));
    return false;
  }
  out->regex.assign(s_.substr(start, p_ - start));
  ++p_;
  out->options = c_.engine->default_options();
  for (; p_ < s_.size() && !IsSpace(s_[p_]); ++p_) {
    const char flag = s_[p_];
    if (!pcre() && flag == '!') break;  // regexp: a second pattern follows
    switch (c_.engine->ApplyFlag(flag, &out->options)) {
      case FlagEffect::kToggled:
        break;
      case FlagEffect::kObsolete:
        Warn(std::string("ignoring obsolete regexp option \"") + flag + "\"");
        break;
      case FlagEffect::kUnknown:
        Warn(std::string("unknown regexp option \"") + flag +
             "\": skipping this rule");
        return false;
    }
  }
  return true;
}

std::optional<Rule> RuleParser::MatchRule() {
  PatternText first;
  PatternText second;
  bool has_second = false;
  if (!TakePattern(&first)) return std::nullopt;
  if (!pcre() && p_ < s_.size() && s_[p_] == '!') {
    if (!TakePattern(&second)) return std::nullopt;
    has_second = true;
  }
  SkipSpace();
  if (p_ == s_.size()) Warn("no replacement text: using empty string");

  Rule rule;
  std::vector<RuleProblem> result_problems;
  bool usable = ResultTemplate::Parse(s_.substr(p_), !pcre(), &rule.result,
                                      &result_problems);
  problems_->insert(problems_->end(), result_problems.begin(),
                    result_problems.end());
  if (!usable) {
    Warn("bad replacement syntax: skipping this rule");
    return std::nullopt;
  }
  const std::uint64_t max_sub = rule.result.max_sub();
  if (max_sub > 0 && !first.positive) {
    Warn(
        "$number found in negative match replacement text: "
        "skipping this rule");
    return std::nullopt;
  }
  if (max_sub > 0 && c_.no_regsub) {
    Warn(
        "regular expression substitution is not allowed: "
        "skipping this rule");
    return std::nullopt;
  }
  auto compiled = c_.engine->Compile(first.regex, first.options, max_sub > 0);
  if (!compiled) {
    Warn(compiled.error().message());
    return std::nullopt;
  }
  if (max_sub > (*compiled)->group_count()) {
    // Postfix prints the index with %d, after an int conversion.
    Warn("out of range replacement index \"" +
         std::to_string(static_cast<int>(max_sub)) + "\": skipping this rule");
    return std::nullopt;
  }
  rule.regex = std::move(compiled).value();
  rule.positive = first.positive;
  if (has_second) {
    auto again = c_.engine->Compile(second.regex, second.options, false);
    if (!again) {
      Warn(again.error().message());
      return std::nullopt;
    }
    rule.second = std::move(again).value();
    rule.second_positive = second.positive;
  }
  rule.op = RuleOp::kMatch;
  return rule;
}

std::optional<Rule> RuleParser::IfRule() {
  p_ += 2;
  SkipSpace();
  PatternText pattern;
  if (!TakePattern(&pattern)) return std::nullopt;
  SkipSpace();
  if (p_ < s_.size()) {
    // Usually an indented rule that became a continuation of the IF.
    problems_->push_back({false,
                          "ignoring extra text after IF statement: \"" +
                              std::string(s_.substr(p_)) + "\"",
                          "ignoring extra text after IF statement"});
    Warn("do not prepend whitespace to statements between IF and ENDIF");
  }
  // An IF that fails to compile is dropped, and with it the block: its
  // ENDIF becomes unmatched and the rules inside apply to every key.
  auto compiled = c_.engine->Compile(pattern.regex, pattern.options, true);
  if (!compiled) {
    Warn(compiled.error().message());
    return std::nullopt;
  }
  Rule rule;
  rule.op = RuleOp::kIf;
  rule.regex = std::move(compiled).value();
  rule.positive = pattern.positive;
  return rule;
}

std::optional<Rule> RuleParser::EndifRule(std::size_t open_ifs) {
  p_ += 5;
  if (open_ifs == 0) {
    Warn("ignoring ENDIF without matching IF");
    return std::nullopt;
  }
  SkipSpace();
  if (p_ < s_.size()) Warn("ignoring extra text after ENDIF");
  Rule rule;
  rule.op = RuleOp::kEndif;
  return rule;
}

std::optional<Rule> RuleParser::Parse(std::uint32_t line,
                                      std::size_t open_ifs) {
  std::optional<Rule> rule;
  // The first byte decides: anything but a letter or digit opens a match
  // rule, so any byte can be a delimiter.
  if (!IsAlnum(s_[0])) {
    rule = MatchRule();
  } else if (s_.size() >= 2 && strncasecmp(s_.data(), "IF", 2) == 0 &&
             (s_.size() == 2 || !IsAlnum(s_[2]))) {
    rule = IfRule();
  } else if (s_.size() >= 5 && strncasecmp(s_.data(), "ENDIF", 5) == 0 &&
             (s_.size() == 5 || !IsAlnum(s_[5]))) {
    rule = EndifRule(open_ifs);
  } else {
    Warn("ignoring unrecognized request");
  }
  if (rule) rule->line = line;
  return rule;
}

}  // namespace

std::string_view TypeName(PatternType type) {
  return type == PatternType::kPcre ? "pcre" : "regexp";
}

std::size_t ResultOffset(PatternType type, std::string_view text) {
  const bool pcre = type == PatternType::kPcre;
  std::size_t p = 0;
  if (text.empty()) return 0;
  if (!IsAlnum(text[0])) {
    if (!SkipPattern(text, pcre, &p)) return std::string_view::npos;
    if (!pcre && p < text.size() && text[p] == '!' &&
        !SkipPattern(text, pcre, &p)) {
      return std::string_view::npos;
    }
  } else if (text.size() >= 2 && strncasecmp(text.data(), "IF", 2) == 0 &&
             (text.size() == 2 || !IsAlnum(text[2]))) {
    p = 2;
    if (!SkipPattern(text, pcre, &p)) return std::string_view::npos;
  } else if (text.size() >= 5 && strncasecmp(text.data(), "ENDIF", 5) == 0 &&
             (text.size() == 5 || !IsAlnum(text[5]))) {
    p = 5;
  } else {
    return std::string_view::npos;
  }
  while (p < text.size() && IsSpace(text[p])) ++p;
  return p;
}

std::optional<Rule> ParseRule(const RuleContext& context,
                              const LogicalLine& line, std::size_t open_ifs,
                              std::vector<RuleProblem>* problems) {
  // REQUIRES: !line.text.empty() (SplitLogicalLines drops empty lines).
  RuleParser parser(context, line.text, problems);
  return parser.Parse(line.line, open_ifs);
}

}  // namespace mapctl::pattern
