// pattern_table_test.cc - regexp: and pcre: tables, one rule form per group
// (regexp_table(5), pcre_table(5); the expected texts are Postfix 3.7.11's,
// recorded with the real postmap: see tests/interop/pattern_corpus/).

#include "postfix/pattern_table.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace mapctl::pattern {
namespace {

std::string TypeFile(PatternType type) {
  return type == PatternType::kPcre ? "t.pcre" : "t.regexp";
}

bool HavePcre() { return static_cast<bool>(PcreEngine()); }

#define SKIP_WITHOUT(type)                                  \
  do {                                                      \
    if ((type) == PatternType::kPcre && !HavePcre())        \
      GTEST_SKIP() << "built without PCRE2 (meson -Dpcre)"; \
  } while (false)

std::unique_ptr<PatternTable> Load(PatternType type, std::string_view text,
                                   const PatternOptions& options = {}) {
  auto t = PatternTable::FromText(type, TypeFile(type), text, options);
  EXPECT_TRUE(t) << t.error().ToString();
  return t ? std::move(t).value() : nullptr;
}

// "=VALUE" when found, "-" when not, "!" on a table error.
std::string Ask(PatternTable& t, std::string_view key) {
  PatternAnswer a = t.Find(key);
  switch (a.outcome) {
    case PatternOutcome::kFound:
      return "=" + std::string(a.value);
    case PatternOutcome::kNotFound:
      return "-";
    case PatternOutcome::kError:
      return "!";
  }
  return "?";
}

std::vector<std::string> Texts(const std::vector<PatternWarning>& ws) {
  std::vector<std::string> out;
  for (const PatternWarning& w : ws) out.push_back(w.postfix_text);
  return out;
}

// Tests that hold for both types.
class BothTypesTest : public ::testing::TestWithParam<PatternType> {
 protected:
  void SetUp() override { SKIP_WITHOUT(GetParam()); }
  std::unique_ptr<PatternTable> Table(std::string_view text,
                                      const PatternOptions& o = {}) {
    return Load(GetParam(), text, o);
  }
  std::string Prefix(int line) const {
    return std::string(TypeName(GetParam())) + " map " + TypeFile(GetParam()) +
           ", line " + std::to_string(line) + ": ";
  }
};

INSTANTIATE_TEST_SUITE_P(Types, BothTypesTest,
                         ::testing::Values(PatternType::kRegexp,
                                           PatternType::kPcre),
                         [](const auto& info) {
                           return std::string(TypeName(info.param));
                         });

// ---------------------------------------------------------------- lines

TEST_P(BothTypesTest, FirstMatchingRuleWinsInFileOrder) {
  auto t = Table("/^alice@/ one\n/example/ two\n/^alice@example/ three\n");
  EXPECT_EQ(Ask(*t, "alice@example.com"), "=one");
  EXPECT_EQ(Ask(*t, "bob@example.com"), "=two");
  EXPECT_EQ(Ask(*t, "nobody"), "-");
}

TEST_P(BothTypesTest, ContinuationLinesAreAppendedVerbatimAcrossComments) {
  auto t = Table("/^one/ result\n  continued\n# c\n\tand-tab\n\n  after\n");
  EXPECT_EQ(Ask(*t, "one"), "=result  continued\tand-tab  after");
}

TEST_P(BothTypesTest, APatternMaySpanAContinuationLine) {
  auto t = Table("/^two\n words/ spans\n");
  EXPECT_EQ(Ask(*t, "two words"), "=spans");
}

TEST_P(BothTypesTest, LeadingWhitespaceLineIsDroppedWithAQuotedWarning) {
  auto t = Table("   /^lead/ leading-whitespace-at-top\n/^ok/ ok\n");
  EXPECT_EQ(Ask(*t, "lead"), "-");
  EXPECT_EQ(Ask(*t, "ok"), "=ok");
  ASSERT_EQ(t->warnings().size(), 1u);
  EXPECT_EQ(t->warnings()[0].postfix_text,
            TypeFile(GetParam()) +
                ": logical line must not start with whitespace: "
                "\"   /^lead/ leading-whitespace-...\"");
  EXPECT_EQ(t->warnings()[0].diagnostic.line, 1u);
  EXPECT_EQ(t->warnings()[0].diagnostic.message,
            "logical line must not start with whitespace");
}

TEST_P(BothTypesTest, TrailingWhitespaceAndCrAreTrimmedButInnerCrStays) {
  auto t = Table("/^three/ three\r\n/^four\r/ inner-cr\n/^five/ five \t \n");
  EXPECT_EQ(Ask(*t, "three"), "=three");
  EXPECT_EQ(Ask(*t, "four"), "-");
  EXPECT_EQ(Ask(*t, "four\r"), "=inner-cr");
  EXPECT_EQ(Ask(*t, "five"), "=five");
}

TEST_P(BothTypesTest, HashAfterThePatternIsPartOfTheResult) {
  auto t = Table("/^hash@/ value # not a comment\n");
  EXPECT_EQ(Ask(*t, "hash@x"), "=value # not a comment");
}

TEST_P(BothTypesTest, WarningsNameTheFirstPhysicalLineOfARule) {
  auto t = Table("# c\n\n/^x/ a\n/(/ bad\n  continued\n");
  ASSERT_EQ(t->warnings().size(), 1u);
  EXPECT_EQ(t->warnings()[0].diagnostic.line, 4u);
}

TEST_P(BothTypesTest, EachWarningComesInPostmapAndMapctlWordings) {
  auto t = Table("if /^a/ extra\n/b/ user:pa$\nendif\n");
  ASSERT_EQ(t->warnings().size(), 4u);
  const PatternWarning& extra = t->warnings()[0];
  EXPECT_EQ(extra.postfix_text,
            Prefix(1) + "ignoring extra text after IF statement: \"extra\"");
  EXPECT_EQ(extra.postfix_message,
            "ignoring extra text after IF statement: \"extra\"");
  EXPECT_EQ(extra.diagnostic.message, "ignoring extra text after IF statement");
  EXPECT_EQ(extra.diagnostic.file, TypeFile(GetParam()));
  EXPECT_EQ(extra.diagnostic.severity, Severity::kWarning);
  // A password-like result is quoted by Postfix, never by mapctl.
  const PatternWarning& macro = t->warnings()[2];
  EXPECT_EQ(macro.postfix_text, "empty macro name: \"user:pa$\"");
  EXPECT_EQ(macro.postfix_message, macro.postfix_text);
  EXPECT_EQ(macro.diagnostic.message.find("pa"), std::string::npos);
  EXPECT_EQ(macro.diagnostic.line, 2u);
}

TEST_P(BothTypesTest, EmptyAndCommentOnlyTablesHaveNoRulesAndNoWarnings) {
  auto t = Table("# nothing\n\n   \n");
  EXPECT_TRUE(t->rules().empty());
  EXPECT_TRUE(t->warnings().empty());
  EXPECT_EQ(Ask(*t, ""), "-");
}

// ---------------------------------------------------------------- delimiters

TEST_P(BothTypesTest, AnyNonAlphanumericByteIsADelimiterWithoutBracketPairs) {
  auto t = Table("|^d1$| pipe\n{^d2${ brace\n\x7f^d3$\x7f del\n");
  EXPECT_EQ(Ask(*t, "d1"), "=pipe");
  EXPECT_EQ(Ask(*t, "d2"), "=brace");
  EXPECT_EQ(Ask(*t, "d3"), "=del");
}

TEST_P(BothTypesTest, EscapedDelimiterKeepsItsBackslashInTheRegex) {
  auto t = Table("|^p(a\\|b)$| escaped-pipe\n/^es\\/c$/ slash\n");
  EXPECT_EQ(Ask(*t, "pa|b"), "=escaped-pipe");
  EXPECT_EQ(Ask(*t, "pa"), "-");
  EXPECT_EQ(Ask(*t, "es/c"), "=slash");
}

TEST_P(BothTypesTest, ALetterIsADelimiterAfterNegation) {
  auto t = Table("if /^z/\n!z^nz not-n\nendif\n");
  EXPECT_EQ(Ask(*t, "zz"), "=not-n");
}

TEST_P(BothTypesTest, MultibyteDelimiterIsItsFirstByteOnly) {
  auto t = Table("\xc3\xa9^u1\xc3\xa9 e-acute\n");
  ASSERT_EQ(t->warnings().size(), 1u);
  EXPECT_EQ(t->warnings()[0].postfix_text,
            Prefix(1) + "unknown regexp option \"\xa9\": skipping this rule");
}

TEST(PatternDelimiterTest, UnclosedPatternIsIgnoredByPcreAndSkippedByRegexp) {
  auto r = Load(PatternType::kRegexp, "/^unclosed nope\n");
  EXPECT_EQ(Texts(r->warnings()),
            std::vector<std::string>{"regexp map t.regexp, line 1: no closing "
                                     "regexp delimiter \"/\": skipping this "
                                     "rule"});
  if (!HavePcre()) return;
  auto p = Load(PatternType::kPcre, "/^unclosed nope\n");
  EXPECT_EQ(Texts(p->warnings()),
            std::vector<std::string>{"pcre map t.pcre, line 1: no closing "
                                     "regexp delimiter \"/\": ignoring this "
                                     "rule"});
}

TEST(PatternDelimiterTest, RegexpTakesAFinalBackslashForTheClosingDelimiter) {
  // dict_regexp stops on a backslash that ends the line; dict_pcre does not.
  auto r = Load(PatternType::kRegexp, "/^a\\\n\\^abc\\\n");
  EXPECT_EQ(Ask(*r, "ab"), "=");
  EXPECT_EQ(Ask(*r, "abc"), "=");
  if (!HavePcre()) return;
  auto p = Load(PatternType::kPcre, "/^a\\\n");
  EXPECT_EQ(Ask(*p, "ab"), "-");
}

// ---------------------------------------------------------------- flags

TEST_P(BothTypesTest, MatchingIsCaseInsensitiveByDefaultAndIToggles) {
  auto t = Table("/^upper@/i sensitive\n/^lower@/ insensitive\n/^tw$/ii tw\n");
  EXPECT_EQ(Ask(*t, "UPPER@x"), "-");
  EXPECT_EQ(Ask(*t, "upper@x"), "=sensitive");
  EXPECT_EQ(Ask(*t, "LOWER@x"), "=insensitive");
  EXPECT_EQ(Ask(*t, "TW"), "=tw");
}

TEST_P(BothTypesTest, AnUnknownFlagSkipsTheRule) {
  auto t = Table("/^flag/q unknown\n/^garb/i,x trailing\n/./ fallback\n");
  EXPECT_EQ(Ask(*t, "flag"), "=fallback");
  EXPECT_EQ(
      Texts(t->warnings()),
      (std::vector<std::string>{
          Prefix(1) + "unknown regexp option \"q\": skipping this rule",
          Prefix(2) + "unknown regexp option \",\": skipping this rule"}));
}

TEST(PatternFlagsTest, PcreDotallIsOnByDefaultAndSTurnsItOff) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/^a.b$/ dotall\n/^c.d$/s no-dotall\n");
  EXPECT_EQ(Ask(*t, "a\nb"), "=dotall");
  EXPECT_EQ(Ask(*t, "c\nd"), "-");
}

