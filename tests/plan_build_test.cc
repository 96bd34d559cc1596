// plan_build_test.cc - PlanBuild(): LMDB key order, cdb source order,
// duplicates, key limits.

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"
#include "test_util.h"

namespace mapctl {
namespace {

using testing::Entries;

// Entries over NUL-terminated strings this object owns (std::string keeps
// a NUL after its bytes; a deque never moves its elements).

TableSpec Lmdb() { return TableSpec{TableType::kLmdb, "t"}; }
TableSpec Cdb() { return TableSpec{TableType::kCdb, "t"}; }

constexpr DuplicatePolicy kEveryPolicy[] = {DuplicatePolicy::kFirstWarn,
                                            DuplicatePolicy::kFirst,
                                            DuplicatePolicy::kLast};

Result<BuildPlan> PlanWith(const TableSpec& spec, const Entries& e,
                           DuplicatePolicy policy) {
  BuildOptions opts;
  opts.duplicates = policy;
  return PlanBuild(spec, e.span(), opts, "src");
}

std::vector<std::string> Keys(const Entries& e, const BuildPlan& plan) {
  std::vector<std::string> out;
  for (std::uint32_t i : plan.order) out.emplace_back(e.span()[i].key());
  return out;
}

TEST(PlanBuildTest, SortsInMemcmpOrderWithShorterKeysFirst) {
  Entries e;
  for (const char* k : {"b", "abcdefghi", "a", "abcdefgh", "ab", "a\x80",
                        "abcdefghij", "abcdefgg", "B", "abcdefgh\x01"}) {
    e.Add(k, "v");
  }
  Result<BuildPlan> plan = PlanBuild(Lmdb(), e.span(), BuildOptions{}, "src");
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(Keys(e, *plan),
            (std::vector<std::string>{"B", "a", "ab", "abcdefgg", "abcdefgh",
                                      "abcdefgh\x01", "abcdefghi", "abcdefghij",
                                      "a\x80", "b"}));
  EXPECT_TRUE(plan->diagnostics.empty());
}

TEST(PlanBuildTest, MatchesAReferenceSortOnKeysWithLongCommonPrefixes) {
  std::mt19937 rng(42);
  Entries e;
  std::vector<std::string> expect;
  for (int i = 0; i < 20000; ++i) {
    // Few distinct prefixes of varying length, so runs of equal chunks go
    // several levels deep and many keys end inside a chunk.
    std::string key =
        "user" + std::string(rng() % 3 * 8, 'x') + std::to_string(rng() % 5000);
    if (rng() % 4 == 0) key += "@tenant" + std::to_string(rng() % 7);
    e.Add(key, "v");
    expect.push_back(key);
  }
  std::sort(expect.begin(), expect.end());
  expect.erase(std::unique(expect.begin(), expect.end()), expect.end());
  BuildOptions opts;
  opts.duplicates = DuplicatePolicy::kFirst;
  Result<BuildPlan> plan = PlanBuild(Lmdb(), e.span(), opts, "src");
  ASSERT_TRUE(plan);
  EXPECT_EQ(Keys(e, *plan), expect);
  EXPECT_TRUE(plan->diagnostics.empty());
}

TEST(PlanBuildTest, ATableLargeEnoughForTwoSortThreadsMatchesAReference) {
  // Above the size where the sort splits in two at a sampled pivot. Half
  // the keys share their first 8 bytes, so the pivot falls inside a large
  // run of equal chunks; duplicates of such keys must still meet on one
  // side of the split.
  std::mt19937 rng(11);
  Entries e;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> seen;
  constexpr std::uint32_t kEntries = 300000;
  for (std::uint32_t i = 0; i < kEntries; ++i) {
    std::string key = rng() % 2 == 0 ? "samepref" : "u";
    key += std::string(rng() % 3 * 8, 'x') + std::to_string(rng() % 150000);
    e.Add(key, std::to_string(i), i + 1);
    auto [it, fresh] = seen.try_emplace(key, i, i);
    if (!fresh) it->second.second = i;
  }
  for (DuplicatePolicy policy : kEveryPolicy) {
    Result<BuildPlan> plan = PlanWith(Lmdb(), e, policy);
    ASSERT_TRUE(plan);
    PlanOrder expect;
    for (const auto& [key, first_last] : seen) {
      expect.push_back(policy == DuplicatePolicy::kLast ? first_last.second
                                                        : first_last.first);
    }
    EXPECT_EQ(plan->order, expect) << static_cast<int>(policy);
    const std::size_t dups = kEntries - seen.size();
    EXPECT_EQ(plan->diagnostics.size(),
              policy == DuplicatePolicy::kFirstWarn ? dups : 0u);
  }
}

TEST(PlanBuildTest, FirstDuplicateWinsWithAWarningPerSkippedEntry) {
  Entries e;
  e.Add("a", "1", 3);
  e.Add("b", "2", 4);
  e.Add("a", "3", 7);
  e.Add("a", "4", 9);
  Result<BuildPlan> plan = PlanBuild(Lmdb(), e.span(), BuildOptions{}, "map");
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->order.size(), 2u);
  EXPECT_EQ(e.span()[plan->order[0]].value(), "1");
  ASSERT_EQ(plan->diagnostics.size(), 2u);
  const Diagnostic& d = plan->diagnostics[0];
  EXPECT_EQ(d.kind, DiagnosticKind::kDuplicate);
  EXPECT_EQ(d.severity, Severity::kWarning);
  EXPECT_EQ(d.file, "map");
  EXPECT_EQ(d.line, 7u);
  EXPECT_EQ(d.message.rfind("duplicate entry: \"a\"", 0), 0u) << d.message;
  EXPECT_NE(d.message.find("line 3"), std::string::npos) << d.message;
  EXPECT_EQ(plan->diagnostics[1].line, 9u);
}

TEST(PlanBuildTest, DashWKeepsTheFirstSilently) {
  Entries e;
  e.Add("k", "first");
  e.Add("k", "second");
  BuildOptions opts;
  opts.duplicates = DuplicatePolicy::kFirst;
  Result<BuildPlan> plan = PlanBuild(Lmdb(), e.span(), opts, "map");
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->order.size(), 1u);
  EXPECT_EQ(e.span()[plan->order[0]].value(), "first");
  EXPECT_TRUE(plan->diagnostics.empty());
}

