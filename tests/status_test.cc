// status_test.cc - Status, and how messages quote keys and addresses.

#include "mapctl/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace mapctl {
namespace {

TEST(StatusTest, IoErrorKeepsTheErrnoAndNamesTheCause) {
  Status s = Status::IoError("write virtual.lmdb", ENOSPC);
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_EQ(s.sys_errno(), ENOSPC);
  EXPECT_EQ(s.message(), "write virtual.lmdb: No space left on device");
}

TEST(ExcerptTest, ShortTextIsQuotedWhole) {
  EXPECT_EQ(Excerpt(""), "");
  EXPECT_EQ(Excerpt("alice@example.com"), "alice@example.com");
  const std::string limit(kMessageQuoteLimit, 'a');
  EXPECT_EQ(Excerpt(limit), limit);
}

// Postfix quotes at most 100 characters of a key or an address.
TEST(ExcerptTest, LongTextIsCutToTheLimitWithAMarker) {
  const std::string big(1 << 20, 'a');
  const std::string cut = Excerpt(big);
  EXPECT_EQ(cut, std::string(kMessageQuoteLimit, 'a') + "...");
  EXPECT_EQ(Excerpt(std::string(kMessageQuoteLimit + 1, 'b')),
            std::string(kMessageQuoteLimit, 'b') + "...");
}

TEST(ExcerptTest, ACutNeverSplitsAUtf8Character) {
  // 99 ASCII bytes, then "é" (2 bytes) across the limit, then more.
  const std::string text = std::string(99, 'x') + "\xc3\xa9" + "tail";
  EXPECT_EQ(Excerpt(text), std::string(99, 'x') + "...");
  // A 4-byte character ending exactly at the limit stays whole.
  const std::string four = std::string(96, 'y') + "\xf0\x9f\x98\x80" + "z";
  EXPECT_EQ(Excerpt(four), std::string(96, 'y') + "\xf0\x9f\x98\x80...");
}

}  // namespace
}  // namespace mapctl
