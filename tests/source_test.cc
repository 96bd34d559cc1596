// source_test.cc - postmap(1) "INPUT FILE FORMAT" as Postfix 3.7.11 parses
// it (spec/postfix-behavior.md sections 1 and 2), one rule per test. The
// expected results were checked against `postmap lmdb:` + `mdb_dump`.

#include "mapctl/source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <tuple>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.h"

namespace mapctl {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

ParseOptions Options(FoldMode fold = FoldMode::kUtf8, bool check_utf8 = true) {
  ParseOptions o;
  o.origin = "test.map";
  o.fold = fold;
  o.check_utf8 = check_utf8;
  return o;
}

ParsedMap Parse(std::string_view text, const ParseOptions& o = Options()) {
  return ParseMapText(std::string(text), o);
}

Pairs EntriesOf(const ParsedMap& m) {
  Pairs out;
  for (const Entry& e : m.entries()) {
    out.emplace_back(std::string(e.key()), std::string(e.value()));
  }
  return out;
}

Pairs ParseEntries(std::string_view text, const ParseOptions& o = Options()) {
  return EntriesOf(Parse(text, o));
}

std::vector<DiagnosticKind> KindsOf(const ParsedMap& m) {
  std::vector<DiagnosticKind> out;
  for (const Diagnostic& d : m.diagnostics()) out.push_back(d.kind);
  return out;
}

// --- 1.1 physical and logical lines --------------------------------------

TEST(SourceParserTest, EachLineIsOneEntry) {
  EXPECT_EQ(ParseEntries("a 1\nb 2\n"), (Pairs{{"a", "1"}, {"b", "2"}}));
}

TEST(SourceParserTest, FinalLineWithoutNewlineCounts) {
  ParsedMap m = Parse("a 1\nb 2");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(m.entries()[1].line(), 2u);
  EXPECT_EQ(m.line_count(), 2u);
}

TEST(SourceParserTest, LineCountIncludesCommentsAndBlankLines) {
  EXPECT_EQ(Parse("# c\n\na 1\n\n").line_count(), 4u);
  EXPECT_EQ(Parse("").line_count(), 0u);
  EXPECT_EQ(Parse("\n").line_count(), 1u);
  EXPECT_EQ(Parse("#c").line_count(), 1u);
}

TEST(SourceParserTest, BlankAndWhitespaceOnlyLinesAreIgnored) {
  ParsedMap m = Parse("\n \t\n\r\n\v\f\na 1\n   \n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"a", "1"}}));
  EXPECT_EQ(m.entries()[0].line(), 5u);
  EXPECT_TRUE(m.diagnostics().empty());
}

TEST(SourceParserTest, CommentLinesAreIgnoredEvenWhenIndented) {
  ParsedMap m = Parse("# top\n  # indented\n\t#tab\na 1\n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"a", "1"}}));
  EXPECT_TRUE(m.diagnostics().empty());
}

TEST(SourceParserTest, LeadingWhitespaceContinuesLogicalLineVerbatim) {
  // The newline goes, the continuation's own whitespace stays.
  EXPECT_EQ(ParseEntries("k v\n  more\n"), (Pairs{{"k", "v  more"}}));
}

TEST(SourceParserTest, ContinuationStartingWithTabKeepsTab) {
  EXPECT_EQ(ParseEntries("k v\n\tmore\n"), (Pairs{{"k", "v\tmore"}}));
}

TEST(SourceParserTest, ContinuationCanCarryTheValue) {
  EXPECT_EQ(ParseEntries("key\n  value\n"), (Pairs{{"key", "value"}}));
}

TEST(SourceParserTest, CommentLineInsideContinuationDoesNotEndIt) {
  EXPECT_EQ(ParseEntries("k v\n# flush left\n  a\n  # indented\n  b\n"),
            (Pairs{{"k", "v  a  b"}}));
}

TEST(SourceParserTest, BlankLineInsideContinuationDoesNotEndIt) {
  EXPECT_EQ(ParseEntries("k v\n\n  a\n \t \n  b\nn 2\n"),
            (Pairs{{"k", "v  a  b"}, {"n", "2"}}));
}

// Observed (spec 1.4): comments and blank lines between continuations.
TEST(SourceParserTest, SpecContinuationExampleWithBlankAndComment) {
  EXPECT_EQ(ParseEntries("k1 v1\n  more\n\n\tafter-blank\n# c\n"
                         "  after-comment\n"),
            (Pairs{{"k1", "v1  more\tafter-blank  after-comment"}}));
}

TEST(SourceParserTest, CommentAfterLastContinuationIsDropped) {
  EXPECT_EQ(ParseEntries("k v\n  a\n# c\n"), (Pairs{{"k", "v  a"}}));
}

TEST(SourceParserTest, LeadingWhitespaceBlockAtTopIsDiscardedWithWarning) {
  ParsedMap m = Parse("  lead1 secret\n\tlead2\n# c\n  lead3\nreal v\n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"real", "v"}}));
  ASSERT_EQ(m.diagnostics().size(), 1u);
  const Diagnostic& d = m.diagnostics()[0];
  EXPECT_EQ(d.kind, DiagnosticKind::kLeadingWhitespace);
  EXPECT_EQ(d.severity, Severity::kWarning);
  EXPECT_EQ(d.message,
            "logical line must not start with whitespace -- ignoring it");
  // postmap prints no line number here; we name the block's first line.
  EXPECT_EQ(d.line, 1u);
  EXPECT_EQ(d.message.find("secret"), std::string::npos);
}

TEST(SourceParserTest, LeadingWhitespaceAfterCommentsStillCountsLines) {
  ParsedMap m = Parse("# c\n\n  lead\nreal v\n");
  ASSERT_EQ(m.diagnostics().size(), 1u);
  EXPECT_EQ(m.diagnostics()[0].line, 3u);
  ASSERT_EQ(m.entries().size(), 1u);
  EXPECT_EQ(m.entries()[0].line(), 4u);
}

TEST(SourceParserTest, OnlyWhitespaceLedLinesGiveOneWarningAndNoEntries) {
  ParsedMap m = Parse("  a b\n  c d\n");
  EXPECT_TRUE(m.entries().empty());
  EXPECT_EQ(KindsOf(m),
            std::vector<DiagnosticKind>{DiagnosticKind::kLeadingWhitespace});
}

TEST(SourceParserTest, DiagnosticUsesFirstPhysicalLineOfLogicalLine) {
  // spec 1.1: '#c', '', '"unbal', '  continued', '#x', '  more' -> line 3.
  ParsedMap m = Parse("#c\n\n\"unbal\n  continued\n#x\n  more\n");
  ASSERT_EQ(m.diagnostics().size(), 1u);
  EXPECT_EQ(m.diagnostics()[0].kind, DiagnosticKind::kUnbalancedQuote);
  EXPECT_EQ(m.diagnostics()[0].line, 3u);
  EXPECT_EQ(m.diagnostics()[0].file, "test.map");
}

TEST(SourceParserTest, EntryLineIsFirstPhysicalLine) {
  ParsedMap m = Parse("a 1\n# c\nb\n  2\n\n  3\nc 4\n");
  ASSERT_EQ(m.entries().size(), 3u);
  EXPECT_EQ(m.entries()[0].line(), 1u);
  EXPECT_EQ(m.entries()[1].line(), 3u);
  EXPECT_EQ(m.entries()[2].line(), 7u);
  EXPECT_EQ(m.entries()[1].value(), "2  3");
}

TEST(SourceParserTest, VeryLongValueIsKept) {
  std::string value(1'000'000, 'x');
  ParsedMap m = Parse("k " + value + "\n");
  ASSERT_EQ(m.entries().size(), 1u);
  EXPECT_EQ(m.entries()[0].value(), value);
}

// --- 1.2 key and value ----------------------------------------------------

struct SplitCase {
  std::string_view source;
  std::string_view key;  // empty: the line is skipped
  std::string_view value;
  DiagnosticKind warning;  // kOther: no warning expected
};

// spec 1.2, "Observed examples" (stored key/value after postmap lmdb:).
const SplitCase kObserved[] = {
    {"User@Example.COM Value With CAPS", "user@example.com", "Value With CAPS",
     DiagnosticKind::kOther},
    {"key2\tvalue2 with   inner   spaces   ", "key2",
     "value2 with   inner   spaces", DiagnosticKind::kOther},
    {"k\t\tv1\tv2\t", "k", "v1\tv2", DiagnosticKind::kOther},
    {"k1\fv1", "k1", "v1", DiagnosticKind::kOther},
    {"k2\vv2\v", "k2", "v2", DiagnosticKind::kOther},
    {"k3\xC2\xA0v3 x", "k3\xC2\xA0v3", "x", DiagnosticKind::kOther},
    {"\"a b\"@example.com v1", "\"a b\"@example.com", "v1",
     DiagnosticKind::kOther},
    {"\"x\\\"y\" v2", "\"x\\\"y\"", "v2", DiagnosticKind::kOther},
    {"back\\ slash v3", "back\\ slash", "v3", DiagnosticKind::kOther},
    {"\"\" v5", "\"\"", "v5", DiagnosticKind::kOther},
    {"\"q\"tail v6", "\"q\"tail", "v6", DiagnosticKind::kOther},
    {"tab\\\tx v6", "tab\\\tx", "v6", DiagnosticKind::kOther},
    {"\\#foo v1", "\\#foo", "v1", DiagnosticKind::kOther},
    {"\"#bar\" v2", "\"#bar\"", "v2", DiagnosticKind::kOther},
    {"\"a \"  v3", "\"a \"", "v3", DiagnosticKind::kOther},
    {"\"unterminated v4", "", "", DiagnosticKind::kUnbalancedQuote},
    {"x\\ v4", "", "", DiagnosticKind::kExpectedFormat},
    {"trail\\", "", "", DiagnosticKind::kExpectedFormat},
    {"lonely", "", "", DiagnosticKind::kExpectedFormat},
    {"spaces   ", "", "", DiagnosticKind::kExpectedFormat},
    {"alias: target", "alias:", "target", DiagnosticKind::kAliasFormat},
    {"k: ", "", "", DiagnosticKind::kExpectedFormat},
    {"k1 v1 # note", "k1", "v1 # note", DiagnosticKind::kOther},
    {"k2 #v2", "k2", "#v2", DiagnosticKind::kOther},
    {"k \"quoted value\"", "k", "\"quoted value\"", DiagnosticKind::kOther},
};

TEST(SourceParserTest, ObservedSplitExamplesMatchPostmap) {
  for (const SplitCase& c : kObserved) {
    SCOPED_TRACE(std::string(c.source));
    ParsedMap m = Parse(std::string(c.source) + "\n");
    if (c.key.empty()) {
      EXPECT_TRUE(m.entries().empty());
    } else {
      ASSERT_EQ(m.entries().size(), 1u);
      EXPECT_EQ(m.entries()[0].key(), c.key);
      EXPECT_EQ(m.entries()[0].value(), c.value);
    }
    if (c.warning == DiagnosticKind::kOther) {
      EXPECT_TRUE(m.diagnostics().empty());
    } else {
      EXPECT_EQ(KindsOf(m), std::vector<DiagnosticKind>{c.warning});
    }
  }
}

TEST(SourceParserTest, KeyWithoutValueIsAWarningNotAFailure) {
  ParsedMap m = Parse("lonely\nk v\n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"k", "v"}}));
  ASSERT_EQ(m.diagnostics().size(), 1u);
  EXPECT_EQ(m.diagnostics()[0].line, 1u);
  EXPECT_EQ(m.diagnostics()[0].message,
            "expected format: key whitespace value");
}

TEST(SourceParserTest, UnbalancedQuoteIsCheckedBeforeTheFormat) {
  ParsedMap m = Parse("\"open only\n");
  EXPECT_EQ(KindsOf(m),
            std::vector<DiagnosticKind>{DiagnosticKind::kUnbalancedQuote});
  EXPECT_EQ(m.diagnostics()[0].message,
            "unbalanced '\"' -- ignoring this line");
}

TEST(SourceParserTest, QuoteOpenedInTheValueIsNotUnbalanced) {
  // Quotes only matter while the key is scanned.
  EXPECT_EQ(ParseEntries("k \"open\n"), (Pairs{{"k", "\"open"}}));
}

TEST(SourceParserTest, AliasFormatKeyIsStoredWithColon) {
  ParsedMap m = Parse("postmaster: root\n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"postmaster:", "root"}}));
  ASSERT_EQ(m.diagnostics().size(), 1u);
  EXPECT_EQ(m.diagnostics()[0].message,
            "record is in \"key: value\" format; is this an alias file?");
}

TEST(SourceParserTest, ValueIsTrimmedAtBothEndsOnly) {
  EXPECT_EQ(ParseEntries("k \t  a  b\t c \t\r\n"), (Pairs{{"k", "a  b\t c"}}));
}

TEST(SourceParserTest, NonAsciiWhitespaceIsNotASeparator) {
  // U+00A0 NO-BREAK SPACE is part of the key.
  EXPECT_EQ(ParseEntries("a\xC2\xA0"
                         "b v\n"),
            (Pairs{{"a\xC2\xA0"
                    "b",
                    "v"}}));
}

TEST(SourceParserTest, KeysAreNeverUnquoted) {
  EXPECT_EQ(ParseEntries("\"First Last\"@Example.com v\n"),
            (Pairs{{"\"first last\"@example.com", "v"}}));
}

// --- 1.3 CRLF -------------------------------------------------------------

TEST(SourceParserTest, CrlfLineEndingIsTrimmedFromTheValue) {
  ParsedMap m = Parse("k1 v1\r\nk2\r\nk3  v3  \r\n\r\n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"k1", "v1"}, {"k3", "v3"}}));
  EXPECT_EQ(KindsOf(m),
            std::vector<DiagnosticKind>{DiagnosticKind::kExpectedFormat});
  EXPECT_EQ(m.diagnostics()[0].line, 2u);
}

TEST(SourceParserTest, CrlfContinuationLeavesTheInnerCrInTheValue) {
  EXPECT_EQ(ParseEntries("k v\r\n  more\r\n"), (Pairs{{"k", "v\r  more"}}));
}

// --- 1.5 NUL bytes ----------------------------------------------------------

std::string WithNuls(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '@') c = '\0';
  }
  return out;
}

TEST(SourceParserTest, NulInValueTruncatesIt) {
  ParsedMap m = Parse(WithNuls("k1 v@x\n"));
  EXPECT_EQ(EntriesOf(m), (Pairs{{"k1", "v"}}));
  EXPECT_EQ(KindsOf(m),
            std::vector<DiagnosticKind>{DiagnosticKind::kTextAfterNull});
  EXPECT_EQ(m.diagnostics()[0].message, "text after null byte is ignored");
}

TEST(SourceParserTest, NulInKeyCutsTheWholeLine) {
  ParsedMap m = Parse(WithNuls("k2@ v2\n"));
  EXPECT_TRUE(m.entries().empty());
  EXPECT_EQ(KindsOf(m),
            (std::vector<DiagnosticKind>{DiagnosticKind::kTextAfterNull,
                                         DiagnosticKind::kExpectedFormat}));
}

TEST(SourceParserTest, LineStartingWithNulHasAnEmptyKey) {
  ParsedMap m = Parse(WithNuls("@k3 v3\n"));
  EXPECT_TRUE(m.entries().empty());
  EXPECT_EQ(KindsOf(m),
            (std::vector<DiagnosticKind>{DiagnosticKind::kTextAfterNull,
                                         DiagnosticKind::kExpectedFormat}));
}

TEST(SourceParserTest, NulInContinuationTruncatesTheLogicalLine) {
  EXPECT_EQ(ParseEntries(WithNuls("k a@b\n  c\n")), (Pairs{{"k", "a"}}));
}

// 3.7 quirk: the ASCII shortcut stops at the NUL ...
TEST(SourceParserTest, InvalidBytesAfterNulOfAsciiLineAreAccepted) {
  EXPECT_EQ(ParseEntries(WithNuls("k1 v@\xFF\n")), (Pairs{{"k1", "v"}}));
}

// ... but the validity check covers the whole line.
TEST(SourceParserTest, InvalidBytesAfterNulOfNonAsciiLineRejectIt) {
  ParsedMap m = Parse(WithNuls("k\xC3\xA4 v2@\xFF\nok v\n"));
  EXPECT_EQ(EntriesOf(m), (Pairs{{"ok", "v"}}));
  EXPECT_EQ(KindsOf(m),
            (std::vector<DiagnosticKind>{DiagnosticKind::kTextAfterNull,
                                         DiagnosticKind::kNonUtf8}));
}

// Observed with 3.7.11: an empty string is "not all ASCII" to Postfix, so
// a line that starts with NUL is validated as a whole.
TEST(SourceParserTest, LineStartingWithNulIsValidatedAsAWhole) {
  ParsedMap m = Parse(WithNuls("@k v\xFF\n"));
  EXPECT_EQ(KindsOf(m),
            (std::vector<DiagnosticKind>{DiagnosticKind::kTextAfterNull,
                                         DiagnosticKind::kNonUtf8}));
  // Valid bytes: the usual empty-key complaint.
  ParsedMap ok = Parse(WithNuls("@k v\xC3\xA4\n"));
  EXPECT_EQ(KindsOf(ok),
            (std::vector<DiagnosticKind>{DiagnosticKind::kTextAfterNull,
                                         DiagnosticKind::kExpectedFormat}));
}

// --- 1.6 UTF-8 validation ---------------------------------------------------

TEST(SourceParserTest, NonUtf8LineIsSkippedWithWarning) {
  ParsedMap m = Parse("a 1\nbad\xFF secret\nb 2\n");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"a", "1"}, {"b", "2"}}));
  ASSERT_EQ(m.diagnostics().size(), 1u);
  EXPECT_EQ(m.diagnostics()[0].kind, DiagnosticKind::kNonUtf8);
  EXPECT_EQ(m.diagnostics()[0].line, 2u);
  EXPECT_EQ(m.diagnostics()[0].message,
            "non-UTF-8 input -- ignoring this line");
}

TEST(SourceParserTest, NonUtf8ValueAlsoRejectsTheLine) {
  EXPECT_TRUE(ParseEntries("k caf\xE9\n").empty());
}

TEST(SourceParserTest, NonUtf8ContinuationRejectsTheLogicalLine) {
  ParsedMap m = Parse("# c\nk v\n  \xC3\n");
  EXPECT_TRUE(m.entries().empty());
  ASSERT_EQ(m.diagnostics().size(), 1u);
  EXPECT_EQ(m.diagnostics()[0].line, 2u);
}

TEST(SourceParserTest, SurrogatesAndOverlongFormsAreNonUtf8) {
  EXPECT_TRUE(ParseEntries("k\xED\xA0\x80 v\n").empty());
  EXPECT_TRUE(ParseEntries("k\xC0\xAF v\n").empty());
  EXPECT_TRUE(ParseEntries("k\xF4\x90\x80\x80 v\n").empty());
}

TEST(SourceParserTest, WithoutUtf8CheckAnyBytesAreAccepted) {
  // postmap -u, or smtputf8_enable = no: stored bad\xFF -> v.
  EXPECT_EQ(ParseEntries("bad\xFF v\n", Options(FoldMode::kAscii, false)),
            (Pairs{{"bad\xFF", "v"}}));
}

TEST(SourceParserTest, Utf8CheckAppliesWithoutFolding) {
  // postmap -f still validates lines in UTF-8 mode.
  EXPECT_TRUE(ParseEntries("bad\xFF v\n", Options(FoldMode::kNone)).empty());
}

TEST(SourceParserTest, InvalidKeyWithUtf8FoldButNoCheckIsSkipped) {
  ParsedMap m = Parse("Bad\xFF v\nok v\n", Options(FoldMode::kUtf8, false));
  EXPECT_EQ(EntriesOf(m), (Pairs{{"ok", "v"}}));
  EXPECT_EQ(KindsOf(m), std::vector<DiagnosticKind>{DiagnosticKind::kNonUtf8});
}

// --- 2 folding --------------------------------------------------------------

TEST(SourceParserTest, KeysFoldPerOptionsValuesNeverChange) {
  const std::string src =
      "Stra\xC3\x9F"
      "e Value\n"
      "\xC3\x84\xC3\x96\xC3\x9C@Example.COM Mixed\n";
  EXPECT_EQ(ParseEntries(src, Options(FoldMode::kUtf8)),
            (Pairs{{"strasse", "Value"},
                   {"\xC3\xA4\xC3\xB6\xC3\xBC@example.com", "Mixed"}}));
  EXPECT_EQ(ParseEntries(src, Options(FoldMode::kAscii, false)),
            (Pairs{{"stra\xC3\x9F"
                    "e",
                    "Value"},
                   {"\xC3\x84\xC3\x96\xC3\x9C@example.com", "Mixed"}}));
  EXPECT_EQ(ParseEntries(src, Options(FoldMode::kNone)),
            (Pairs{{"Stra\xC3\x9F"
                    "e",
                    "Value"},
                   {"\xC3\x84\xC3\x96\xC3\x9C@Example.COM", "Mixed"}}));
}

TEST(SourceParserTest, ObservedFoldedKeys) {
  ParsedMap m = Parse(
      "\xC4\xB0stanbul v3\n"
      "\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x9F\xCE\xA3 v4\n"
      "\xEF\xAC\x81le v5\n"
      "KELVIN\xE2\x84\xAA v6\n");
  EXPECT_EQ(EntriesOf(m),
            (Pairs{{"i\xCC\x87stanbul", "v3"},
                   {"\xCF\x83\xCE\xBF\xCF\x86\xCE\xBF\xCF\x83", "v4"},
                   {"file", "v5"},
                   {"kelvink", "v6"}}));
}

// --- the Entry contract -----------------------------------------------------

// Keys that folding changes and logical lines joined from several physical
// ones are copied; the rest view the source as it stands.
TEST(SourceParserTest, ChangedKeysAndJoinedLinesAreCopiedWhole) {
  ParsedMap m = Parse(
      "a 1\n"
      "b\t2  \r\n"
      "c 3\n  cont\n# x\n\tmore\n"
      "\xC4\xB0x grows\n"             // folded key longer
      "KELVIN\xE2\x84\xAA shrinks\n"  // folded key shorter
      "\xC3\x84 same\n"               // same length
      "last unterminated");
  EXPECT_EQ(EntriesOf(m), (Pairs{{"a", "1"},
                                 {"b", "2"},
                                 {"c", "3  cont\tmore"},
                                 {"i\xCC\x87x", "grows"},
                                 {"kelvink", "shrinks"},
                                 {"\xC3\xA4", "same"},
                                 {"last", "unterminated"}}));
}

TEST(SourceParserTest, ManyGrownKeysFillSeveralArenaBlocks) {
  std::string src;
  for (int i = 0; i < 20000; ++i) {
    // U+0130 (2 bytes) folds to i + U+0307 (3 bytes).
    src += "\xC4\xB0" + std::to_string(i) + " v" + std::to_string(i) + "\n";
  }
  ParsedMap m = Parse(src);
  ASSERT_EQ(m.entries().size(), 20000u);
  EXPECT_EQ(m.entries()[19999].key(),
            "i\xCC\x87"
            "19999");
  EXPECT_EQ(m.entries()[19999].value(), "v19999");
}

// A copied key takes its value along (Entry finds the value after the
// key): a record larger than an arena block, and many that end blocks.
TEST(SourceParserTest, CopiedKeysKeepTheirValuesAcrossArenaBlocks) {
  const std::string big(100 * 1024, 'x');  // beyond one 64 KiB block
  std::string src = "UPPER " + big + "\n";
  for (int i = 0; i < 5000; ++i) {
    src += "Key" + std::to_string(i) + " value" + std::to_string(i) + "\n";
    src += "join" + std::to_string(i) + " a\n  b" + std::to_string(i) + "\n";
  }
  ParsedMap m = Parse(src);
  ASSERT_EQ(m.entries().size(), 10001u);
  EXPECT_EQ(m.entries()[0].key(), "upper");
  EXPECT_EQ(m.entries()[0].value(), big);
  for (int i = 0; i < 5000; ++i) {
    const Entry& lowered = m.entries()[1 + 2 * i];
    const Entry& joined = m.entries()[2 + 2 * i];
    ASSERT_EQ(lowered.key(), "key" + std::to_string(i));
    ASSERT_EQ(lowered.value(), "value" + std::to_string(i));
    ASSERT_EQ(joined.key(), "join" + std::to_string(i));
    ASSERT_EQ(joined.value(), "a  b" + std::to_string(i));
  }
}

TEST(SourceParserTest, EntriesStayValidWhenTheMapIsMoved) {
  ParsedMap m = Parse(
      "a b\nStra\xC3\x9F"
      "e c\n");  // short: SSO-sized
  ParsedMap moved = std::move(m);
  ParsedMap assigned;
  assigned = std::move(moved);
  EXPECT_EQ(EntriesOf(assigned), (Pairs{{"a", "b"}, {"strasse", "c"}}));
}

// --- diagnostics never leak values ----------------------------------------

TEST(SourceParserTest, DiagnosticsNeverQuoteTheValue) {
  const std::string secret = "Pa55w0rd";
  const std::string src = "  lead " + secret + "\n" +         // leading ws
                          "\"unbal " + secret + "\n" +        // quote
                          "bad\xFF " + secret + "\n" +        // UTF-8
                          "k: " + secret + "\n" +             // alias
                          WithNuls("k v@" + secret) + "\n" +  // NUL
                          secret + "\n";                      // key only
  ParsedMap m = Parse(src);
  ASSERT_EQ(m.diagnostics().size(), 6u);
  for (const Diagnostic& d : m.diagnostics()) {
    EXPECT_EQ(d.message.find(secret), std::string::npos) << d.message;
    EXPECT_EQ(d.file, "test.map");
    EXPECT_EQ(d.severity, Severity::kWarning);
  }
}

// --- ParseMapFile -----------------------------------------------------------

TEST(SourceFileTest, ReadsARegularFile) {
  testing::TempDir dir;
  const std::string path = dir.WriteFile("m", "# c\nA 1\nb 2");
  ParseOptions o = Options();
  o.origin = path;
  Result<ParsedMap> r = ParseMapFile(path, o);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(EntriesOf(*r), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(r->line_count(), 3u);
}

TEST(SourceFileTest, EmptyFileHasNoEntries) {
  testing::TempDir dir;
  Result<ParsedMap> r = ParseMapFile(dir.WriteFile("e", ""), Options());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->entries().empty());
  EXPECT_EQ(r->line_count(), 0u);
}

TEST(SourceFileTest, MissingFileIsAnOpenError) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "nope").string();
  Result<ParsedMap> r = ParseMapFile(path, Options());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(r.error().sys_errno(), ENOENT);
  EXPECT_EQ(r.error().message(),
            "open " + path + ": No such file or directory");
}