TEST(PlanBuildTest, DashRKeepsTheLastSilently) {
  Entries e;
  e.Add("k", "first");
  e.Add("j", "other");
  e.Add("k", "second");
  e.Add("k", "third");
  BuildOptions opts;
  opts.duplicates = DuplicatePolicy::kLast;
  Result<BuildPlan> plan = PlanBuild(Lmdb(), e.span(), opts, "map");
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->order.size(), 2u);
  EXPECT_EQ(e.span()[plan->order[1]].value(), "third");
  EXPECT_TRUE(plan->diagnostics.empty());
}

TEST(PlanBuildTest, KeyOf510BytesFitsAndOf511IsRejectedWithItsLine) {
  Entries ok;
  ok.Add(std::string(510, 'k'), "v");
  EXPECT_TRUE(PlanBuild(Lmdb(), ok.span(), BuildOptions{}, "src"));

  Entries bad;
  bad.Add("a", "v");
  bad.Add(std::string(511, 'k'), "secret-value", 12);
  bad.Add(std::string(600, 'z'), "v");
  Result<BuildPlan> plan = PlanBuild(Lmdb(), bad.span(), BuildOptions{}, "src");
  ASSERT_FALSE(plan);
  const std::string& msg = plan.error().message();
  EXPECT_EQ(msg.rfind("src:12: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("too long for lmdb"), std::string::npos) << msg;
  EXPECT_NE(msg.find("511 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("limit 510"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("secret"), std::string::npos) << msg;
}

TEST(PlanBuildTest, WithoutNulTheLimitIs511Bytes) {
  BuildOptions opts;
  opts.nul = NulMode::kWithout;
  Entries ok;
  ok.Add(std::string(511, 'k'), "v");
  EXPECT_TRUE(PlanBuild(Lmdb(), ok.span(), opts, "src"));
  Entries bad;
  bad.Add(std::string(512, 'k'), "v");
  Result<BuildPlan> plan = PlanBuild(Lmdb(), bad.span(), opts, "src");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("limit 511"), std::string::npos);
}

TEST(PlanBuildTest, OtherTypesHaveNoKeyLimit) {
  Entries e;
  e.Add(std::string(5000, 'k'), "v");
  EXPECT_TRUE(PlanBuild(TableSpec{TableType::kCdb, "t"}, e.span(),
                        BuildOptions{}, "src"));
}

TEST(PlanBuildTest, NoEntriesGiveAnEmptyPlan) {
  Result<BuildPlan> plan = PlanBuild(Lmdb(), {}, BuildOptions{}, "src");
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->order.empty());
}

// cdb (and hash) plans skip the sort: source order, duplicates found by
// hashing. Same winners and warnings as the sorted path.

TEST(PlanBuildTest, CdbKeepsSourceOrderAndWarnsInLineOrder) {
  Entries e;
  e.Add("b", "1", 3);
  e.Add("a", "2", 4);
  e.Add("b", "3", 7);
  e.Add("c", "4", 8);
  e.Add("a", "5", 9);
  e.Add("b", "6", 11);
  Result<BuildPlan> plan = PlanBuild(Cdb(), e.span(), BuildOptions{}, "map");
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->order, (PlanOrder{0, 1, 3}));
  ASSERT_EQ(plan->diagnostics.size(), 3u);
  EXPECT_EQ(plan->diagnostics[0].line, 7u);
  EXPECT_EQ(plan->diagnostics[0].message,
            "duplicate entry: \"b\" (first seen on line 3)");
  EXPECT_EQ(plan->diagnostics[1].line, 9u);
  EXPECT_EQ(plan->diagnostics[1].message,
            "duplicate entry: \"a\" (first seen on line 4)");
  EXPECT_EQ(plan->diagnostics[2].line, 11u);
  EXPECT_EQ(plan->diagnostics[2].message,
            "duplicate entry: \"b\" (first seen on line 3)");
  for (const Diagnostic& d : plan->diagnostics) {
    EXPECT_EQ(d.kind, DiagnosticKind::kDuplicate);
    EXPECT_EQ(d.severity, Severity::kWarning);
    EXPECT_EQ(d.file, "map");
  }
}

TEST(PlanBuildTest, CdbDashWKeepsTheFirstAndDashROnlyTheLast) {
  Entries e;
  e.Add("k", "first");
  e.Add("j", "other");
  e.Add("k", "second");
  e.Add("i", "alone");
  e.Add("k", "third");
  e.Add("j", "again");
  BuildOptions opts;
  opts.duplicates = DuplicatePolicy::kFirst;
  Result<BuildPlan> first = PlanBuild(Cdb(), e.span(), opts, "map");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->order, (PlanOrder{0, 1, 3}));
  EXPECT_TRUE(first->diagnostics.empty());
  // -r: the winner stays at its own position, the earlier records are
  // gone (postmap's CDB_PUT_REPLACE drops them from the file).
  opts.duplicates = DuplicatePolicy::kLast;
  Result<BuildPlan> last = PlanBuild(Cdb(), e.span(), opts, "map");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->order, (PlanOrder{3, 4, 5}));
  EXPECT_EQ(e.span()[last->order[1]].value(), "third");
  EXPECT_TRUE(last->diagnostics.empty());
}