TEST(PatternFlagsTest, PcreDollarMatchesBeforeAFinalNewlineUnlessE) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/^e$/ e\n/^f$/E f\n");
  EXPECT_EQ(Ask(*t, "e\n"), "=e");
  EXPECT_EQ(Ask(*t, "f\n"), "-");
}

TEST(PatternFlagsTest, PcreUngreedyAnchoredAndExtendedFlags) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre,
                "/^u<(.+)>/U $1\n/bcd$/A anchored\n/^e x t$/x extended\n");
  EXPECT_EQ(Ask(*t, "u<1><2>"), "=1");
  EXPECT_EQ(Ask(*t, "abcd"), "-");
  EXPECT_EQ(Ask(*t, "bcd"), "=anchored");
  EXPECT_EQ(Ask(*t, "ext"), "=extended");
}

TEST(PatternFlagsTest, PcreObsoleteXWarnsAndKeepsTheRule) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/^x$/X kept\n");
  EXPECT_EQ(Ask(*t, "x"), "=kept");
  EXPECT_EQ(Texts(t->warnings()),
            std::vector<std::string>{
                "pcre map t.pcre, line 1: ignoring obsolete regexp option "
                "\"X\""});
}

TEST(PatternFlagsTest, PcreRejectsUAndBang) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/a/u x\n/^garb2/ix! bang\n");
  EXPECT_EQ(t->rules().size(), 0u);
  EXPECT_EQ(t->warnings()[1].postfix_text,
            "pcre map t.pcre, line 2: unknown regexp option \"!\": skipping "
            "this rule");
}

