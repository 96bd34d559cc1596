// config_test.cc - main.cf parsing and Postfix's $name expansion
// (postconf(5)); expected values were checked with postconf 3.7.11.

#include "mapctl/config.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace mapctl {
namespace {

MainConfig Parse(std::string_view text) {
  return MainConfig::Parse(text, "/cfg", "/cfg/main.cf");
}

TEST(MainConfigTest, UnsetParametersTakePostfix37Defaults) {
  MainConfig c = Parse("");
  EXPECT_EQ(c.Get("default_database_type"), "hash");
  EXPECT_EQ(c.Get("compatibility_level"), "0");
  EXPECT_EQ(c.Get("empty_address_relayhost_maps_lookup_key"), "<>");
  EXPECT_FALSE(c.IsSet("relayhost"));
}

TEST(MainConfigTest, Smtputf8FollowsCompatibilityLevel) {
  EXPECT_EQ(Parse("").Get("smtputf8_enable"), "no");
  EXPECT_EQ(Parse("compatibility_level = 3.6\n").Get("smtputf8_enable"),
            "yes");
  EXPECT_EQ(Parse("compatibility_level = 1\n").Get("smtputf8_enable"), "yes");
  EXPECT_EQ(Parse("compatibility_level = 0.9\n").Get("smtputf8_enable"),
            "no");
  EXPECT_EQ(Parse("compatibility_level = 3.6\nsmtputf8_enable = no\n")
                .Get("smtputf8_enable"),
            "no");
}

TEST(MainConfigTest, KeyFoldModeFollowsSmtputf8AndFlags) {
  MainConfig utf8 = Parse("compatibility_level = 3.6\n");
  MainConfig ascii = Parse("compatibility_level = 0\n");
  EXPECT_EQ(KeyFoldMode(utf8, false, false), FoldMode::kUtf8);
  EXPECT_EQ(KeyFoldMode(ascii, false, false), FoldMode::kAscii);
  EXPECT_EQ(KeyFoldMode(utf8, true, false), FoldMode::kAscii);
  EXPECT_EQ(KeyFoldMode(utf8, false, true), FoldMode::kNone);
  EXPECT_TRUE(ChecksUtf8(utf8, false));
  EXPECT_FALSE(ChecksUtf8(utf8, true));
  EXPECT_FALSE(ChecksUtf8(ascii, false));
}

TEST(MainConfigTest, ExpandsDollarForms) {
  MainConfig c = Parse(
      "myhostname = mx.example.com\n"
      "a = $myhostname\n"
      "b = ${myhostname}/$(myhostname)\n"
      "c = x$$y\n");
  EXPECT_EQ(c.Get("a"), "mx.example.com");
  EXPECT_EQ(c.Get("b"), "mx.example.com/mx.example.com");
  EXPECT_EQ(c.Get("c"), "x$y");
}

TEST(MainConfigTest, MydomainAndMydestinationDeriveFromMyhostname) {
  MainConfig c = Parse("myhostname = mx.example.com\n");
  EXPECT_EQ(c.Get("mydomain"), "example.com");
  EXPECT_EQ(c.Get("myorigin"), "mx.example.com");
  EXPECT_EQ(c.Get("mydestination"),
            "mx.example.com, localhost.example.com, localhost");
}

TEST(MainConfigTest, ConditionalForms) {
  MainConfig c = Parse(
      "set = yes\n"
      "empty =\n"
      "a = ${set?on}\n"
      "b = ${empty?on}\n"
      "c = ${empty:off}\n"
      "d = ${set:off}\n"
      "e = ${set?{on}:{off}}\n"
      "f = ${empty?{on}:{off}}\n"
      "g = ${{$set} == {yes} ? {same} : {different}}\n"
      "h = ${{3.6} <level {3.10} ? {older} : {newer}}\n");
  EXPECT_EQ(c.Get("a"), "on");
  EXPECT_EQ(c.Get("b"), "");
  EXPECT_EQ(c.Get("c"), "off");
  EXPECT_EQ(c.Get("d"), "");
  EXPECT_EQ(c.Get("e"), "on");
  EXPECT_EQ(c.Get("f"), "off");
  EXPECT_EQ(c.Get("g"), "same");
  EXPECT_EQ(c.Get("h"), "older");
}

TEST(MainConfigTest, CompatibilityLevelsCompareAsPostconfReadsThem) {
  // Observed with postconf 3.7: blanks and '+' before a part are taken,
  // minor and patch go up to 1023, the major up to 2^43 - 1.
  auto less = [](const char* a, const char* b) {
    return Parse(std::string("x = ${{") + a + "} <level {" + b +
                 "} ? {yes} : {no}}\n")
        .Get("x");
  };
  EXPECT_EQ(less("3.6", "3.6.1"), "yes");
  EXPECT_EQ(less("03.06", "3.6"), "no");
  EXPECT_EQ(less("3.6", " +3.7"), "yes");
  EXPECT_EQ(less("3.6", "3.1023"), "yes");
  EXPECT_EQ(less("3.6", "8796093022207"), "yes");
}

TEST(MainConfigTest, MalformedCompatibilityLevelStopsTheExpansion) {
  // Found by main_cf_fuzz: a 20-digit level overflowed a long. Postfix
  // warns "malformed compatibility level syntax" and stops.
  for (const char* level :
       {"3.x", "3.", "", "3.6.1.2", "3.1024", "3.0.1024", "-3", "3 ",
        "8796093022208", "66666666666666666666666666"}) {
    MainConfig c = Parse(std::string("a = z\nx = $a${{3.6} <level {") +
                         level + "} ? {yes} : {no}}\n");
    EXPECT_EQ(c.Get("x"), "") << level;
    ASSERT_EQ(c.diagnostics().size(), 1u) << level;
    EXPECT_NE(c.diagnostics()[0].message.find("malformed compatibility level"),
              std::string::npos);
    EXPECT_EQ(c.Get("a"), "z");
  }
}

TEST(MainConfigTest, UnknownNameExpandsEmptyWithOneWarning) {
  MainConfig c = Parse("a = x${no_such_parameter_here}y $no_such_parameter_here\n");
  EXPECT_EQ(c.Get("a"), "xy ");
  ASSERT_EQ(c.diagnostics().size(), 1u);
  EXPECT_NE(c.diagnostics()[0].message.find("no_such_parameter_here"),
            std::string::npos);
  // A parameter Postfix knows but mapctl has no default for is no warning.
  MainConfig d = Parse("a = $smtpd_banner_is_not_real $queue_directory\n");
  (void)d.Get("a");
  EXPECT_EQ(d.diagnostics().size(), 1u);
}

TEST(MainConfigTest, ContinuationAndCommentLines) {
  MainConfig c = Parse(
      "# comment\n"
      "mydestination = a,\n"
      "    b,\n"
      "# comment inside\n"
      "\n"
      "\tc\n"
      "relayhost=[smtp.example.net]:587\n");
  // Checked with postconf -xh mydestination: one space per joint.
  EXPECT_EQ(c.Get("mydestination"), "a, b, c");
  EXPECT_EQ(c.Get("relayhost"), "[smtp.example.net]:587");
  EXPECT_TRUE(c.diagnostics().empty());
}

TEST(MainConfigTest, LineWithoutEqualsIsAnError) {
  MainConfig c = Parse("ok = 1\nthis line is wrong\n");
  ASSERT_EQ(c.diagnostics().size(), 1u);
  EXPECT_EQ(c.diagnostics()[0].severity, Severity::kError);
  EXPECT_EQ(c.diagnostics()[0].line, 2u);
}

TEST(MainConfigTest, SetOverridesMainCf) {
  MainConfig c = Parse("relayhost = a\n");
  c.Set("relayhost", "b");
  EXPECT_EQ(c.Get("relayhost"), "b");
}

TEST(MainConfigTest, LoadReportsMissingFile) {
  testing::TempDir dir;
  Result<MainConfig> c = MainConfig::Load(dir.path().string());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("main.cf: No such file"),
            std::string::npos)
      << c.error().message();
  dir.WriteFile("main.cf", "compatibility_level = 3.6\n");
  Result<MainConfig> ok = MainConfig::Load(dir.path().string());
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->Get("smtputf8_enable"), "yes");
}

