// bdb_table_test.cc - hash: and btree: tables through real files (Berkeley
// DB 5.3): write, read, locking, damage, verify; and the error a build
// without Berkeley DB gives.

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "table_backends.h"
#include "test_util.h"

namespace mapctl {
namespace {

class Entries {
 public:
  void Add(std::string key, std::string value) {
    store_.push_back(std::move(key));
    const std::string& k = store_.back();
    store_.push_back(std::move(value));
    const std::string& v = store_.back();
    entries_.emplace_back(k.data(), static_cast<std::uint32_t>(k.size()),
                          v.data(), static_cast<std::uint32_t>(v.size()),
                          static_cast<std::uint32_t>(entries_.size() + 1));
  }
  std::span<const Entry> span() const { return entries_; }

 private:
  std::deque<std::string> store_;
  std::vector<Entry> entries_;
};

Entries Numbered(int n, const std::string& tag = "v") {
  Entries e;
  for (int i = 0; i < n; ++i) {
    e.Add("user" + std::to_string(i * 7919 % n) + "@example.com",
          tag + std::to_string(i * 7919 % n));
  }
  return e;
}

SourceFileInfo Src(std::uint32_t mode = 0644) {
  SourceFileInfo s;
  s.regular = true;
  s.mode = mode;
  s.uid = geteuid();
  s.gid = getegid();
  return s;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(BdbUnavailableTest, SaysWhatIsMissing) {
  Status st = BdbUnavailable(TableType::kHash);
  EXPECT_EQ(st.code(), ErrorCode::kUnsupported);
  EXPECT_NE(st.message().find("hash:"), std::string::npos);
  EXPECT_NE(st.message().find("built without Berkeley DB support"),
            std::string::npos);
  if (!kHaveBdb) {
    EXPECT_EQ(CheckWritable(TableType::kBtree).code(), ErrorCode::kUnsupported);
    Result<std::unique_ptr<TableReader>> r =
        OpenTable(TableSpec{TableType::kHash, "/nonexistent/x"}, {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), st.message());
  } else {
    EXPECT_OK(CheckWritable(TableType::kHash));
    EXPECT_OK(CheckWritable(TableType::kBtree));
  }
}

class BdbTableTest : public ::testing::TestWithParam<TableType> {
 protected:
  void SetUp() override {
    if (!kHaveBdb) GTEST_SKIP() << "built without Berkeley DB";
  }
  TableSpec Spec(const std::string& name = "t") const {
    return TableSpec{GetParam(), (dir_.path() / name).string()};
  }
  std::string File(const std::string& name = "t") const {
    return Spec(name).FileName();
  }
  Status Build(const Entries& e, const BuildOptions& opts = {},
               const std::string& name = "t", SourceFileInfo src = Src()) {
    Result<BuildPlan> plan = PlanBuild(Spec(name), e.span(), opts, "src");
    if (!plan) return plan.error();
    last_plan_ = *plan;
    return WriteTable(Spec(name), e.span(), *plan, opts, src);
  }
  std::vector<std::pair<std::string, std::string>> Records(
      const std::string& name = "t", std::size_t chunk = 1000) {
    std::vector<std::pair<std::string, std::string>> out;
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(name), {});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (!r) return out;
    EXPECT_EQ((*r)->sorted(), GetParam() == TableType::kBtree);
    ScanCursor cursor;
    while (!cursor.done) {
      Result<std::unique_ptr<ReadUnit>> unit = (*r)->Begin();
      EXPECT_TRUE(unit.has_value());
      if (!unit) break;
      EXPECT_OK((*unit)->Scan(cursor, chunk,
                              [&](std::string_view k, std::string_view v) {
                                out.emplace_back(k, v);
                                return true;
                              }));
    }
    return out;
  }
  std::optional<std::string> Lookup(const std::string& key,
                                    NulMode nul = NulMode::kDefault,
                                    const std::string& name = "t") {
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(name), {});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (!r) return std::nullopt;
    Result<std::unique_ptr<ReadUnit>> unit = (*r)->Begin();
    EXPECT_TRUE(unit.has_value());
    TableLookup lookup(FoldMode::kUtf8, nul, true);
    Result<std::optional<std::string_view>> v = lookup.Find(**unit, key);
    EXPECT_TRUE(v.has_value());
    if (!v || !v->has_value()) return std::nullopt;
    return std::string(**v);
  }
  int FilesInDir() const {
    int files = 0;
    for (auto& f : std::filesystem::directory_iterator(dir_.path())) {
      (void)f;
      ++files;
    }
    return files;
  }

