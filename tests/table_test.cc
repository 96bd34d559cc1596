// table_test.cc - table names and Postfix's dict layer (folding, NUL
// probing and pinning, util/dict_lmdb.c), over an in-memory ReadUnit.

#include "mapctl/table.h"

#include <gtest/gtest.h>

#include <map>

#include "test_util.h"

namespace mapctl {
namespace {

TEST(TableSpecTest, BarePathTakesDefaultDatabaseType) {
  Result<TableSpec> s = ParseTableSpec("/etc/postfix/relay", "lmdb");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->type, TableType::kLmdb);
  EXPECT_EQ(s->path, "/etc/postfix/relay");
  EXPECT_EQ(s->FileName(), "/etc/postfix/relay.lmdb");
  EXPECT_EQ(s->ToString(), "lmdb:/etc/postfix/relay");
}

TEST(TableSpecTest, ColonAnywhereNamesTheType) {
  // postmap reads "/tmp/a:b" as type "/tmp/a".
  Result<TableSpec> s = ParseTableSpec("/tmp/a:b", "lmdb");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("/tmp/a"), std::string::npos);
}

TEST(TableSpecTest, SuffixesPerType) {
  EXPECT_EQ(ParseTableSpec("cdb:x", "lmdb")->FileName(), "x.cdb");
  EXPECT_EQ(ParseTableSpec("hash:x", "lmdb")->FileName(), "x.db");
  EXPECT_EQ(ParseTableSpec("btree:x", "lmdb")->FileName(), "x.db");
  EXPECT_EQ(ParseTableSpec("texthash:x", "lmdb")->FileName(), "x");
  EXPECT_EQ(ParseTableSpec("x", "hash")->type, TableType::kHash);
}

TEST(TableSpecTest, PatternTypesAreUnsupportedNotUnknown) {
  Result<TableSpec> pcre = ParseTableSpec("pcre:/etc/postfix/x", "lmdb");
  ASSERT_FALSE(pcre);
  EXPECT_EQ(pcre.error().code(), ErrorCode::kUnsupported);
  Result<TableSpec> unknown = ParseTableSpec("nosuch:/x", "lmdb");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message().find("lmdb"), std::string::npos);
}

TEST(TableSpecTest, WritableTypes) {
  EXPECT_TRUE(CheckWritable(TableType::kLmdb).ok());
  EXPECT_TRUE(CheckWritable(TableType::kCdb).ok());
  // hash and btree need Berkeley DB (meson -Dbdb): either writable, or an
  // error that says the build lacks it.
  for (TableType t : {TableType::kHash, TableType::kBtree}) {
    Status s = CheckWritable(t);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
      EXPECT_NE(s.message().find("Berkeley DB"), std::string::npos)
          << s.message();
    }
  }
  Status texthash = CheckWritable(TableType::kTexthash);
  EXPECT_FALSE(texthash.ok());
  EXPECT_NE(texthash.message().find("texthash"), std::string::npos);
}

// Raw entries in memory; counts probes to show what the dict layer asks.
class MapUnit : public ReadUnit {
 public:
  using Rows = std::map<std::string, std::string>;
  explicit MapUnit(Rows rows) : rows_(std::move(rows)) {}
  Result<std::optional<std::string_view>> GetRaw(std::string_view key) override {
    probes.emplace_back(key);
    auto it = rows_.find(std::string(key));
    if (it == rows_.end()) return std::optional<std::string_view>();
    return std::optional<std::string_view>(it->second);
  }
  Status Scan(ScanCursor&, std::size_t, const RawVisitor&) override {
    return Status::Ok();
  }
  std::uint64_t version() const override { return 1; }
  std::vector<std::string> probes;

 private:
  std::map<std::string, std::string> rows_;
};

TEST(TableLookupTest, TriesWithNulThenWithoutAndFolds) {
  MapUnit unit(MapUnit::Rows{
      {std::string("alice@example.com\0", 18), std::string("v1\0", 3)}});
  TableLookup lookup(FoldMode::kUtf8, NulMode::kDefault, true);
  auto r = lookup.Find(unit, "Alice@Example.COM");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, "v1");  // the stored NUL is not part of the value
  ASSERT_EQ(unit.probes.size(), 1u);
  EXPECT_EQ(unit.probes[0], std::string("alice@example.com\0", 18));
}

TEST(TableLookupTest, FirstHitPinsTheNulForm) {
  MapUnit unit(MapUnit::Rows{{"nonul", "a"}, {std::string("withnul\0", 8), "b"}});
  TableLookup lookup(FoldMode::kAscii, NulMode::kDefault, false);
  auto first = lookup.Find(unit, "nonul");
  ASSERT_TRUE(first && first->has_value());
  // Pinned to "no NUL": a with-NUL key is never found again, as in a
  // long-running Postfix daemon.
  auto second = lookup.Find(unit, "withnul");
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->has_value());
}

TEST(TableLookupTest, NulModesRestrictTheProbes) {
  MapUnit unit(MapUnit::Rows{{"k", "v"}});
  TableLookup with(FoldMode::kAscii, NulMode::kWith, false);
  EXPECT_FALSE(with.Find(unit, "k")->has_value());
  TableLookup without(FoldMode::kAscii, NulMode::kWithout, false);
  EXPECT_TRUE(without.Find(unit, "k")->has_value());
}

TEST(TableLookupTest, EmptyAndInvalidKeysAreAbsent) {
  MapUnit unit(MapUnit::Rows{{"", "x"}});
  TableLookup lookup(FoldMode::kUtf8, NulMode::kDefault, true);
  EXPECT_FALSE(lookup.Find(unit, "")->has_value());
  EXPECT_TRUE(unit.probes.empty());
  EXPECT_FALSE(lookup.Find(unit, "bad\xff")->has_value());
  EXPECT_TRUE(lookup.invalid_key());
  EXPECT_TRUE(unit.probes.empty());
}

TEST(TableLookupTest, ValueStopsAtFirstNul) {
  MapUnit unit(MapUnit::Rows{{"k", std::string("ab\0cd", 5)}});
  TableLookup lookup(FoldMode::kNone, NulMode::kWithout, false);
  EXPECT_EQ(**lookup.Find(unit, "k"), "ab");
  EXPECT_EQ(StoredText(std::string_view("x\0y", 3)), "x");
}

// A scan gives the winners in source order, a cursor resuming after
// each entry (limit 1); Postfix's own order is its hash table's.
TEST(TexthashTableTest, ReadsTheSourceFirstDuplicateWins) {
  testing::TempDir dir;
  std::string src = dir.WriteFile("map", "B@x 1\nb@X 2\na 3\n");
  auto reader = OpenTable({TableType::kTexthash, src}, OpenOptions{});
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto unit = (*reader)->Begin();
  ASSERT_TRUE(unit);
  TableLookup lookup(FoldMode::kUtf8, NulMode::kDefault, true);
  EXPECT_EQ(**lookup.Find(**unit, "b@x"), "1");
  std::vector<std::string> keys;
  ScanCursor cursor;
  while (!cursor.done) {
    ASSERT_OK((*unit)->Scan(cursor, 1, [&](std::string_view k,
                                           std::string_view) {
      keys.emplace_back(k);
      return true;
    }));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"b@x", "a"}));
  EXPECT_FALSE((*reader)->sorted());
  EXPECT_FALSE(*lookup.Find(**unit, "c"));
}

}  // namespace
}  // namespace mapctl
