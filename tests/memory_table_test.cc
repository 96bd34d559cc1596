// memory_table_test.cc - check's in-memory tables read through the table
// interface (check/memory_table.h).

#include "check/memory_table.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "mapctl/table.h"
#include "test_util.h"

namespace mapctl::check {
namespace {

std::shared_ptr<MemoryTable> Table(int n) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "user%05d@example.com", i);
    pairs.emplace_back(key, "[relay" + std::to_string(i) + "]:587");
  }
  return LoadPairs(pairs);
}

std::optional<std::string> Find(TableLookup& lookup, ReadUnit& unit,
                                std::string_view key) {
  Result<std::optional<std::string_view>> r = lookup.Find(unit, key);
  EXPECT_TRUE(r) << r.error().ToString();
  if (!r || !r->has_value()) return std::nullopt;
  return std::string(**r);
}

TEST(MemoryReaderTest, LookupsInAnyOrderFindEveryKeyAndNoOther) {
  std::shared_ptr<MemoryTable> t = Table(1000);
  std::unique_ptr<TableReader> reader = MemoryReader({}, t);
  Result<std::unique_ptr<ReadUnit>> unit = reader->Begin();
  ASSERT_TRUE(unit);
  TableLookup lookup(FoldMode::kUtf8, NulMode::kDefault, true);
  // Forward (the galloping path), backward and jumping (binary search).
  std::vector<int> order;
  for (int i = 0; i < 1000; i += 3) order.push_back(i);
  for (int i = 998; i >= 0; i -= 7) order.push_back(i);
  for (int i = 0; i < 1000; i += 101) order.push_back(999 - i);
  for (int i : order) {
    char key[32];
    std::snprintf(key, sizeof key, "USER%05d@example.com", i);  // folded
    EXPECT_EQ(Find(lookup, **unit, key), "[relay" + std::to_string(i) + "]:587")
        << key;
    std::snprintf(key, sizeof key, "user%05d@example.co", i);
    EXPECT_EQ(Find(lookup, **unit, key), std::nullopt) << key;
  }
  EXPECT_EQ(Find(lookup, **unit, "zzz"), std::nullopt);
  EXPECT_EQ(Find(lookup, **unit, "a"), std::nullopt);
}

TEST(MemoryReaderTest, ScanVisitsEveryEntryInKeyOrderAcrossUnits) {
  std::shared_ptr<MemoryTable> t = Table(250);
  std::unique_ptr<TableReader> reader = MemoryReader({}, t);
  EXPECT_TRUE(reader->sorted());
  ScanCursor cursor;
  std::vector<std::string> keys;
  while (!cursor.done) {
    Result<std::unique_ptr<ReadUnit>> unit = reader->Begin();
    ASSERT_TRUE(unit);
    ASSERT_TRUE((*unit)->Scan(cursor, 100, [&](std::string_view k,
                                               std::string_view v) {
      EXPECT_EQ(v.substr(0, 6), "[relay");
      keys.emplace_back(k);
      return true;
    }).ok());
  }
  ASSERT_EQ(keys.size(), 250u);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(keys[i], t->entries[i].key);
  }
}

TEST(MemoryReaderTest, AVisitorThatStopsEndsTheScanThere) {
  std::unique_ptr<TableReader> reader = MemoryReader({}, Table(10));
  Result<std::unique_ptr<ReadUnit>> unit = reader->Begin();
  ASSERT_TRUE(unit);
  ScanCursor cursor;
  int seen = 0;
  ASSERT_TRUE((*unit)->Scan(cursor, 100, [&](std::string_view,
                                             std::string_view) {
    return ++seen < 4;
  }).ok());
  EXPECT_EQ(seen, 4);
  EXPECT_FALSE(cursor.done);
  ASSERT_TRUE((*unit)->Scan(cursor, 100, [&](std::string_view,
                                             std::string_view) {
    ++seen;
    return true;
  }).ok());
  EXPECT_EQ(seen, 10);
  EXPECT_TRUE(cursor.done);
}

TEST(MemoryReaderTest, AQueryLongerThanTheEngineAcceptsIsFlagged) {
  std::shared_ptr<MemoryTable> t = Table(3);
  t->max_raw_key = 16;
  bool too_long = false;
  std::unique_ptr<TableReader> reader = MemoryReader({}, t, &too_long);
  Result<std::unique_ptr<ReadUnit>> unit = reader->Begin();
  ASSERT_TRUE(unit);
  TableLookup lookup(FoldMode::kUtf8, NulMode::kDefault, true);
  EXPECT_EQ(Find(lookup, **unit, "short"), std::nullopt);
  EXPECT_FALSE(too_long);
  Find(lookup, **unit, "user00001@example.com");
  EXPECT_TRUE(too_long);
}

}  // namespace
}  // namespace mapctl::check