  testing::TempDir dir_;
  BuildPlan last_plan_;
};

TEST_P(BdbTableTest, RoundTrip) {
  Entries e = Numbered(3000);
  ASSERT_OK(Build(e));
  auto recs = Records("t", 700);  // several units: the scan resumes
  ASSERT_EQ(recs.size(), 3000u);
  std::map<std::string, std::string> want, got;
  for (const Entry& en : e.span()) {
    want[std::string(en.key()) + '\0'] = std::string(en.value()) + '\0';
  }
  for (auto& [k, v] : recs) got[k] = v;
  EXPECT_EQ(got, want);
  if (GetParam() == TableType::kBtree) {
    EXPECT_TRUE(std::is_sorted(recs.begin(), recs.end()));
  }
  for (int i = 0; i < 3000; i += 37) {
    EXPECT_EQ(Lookup("USER" + std::to_string(i) + "@example.com"),
              "v" + std::to_string(i));
  }
  EXPECT_EQ(Lookup("nobody"), std::nullopt);
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(FilesInDir(), 1);
}

TEST_P(BdbTableTest, ViewsLiveAsLongAsTheUnit) {
  Entries e = Numbered(100);
  ASSERT_OK(Build(e));
  Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(), {});
  ASSERT_TRUE(r.has_value());
  auto unit = (*r)->Begin();
  ASSERT_TRUE(unit.has_value());
  auto a = (*unit)->GetRaw(std::string("user1@example.com\0", 18));
  auto b = (*unit)->GetRaw(std::string("user2@example.com\0", 18));
  ASSERT_TRUE(a.has_value() && a->has_value());
  ASSERT_TRUE(b.has_value() && b->has_value());
  EXPECT_EQ(**a, std::string("v1\0", 3));
  EXPECT_EQ(**b, std::string("v2\0", 3));
}

TEST_P(BdbTableTest, NulModesAndLongKeys) {
  Entries e;
  e.Add("a", "1");
  e.Add(std::string(5000, 'x'), "long");  // postmap accepts these too
  BuildOptions without;
  without.nul = NulMode::kWithout;
  ASSERT_OK(Build(e, without));
  auto recs = Records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(Lookup("a", NulMode::kWith), std::nullopt);
  EXPECT_EQ(Lookup("a"), "1");
  EXPECT_EQ(Lookup(std::string(5000, 'X')), "long");
}

TEST_P(BdbTableTest, Duplicates) {
  Entries e;
  e.Add("a", "1");
  e.Add("b", "2");
  e.Add("a", "3");
  for (auto [policy, want] : {std::pair{DuplicatePolicy::kFirstWarn, "1"},
                              std::pair{DuplicatePolicy::kLast, "3"}}) {
    BuildOptions opts;
    opts.duplicates = policy;
    ASSERT_OK(Build(e, opts));
    EXPECT_EQ(Records().size(), 2u);
    EXPECT_EQ(Lookup("a"), want);
  }
}

