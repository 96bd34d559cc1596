// diff_rules.h - `mapctl diff` of two regexp: or pcre: tables: a text
// diff rule by rule (cmd_diff_rules.cc).

#ifndef MAPCTL_TOOLS_DIFF_RULES_H_
#define MAPCTL_TOOLS_DIFF_RULES_H_

#include <vector>

#include "commands.h"
#include "mapctl/pattern_rules.h"

namespace mapctl::cli {

// Prints the diff of two pattern tables' rules; a side that is not a
// pattern table is null (trouble: the two kinds do not compare). `mask`:
// results are credentials (cmd_diff.cc decides, as for every diff).
// Returns the exit code: 0 same, 1 different, 2 trouble.
int DiffRules(const DiffArgs& args, const std::vector<PatternRuleText>* old_rules,
              const std::vector<PatternRuleText>* new_rules, bool mask);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_DIFF_RULES_H_
