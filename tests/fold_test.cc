// fold_test.cc - FoldKey, IsValidUtf8 and IsAscii against what Postfix 3.7.11
// does (spec/postfix-behavior.md section 2; util/casefold.c and
// util/parse_utf8_char.h). The UTF-8 cases were checked line by line with
// `postmap -s texthash:` in UTF-8 mode.

#include "mapctl/fold.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mapctl {
namespace {

std::string Fold(std::string_view key, FoldMode mode) {
  std::string out = "stale contents";
  Status s = FoldKey(key, mode, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

struct Utf8Case {
  const char* name;
  std::string_view bytes;
  bool valid;
};

// Each of these was put in a source line and run through postmap 3.7.11
// with smtputf8_enable = yes; `valid` is whether postmap kept the line.
const Utf8Case kUtf8Cases[] = {
    {"ascii", "plain ascii", true},
    {"empty", "", true},
    {"nul byte", std::string_view("a\0b", 3), true},
    {"C2 80 smallest two-byte", "\xC2\x80", true},
    {"DF BF largest two-byte", "\xDF\xBF", true},
    {"C0 80 overlong NUL", "\xC0\x80", false},
    {"C1 BF overlong", "\xC1\xBF", false},
    {"E0 A0 80 smallest three-byte", "\xE0\xA0\x80", true},
    {"E0 80 80 overlong", "\xE0\x80\x80", false},
    {"E0 9F BF overlong", "\xE0\x9F\xBF", false},
    {"ED 9F BF last before surrogates", "\xED\x9F\xBF", true},
    {"ED A0 80 surrogate D800", "\xED\xA0\x80", false},
    {"ED BF BF surrogate DFFF", "\xED\xBF\xBF", false},
    {"EE 80 80 private use", "\xEE\x80\x80", true},
    {"EF BF BE non-character accepted", "\xEF\xBF\xBE", true},
    {"EF BF BF non-character accepted", "\xEF\xBF\xBF", true},
    {"EF B7 90 U+FDD0 accepted", "\xEF\xB7\x90", true},
    {"E0 A0 C0 bad third byte", "\xE0\xA0\xC0", false},
    {"F0 90 80 80 smallest four-byte", "\xF0\x90\x80\x80", true},
    {"F0 80 80 80 overlong", "\xF0\x80\x80\x80", false},
    {"F0 8F BF BF overlong", "\xF0\x8F\xBF\xBF", false},
    {"F4 8F BF BF U+10FFFF", "\xF4\x8F\xBF\xBF", true},
    {"F4 90 80 80 above U+10FFFF", "\xF4\x90\x80\x80", false},
    {"F5 80 80 80", "\xF5\x80\x80\x80", false},
    {"F8 five-byte form", "\xF8\x88\x80\x80\x80", false},
    {"FE", "\xFE", false},
    {"FF", "\xFF", false},
    {"lone tail 80", "\x80", false},
    {"lone tail BF", "\xBF", false},
    {"truncated C3 at end", "ab\xC3", false},
    {"truncated E2 82 at end", "ab\xE2\x82", false},
    {"truncated F0 9F 98 at end", "ab\xF0\x9F\x98", false},
    {"C3 C3 lead then lead", "\xC3\xC3", false},
    {"E2 28 A1 ascii in tail", "\xE2\x28\xA1", false},
    {"E2 82 28 ascii in last tail", "\xE2\x82\x28", false},
    {"F0 9F 98 28 ascii in last tail", "\xF0\x9F\x98\x28", false},
    {"euro sign", "\xE2\x82\xAC", true},
    {"emoji", "\xF0\x9F\x98\x80", true},
    {"long ascii then invalid", "abcdefghijklmnopqrstuvwxyz0123456789\xFF",
     false},
    {"long ascii then valid", "abcdefghijklmnopqrstuvwxyz0123456789\xC3\xA4",
     true},
};

TEST(FoldTest, IsValidUtf8MatchesPostfixOnEdgeCases) {
  for (const Utf8Case& c : kUtf8Cases) {
    EXPECT_EQ(IsValidUtf8(c.bytes), c.valid) << c.name;
  }
}

TEST(FoldTest, IsAsciiStopsAtNothingAndRejectsAnyHighByte) {
  EXPECT_TRUE(IsAscii(""));
  EXPECT_TRUE(IsAscii(std::string_view("a\0b", 3)));
  EXPECT_TRUE(IsAscii("0123456789abcdefghijklmnopqrstuvwxyz\x7f"));
  EXPECT_FALSE(IsAscii("0123456789abcdefghijklmnopqrstuvwxyz\x80"));
  EXPECT_FALSE(IsAscii("\xC3\xA4"));
  // A high byte in each position of an 8-byte word, and in the tail.
  for (std::size_t i = 0; i < 19; ++i) {
    std::string s(19, 'x');
    s[i] = '\xE9';
    EXPECT_FALSE(IsAscii(s)) << i;
  }
}

// postmap -f: keys are stored as written.
TEST(FoldTest, NoneCopiesTheKeyUnchanged) {
  EXPECT_EQ(Fold("User@Example.COM", FoldMode::kNone), "User@Example.COM");
  EXPECT_EQ(Fold("Stra\xC3\x9F"
                 "e",
                 FoldMode::kNone),
            "Stra\xC3\x9F"
            "e");
  EXPECT_EQ(Fold("bad\xFF", FoldMode::kNone), "bad\xFF");
}

// smtputf8_enable = no (or postmap -u): A-Z only, other bytes untouched.
TEST(FoldTest, AsciiLowersOnlyAToZ) {
  EXPECT_EQ(Fold("User@Example.COM", FoldMode::kAscii), "user@example.com");
  EXPECT_EQ(Fold("AZ[\\]^_`az@{", FoldMode::kAscii), "az[\\]^_`az@{");
  // Observed: Straße stays stra\xC3\x9Fe, ÄÖÜ keeps its bytes.
  EXPECT_EQ(Fold("Stra\xC3\x9F"
                 "e",
                 FoldMode::kAscii),
            "stra\xC3\x9F"
            "e");
  EXPECT_EQ(Fold("\xC3\x84\xC3\x96\xC3\x9C@Example.COM", FoldMode::kAscii),
            "\xC3\x84\xC3\x96\xC3\x9C@example.com");
  // Not UTF-8 at all is fine in this mode.
  EXPECT_EQ(Fold("BAD\xFF", FoldMode::kAscii), "bad\xFF");
}

TEST(FoldTest, Utf8AllAsciiTakesTheAsciiPath) {
  EXPECT_EQ(Fold("User@Example.COM", FoldMode::kUtf8), "user@example.com");
  EXPECT_EQ(Fold("", FoldMode::kUtf8), "");
}

// The stored keys observed with postmap lmdb: (spec section 2).
TEST(FoldTest, Utf8FullFoldingMatchesObservedPostmapKeys) {
  EXPECT_EQ(Fold("Stra\xC3\x9F"
                 "e",
                 FoldMode::kUtf8),
            "strasse");
  EXPECT_EQ(Fold("\xC3\x84\xC3\x96\xC3\x9C@Example.COM", FoldMode::kUtf8),
            "\xC3\xA4\xC3\xB6\xC3\xBC@example.com");
  // U+0130 folds to i + U+0307 (69 CC 87): en_US, not Turkic folding.
  EXPECT_EQ(Fold("\xC4\xB0stanbul", FoldMode::kUtf8), "i\xCC\x87stanbul");
  // ΣΟΦΟΣ and σοφος both fold to σοφοσ (final sigma too).
  const std::string sofos = "\xCF\x83\xCE\xBF\xCF\x86\xCE\xBF\xCF\x83";
  EXPECT_EQ(Fold("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x9F\xCE\xA3", FoldMode::kUtf8),
            sofos);
  EXPECT_EQ(Fold("\xCF\x83\xCE\xBF\xCF\x86\xCE\xBF\xCF\x82", FoldMode::kUtf8),
            sofos);
  // U+FB01 LATIN SMALL LIGATURE FI.
  EXPECT_EQ(Fold("\xEF\xAC\x81le", FoldMode::kUtf8), "file");
  // U+212A KELVIN SIGN folds to plain k: the key shrinks.
  EXPECT_EQ(Fold("KELVIN\xE2\x84\xAA", FoldMode::kUtf8), "kelvink");
}

TEST(FoldTest, Utf8FoldingIsNotNormalization) {
  // A precomposed a-umlaut and a + combining diaeresis stay different.
  EXPECT_EQ(Fold("\xC3\x84", FoldMode::kUtf8), "\xC3\xA4");
  EXPECT_EQ(Fold("A\xCC\x88", FoldMode::kUtf8), "a\xCC\x88");
}

TEST(FoldTest, Utf8SpellingsOfOneKeyFoldAlike) {
  const std::string want = Fold("strasse", FoldMode::kUtf8);
  EXPECT_EQ(Fold("STRASSE", FoldMode::kUtf8), want);
  EXPECT_EQ(Fold("stra\xC3\x9F"
                 "e",
                 FoldMode::kUtf8),
            want);
  EXPECT_EQ(Fold("Stra\xC3\x9F"
                 "e",
                 FoldMode::kUtf8),
            want);
}

TEST(FoldTest, Utf8GrowthBeyondTheFirstBufferIsHandled) {
  // U+0390 folds to three code points (2 bytes -> 6 bytes each).
  std::string key;
  std::string want;
  for (int i = 0; i < 200; ++i) {
    key += "\xCE\x90";
    want += "\xCE\xB9\xCC\x88\xCC\x81";
  }
  EXPECT_EQ(Fold(key, FoldMode::kUtf8), want);
}

TEST(FoldTest, Utf8InvalidKeyIsAnError) {
  std::string out = "unchanged?";
  Status s = FoldKey("bad\xFF", FoldMode::kUtf8, &out);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("malformed UTF-8"), std::string::npos);
  // Surrogates are invalid even though ICU would fold them.
  EXPECT_FALSE(FoldKey("X\xED\xA0\x80", FoldMode::kUtf8, &out).ok());
}

TEST(FoldTest, FoldingInManyThreadsAgrees) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      std::string out;
      for (int i = 0; i < 2000; ++i) {
        if (!FoldKey("Stra\xC3\x9F"
                     "e",
                     FoldMode::kUtf8, &out)
                 .ok() ||
            out != "strasse") {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << t;
}

}  // namespace
}  // namespace mapctl
