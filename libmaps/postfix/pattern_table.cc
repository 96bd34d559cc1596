// postfix/pattern_table.cc - opening a pattern table (the rule file or the
// inline text, IF/ENDIF nesting) and looking keys up in it, as
// dict_regexp_open()/dict_pcre_open() and their lookup functions do, with
// the UTF-8 checks of util/dict_utf8.c around the lookup.

#include "postfix/pattern_table.h"

#include "mapctl/fold.h"
#include "util/read_file.h"

namespace mapctl::pattern {

namespace {

// The whole file, as Postfix's VSTREAM would read it: a directory reads
// as empty (read() fails with EISDIR, which a VSTREAM takes for EOF).
constexpr ReadFileOptions kRuleFile{
    .limit = std::numeric_limits<std::size_t>::max(),
    .directory_is_empty = true};

Result<const Engine*> EngineFor(PatternType type) {
  if (type == PatternType::kPcre) return PcreEngine();
  return &RegexpEngine();
}

}  // namespace

PatternTable::~PatternTable() = default;

PatternWarning PatternTable::Warning(std::uint32_t line,
                                     std::string_view prefix,
                                     std::string message, std::string safe,
                                     bool load) const {
  PatternWarning w;
  w.diagnostic.severity =
      load && options_.strict ? Severity::kError : Severity::kWarning;
  w.diagnostic.file = origin_;
  w.diagnostic.line = line;
  w.diagnostic.message = std::move(safe);
  w.postfix_text = std::string(prefix) + message;
  w.postfix_message = std::move(message);
  return w;
}

Result<std::unique_ptr<PatternTable>> PatternTable::Open(
    PatternType type, std::string_view name, const PatternOptions& options) {
  Result<const Engine*> engine = EngineFor(type);
  if (!engine) return engine.error();
  if (!name.empty() && name[0] == '{') {
    std::uint32_t count = 0;
    Result<std::string> text = InlineRulesToText(TypeName(type), name, &count);
    if (!text) return text.error();
    PatternOptions o = options;
    if (o.origin.empty()) {
      o.origin = std::string(TypeName(type)) + ":{ " + std::to_string(count) +
                 (count == 1 ? " rule }" : " rules }");
    }
    // A memory stream has no path; readllines() calls it "unknown_stream".
    auto table = FromText(type, std::string(name), *text, o);
    return table;
  }
  std::string path(name);
  Result<std::string> text = ReadFile(path, kRuleFile);
  if (!text) return text.error();
  return FromText(type, std::move(path), *text, options);
}

Result<std::unique_ptr<PatternTable>> PatternTable::FromText(
    PatternType type, std::string name, std::string_view text,
    const PatternOptions& options) {
  Result<const Engine*> engine = EngineFor(type);
  if (!engine) return engine.error();
  std::unique_ptr<PatternTable> t(new PatternTable());
  t->type_ = type;
  t->options_ = options;
  t->origin_ = options.origin.empty() ? name : options.origin;
  t->name_ = std::move(name);
  t->engine_ = *engine;

  const std::string prefix =
      std::string(TypeName(type)) + " map " + t->name_ + ", line ";
  const std::string stream =
      !t->name_.empty() && t->name_[0] == '{' ? "unknown_stream" : t->name_;
  const RuleContext context{type, t->engine_, options.no_regsub};
  std::vector<std::size_t> open_ifs;  // indexes of IF rules in rules_
  std::vector<RuleProblem> problems;
  for (const LogicalLine& line : SplitLogicalLines(text)) {
    if (line.dropped) {
      PatternWarning w = t->Warning(
          line.line, stream + ": ",
          "logical line must not start with whitespace: \"" + line.text + "\"",
          "logical line must not start with whitespace");
      w.diagnostic.kind = DiagnosticKind::kLeadingWhitespace;
      t->warnings_.push_back(std::move(w));
      continue;
    }
    problems.clear();
    std::optional<Rule> rule =
        ParseRule(context, line, open_ifs.size(), &problems);
    const std::string where = prefix + std::to_string(line.line) + ": ";
    for (RuleProblem& p : problems) {
      t->warnings_.push_back(t->Warning(line.line, p.bare ? "" : where,
                                        std::move(p.text), std::move(p.safe)));
    }
    if (!rule) continue;
    if (rule->op == RuleOp::kIf) {
      open_ifs.push_back(t->rules_.size());
    } else if (rule->op == RuleOp::kEndif) {
      t->rules_[open_ifs.back()].endif = t->rules_.size();
      open_ifs.pop_back();
    }
    for (const auto* re : {rule->regex.get(), rule->second.get()}) {
      if (re != nullptr && re->group_count() > t->max_groups_) {
        t->max_groups_ = re->group_count();
      }
    }
    t->rules_.push_back(std::move(*rule));
  }
  // Reported after every other load warning, innermost IF first.
  for (auto it = open_ifs.rbegin(); it != open_ifs.rend(); ++it) {
    std::uint32_t line = t->rules_[*it].line;
    t->warnings_.push_back(
        t->Warning(line, prefix + std::to_string(line) + ": ",
                   "IF has no matching ENDIF", "IF has no matching ENDIF"));
  }
  t->own_scratch_ = t->NewScratch();
  return t;
}

std::vector<RuleInfo> PatternTable::rules() const {
  std::vector<RuleInfo> out;
  out.reserve(rules_.size());
  for (const Rule& r : rules_) out.push_back({r.op, r.line});
  return out;
}

std::unique_ptr<PatternScratch> PatternTable::NewScratch() const {
  auto s = std::make_unique<PatternScratch>();
  s->groups_.resize(static_cast<std::size_t>(max_groups_) + 1);
  s->engine_ = engine_->NewScratch(max_groups_);
  return s;
}

// Whether `regex` decides for the key: matched and positive, or not
// matched and negated. An engine failure is a warning and counts as
// "does not hold", whatever the negation (DICT_*_EXEC in Postfix).
bool PatternTable::Holds(const Rule& rule, const CompiledRegex& regex,
                         bool positive, std::size_t groups,
                         PatternScratch& scratch, PatternAnswer* answer) const {
  std::string error;
  switch (regex.Match(scratch.key_, *scratch.engine_,
                      std::span<Span>(scratch.groups_.data(), groups),
                      &error)) {
    case MatchResult::kMatch:
      return positive;
    case MatchResult::kNoMatch:
      return !positive;
    case MatchResult::kError:
      break;
  }
  answer->warnings.push_back(Warning(rule.line,
                                     std::string(TypeName(type_)) + " map " +
                                         name_ + ", line " +
                                         std::to_string(rule.line) + ": ",
                                     error, error, false));
  return false;
}

PatternAnswer PatternTable::Find(std::string_view key) {
  return Find(key, *own_scratch_);
}

PatternAnswer PatternTable::Find(std::string_view key,
                                 PatternScratch& scratch) const {
  PatternAnswer answer;
  const std::string type(TypeName(type_));
  if (options_.strict && !warnings_.empty()) {
    answer.outcome = PatternOutcome::kError;
    answer.error = Status::ParseError(type + ":" + origin_ + ": " +
                                      std::to_string(warnings_.size()) +
                                      " load warning(s) treated as errors");
    return answer;
  }
  key = key.substr(0, key.find('\0'));
  if (options_.check_utf8 && !IsValidUtf8(key)) {
    std::string text = "non-UTF-8 key \"" + std::string(key) +
                       "\": malformed UTF-8 or invalid codepoint";
    answer.warnings.push_back(
        Warning(0, type + ":" + name_ + ": ", text, text, false));
    return answer;
  }
  scratch.key_.assign(key);
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (rule.op == RuleOp::kEndif) continue;
    if (rule.op == RuleOp::kIf) {
      if (Holds(rule, *rule.regex, rule.positive, 0, scratch, &answer)) {
        continue;  // into the block
      }
      if (rule.endif == kNoEndif) return answer;  // the block ends the file
      i = rule.endif;
      continue;
    }
    const std::uint64_t max_sub = rule.result.max_sub();
    const std::size_t groups = max_sub > 0 ? max_sub + 1 : 0;
    if (!Holds(rule, *rule.regex, rule.positive, groups, scratch, &answer)) {
      continue;
    }
    if (rule.second != nullptr &&
        !Holds(rule, *rule.second, rule.second_positive, 0, scratch, &answer)) {
      continue;
    }
    if (max_sub == 0) {
      answer.value = rule.result.literal();
    } else {
      scratch.value_.clear();
      rule.result.Expand(scratch.key_,
                         std::span<const Span>(scratch.groups_.data(), groups),
                         &scratch.value_);
      answer.value = scratch.value_;
    }
    answer.line = rule.line;
    if (options_.check_utf8 && !IsValidUtf8(answer.value)) {
      std::string k = "key \"" + std::string(key) + "\": ";
      const char* why = "malformed UTF-8 or invalid codepoint";
      answer.warnings.push_back(Warning(
          rule.line, type + ":" + name_ + ": ",
          k + "non-UTF-8 value \"" + std::string(answer.value) + "\": " + why,
          k + "non-UTF-8 value: " + why, false));
      answer.outcome = PatternOutcome::kError;
      answer.error = Status::ParseError(
          "table " + type + ":" + origin_ + ": query error: line " +
          std::to_string(rule.line) + " gives a non-UTF-8 result");
      answer.value = {};
      return answer;
    }
    answer.outcome = PatternOutcome::kFound;
    return answer;
  }
  return answer;
}

}  // namespace mapctl::pattern