TEST(PlanBuildTest, CdbHasNoKeyLimitAndHandlesEmptyInput) {
  Entries e;
  e.Add(std::string(5000, 'k'), "v");
  e.Add(std::string(5000, 'k'), "w");
  Result<BuildPlan> plan = PlanBuild(Cdb(), e.span(), BuildOptions{}, "src");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->order, (PlanOrder{0}));
  EXPECT_EQ(plan->diagnostics.size(), 1u);
  Result<BuildPlan> none = PlanBuild(Cdb(), {}, BuildOptions{}, "src");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->order.empty());
  EXPECT_TRUE(none->diagnostics.empty());
}

// Many keys, many duplicates (some of them prefixes of others, empty-ish
// and long ones): for every policy the hashed plan keeps the same entries
// as the sorted one, in source order, with identical diagnostics.
TEST(PlanBuildTest, CdbAndHashAgreeWithTheSortedPathOnEveryPolicy) {
  std::mt19937 rng(7);
  Entries e;
  for (int i = 0; i < 30000; ++i) {
    std::string key = "u" + std::to_string(rng() % 9000);
    if (rng() % 5 == 0) key += std::string(rng() % 20, 'x');
    if (rng() % 7 == 0) key = "@" + key + ".example";
    e.Add(key, std::to_string(i));
  }
  for (DuplicatePolicy policy : kEveryPolicy) {
    Result<BuildPlan> sorted = PlanWith(Lmdb(), e, policy);
    ASSERT_TRUE(sorted);
    PlanOrder expect = sorted->order;
    std::sort(expect.begin(), expect.end());
    for (TableType type : {TableType::kCdb, TableType::kHash}) {
      Result<BuildPlan> hashed = PlanWith(TableSpec{type, "t"}, e, policy);
      ASSERT_TRUE(hashed);
      EXPECT_EQ(hashed->order, expect) << static_cast<int>(policy);
      ASSERT_EQ(hashed->diagnostics.size(), sorted->diagnostics.size());
      for (std::size_t i = 0; i < hashed->diagnostics.size(); ++i) {
        const Diagnostic& a = hashed->diagnostics[i];
        const Diagnostic& b = sorted->diagnostics[i];
        EXPECT_EQ(a.line, b.line);
        EXPECT_EQ(a.message, b.message);
        EXPECT_EQ(a.file, b.file);
        EXPECT_EQ(a.kind, b.kind);
        EXPECT_EQ(a.severity, b.severity);
      }
    }
    if (policy == DuplicatePolicy::kFirstWarn) {
      EXPECT_GT(sorted->diagnostics.size(), 10000u);
    } else {
      EXPECT_TRUE(sorted->diagnostics.empty());
    }
  }
}

