// cmd_diff_rules.cc - `mapctl diff` of two pattern tables. Their rules are
// tried in order and the first match wins, so a key-by-key diff would
// mean nothing: the rules are compared as text, in order, and the output
// says so in its first line.

#include "diff_rules.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {
namespace {

constexpr std::string_view kHeader =
    "rule-by-rule text diff of pattern tables (a rule is one logical line, "
    "continuation lines joined; LINE is its first line)";

}  // namespace

int DiffRules(const DiffArgs& args, const std::vector<PatternRuleText>* old_rules,
              const std::vector<PatternRuleText>* new_rules, bool mask) {
  if (old_rules == nullptr || new_rules == nullptr) {
    ReportError("diff: " +
                (old_rules == nullptr ? args.old_side : args.new_side) +
                " is not a regexp: or pcre: table: a pattern table compares "
                "only with another pattern table");
    return kExitTrouble;
  }
  const RuleDiff diff = DiffPatternRules(*old_rules, *new_rules);
  std::string out;
  if (args.json) {
    out += "{\"diff\": \"pattern rules\", \"old\": ";
    AppendJsonString(&out, args.old_side);
    out += ", \"new\": ";
    AppendJsonString(&out, args.new_side);
    out += ", \"header\": ";
    AppendJsonString(&out, kHeader);
    out += "}\n";
  } else {
    out += "# ";
    out += kHeader;
    out += '\n';
  }
  std::size_t added = 0, removed = 0;
  for (const RuleEdit& e : diff.edits) {
    const bool add = e.op == RuleDiffOp::kAdded;
    (add ? added : removed) += 1;
    const std::string shown = mask ? MaskedRuleText(*e.rule) : e.rule->text;
    // Masked, a changed password shows the same text on both lines: say
    // so on the added one.
    bool password_changed = false;
    if (mask && add) {
      for (const RuleEdit& r : diff.edits) {
        if (r.hunk == e.hunk && r.op == RuleDiffOp::kRemoved &&
            MaskedRuleText(*r.rule) == shown) {
          password_changed = true;
          break;
        }
      }
    }
    if (args.json) {
      out += add ? "{\"op\": \"+\", \"line\": " : "{\"op\": \"-\", \"line\": ";
      out += std::to_string(e.rule->line);
      out += ", \"rule\": ";
      AppendJsonString(&out, shown);
      if (password_changed) out += ", \"password_changed\": true";
      out += "}\n";
    } else {
      out += add ? "+\t" : "-\t";
      out += std::to_string(e.rule->line);
      out += '\t';
      AppendCEscaped(&out, shown);
      if (password_changed) out += " (password changed)";
      out += '\n';
    }
  }
  if (!WriteStdoutOrReport(out)) return kExitTrouble;
  ReportInfo("diff: pattern rules: " + std::to_string(added) + " added, " +
             std::to_string(removed) + " removed, " +
             std::to_string(diff.same) + " unchanged" +
             (mask ? " (values masked: credential table)" : ""));
  return diff.edits.empty() ? kExitOk : kExitNegative;
}

}  // namespace mapctl::cli
