// build_test.cc - BuildTable(): unchanged tables stay, changed ones are
// rewritten, and the counts say what changed (tables/build_compare.cc).

#include "mapctl/build.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tables/build_compare.h"
#include "tables/table_backends.h"
#include "test_util.h"

namespace mapctl {
namespace {

using testing::Entries;
using testing::Src;

struct Built {
  bool ok = false;
  BuildResult result;
  struct stat st {};
};

class BuildTableTest : public ::testing::TestWithParam<TableType> {
 protected:
  void SetUp() override {
    if (!CheckWritable(GetParam()).ok()) GTEST_SKIP() << "type not built in";
    spec_ = {GetParam(), (dir_.path() / "map").string()};
  }

  // The source file exists so the mtime rule has something to look at.
  Built Build(const Entries& entries, RebuildOptions rebuild = {},
              BuildOptions options = {}) {
    Built b;
    Result<BuildPlan> plan =
        PlanBuild(spec_, entries.span(), options, "map");
    EXPECT_TRUE(plan) << plan.error().ToString();
    if (!plan) return b;
    rebuild.count_changes = true;
    Result<BuildResult> r = BuildTable(spec_, entries.span(), *plan, options,
                                       Src(0644), rebuild);
    EXPECT_TRUE(r) << r.error().ToString();
    if (!r) return b;
    b.ok = true;
    b.result = *r;
    EXPECT_EQ(stat(spec_.FileName().c_str(), &b.st), 0);
    return b;
  }

