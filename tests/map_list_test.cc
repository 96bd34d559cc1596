// map_list_test.cc - parameter table lists, inline:, proxy:, lookups.

#include "mapctl/map_list.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "postfix/table_types.h"
#include "test_util.h"

namespace mapctl {
namespace {

using testing::FakeData;
using testing::FakeReader;

TableContext FakeOptions(std::map<std::string, FakeData>* tables) {
  TableContext o;
  o.open = [tables](
               const TableSpec& spec,
               const OpenOptions&) -> Result<std::unique_ptr<TableReader>> {
    auto it = tables->find(spec.ToString());
    if (it == tables->end()) {
      return Status::IoError("open " + spec.FileName(), ENOENT);
    }
    return std::unique_ptr<TableReader>(new FakeReader(spec, &it->second));
  };
  return o;
}

void Put(FakeData* d, std::string k, std::string v) {
  d->raw[k + std::string(1, '\0')] = v + std::string(1, '\0');
}

TEST(MapListTest, ParsesMainCfListWithProxyAndInline) {
  std::map<std::string, FakeData> tables;
  Result<MapList> l =
      MapList::Parse("p",
                     "lmdb:/etc/postfix/a, proxy:lmdb:/b texthash:/c /d "
                     "inline:{ {k1 = v 1}, K2=v2 } cidr:/e", FakeOptions(&tables));
  ASSERT_TRUE(l) << l.error().ToString();
  ASSERT_EQ(l->size(), 6u);
  EXPECT_EQ(l->table(0).name(), "lmdb:/etc/postfix/a");
  EXPECT_EQ(l->table(1).name(), "lmdb:/b");
  EXPECT_TRUE(l->table(1).proxied());
  EXPECT_EQ(l->table(2).name(), "texthash:/c");
  EXPECT_EQ(l->table(3).name(), "hash:/d");  // default_database_type
  EXPECT_EQ(l->table(4).type(), "inline");
  EXPECT_EQ(l->table(4).display(), "inline:{ 2 entries }");
  EXPECT_EQ(l->table(5).type(), "cidr");
  EXPECT_FALSE(l->table(5).traits().evaluated);
  EXPECT_FALSE(l->table(5).traits().fixed_keys);

  Answer p = l->Find(4, "k1", true);
  EXPECT_EQ(p.outcome, Outcome::kFound);
  EXPECT_EQ(p.value, "v 1");
  p = l->Find(4, "k2", false);  // folded at build and query
  EXPECT_EQ(p.value, "v2");
  EXPECT_EQ(l->Find(5, "x@y", true).outcome, Outcome::kSkipped);
  EXPECT_EQ(l->Find(5, "x@y", false).outcome, Outcome::kNotEvaluated);
}

TEST(MapListTest, SourcesModeReadsBarePathsAsTexthash) {
  TableContext o;
  o.mode = MapListMode::kSources;
  Result<MapList> l =
      MapList::Parse("--sasl-maps", "/etc/postfix/sasl_passwd", o);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->table(0).name(), "texthash:/etc/postfix/sasl_passwd");
}

TEST(MapListTest, RelayAndTransportMapsOpenWithoutRegsubPasswordMapsWith) {
  TableContext base;
  base.strict = true;
  EXPECT_TRUE(
      ContextForParameter(base, "sender_dependent_relayhost_maps").no_regsub);
  EXPECT_TRUE(ContextForParameter(base, "transport_maps").no_regsub);
  base.no_regsub = true;
  TableContext password = ContextForParameter(base, "smtp_sasl_password_maps");
  EXPECT_FALSE(password.no_regsub);
  EXPECT_TRUE(password.strict);  // the rest is the caller's
}

TEST(MapListTest, RejectsBadLists) {
  TableContext o;
  EXPECT_FALSE(MapList::Parse("p", "nosuchtype:/x", o));
  EXPECT_FALSE(MapList::Parse("p", "inline:{}", o));
  EXPECT_FALSE(MapList::Parse("p", "inline:{a}", o));
  EXPECT_FALSE(MapList::Parse("p", "inline:{a=b", o));
  EXPECT_FALSE(
      MapList::Parse("p", "inline:{ a = b }", o));
  EXPECT_TRUE(MapList::Parse("p", "", o)->empty());
  Result<MapList> other =
      MapList::Parse("p", "ldap:/etc/postfix/ldap.cf", o);
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->table(0).traits().evaluated);
  EXPECT_TRUE(other->table(0).traits().fixed_keys);
  EXPECT_EQ(other->Find(0, "k", true).outcome, Outcome::kNotEvaluated);
}

TEST(MapListTest, InlineTableSyntax) {
  auto f = ParseInlineTable("{ {a = b c}, d=e, { f=g } }");
  ASSERT_TRUE(f) << f.error().ToString();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0], (std::pair<std::string, std::string>("a", "b c")));
  EXPECT_EQ((*f)[2], (std::pair<std::string, std::string>("f", "g")));
  // Postfix keeps no duplicate check: the last value wins.
  TableContext o;
  Result<MapList> l =
      MapList::Parse("p", "inline:{a=1,A=2}", o);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->Find(0, "a", false).value, "2");
}

TEST(MapListTest, EmptyValueIsAnError) {
  TableContext o;
  Result<MapList> l =
      MapList::Parse("p", "inline:{a=}", o);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->Find(0, "a", false).outcome, Outcome::kError);
}

TEST(MapListTest, FileTablesOpenLazilyAndKeepUnitsPerBatch) {
  std::map<std::string, FakeData> tables;
  Put(&tables["lmdb:/a"], "alice@example.com", "[relay]:587");
  Result<MapList> l = MapList::Parse(
      "p", "lmdb:/a lmdb:/missing", FakeOptions(&tables));
  ASSERT_TRUE(l);
  EXPECT_EQ(tables["lmdb:/a"].begins, 0);
  Answer p = l->Find(0, "Alice@Example.COM", false);
  EXPECT_EQ(p.outcome, Outcome::kFound);
  EXPECT_EQ(p.value, "[relay]:587");
  EXPECT_EQ(l->Find(0, "bob@example.com", true).outcome, Outcome::kNotFound);
  EXPECT_EQ(tables["lmdb:/a"].begins, 1);
  l->EndBatch();
  EXPECT_EQ(l->Find(0, "alice@example.com", false).outcome, Outcome::kFound);
  EXPECT_EQ(tables["lmdb:/a"].begins, 2);
  Answer missing = l->Find(1, "x", false);
  EXPECT_EQ(missing.outcome, Outcome::kError);
  EXPECT_NE(missing.error.message().find("missing"), std::string::npos);
  tables["lmdb:/a"].fail_get = true;
  EXPECT_EQ(l->Find(0, "alice@example.com", false).outcome, Outcome::kError);
}

}  // namespace
}  // namespace mapctl