TEST(PatternFlagsTest, RegexpXSwitchesToBasicSyntaxAndMToNewlineMode) {
  auto t = Load(PatternType::kRegexp,
                "/^(grp)$/x literal-parens\n/^a\\+b$/x gnu-plus\n"
                "/^h$/m newline\n/^e$/ no-final-newline\n");
  EXPECT_EQ(Ask(*t, "(grp)"), "=literal-parens");
  EXPECT_EQ(Ask(*t, "aab"), "=gnu-plus");
  EXPECT_EQ(Ask(*t, "x\nh\nx"), "=newline");
  EXPECT_EQ(Ask(*t, "e\n"), "-");
}

TEST(PatternFlagsTest, RegexpRejectsPcreOnlyFlags) {
  auto t = Load(PatternType::kRegexp, "/a/s x\n/a/U x\n");
  EXPECT_EQ(t->rules().size(), 0u);
  EXPECT_EQ(t->warnings().size(), 2u);
}

// ---------------------------------------------------------------- negation

TEST_P(BothTypesTest, EachBangFlipsTheSenseAndSpacesMayFollow) {
  auto t = Table(
      "if /^1-/\n!!/^1-double/ positive\nendif\n"
      "if /^2-/\n! /^2-spaced/ negated\nendif\n"
      "if /^3-/\n!\t!\t/^3-tabs/ positive\nendif\n");
  EXPECT_EQ(Ask(*t, "1-double"), "=positive");
  EXPECT_EQ(Ask(*t, "1-other"), "-");
  EXPECT_EQ(Ask(*t, "2-spaced"), "-");
  EXPECT_EQ(Ask(*t, "2-other"), "=negated");
  EXPECT_EQ(Ask(*t, "3-tabs"), "=positive");
}

