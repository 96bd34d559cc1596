// line_index_test.cc - the first source line of each key, kept after the
// parse is gone (check/line_index.h).

#include "check/line_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapctl/source.h"

namespace mapctl::check {
namespace {

ParsedMap Parse(std::string text) {
  ParseOptions po;
  po.origin = "test.map";
  return ParseMapText(std::move(text), po);
}

TEST(LineIndexTest, EachKeyGetsTheLineOfItsFirstEntry) {
  ParsedMap m = Parse(
      "# comment\n"
      "a@example.com  one\n"
      "\n"
      "b@example.com  two\n"
      "A@EXAMPLE.COM  three\n"  // folded: repeats line 2
      "c@example.com  four\n"
      "b@example.com  five\n");
  LineIndex index;
  std::vector<std::uint32_t> repeats = index.Build(m.entries());
  EXPECT_EQ(index.LineOf("a@example.com"), 2u);
  EXPECT_EQ(index.LineOf("b@example.com"), 4u);
  EXPECT_EQ(index.LineOf("c@example.com"), 6u);
  EXPECT_EQ(index.LineOf("d@example.com"), 0u);
  EXPECT_EQ(index.LineOf(""), 0u);
  // The repeating entries, in source order: "A@EXAMPLE.COM", then "b".
  ASSERT_EQ(repeats.size(), 2u);
  EXPECT_EQ(m.entries()[repeats[0]].line(), 5u);
  EXPECT_EQ(m.entries()[repeats[1]].line(), 7u);
}

// Over 100k entries: hashed and sorted on two threads.
TEST(LineIndexTest, AManyKeySourceIsIndexedExactly) {
  std::string text;
  for (int i = 0; i < 150000; ++i) {
    text += "user" + std::to_string(i) + "@example.com v\n";
    if (i % 1000 == 0) text += "user" + std::to_string(i / 2) + "@example.com again\n";
  }
  ParsedMap m = Parse(std::move(text));
  LineIndex index;
  std::vector<std::uint32_t> repeats = index.Build(m.entries());
  EXPECT_EQ(repeats.size(), 150u);
  std::uint32_t line = 0;
  for (int i = 0; i < 150000; ++i) {
    ++line;
    EXPECT_EQ(index.LineOf("user" + std::to_string(i) + "@example.com"), line)
        << i;
    if (i % 1000 == 0) ++line;
  }
  EXPECT_EQ(index.LineOf("user150000@example.com"), 0u);
}

TEST(LineIndexTest, BuildingAgainReplacesTheIndex) {
  ParsedMap first = Parse("x 1\n");
  ParsedMap second = Parse("y 1\n");
  LineIndex index;
  index.Build(first.entries());
  index.Build(second.entries());
  EXPECT_EQ(index.LineOf("x"), 0u);
  EXPECT_EQ(index.LineOf("y"), 1u);
}

}  // namespace
}  // namespace mapctl::check
