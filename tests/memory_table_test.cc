// memory_table_test.cc - check's in-memory tables read through the table
// interface (check/memory_table.h).

#include "check/memory_table.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mapctl/table.h"

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