TEST_P(BothTypesTest,
       NegatedRuleWithGroupReferenceIsSkippedButDollarDollarIsNot) {
  auto t = Table("!/^(neg)/ neg-$1\n!/^x/ neg-$$1-literal\n");
  EXPECT_EQ(Ask(*t, "other"), "=neg-$1-literal");
  EXPECT_EQ(Texts(t->warnings()),
            std::vector<std::string>{Prefix(1) +
                                     "$number found in negative match "
                                     "replacement text: skipping this rule"});
}

TEST_P(BothTypesTest, BangAloneIsNoRegexp) {
  auto t = Table("!\n!   \n");
  EXPECT_EQ(
      Texts(t->warnings()),
      (std::vector<std::string>{Prefix(1) + "no regexp: skipping this rule",
                                Prefix(2) + "no regexp: skipping this rule"}));
}

// ---------------------------------------------------------------- /p1/!/p2/

TEST(PatternSecondPatternTest,
     RegexpMatchesWhenTheFirstMatchesAndTheSecondDoesNot) {
  auto t = Load(PatternType::kRegexp,
                "/^(a.*)@/!/@example\\.com$/ user-$1-not-example\n"
                "/^x/!!/y$/ x-and-y\n");
  EXPECT_EQ(Ask(*t, "abc@other.test"), "=user-abc-not-example");
  EXPECT_EQ(Ask(*t, "abc@example.com"), "-");
  EXPECT_EQ(Ask(*t, "x1y"), "=x-and-y");
  EXPECT_EQ(Ask(*t, "x1z"), "-");
}

TEST(PatternSecondPatternTest, RegexpBangAfterWhitespaceIsResultText) {
  auto t = Load(PatternType::kRegexp, "/^m/ !/n r\n/^q/!/r/!/s/ x\n");
  EXPECT_EQ(Ask(*t, "m"), "=!/n r");
  EXPECT_EQ(Ask(*t, "q"), "=!/s/ x");
}

TEST(PatternSecondPatternTest, PcreRejectsTheSecondPattern) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/^a/!/b/ x\n");
  EXPECT_EQ(Texts(t->warnings()),
            std::vector<std::string>{"pcre map t.pcre, line 1: unknown regexp "
                                     "option \"!\": skipping this rule"});
}

// ---------------------------------------------------------------- if/endif

TEST_P(BothTypesTest, IfBlocksNestAndNegatedIfEntersOnMismatch) {
  auto t = Table(
      "if /@example\\.com$/\nif !/^bob/\n/^a/ a-not-bob\nendif\n/^b/ b\n"
      "endif\n/./ outside\n");
  EXPECT_EQ(Ask(*t, "al@example.com"), "=a-not-bob");
  EXPECT_EQ(Ask(*t, "bob@example.com"), "=b");
  EXPECT_EQ(Ask(*t, "al@other.test"), "=outside");
}

TEST_P(BothTypesTest, IfAndEndifAreCaseInsensitiveAndNeedNoSpace) {
  auto t = Table("IF/^x/\n/y$/ xy\nEndIf\n");
  EXPECT_EQ(Ask(*t, "xy"), "=xy");
  EXPECT_TRUE(t->warnings().empty());
}

TEST_P(BothTypesTest, UnclosedIfRunsToTheEndAndIsReportedLast) {
  auto t = Table("if /^g/\nif /^gg/\n/^ggg/ ggg\n/(/ bad\n");
  EXPECT_EQ(Ask(*t, "ggg"), "=ggg");
  EXPECT_EQ(Ask(*t, "x"), "-");
  std::vector<std::string> w = Texts(t->warnings());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1], Prefix(2) + "IF has no matching ENDIF");
  EXPECT_EQ(w[2], Prefix(1) + "IF has no matching ENDIF");
}

