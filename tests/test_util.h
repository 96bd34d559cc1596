// test_util.h - shared helpers for the unit tests.

#ifndef MAPCTL_TESTS_TEST_UTIL_H_
#define MAPCTL_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "mapctl/status.h"

namespace mapctl::testing {

// A private directory per test, removed when the fixture goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::string WriteFile(std::string_view name, std::string_view contents,
                        unsigned mode = 0644) const;

 private:
  std::filesystem::path path_;
};

std::string ReadFileOrDie(const std::string& path);

}  // namespace mapctl::testing

#define EXPECT_OK(expr)                                          \
  do {                                                           \
    ::mapctl::Status _s = (expr);                                \
    EXPECT_TRUE(_s.ok()) << _s.ToString();                       \
  } while (false)
#define ASSERT_OK(expr)                                          \
  do {                                                           \
    ::mapctl::Status _s = (expr);                                \
    ASSERT_TRUE(_s.ok()) << _s.ToString();                       \
  } while (false)

#endif  // MAPCTL_TESTS_TEST_UTIL_H_