TEST(PlanBuildTest, BtreeKeepsKeyOrder) {
  Entries e;
  for (const char* k : {"b", "a", "c", "a"}) e.Add(k, "v");
  Result<BuildPlan> plan = PlanBuild(TableSpec{TableType::kBtree, "t"},
                                     e.span(), BuildOptions{}, "src");
  ASSERT_TRUE(plan);
  EXPECT_EQ(Keys(e, *plan), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(plan->diagnostics.size(), 1u);
}

// The cdb writer takes records in source order whatever order a plan
// lists them in: a key-ordered plan gives the same file.
TEST(PlanBuildTest, CdbWriterGivesTheSameBytesForAKeyOrderedPlan) {
  testing::TempDir dir;
  Entries e;
  for (int i = 0; i < 500; ++i) {
    e.Add("key" + std::to_string((i * 7919) % 300), std::to_string(i));
  }
  BuildOptions opts;
  Result<BuildPlan> hashed = PlanBuild(Cdb(), e.span(), opts, "src");
  Result<BuildPlan> sorted = PlanBuild(Lmdb(), e.span(), opts, "src");
  ASSERT_TRUE(hashed);
  ASSERT_TRUE(sorted);
  ASSERT_NE(hashed->order, sorted->order);
  const TableSpec a{TableType::kCdb, (dir.path() / "a").string()};
  const TableSpec b{TableType::kCdb, (dir.path() / "b").string()};
  ASSERT_OK(WriteTable(a, e.span(), *hashed, opts, SourceFileInfo{}));
  ASSERT_OK(WriteTable(b, e.span(), *sorted, opts, SourceFileInfo{}));
  EXPECT_EQ(testing::ReadFileOrDie(a.FileName()),
            testing::ReadFileOrDie(b.FileName()));
}

}  // namespace
}  // namespace mapctl