TEST_P(BothTypesTest, ABadIfIsDroppedSoItsBlockAppliesToEveryKey) {
  auto t = Table("if /^(d/\n/^dd/ inside-broken-if\nendif\nif\n/^f/ after\n");
  EXPECT_EQ(Ask(*t, "dd"), "=inside-broken-if");
  EXPECT_EQ(Ask(*t, "ff"), "=after");
  std::vector<std::string> w = Texts(t->warnings());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1], Prefix(3) + "ignoring ENDIF without matching IF");
  EXPECT_EQ(w[2], Prefix(4) + "no regexp: skipping this rule");
}

TEST_P(BothTypesTest, TextAfterIfIsDiscardedWithTwoWarnings) {
  auto t = Table("if /^c/\n /^cd/ continuation-into-if\n/^ce/ ce\nendif x\n");
  EXPECT_EQ(Ask(*t, "cd"), "-");
  EXPECT_EQ(Ask(*t, "ce"), "=ce");
  std::vector<std::string> w = Texts(t->warnings());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0], Prefix(1) +
                      "ignoring extra text after IF statement: \"/^cd/ "
                      "continuation-into-if\"");
  EXPECT_EQ(t->warnings()[0].diagnostic.message,
            "ignoring extra text after IF statement");
  EXPECT_EQ(w[1], Prefix(1) +
                      "do not prepend whitespace to statements between IF "
                      "and ENDIF");
  EXPECT_EQ(w[2], Prefix(4) + "ignoring extra text after ENDIF");
}

TEST_P(BothTypesTest, WordsThatAreNotIfOrEndifAreUnrecognized) {
  auto t = Table("word rule\nifx /b/\nendifx\n1/x/ y\n");
  EXPECT_EQ(t->warnings().size(), 4u);
  EXPECT_EQ(t->warnings()[0].postfix_text,
            Prefix(1) + "ignoring unrecognized request");
}

// ---------------------------------------------------------------- $n

TEST_P(BothTypesTest, GroupReferencesInAllThreeSpellings) {
  auto t = Table("/^(a)(b)(c)-(.*)$/ $1-${2}-$(3)-$4\n");
  EXPECT_EQ(Ask(*t, "abc-rest"), "=a-b-c-rest");
}

TEST_P(BothTypesTest, DollarDollarIsALiteralDollar) {
  auto t = Table("/^d/ cost $$5 and $$$$\n/^(e)/ $$$1\n");
  EXPECT_EQ(Ask(*t, "d"), "=cost $5 and $$");
  EXPECT_EQ(Ask(*t, "e"), "=$e");
}

TEST_P(BothTypesTest, MultiDigitAndZeroPaddedIndexes) {
  auto t = Table(
      "/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)$/ ten=$10 one=${01} then=${1}0\n");
  EXPECT_EQ(Ask(*t, "abcdefghij"), "=ten=j one=a then=a0");
}

TEST_P(BothTypesTest, AGroupThatDidNotMatchGivesEmptyText) {
  auto t = Table("/^opt-(x)?(y)?-(.*)$/ [$1][$2][$3]\n");
  EXPECT_EQ(Ask(*t, "opt--z"), "=[][][z]");
  EXPECT_EQ(Ask(*t, "opt-xy-z"), "=[x][y][z]");
}

TEST_P(BothTypesTest, SubstitutionUsesTheKeyAsTypedAndCopiesLongGroups) {
  auto t = Table("/^case-(.*)$/ kept-$1\n/^(x+)y$/ $1\n");
  EXPECT_EQ(Ask(*t, "CASE-MiXeD"), "=kept-MiXeD");
  std::string key(100000, 'x');
  EXPECT_EQ(Ask(*t, key + "y"), "=" + key);
}

TEST_P(BothTypesTest, ReferenceBeyondTheGroupCountSkipsTheRuleAtLoad) {
  auto t = Table("/^(r1)$/ $2\n/^r18$/ $1\n/^(r)$/ $99\n/./ fallback\n");
  EXPECT_EQ(Ask(*t, "r1"), "=fallback");
  EXPECT_EQ(Texts(t->warnings()),
            (std::vector<std::string>{
                Prefix(1) + "out of range replacement index \"2\": skipping "
                            "this rule",
                Prefix(2) + "out of range replacement index \"1\": skipping "
                            "this rule",
                Prefix(3) + "out of range replacement index \"99\": skipping "
                            "this rule"}));
}