TEST(SourceFileTest, DirectoryIsAnError) {
  testing::TempDir dir;
  const std::string path = dir.path().string();
  Result<ParsedMap> r = ParseMapFile(path, Options());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(r.error().sys_errno(), EISDIR);
  EXPECT_EQ(r.error().message(), "open " + path + ": Is a directory");
}

TEST(SourceFileTest, UnreadableFileIsAnOpenError) {
  if (geteuid() == 0) GTEST_SKIP() << "root can read mode 000 files";
  testing::TempDir dir;
  const std::string path = dir.WriteFile("secret", "a b\n", 0);
  Result<ParsedMap> r = ParseMapFile(path, Options());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), EACCES);
  EXPECT_EQ(r.error().message().rfind("open " + path + ": ", 0), 0u);
}

TEST(SourceFileTest, ReadsFromAFifoUntilEof) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "fifo").string();
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // More than one pipe buffer and more than the initial read buffer.
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += "Key" + std::to_string(i) + " value" + std::to_string(i) + "\n";
  }
  std::thread writer([&] {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return;
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  });
  Result<ParsedMap> r = ParseMapFile(path, Options());
  writer.join();
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->entries().size(), 20000u);
  EXPECT_EQ(r->entries()[19999].key(), "key19999");
  EXPECT_EQ(r->entries()[19999].value(), "value19999");
}

}  // namespace
}  // namespace mapctl