namespace mapctl::check {
namespace {

// Whether another process could take a write lock on the whole file now,
// as postmap does before it writes an lmdb table in place. (A descriptor
// opened and closed here would drop this process's fcntl locks.)
bool WriterCouldLock(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(path.c_str(), O_RDWR);
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    _exit(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class LoadBuiltTest : public ::testing::TestWithParam<TableType> {
 protected:
  TableSpec Build(int n) {
    TableSpec spec{GetParam(), (dir_.path() / "relay").string()};
    entries_ = mapctl::testing::Numbered(n, "[relay]:");
    Result<BuildPlan> plan =
        PlanBuild(spec, entries_.span(), BuildOptions{}, "relay");
    EXPECT_TRUE(plan);
    EXPECT_TRUE(WriteTable(spec, entries_.span(), *plan, BuildOptions{},
                           mapctl::testing::Src())
                    .ok());
    return spec;
  }
  mapctl::testing::TempDir dir_;
  mapctl::testing::Entries entries_;
};

TEST_P(LoadBuiltTest, EntriesViewTheMapInKeyOrderAndTheReaderStaysUsable) {
  const TableSpec spec = Build(3000);
  Result<std::unique_ptr<TableReader>> reader = OpenTable(spec, OpenOptions{});
  ASSERT_TRUE(reader);
  Result<std::shared_ptr<MemoryTable>> t = LoadBuilt(std::move(*reader));
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_EQ((*t)->entries.size(), 3000u);
  EXPECT_TRUE((*t)->blocks.empty());  // nothing copied
  EXPECT_TRUE((*t)->same_answers);
  for (std::size_t i = 1; i < (*t)->entries.size(); ++i) {
    ASSERT_LT((*t)->entries[i - 1].key, (*t)->entries[i].key);
  }
  EXPECT_TRUE((*t)->Has("user17@example.com"));
  EXPECT_EQ((*t)->entries[0].value.find('\0'), std::string_view::npos);
  // The file read through the model's reader answers as the file does.
  std::unique_ptr<TableReader> file = FileReader(**t);
  ASSERT_NE(file, nullptr);
  Result<std::unique_ptr<ReadUnit>> unit = file->Begin();
  ASSERT_TRUE(unit);
  TableLookup lookup(FoldMode::kUtf8, NulMode::kDefault, true);
  Result<std::optional<std::string_view>> v =
      lookup.Find(**unit, "user17@example.com");
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ(**v, "[relay]:17");
}

TEST(LoadBuiltLockTest, AnLmdbTableStaysReadLockedUntilTheModelReleasesIt) {
  mapctl::testing::TempDir dir;
  TableSpec spec{TableType::kLmdb, (dir.path() / "relay").string()};
  mapctl::testing::Entries entries = mapctl::testing::Numbered(100);
  Result<BuildPlan> plan = PlanBuild(spec, entries.span(), BuildOptions{}, "r");
  ASSERT_TRUE(plan);
  ASSERT_TRUE(WriteTable(spec, entries.span(), *plan, BuildOptions{},
                         mapctl::testing::Src())
                  .ok());
  Result<std::unique_ptr<TableReader>> reader = OpenTable(spec, OpenOptions{});
  ASSERT_TRUE(reader);
  Result<std::shared_ptr<MemoryTable>> t = LoadBuilt(std::move(*reader));
  ASSERT_TRUE(t);
  EXPECT_FALSE(WriterCouldLock(spec.FileName()));
  {
    // Reading the file again through the model's reader, and ending that
    // read, keeps the lock (a second reader of the file would drop it).
    std::unique_ptr<TableReader> file = FileReader(**t);
    Result<std::unique_ptr<ReadUnit>> unit = file->Begin();
    ASSERT_TRUE(unit);
  }
  EXPECT_FALSE(WriterCouldLock(spec.FileName()));
  t->reset();
  EXPECT_TRUE(WriterCouldLock(spec.FileName()));
}

INSTANTIATE_TEST_SUITE_P(MappedTypes, LoadBuiltTest,
                         ::testing::Values(TableType::kLmdb, TableType::kCdb));

}  // namespace
}  // namespace mapctl::check