TEST_P(BothTypesTest, BadReferencesGiveMacParseWarningsWithoutMapName) {
  auto t = Table("/^(r)$/ ${1\n/^(r)$/ end$\n/^(r)$/ $1x\n");
  std::vector<std::string> w = Texts(t->warnings());
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0], "truncated macro reference: \"${1\"");
  EXPECT_EQ(w[1], Prefix(1) + "bad replacement syntax: skipping this rule");
  EXPECT_EQ(w[2], "empty macro name: \"end$\"");
  EXPECT_EQ(w[4], Prefix(3) + "non-numeric replacement index \"1x\"");
  // mapctl's own wording never quotes the result.
  EXPECT_EQ(t->warnings()[0].diagnostic.message,
            "truncated macro reference in the result");
  EXPECT_EQ(t->warnings()[0].diagnostic.line, 1u);
}

TEST_P(BothTypesTest, AfterABadNameACompleteBracketReferenceEndsTheParse) {
  auto t = Table("/a/ $x$(2)${\n/b/ $x${\n");
  std::vector<std::string> w = Texts(t->warnings());
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w[1], Prefix(1) + "bad replacement syntax: skipping this rule");
  EXPECT_EQ(w[3], "truncated macro reference: \"$x${\"");
}

TEST(PatternSubstitutionTest, ZeroIndexIsHyphenatedForRegexpOnly) {
  auto r = Load(PatternType::kRegexp, "/^(r)$/ $0\n");
  EXPECT_EQ(r->warnings()[0].postfix_text,
            "regexp map t.regexp, line 1: out-of-range replacement index "
            "\"0\"");
  if (!HavePcre()) return;
  auto p = Load(PatternType::kPcre, "/^(r)$/ $00\n");
  EXPECT_EQ(p->warnings()[0].postfix_text,
            "pcre map t.pcre, line 1: out of range replacement index \"00\"");
}

TEST(PatternSubstitutionTest, PcreNamedGroupsCountAsNumberedGroups) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/^(?<user>.*)@(?<dom>.*)$/ $1 at $2\n");
  EXPECT_EQ(Ask(*t, "a@b"), "=a at b");
}

// ---------------------------------------------------------------- results

TEST_P(BothTypesTest, NoResultIsFoundEmptyAfterALoadWarning) {
  auto t = Table("/^norhs/\n/^e1-(x)?$/ $1\n");
  EXPECT_EQ(Ask(*t, "norhs"), "=");
  EXPECT_EQ(Ask(*t, "e1-"), "=");
  EXPECT_EQ(Texts(t->warnings()),
            std::vector<std::string>{
                Prefix(1) + "no replacement text: using empty string"});
}

TEST_P(BothTypesTest, TheAnswerNamesTheRuleThatMatched) {
  auto t = Table("# x\n/^a/ first\n\n/^b/ second\n  more\n");
  PatternAnswer a = t->Find("bb");
  EXPECT_EQ(a.outcome, PatternOutcome::kFound);
  EXPECT_EQ(a.line, 4u);
  EXPECT_EQ(a.value, "second  more");
}

// ---------------------------------------------------------------- keys

TEST_P(BothTypesTest, MatchingIsBytewiseAndCaselessForAsciiOnly) {
  auto t =
      Table("/^j\xc3\xbcrgen@/ caseless\n/^.@/ one-byte\n/^..@/ two-bytes\n");
  EXPECT_EQ(Ask(*t, "J\xc3\x9cRGEN@x"), "-");
  EXPECT_EQ(Ask(*t, "j\xc3\xbcrgen@x"), "=caseless");
  EXPECT_EQ(Ask(*t, "\xc3\xa9@x"), "=two-bytes");
}

TEST_P(BothTypesTest, InvalidUtf8KeyIsAWarningAndNotFoundWhenCheckingUtf8) {
  auto t = Table("/^(.*)$/ any=$1\n");
  PatternAnswer a = t->Find("latin1-\xfc@x");
  EXPECT_EQ(a.outcome, PatternOutcome::kNotFound);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(a.warnings[0].postfix_text,
            std::string(TypeName(GetParam())) + ":" + TypeFile(GetParam()) +
                ": non-UTF-8 key \"latin1-\xfc@x\": malformed UTF-8 or "
                "invalid codepoint");
  PatternOptions off;
  off.check_utf8 = false;
  auto raw = Table("/^(.*)$/ any=$1\n", off);
  EXPECT_EQ(Ask(*raw, "latin1-\xfc@x"), "=any=latin1-\xfc@x");
}