namespace mapctl {
namespace {

// A large source is mapped read-only (docs/architecture.md): every rule
// that copies text (folding, continuations) must work without writing to
// it, and the last line must end exactly at the end of the file, here a
// whole number of pages with no newline, where a read past the last view
// would leave the mapping. The result must be the one of the same text
// parsed from memory.
TEST(SourceFileTest, LargeFileParsesLikeTheSameText) {
  std::string text;
  for (int i = 0; text.size() < (3u << 20); ++i) {
    const std::string n = std::to_string(i);
    switch (i % 8) {
      case 0: text += "User" + n + "@Example.COM [relay]:587\n"; break;
      case 1: text += "user" + n + "@example.com v\n  cont" + n + "\n# c\n"; break;
      case 2: text += "\xC4\xB0" + n + " grows\n"; break;
      case 3: text += "KELVIN\xE2\x84\xAA" + n + " shrinks\r\n"; break;
      case 4: text += "bad\xFF" + n + " v\n"; break;
      case 5: text += "k" + n + " v\0after\n"; break;
      case 6: text += "novalue" + n + "\n"; break;
      default: text += "\"q " + n + "\" v" + n + "\n"; break;
    }
  }
  const std::string tail = "lastkey lastvalue";
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  // A comment line of filler, so that the file is whole pages.
  std::size_t filler = page - (text.size() + tail.size()) % page;
  if (filler < 2) filler += page;
  text += std::string(filler - 1, '#') + "\n" + tail;
  ASSERT_EQ(text.size() % page, 0u);
  ASSERT_EQ(text.substr(text.size() - tail.size()), tail);

  testing::TempDir dir;
  const std::string path = dir.WriteFile("big", text);
  for (FoldMode fold : {FoldMode::kUtf8, FoldMode::kAscii, FoldMode::kNone}) {
    ParseOptions o = Options(fold);
    Result<ParsedMap> from_file = ParseMapFile(path, o);
    ASSERT_TRUE(from_file) << from_file.error().ToString();
    ParsedMap from_text = Parse(text, o);
    ASSERT_EQ(EntriesOf(*from_file), EntriesOf(from_text));
    ASSERT_EQ(from_file->line_count(), from_text.line_count());
    ASSERT_EQ(from_file->diagnostics().size(), from_text.diagnostics().size());
    for (std::size_t i = 0; i < from_text.diagnostics().size(); ++i) {
      EXPECT_EQ(from_file->diagnostics()[i].line,
                from_text.diagnostics()[i].line);
      EXPECT_EQ(from_file->diagnostics()[i].message,
                from_text.diagnostics()[i].message);
    }
    ASSERT_FALSE(from_text.entries().empty());
    EXPECT_EQ(from_file->entries().back().key(), "lastkey");
    EXPECT_EQ(from_file->entries().back().value(), "lastvalue");
  }
  EXPECT_EQ(testing::ReadFileOrDie(path), text);  // the source is left as it was
}

// Sources over 8 MB are parsed in two halves on two threads, cut where a
// logical line starts. The joined result must be exactly the one-pass
// result: order, line numbers, continuations and comments near the cut,
// grown keys, and diagnostics.
TEST(SourceParserSplitTest, LargeSourceParsesLikeOnePass) {
  std::string text;
  std::vector<std::tuple<std::string, std::string, std::uint32_t>> want;
  std::vector<std::uint32_t> bad_lines;
  std::uint32_t line = 0;
  for (int i = 0; text.size() < (12u << 20); ++i) {
    const std::string key = "User" + std::to_string(i) + "@Example.COM";
    const std::string value = "[relay" + std::to_string(i % 97) + "]:587";
    switch (i % 5) {
      case 0:  // a continuation with a comment line inside
        text += key + " " + value + "\n# note\n  more\n";
        want.emplace_back("user" + std::to_string(i) + "@example.com",
                          value + "  more", line + 1);
        line += 3;
        break;
      case 1:  // a key that grows when folded (ΐ: 2 -> 6 bytes)
        text += "\xce\x90" + key + " " + value + "\n";
        want.emplace_back("\xce\xb9\xcc\x88\xcc\x81user" + std::to_string(i) +
                              "@example.com",
                          value, line + 1);
        line += 1;
        break;
      case 2:  // a malformed line: a warning, no entry
        text += key + "\n";
        bad_lines.push_back(line + 1);
        line += 1;
        break;
      default:
        text += key + "\t" + value + "\n\n";
        want.emplace_back("user" + std::to_string(i) + "@example.com", value,
                          line + 1);
        line += 2;
    }
  }
  ParseOptions options;
  options.origin = "big";
  ParsedMap m = ParseMapText(text, options);
  ASSERT_EQ(m.entries().size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Entry& e = m.entries()[i];
    ASSERT_EQ(e.key(), std::get<0>(want[i])) << i;
    ASSERT_EQ(e.value(), std::get<1>(want[i])) << i;
    ASSERT_EQ(e.line(), std::get<2>(want[i])) << i;
  }
  ASSERT_EQ(m.diagnostics().size(), bad_lines.size());
  for (std::size_t i = 0; i < bad_lines.size(); ++i) {
    ASSERT_EQ(m.diagnostics()[i].line, bad_lines[i]) << i;
  }
  EXPECT_EQ(m.line_count(), line);
}

}  // namespace
}  // namespace mapctl