TEST_P(BdbTableTest, ModeOfANewTable) {
  ASSERT_OK(Build(Numbered(10), {}, "t", Src(0640)));
  struct stat st;
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_P(BdbTableTest, FailedBuildLeavesPreviousTable) {
  ASSERT_OK(Build(Numbered(10, "old")));
  const std::string before = Slurp(File());
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = saved;
  lim.rlim_cur = 256 << 10;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  Status st = Build(Numbered(100000, "new"));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(Slurp(File()), before);
  EXPECT_EQ(FilesInDir(), 1);
}

TEST_P(BdbTableTest, UnitHoldsASharedLockAndSeesRebuilds) {
  Entries one;
  one.Add("k", "old");
  ASSERT_OK(Build(one));
  Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(), {});
  ASSERT_TRUE(r.has_value());
  int fd = open(File().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  {
    auto unit = (*r)->Begin();
    ASSERT_TRUE(unit.has_value());
    // postmap's exclusive lock (it rebuilds in place) must wait for us.
    EXPECT_NE(flock(fd, LOCK_EX | LOCK_NB), 0);
    EXPECT_EQ(flock(fd, LOCK_SH | LOCK_NB), 0);
    flock(fd, LOCK_UN);
  }
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  flock(fd, LOCK_UN);
  close(fd);
  Entries two;
  two.Add("k", "new");
  ASSERT_OK(Build(two));
  auto unit = (*r)->Begin();
  ASSERT_TRUE(unit.has_value());
  auto got = (*unit)->GetRaw(std::string("k\0", 2));
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, std::string("new\0", 4));
}

TEST_P(BdbTableTest, OpenErrors) {
  auto open_error = [&](const std::string& name) {
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(name), {});
    EXPECT_FALSE(r.has_value());
    return r ? Status::Ok() : r.error();
  };
  EXPECT_EQ(open_error("missing").message(),
            "open database " + File("missing") + ": No such file or directory");
  Spit(File("zero"), "");
  EXPECT_NE(open_error("zero").message().find("zero length"),
            std::string::npos);
  std::filesystem::create_directory(File("dir"));
  EXPECT_NE(open_error("dir").message().find("not a regular file"),
            std::string::npos);
  Spit(File("text"), std::string(8192, 'x'));
  EXPECT_NE(open_error("text").message().find("not a Berkeley DB"),
            std::string::npos);

  ASSERT_OK(Build(Numbered(2000), {}, "cut"));
  std::string bytes = Slurp(File("cut"));
  Spit(File("cut"), bytes.substr(0, bytes.size() / 2));
  Status st = open_error("cut");
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec("cut"), &problems));
  EXPECT_FALSE(problems.empty());

  // The other Berkeley DB type under this one's name.
  TableSpec other{
      GetParam() == TableType::kHash ? TableType::kBtree : TableType::kHash,
      Spec("other").path};
  Entries e = Numbered(5);
  Result<BuildPlan> plan = PlanBuild(other, e.span(), {}, "src");
  ASSERT_TRUE(plan.has_value());
  ASSERT_OK(WriteTable(other, e.span(), *plan, {}, Src()));
  st = open_error("other");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(
      st.message().find(std::string(TableTypeName(other.type)) + " table, not"),
      std::string::npos)
      << st.message();
}

TEST_P(BdbTableTest, VerifyReportsDamage) {
  ASSERT_OK(Build(Numbered(3000)));
  const std::string good = Slurp(File());
  std::mt19937 rng(5);
  int reported = 0;
  for (int round = 0; round < 40; ++round) {
    std::string bad = good;
    // Damage past the metadata page: Berkeley DB's verify has to find it.
    for (int k = 0; k < 20; ++k) {
      bad[4096 + rng() % (bad.size() - 4096)] = static_cast<char>(rng());
    }
    Spit(File(), bad);
    std::vector<std::string> problems;
    Status st = VerifyTable(Spec(), &problems);
    if (!st.ok() || !problems.empty()) ++reported;
  }
  EXPECT_GT(reported, 30);
}

INSTANTIATE_TEST_SUITE_P(Types, BdbTableTest,
                         ::testing::Values(TableType::kHash, TableType::kBtree),
                         [](const auto& info) {
                           return std::string(TableTypeName(info.param));
                         });

}  // namespace
}  // namespace mapctl