TEST_P(BothTypesTest, NonUtf8ResultIsATableErrorOnlyWhenCheckingUtf8) {
  auto t = Table("/^stra(.)/ strasse-$1\n/^lat$/ caf\xe9\n");
  PatternAnswer a = t->Find(
      "stra\xc3\x9f"
      "e@x");
  EXPECT_EQ(a.outcome, PatternOutcome::kError);
  EXPECT_FALSE(a.error.ok());
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].postfix_text.find(
                "non-UTF-8 value \"strasse-\xc3\": malformed"),
            std::string::npos);
  EXPECT_EQ(a.warnings[0].diagnostic.message.find("strasse"),
            std::string::npos);
  PatternOptions off;
  off.check_utf8 = false;
  auto raw = Table("/^lat$/ caf\xe9\n", off);
  EXPECT_EQ(Ask(*raw, "lat"), "=caf\xe9");
}

TEST_P(BothTypesTest, KeyEndsAtTheFirstNulAndTheEmptyKeyIsLookedUp) {
  auto t = Table("/^nul$/ nul-prefix\n/^$/ empty\n");
  EXPECT_EQ(Ask(*t, std::string_view("nul\0after", 9)), "=nul-prefix");
  EXPECT_EQ(Ask(*t, ""), "=empty");
}

TEST_P(BothTypesTest, EmptyPatternMatchesEverythingAndItsNegationNothing) {
  auto t = Table("!// never\n// always\n");
  EXPECT_EQ(Ask(*t, ""), "=always");
  EXPECT_EQ(Ask(*t, "x"), "=always");
}

// ---------------------------------------------------------------- engines

TEST(PatternEngineTest, EnginesReadTheSameTextDifferently) {
  // glibc: \x is a plain x, but under the default REG_ICASE an escaped
  // letter matches nothing at all (postmap agrees).
  auto r = Load(PatternType::kRegexp,
                "/^\\x41$/ caseless\n/^(?i)a/ bad\n/^\\x41$/i x41\n");
  EXPECT_EQ(Ask(*r, "x41"), "=x41");
  EXPECT_EQ(r->warnings()[0].postfix_text,
            "regexp map t.regexp, line 2: Invalid preceding regular "
            "expression");
  if (!HavePcre()) return;
  auto p = Load(PatternType::kPcre, "/^\\x41$/i x41\n/^\\d+$/ digits\n");
  EXPECT_EQ(Ask(*p, "A"), "=x41");
  EXPECT_EQ(Ask(*p, "123"), "=digits");
}

TEST(PatternEngineTest, CompileErrorsCarryTheEngineText) {
  auto r = Load(PatternType::kRegexp, "/^(open/ x\n/^[z-a]/ x\n");
  EXPECT_EQ(Texts(r->warnings()),
            (std::vector<std::string>{
                "regexp map t.regexp, line 1: Unmatched ( or \\(",
                "regexp map t.regexp, line 2: Invalid range end"}));
  if (!HavePcre()) return;
  auto p = Load(PatternType::kPcre, "/^(open/ x\n");
  EXPECT_EQ(Texts(p->warnings()),
            std::vector<std::string>{
                "pcre map t.pcre, line 1: error in regex at offset 6: "
                "missing closing parenthesis"});
}

TEST(PatternEngineTest, PcreMatchLimitIsAWarningAndTheNextRuleStillMatches) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/^(a|aa)+$/ never\n/./ next-rule\n");
  PatternAnswer a = t->Find(std::string(95, 'a') + "b");
  EXPECT_EQ(a.outcome, PatternOutcome::kFound);
  EXPECT_EQ(a.value, "next-rule");
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(a.warnings[0].postfix_text,
            "pcre map t.pcre, line 1: match limit exceeded");
}

TEST(PatternEngineTest, APatternMaySwitchPcreToUtfModeItself) {
  if (!HavePcre()) GTEST_SKIP();
  auto t = Load(PatternType::kPcre, "/(*UTF)^.@/ one-char\n");
  EXPECT_EQ(Ask(*t, "\xc3\xa9@x"), "=one-char");
}