TEST(MainConfigTest, LoopingExpansionStops) {
  MainConfig c = Parse("a = $b\nb = $a\n");
  EXPECT_EQ(c.Get("a"), "");
  EXPECT_FALSE(c.diagnostics().empty());
}

// F1 (docs/fuzzing.md): an unset mydomain comes from myhostname; a
// myhostname that uses $mydomain used to restart the depth count at every
// turn and overflow the stack.
TEST(MainConfigTest, MyhostnameThatUsesMydomainStopsAtTheDepthLimit) {
  MainConfig c = Parse("myhostname = host.$mydomain\n");
  c.Get("myorigin");
  c.Get("mydomain");
  EXPECT_FALSE(c.diagnostics().empty());
}

// F2: past the depth limit every pending level stops; a value that uses
// itself twice would otherwise take 2^100 steps.
TEST(MainConfigTest, ValueThatUsesItselfTwiceStopsAtOnce) {
  MainConfig c = Parse("a = $a$a\nmyorigin = $a\n");
  EXPECT_EQ(c.Get("myorigin"), "");
  EXPECT_FALSE(c.diagnostics().empty());
  // The next expansion starts afresh.
  EXPECT_EQ(c.ExpandText("x$$y"), "x$y");
}

}  // namespace
}  // namespace mapctl