  std::string Bytes() const { return testing::ReadFileOrDie(spec_.FileName()); }
  void SetMtime(const std::string& path, time_t when) {
    const struct timespec t[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
  }

  testing::TempDir dir_;
  TableSpec spec_;
};

Entries ThreeEntries(std::string b_value = "2") {
  Entries e;
  e.Add("alice@example.com", "relay-a");
  e.Add("bob@example.com", std::move(b_value));
  e.Add("@example.org", "relay-c");
  return e;
}

TEST_P(BuildTableTest, SameEntriesKeepTheInodeAndTheBytes) {
  dir_.WriteFile("map", "");
  Built first = Build(ThreeEntries());
  ASSERT_TRUE(first.ok);
  EXPECT_TRUE(first.result.written);
  EXPECT_TRUE(first.result.changed);
  EXPECT_FALSE(first.result.compared);
  EXPECT_EQ(first.result.added, 3u);
  const std::string bytes = Bytes();

  Built again = Build(ThreeEntries());
  ASSERT_TRUE(again.ok);
  EXPECT_TRUE(again.result.compared);
  EXPECT_FALSE(again.result.changed);
  EXPECT_FALSE(again.result.written);
  EXPECT_EQ(again.st.st_ino, first.st.st_ino);
  EXPECT_EQ(Bytes(), bytes);
}

TEST_P(BuildTableTest, CountsAddedRemovedAndModifiedEntries) {
  dir_.WriteFile("map", "");
  ASSERT_TRUE(Build(ThreeEntries()).ok);
  Entries next;
  next.Add("bob@example.com", "other");      // modified
  next.Add("carol@example.com", "relay-d");  // added
  next.Add("@example.org", "relay-c");       // same; alice removed
  next.Add("dave@example.com", "relay-e");   // added
  Built b = Build(next);
  ASSERT_TRUE(b.ok);
  EXPECT_TRUE(b.result.changed);
  EXPECT_TRUE(b.result.written);
  EXPECT_EQ(b.result.added, 2u);
  EXPECT_EQ(b.result.removed, 1u);
  EXPECT_EQ(b.result.modified, 1u);
}

TEST_P(BuildTableTest, SourceOrderDoesNotMatterOnlyEntriesDo) {
  dir_.WriteFile("map", "");
  Entries many = testing::Numbered(500);
  Built first = Build(many);
  ASSERT_TRUE(first.ok);
  Entries reversed;
  for (int i = 499; i >= 0; --i) {
    const Entry& e = many.span()[static_cast<std::size_t>(i)];
    reversed.Add(std::string(e.key()), std::string(e.value()));
  }
  Built b = Build(reversed);
  ASSERT_TRUE(b.ok);
  EXPECT_FALSE(b.result.changed);
  EXPECT_EQ(b.st.st_ino, first.st.st_ino);
}

TEST_P(BuildTableTest, RecordsOutOfStepHalfwayAreStillMatchedAndCounted) {
  dir_.WriteFile("map", "");
  Entries many = testing::Numbered(400);
  ASSERT_TRUE(Build(many).ok);
  // The first half in the same order, the second reversed, one value
  // changed in each half and one key dropped from the second.
  Entries next;
  for (std::size_t i = 0; i < 200; ++i) {
    const Entry& e = many.span()[i];
    next.Add(std::string(e.key()), i == 10 ? "x" : std::string(e.value()));
  }
  for (std::size_t i = 399; i > 200; --i) {
    const Entry& e = many.span()[i];
    next.Add(std::string(e.key()), i == 300 ? "y" : std::string(e.value()));
  }
  Built b = Build(next);
  ASSERT_TRUE(b.ok);
  EXPECT_TRUE(b.result.changed);
  EXPECT_EQ(b.result.added, 0u);
  EXPECT_EQ(b.result.removed, 1u);  // entry 200
  EXPECT_EQ(b.result.modified, 2u);
}

TEST_P(BuildTableTest, ForceRewritesWithoutReadingTheTableInPlace) {
  dir_.WriteFile("map", "");
  Built first = Build(ThreeEntries());
  ASSERT_TRUE(first.ok);
  RebuildOptions force;
  force.force = true;
  Built b = Build(ThreeEntries(), force);
  ASSERT_TRUE(b.ok);
  EXPECT_TRUE(b.result.written);
  EXPECT_FALSE(b.result.compared);
  EXPECT_TRUE(b.result.changed);
  EXPECT_NE(b.st.st_ino, first.st.st_ino);
}

TEST_P(BuildTableTest, ANewerSourceMovesOnlyTheMtimeOfAnUnchangedTable) {
  const std::string src = dir_.WriteFile("map", "");
  Built first = Build(ThreeEntries());
  ASSERT_TRUE(first.ok);
  const time_t now = time(nullptr);
  SetMtime(spec_.FileName(), now - 1000);
  SetMtime(src, now - 500);
  const std::string bytes = Bytes();
  Built b = Build(ThreeEntries());
  ASSERT_TRUE(b.ok);
  EXPECT_FALSE(b.result.changed);
  EXPECT_TRUE(b.result.mtime_updated);
  EXPECT_EQ(b.st.st_ino, first.st.st_ino);
  EXPECT_GE(b.st.st_mtime, now - 500);  // not older than the source
  EXPECT_EQ(Bytes(), bytes);
}

TEST_P(BuildTableTest, AnUnchangedBuildStillRemovesAKilledBuildsTemporaryFile) {
  dir_.WriteFile("map", "");
  ASSERT_TRUE(Build(ThreeEntries()).ok);
  const std::string leftover = spec_.FileName() + ".mapctl-AbC123";
  testing::WriteBytes(leftover, "half a table");
  Built b = Build(ThreeEntries());
  ASSERT_TRUE(b.ok);
  EXPECT_FALSE(b.result.written);
  EXPECT_NE(access(leftover.c_str(), F_OK), 0) << leftover << " is still there";
}

TEST_P(BuildTableTest, AnOlderSourceLeavesTheMtimeAlone) {
  const std::string src = dir_.WriteFile("map", "");
  ASSERT_TRUE(Build(ThreeEntries()).ok);
  const time_t now = time(nullptr);
  SetMtime(src, now - 1000);
  SetMtime(spec_.FileName(), now - 500);
  Built b = Build(ThreeEntries());
  ASSERT_TRUE(b.ok);
  EXPECT_FALSE(b.result.mtime_updated);
  EXPECT_EQ(b.st.st_mtime, now - 500);
}

TEST_P(BuildTableTest, ASourceThatStopsGrantingOthersReadTakesItFromTheTable) {
  dir_.WriteFile("map", "");
  Built first = Build(ThreeEntries());
  ASSERT_TRUE(first.ok);
  ASSERT_EQ(first.st.st_mode & 0777, 0644u);
  Result<BuildPlan> plan =
      PlanBuild(spec_, ThreeEntries().span(), BuildOptions{}, "map");
  ASSERT_TRUE(plan);
  Entries entries = ThreeEntries();
  RebuildOptions rebuild;
  Result<BuildResult> r = BuildTable(spec_, entries.span(), *plan,
                                     BuildOptions{}, Src(0640), rebuild);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(r->written);
  EXPECT_TRUE(r->mode_updated);
  struct stat st;
  ASSERT_EQ(stat(spec_.FileName().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_ino, first.st.st_ino);
}

TEST_P(BuildTableTest, AnotherNulConventionIsAChange) {
  dir_.WriteFile("map", "");
  ASSERT_TRUE(Build(ThreeEntries()).ok);
  BuildOptions other;
  other.nul = spec_.type == TableType::kCdb ? NulMode::kWith
                                            : NulMode::kWithout;
  Built b = Build(ThreeEntries(), RebuildOptions{}, other);
  ASSERT_TRUE(b.ok);
  EXPECT_TRUE(b.result.changed);
  EXPECT_TRUE(b.result.written);
  EXPECT_EQ(b.result.added, 3u);
  EXPECT_EQ(b.result.removed, 3u);
}

TEST_P(BuildTableTest, ADamagedTableIsRebuiltAsBefore) {
  dir_.WriteFile("map", "");
  testing::WriteBytes(spec_.FileName(), "not a table at all");
  Built b = Build(ThreeEntries());
  ASSERT_TRUE(b.ok);
  EXPECT_FALSE(b.result.compared);
  EXPECT_TRUE(b.result.written);
  EXPECT_EQ(b.result.added, 3u);
}

TEST_P(BuildTableTest, AnEmptyPlanOverAnEmptyTableIsUnchanged) {
  dir_.WriteFile("map", "");
  ASSERT_TRUE(Build(Entries()).ok);
  Built b = Build(Entries());
  ASSERT_TRUE(b.ok);
  EXPECT_TRUE(b.result.compared);
  EXPECT_FALSE(b.result.changed);
}

TEST_P(BuildTableTest, WithoutCountsTheComparisonStopsAtTheFirstDifference) {
  dir_.WriteFile("map", "");
  ASSERT_TRUE(Build(testing::Numbered(200, "a")).ok);
  Entries other = testing::Numbered(200, "b");  // every value differs
  Result<BuildPlan> plan =
      PlanBuild(spec_, other.span(), BuildOptions{}, "map");
  ASSERT_TRUE(plan);
  Result<TableComparison> quick = CompareWithTable(
      spec_, other.span(), *plan, NulMode::kDefault, false);
  ASSERT_TRUE(quick);
  EXPECT_FALSE(quick->same);
  EXPECT_FALSE(quick->complete);
  EXPECT_LT(quick->modified, 200u);
  Result<TableComparison> full = CompareWithTable(
      spec_, other.span(), *plan, NulMode::kDefault, true);
  ASSERT_TRUE(full);
  EXPECT_TRUE(full->complete);
  EXPECT_EQ(full->modified, 200u);
}

INSTANTIATE_TEST_SUITE_P(EveryWritableType, BuildTableTest,
                         ::testing::Values(TableType::kLmdb, TableType::kCdb,
                                           TableType::kHash, TableType::kBtree),
                         [](const auto& info) {
                           return std::string(TableTypeName(info.param));
                         });

TEST(BuildCompareTest, NulBytesFollowEachTypesDefault) {
  EXPECT_EQ(StoredNulBytes(TableType::kLmdb, NulMode::kDefault), 1u);
  EXPECT_EQ(StoredNulBytes(TableType::kHash, NulMode::kWithout), 0u);
  EXPECT_EQ(StoredNulBytes(TableType::kCdb, NulMode::kDefault), 0u);
  EXPECT_EQ(StoredNulBytes(TableType::kCdb, NulMode::kWith), 1u);
}

TEST(BuildCompareTest, AMissingTableIsNotReadableAndNotAnError) {
  testing::TempDir dir;
  Entries e = ThreeEntries();
  TableSpec spec{TableType::kLmdb, (dir.path() / "none").string()};
  Result<BuildPlan> plan = PlanBuild(spec, e.span(), BuildOptions{}, "none");
  ASSERT_TRUE(plan);
  Result<TableComparison> c =
      CompareWithTable(spec, e.span(), *plan, NulMode::kDefault, true);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->readable);
  EXPECT_FALSE(c->same);
}

}  // namespace
}  // namespace mapctl