TEST(PatternEngineTest, OneTableServesSeveralThreadsWithTheirOwnScratch) {
  auto t = Load(PatternType::kRegexp, "/^([a-z]+)([0-9]+)@/ $2-$1\n");
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int n = 0; n < 4; ++n) {
    threads.emplace_back([&, n] {
      auto scratch = t->NewScratch();
      for (int i = 0; i < 2000; ++i) {
        std::string key = "u" + std::to_string(n * 10000 + i) + "@x";
        PatternAnswer a = t->Find(key, *scratch);
        if (a.value != std::to_string(n * 10000 + i) + "-u") ++bad[n];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

// ---------------------------------------------------------------- options

TEST_P(BothTypesTest, NoRegsubDropsRulesThatUseGroupsAtOpen) {
  PatternOptions o;
  o.no_regsub = true;
  auto t = Table(
      "/^subst-([0-9]+)@/ [127.0.0.1]:$1\n/^subst-/ gw3\n"
      "/^lit/ $$1\n",
      o);
  EXPECT_EQ(Ask(*t, "subst-2525@x"), "=gw3");
  EXPECT_EQ(Ask(*t, "lit"), "=$1");
  EXPECT_EQ(Texts(t->warnings()),
            std::vector<std::string>{Prefix(1) +
                                     "regular expression substitution is not "
                                     "allowed: skipping this rule"});
}

TEST_P(BothTypesTest, StrictMakesLoadWarningsErrorsAndRefusesLookups) {
  PatternOptions o;
  o.strict = true;
  auto t = Table("/(/ bad\n/a/ a\n", o);
  ASSERT_EQ(t->warnings().size(), 1u);
  EXPECT_EQ(t->warnings()[0].diagnostic.severity, Severity::kError);
  EXPECT_EQ(Ask(*t, "a"), "!");
  auto clean = Table("/a/ a\n", o);
  EXPECT_EQ(Ask(*clean, "a"), "=a");
}

// ---------------------------------------------------------------- open

TEST(PatternOpenTest, InlineRulesBecomeLinesAndWarningsNameTheWholeText) {
  auto t = PatternTable::Open(PatternType::kRegexp,
                              "{ {/a/ b} , {/(/ bad},{ /c/ {x}y } }", {});
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(Ask(**t, "a"), "=b");
  EXPECT_EQ(Ask(**t, "c"), "={x}y");
  EXPECT_EQ((*t)->origin(), "regexp:{ 3 rules }");
  EXPECT_EQ((*t)->warnings()[0].postfix_text,
            "regexp map { {/a/ b} , {/(/ bad},{ /c/ {x}y } }, line 2: "
            "Unmatched ( or \\(");
  EXPECT_EQ((*t)->warnings()[0].diagnostic.file, "regexp:{ 3 rules }");
}

TEST(PatternOpenTest, InlineSyntaxErrorsAreFatalWithPostfixText) {
  auto a = PatternTable::Open(PatternType::kRegexp, "{/c/ d}", {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message(),
            "regexp map: no '{' at start of text in \"/c/\"");
  auto b = PatternTable::Open(PatternType::kRegexp, "{{/c/ a}b}}", {});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message(),
            "regexp map: syntax error after '}' in \"{{/c/ a}b}}\"");
  auto c = PatternTable::Open(PatternType::kRegexp, "{{/c/ d}", {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "regexp map: missing '}' in \"{{/c/ d}\"");
}

TEST(PatternOpenTest, InlineLeadingWhitespaceWarningNamesUnknownStream) {
  auto t = PatternTable::Open(PatternType::kRegexp, "{{#c\n /a/ b}}", {});
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->warnings()[0].postfix_text,
            "unknown_stream: logical line must not start with whitespace: "
            "\" /a/ b\"");
}

TEST(PatternOpenTest, MissingFileIsAnOpenErrorAndADirectoryIsEmpty) {
  testing::TempDir dir;
  std::string missing = (dir.path() / "nope.regexp").string();
  auto t = PatternTable::Open(PatternType::kRegexp, missing, {});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(t.error().message(),
            "open " + missing + ": No such file or directory");
  auto d = PatternTable::Open(PatternType::kRegexp, dir.path().string(), {});
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_TRUE((*d)->rules().empty());
}

TEST(PatternOpenTest, FileTablesAreReadWholeAndNamedAsGiven) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("t.regexp", "/^a$/ b\n/(/ c");
  auto t = PatternTable::Open(PatternType::kRegexp, path, {});
  ASSERT_TRUE(t);
  EXPECT_EQ(Ask(**t, "a"), "=b");
  EXPECT_EQ((*t)->name(), path);
  EXPECT_EQ((*t)->warnings()[0].diagnostic.file, path);
  EXPECT_EQ((*t)->warnings()[0].postfix_text,
            "regexp map " + path + ", line 2: Unmatched ( or \\(");
}

TEST(PatternOpenTest, PcreWithoutPcre2SupportIsUnsupported) {
  if (HavePcre()) GTEST_SKIP() << "built with PCRE2";
  auto t = PatternTable::FromText(PatternType::kPcre, "t.pcre", "/a/ b\n", {});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(t.error().message(), "pcre: support not built in");
}

}  // namespace
}  // namespace mapctl::pattern
