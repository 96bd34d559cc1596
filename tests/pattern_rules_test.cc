// pattern_rules_test.cc - a pattern table's text rule by rule, and the
// rule-by-rule text diff that `mapctl diff` prints for two of them.

#include "mapctl/pattern_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "postfix/pattern_rule.h"
#include "test_util.h"

namespace mapctl {
namespace {

using pattern::PatternType;
using pattern::ResultOffset;
using testing::TempDir;

std::vector<PatternRuleText> Rules(std::string_view type, std::string_view text) {
  TempDir dir;
  std::string path = dir.WriteFile("t", text);
  Result<std::vector<PatternRuleText>> rules =
      ReadPatternRules(std::string(type) + ":" + path);
  EXPECT_TRUE(rules.has_value()) << (rules ? "" : rules.error().message());
  return rules ? std::move(rules).value() : std::vector<PatternRuleText>{};
}

std::string Render(const RuleDiff& diff) {
  std::string out;
  for (const RuleEdit& e : diff.edits) {
    out += e.op == RuleDiffOp::kAdded ? "+" : "-";
    out += std::to_string(e.rule->line) + " " + e.rule->text + "\n";
  }
  return out;
}

TEST(ResultOffsetTest, FindsTheResultAfterPatternAndFlags) {
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "/^a$/i  user:pw"), 8u);
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "!/^a/ x"), 6u);
  // An escaped delimiter does not close the pattern.
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "|a\\|b| x"), 7u);
  // regexp's /p1/!/p2/ form: the result comes after the second pattern.
  EXPECT_EQ(ResultOffset(PatternType::kRegexp, "/a/!/b/ x"), 8u);
  // No result: the end of the text.
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "/^norhs/"), 8u);
}

TEST(ResultOffsetTest, IfAndEndifHaveOnlyExtraText) {
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "if /x/"), 6u);
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "IF /x/  extra"), 8u);
  EXPECT_EQ(ResultOffset(PatternType::kRegexp, "endif"), 5u);
}

TEST(ResultOffsetTest, ALineThatIsNoRuleHasNoKnownPatternPart) {
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "/^unclosed user:pw"),
            std::string::npos);
  EXPECT_EQ(ResultOffset(PatternType::kPcre, "word user:pw"),
            std::string::npos);
}

TEST(ReadPatternRulesTest, OneRulePerLogicalLineWithItsFirstLine) {
  std::vector<PatternRuleText> rules =
      Rules("pcre", "# c\n/^a/\n  [gw]:587\n\n#x\n/^b/ y  \nendif\n");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].line, 2u);
  EXPECT_EQ(rules[0].text, "/^a/  [gw]:587");
  EXPECT_EQ(rules[1].line, 6u);
  EXPECT_EQ(rules[1].text, "/^b/ y");
  EXPECT_EQ(rules[2].line, 7u);
}

TEST(ReadPatternRulesTest, AMissingFileIsAnError) {
  EXPECT_FALSE(ReadPatternRules("regexp:/nonexistent/x.regexp").has_value());
}

TEST(MaskedRuleTextTest, MasksThePasswordAndHidesLinesThatAreNoRule) {
  std::vector<PatternRuleText> rules =
      Rules("regexp", "/^(a)@x$/ u$1:s3cret\n/^b/ nocolon\n/^c/\nword a:b\nif /x/\n");
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(MaskedRuleText(rules[0]), "/^(a)@x$/ u$1:****");
  EXPECT_EQ(MaskedRuleText(rules[1]), "/^b/ ****");
  EXPECT_EQ(MaskedRuleText(rules[2]), "/^c/");
  EXPECT_EQ(MaskedRuleText(rules[3]), "****");
  EXPECT_EQ(MaskedRuleText(rules[4]), "if /x/");
}

TEST(DiffPatternRulesTest, EqualTablesHaveNoEditsWhateverTheirComments) {
  RuleDiff d = DiffPatternRules(Rules("pcre", "/a/ b\n/c/ d\n"),
                                Rules("pcre", "# new\n\n/a/ b\n/c/ d\n"));
  EXPECT_TRUE(d.edits.empty());
  EXPECT_EQ(d.same, 2u);
}

TEST(DiffPatternRulesTest, OrderMattersAMovedRuleIsRemovedAndAdded) {
  std::vector<PatternRuleText> a = Rules("pcre", "/a/ 1\n/b/ 2\n/c/ 3\n");
  std::vector<PatternRuleText> b = Rules("pcre", "/b/ 2\n/a/ 1\n/c/ 3\n");
  RuleDiff d = DiffPatternRules(a, b);
  EXPECT_EQ(Render(d), "-1 /a/ 1\n+2 /a/ 1\n");
  EXPECT_EQ(d.same, 2u);
}

TEST(DiffPatternRulesTest, AChangeIsARemovalThenAnAdditionInOneHunk) {
  std::vector<PatternRuleText> a = Rules("pcre", "/a/ 1\n/b/ 2\n/c/ 3\n/d/ 4\n");
  std::vector<PatternRuleText> b = Rules("pcre", "/a/ 1\n/b/ 9\n/c/ 3\n/d/ 4\n/e/ 5\n");
  RuleDiff d = DiffPatternRules(a, b);
  EXPECT_EQ(Render(d), "-2 /b/ 2\n+2 /b/ 9\n+5 /e/ 5\n");
  ASSERT_EQ(d.edits.size(), 3u);
  EXPECT_EQ(d.edits[0].hunk, d.edits[1].hunk);
  EXPECT_NE(d.edits[1].hunk, d.edits[2].hunk);
  EXPECT_EQ(d.same, 3u);
}

TEST(StreamPatternResultsTest, GivesTheResultsButNotIfOrEndif) {
  std::vector<PatternRuleText> rules =
      Rules("pcre", "if /x/\n/a/ [gw]:25\nendif\n/b/ user:pw\n");
  std::unique_ptr<EntryStream> s = StreamPatternResults(rules);
  std::string_view k, v;
  std::vector<std::string> values;
  while (*s->Next(&k, &v)) values.emplace_back(v);
  EXPECT_EQ(values, (std::vector<std::string>{"[gw]:25", "user:pw"}));
}

}  // namespace
}  // namespace mapctl
