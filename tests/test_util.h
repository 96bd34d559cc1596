// test_util.h - shared helpers for the unit tests.

#ifndef MAPCTL_TESTS_TEST_UTIL_H_
#define MAPCTL_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

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
// Replaces the file's contents (damage tests).
void WriteBytes(const std::string& path, std::string_view bytes);

// Entries built in a test, owning their bytes: "key\tvalue" as in a
// source line, nothing after either view that a writer could lean on.
// Lines count from 1 unless given.
class Entries {
 public:
  void Add(std::string key, std::string value, std::uint32_t line = 0);
  std::span<const Entry> span() const { return entries_; }

 private:
  std::deque<std::string> store_;
  std::vector<Entry> entries_;
  std::uint32_t next_line_ = 1;
};

// n entries "userK@example.com" -> TAG K, in a scrambled key order.
Entries Numbered(int n, const std::string& tag = "v");

// A regular source file of this process's user with `mode`.
SourceFileInfo Src(std::uint32_t mode = 0644);

// An in-memory table for code that takes a TableReader: raw stored keys
// and values (as postmap writes lmdb: folded key + NUL, value + NUL).
struct FakeData {
  std::map<std::string, std::string> raw;
  int begins = 0;         // read units started
  bool fail_get = false;  // every GetRaw fails (a broken table)
};
class FakeReader : public TableReader {
 public:
  FakeReader(TableSpec spec, FakeData* d)
      : TableReader(std::move(spec)), d_(d) {}
  bool sorted() const noexcept override { return true; }
  Result<std::unique_ptr<ReadUnit>> Begin() override;

 private:
  FakeData* d_;
};

// Whether any problem text contains `text`.
bool Mentions(const std::vector<std::string>& problems, std::string_view text);

// What mapctl dump does with each table (open it with
// OpenOptions::verify as `verify` says, then read every entry in chunks),
// in forked children so that a crash in the engine is seen rather than
// suffered: one child goes through the tables, and a child that dies is
// replaced by one that goes on with the next table. Per table: 0 (read),
// 2 (refused or failed), -SIGNAL when it died of a signal, or 100 + the
// exit status of a child that died otherwise (a sanitizer's report).
std::vector<int> DumpInChildren(const std::vector<TableSpec>& specs,
                                bool verify);

// `image` with 1 to 8 bytes at random places set to random values.
std::string Mutate(const std::string& image, std::mt19937& rng);

// The real postmap ($POSTMAP, else /usr/sbin/postmap), with a main.cf of
// its own in `conf_dir` (written and backdated, so postmap does not wait
// for it to settle); empty when postmap is not installed.
std::string Postmap(const std::filesystem::path& conf_dir);

// Runs argv (argv[0] a path) with `input` on stdin and stdout into *out
// (if not null); its exit status, or -1 when it died or could not run.
int RunProgram(const std::vector<std::string>& argv, std::string_view input,
               std::string* out);

// Runs `fn` with the file size limit (RLIMIT_FSIZE) at `limit` bytes and
// SIGXFSZ ignored, so that writes past it fail with EFBIG as a full disk
// fails them with ENOSPC; restores both afterwards.
void WithFileSizeLimit(std::uint64_t limit, const std::function<void()>& fn);

// A tmpfs of `bytes` mounted on a fresh directory, for full-disk tests;
// unmounted on destruction. mounted() is false where mounting is not
// permitted (the test then skips).
class SmallFilesystem {
 public:
  explicit SmallFilesystem(std::uint64_t bytes);
  ~SmallFilesystem();
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  bool mounted() const { return mounted_; }
  const std::filesystem::path& path() const { return dir_.path(); }
  // Bytes still free.
  std::uint64_t Free() const;
  // Fills the file system with a file "filler" until about `leave`
  // bytes are free.
  void FillLeaving(std::uint64_t leave);

 private:
  TempDir dir_;
  bool mounted_ = false;
};

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
