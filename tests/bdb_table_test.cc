// bdb_table_test.cc - hash: and btree: tables through real files (Berkeley
// DB 5.3): write, read, locking, damage, verify; and the error a build
// without Berkeley DB gives.

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tables/bdb_meta.h"
#include "mapctl/table.h"
#include "mapctl/update.h"
#include "tables/table_backends.h"
#include "test_util.h"

namespace mapctl {
namespace {

using testing::Entries;
using testing::Mentions;
using testing::Numbered;
using testing::Src;

std::string Slurp(const std::string& path) {
  return testing::ReadFileOrDie(path);
}
void Spit(const std::string& path, const std::string& bytes) {
  testing::WriteBytes(path, bytes);
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

TEST_P(BdbTableTest, AHashTableIsPresizedAndNoLargerThanItsData) {
  if (GetParam() != TableType::kHash) GTEST_SKIP() << "hash only";
  // 100k pairs of about 37 bytes: ~3.7 MB, 910 pages if full. The writer
  // presizes the table to 1024 buckets and lets overflows split it. The
  // first split past 1024 makes Berkeley DB reserve the next doubling, so
  // the apparent size is 2048 pages or more, but those are holes: the
  // pages written stay near 1100. Presized one power of two higher, the
  // table would write 2048 bucket pages.
  Entries e = Numbered(100000);
  ASSERT_OK(Build(e));
  struct stat st;
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  const auto pages_written = static_cast<std::uint64_t>(st.st_blocks) * 512 / 4096;
  EXPECT_GT(pages_written, 910u);
  EXPECT_LT(pages_written, 1456u);  // 1.6 times full
  EXPECT_EQ(Records().size(), 100000u);
  for (int i = 0; i < 100000; i += 997) {
    EXPECT_EQ(Lookup("user" + std::to_string(i) + "@example.com"),
              "v" + std::to_string(i));
  }
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty()) << problems[0];
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
  // verify refuses it too, as an error (exit 2), like lmdb's pre-checks.
  std::vector<std::string> problems;
  Status vs = VerifyTable(Spec("cut"), &problems);
  EXPECT_EQ(vs.code(), ErrorCode::kCorruption);
  EXPECT_NE(vs.message().find("truncated"), std::string::npos)
      << vs.message();

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

// A page whose type byte names another access method reaches libdb's
// verifier for that method: a heap page (15) makes __heap_vrfy free memory
// twice and abort the process (docs/fuzzing.md, F5). Verify, and a dump,
// refuse such pages before libdb sees them.
TEST_P(BdbTableTest, VerifyRefusesAPageOfAnotherAccessMethod) {
  ASSERT_OK(Build(Numbered(3000)));
  const std::string good = Slurp(File());
  for (unsigned char type : {4, 6, 10, 11, 14, 15, 16}) {
    std::string bad = good;
    bad[4096 + 25] = static_cast<char>(type);  // page 1's type byte
    Spit(File(), bad);
    std::vector<std::string> problems;
    EXPECT_OK(VerifyTable(Spec(), &problems));
    ASSERT_FALSE(problems.empty()) << "type " << int(type);
    EXPECT_EQ(problems.front(), "page 1: type " + std::to_string(type) +
                                    ", which a " +
                                    std::string(TableTypeName(GetParam())) +
                                    " table never holds");
    OpenOptions verify_first;
    verify_first.verify = true;
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(), verify_first);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  }
  Spit(File(), good);
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty());
}

// Found by bdb_verify_fuzz (F9): libdb's DB->verify divides by the
// partition count of a meta page it trusts and dies with SIGFPE; Postfix
// never writes a partitioned database, so the meta check refuses one.
TEST_P(BdbTableTest, APartitionedMetaPageIsRefusedBeforeLibdbSeesIt) {
  ASSERT_OK(Build(Numbered(100)));
  const std::string good = Slurp(File());
  for (int variant = 0; variant < 2; ++variant) {
    std::string bad = good;
    if (variant == 0) {
      bad[26] = static_cast<char>(bad[26] | 0x02);  // DBMETA_PART_RANGE
    } else {
      bad[36] = 1;  // one partition (little-endian u32 @36)
    }
    Spit(File(), bad);
    std::vector<std::string> problems;
    Status st = VerifyTable(Spec(), &problems);
    EXPECT_TRUE(!st.ok() || !problems.empty()) << "variant " << variant;
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(), OpenOptions{});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(r.error().message().find("partitioned"), std::string::npos);
  }
  Spit(File(), good);
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty());
}

// Found by bdb_verify_fuzz (F10): libdb's verifier walks a btree by
// recursion and follows an internal page's child pointers before it
// compares levels, so a page that points at itself overflows the stack.
// Each child pointer must lead exactly one level down.
TEST_P(BdbTableTest, AChildPointerThatDoesNotLeadOneLevelDownIsRefused) {
  if (GetParam() != TableType::kBtree) GTEST_SKIP() << "btree pages only";
  ASSERT_OK(Build(Numbered(3000)));
  const std::string good = Slurp(File());
  constexpr std::size_t kPage = 4096;
  auto u16 = [&](std::size_t at) {
    return static_cast<unsigned char>(good[at]) |
           static_cast<unsigned char>(good[at + 1]) << 8;
  };
  std::size_t internal = 0;  // the first internal (type 3) page
  for (std::size_t p = 1; p < good.size() / kPage && internal == 0; ++p) {
    if (good[p * kPage + 25] == 3) internal = p;
  }
  ASSERT_NE(internal, 0u) << "3000 entries make a two-level btree";
  // The first entry's BINTERNAL: its child page number is 4 bytes in.
  const std::size_t child_at = internal * kPage + u16(internal * kPage + 26) + 4;
  const std::uint32_t targets[] = {static_cast<std::uint32_t>(internal),
                                   1000000};
  for (std::uint32_t target : targets) {
    std::string bad = good;
    std::memcpy(&bad[child_at], &target, 4);  // little-endian, as written
    Spit(File(), bad);
    std::vector<std::string> problems;
    EXPECT_OK(VerifyTable(Spec(), &problems));
    ASSERT_EQ(problems.size(), 1u) << "child " << target;
    EXPECT_NE(problems.front().find("not one level down"), std::string::npos)
        << problems.front();
  }
  Spit(File(), good);
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty());
}

// postmap -i / -d on an existing .db: in place (same inode), under the
// exclusive flock, duplicates as postmap -i treats them.
TEST_P(BdbTableTest, AddKeepsExistingKeysUnlessReplace) {
  Entries base;
  base.Add("a", "1");
  base.Add("b", "2");
  ASSERT_OK(Build(base));
  struct stat before;
  ASSERT_EQ(stat(File().c_str(), &before), 0);
  ASSERT_EQ(chmod(File().c_str(), 0600), 0);

  Entries more;
  more.Add("c", "3");
  more.Add("a", "9");
  more.Add("c", "4");  // a duplicate within the batch, too
  Result<UpdateReport> r = AddToTable(Spec(), more.span(), {}, Src(), "stdin");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->written, 1u);
  ASSERT_EQ(r->diagnostics.size(), 2u);
  EXPECT_EQ(r->diagnostics[0].kind, DiagnosticKind::kDuplicate);
  EXPECT_EQ(r->diagnostics[0].line, 2u);
  EXPECT_EQ(r->diagnostics[0].message, "duplicate entry: \"a\"");
  EXPECT_EQ(r->diagnostics[1].line, 3u);
  EXPECT_EQ(Lookup("a"), "1");
  EXPECT_EQ(Lookup("c"), "3");
  EXPECT_EQ(Records().size(), 3u);

  UpdateOptions quiet;
  quiet.duplicates = DuplicatePolicy::kFirst;
  r = AddToTable(Spec(), more.span(), quiet, Src(), "stdin");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->diagnostics.empty());
  EXPECT_EQ(Lookup("a"), "1");

  UpdateOptions replace;
  replace.duplicates = DuplicatePolicy::kLast;
  r = AddToTable(Spec(), more.span(), replace, Src(), "stdin");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->diagnostics.empty());
  EXPECT_EQ(r->written, 3u);
  EXPECT_EQ(Lookup("a"), "9");
  EXPECT_EQ(Lookup("c"), "4");

  struct stat after;
  ASSERT_EQ(stat(File().c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // in place, as postmap -i
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_EQ(FilesInDir(), 1);
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty());
}

TEST_P(BdbTableTest, AddHonoursNulModeAndGrowsLargeTables) {
  ASSERT_OK(Build(Numbered(10)));
  UpdateOptions without;
  without.nul = NulMode::kWithout;
  Entries e;
  e.Add("bare", "x");
  ASSERT_TRUE(AddToTable(Spec(), e.span(), without, Src(), "stdin"));
  Result<std::unique_ptr<TableReader>> t = OpenTable(Spec(), {});
  ASSERT_TRUE(t.has_value());
  auto unit = (*t)->Begin();
  ASSERT_TRUE(unit.has_value());
  auto raw = (*unit)->GetRaw("bare");
  ASSERT_TRUE(raw.has_value() && raw->has_value());
  EXPECT_EQ(**raw, "x");
  unit->reset();

  // Many pages of new entries, splits included.
  Entries big = Numbered(20000, "n");
  Result<UpdateReport> r = AddToTable(Spec(), big.span(), {}, Src(), "stdin");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->written, 20000u - 10u);
  EXPECT_EQ(r->diagnostics.size(), 10u);
  EXPECT_EQ(Records().size(), 20001u);
  EXPECT_EQ(Lookup("user12345@example.com"), "n12345");
  EXPECT_EQ(Lookup("user3@example.com"), "v3");
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec(), &problems));
  EXPECT_TRUE(problems.empty());
}

TEST_P(BdbTableTest, DeleteTriesKeyWithNulThenWithout) {
  Entries with;
  with.Add("a", "1");
  with.Add("b", "2");
  ASSERT_OK(Build(with));
  std::vector<std::string> keys = {"a", "nothere", ""};
  Result<std::size_t> n = DeleteFromTable(Spec(), keys, NulMode::kDefault);
  ASSERT_TRUE(n.has_value()) << n.error().ToString();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(Lookup("a"), std::nullopt);
  EXPECT_EQ(Lookup("b"), "2");
  // -n deletes only the NUL-less form.
  n = DeleteFromTable(Spec(), std::vector<std::string>{"b"}, NulMode::kWithout);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);

  BuildOptions bare;
  bare.nul = NulMode::kWithout;
  ASSERT_OK(Build(with, bare));
  n = DeleteFromTable(Spec(), std::vector<std::string>{"a", "b"},
                      NulMode::kDefault);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 2u);
  EXPECT_TRUE(Records().empty());
}

TEST_P(BdbTableTest, UpdateWaitsForReadersLock) {
  Entries base;
  base.Add("a", "1");
  ASSERT_OK(Build(base));
  int fd = open(File().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_SH), 0);  // a Postfix reader mid-lookup
  Entries more;
  more.Add("b", "2");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Result<UpdateReport> r = AddToTable(Spec(), more.span(), {}, Src(), "in");
    EXPECT_TRUE(r.has_value());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done.load());
  flock(fd, LOCK_UN);
  writer.join();
  EXPECT_TRUE(done.load());
  // And the writer held LOCK_EX only while it ran.
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  close(fd);
  EXPECT_EQ(Lookup("b"), "2");
}

TEST_P(BdbTableTest, UpdateRefusesBadFilesAndLeavesThemAlone) {
  Entries e;
  e.Add("k", "v");
  // Missing: -d is an error and creates nothing; -i builds the table.
  Result<std::size_t> d = DeleteFromTable(
      Spec("missing"), std::vector<std::string>{"k"}, NulMode::kDefault);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("No such file"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(File("missing")));
  ASSERT_TRUE(AddToTable(Spec("fresh"), e.span(), {}, Src(0640), "stdin"));
  EXPECT_EQ(Lookup("k", NulMode::kDefault, "fresh"), "v");
  struct stat st;
  ASSERT_EQ(stat(File("fresh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // Zero length: postmap -i removes it and builds; so do we (-i only).
  Spit(File("zero"), "");
  d = DeleteFromTable(Spec("zero"), std::vector<std::string>{"k"},
                      NulMode::kDefault);
  EXPECT_FALSE(d.has_value());
  Result<UpdateReport> r = AddToTable(Spec("zero"), e.span(), {}, Src(), "in");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Lookup("k", NulMode::kDefault, "zero"), "v");

  // Not Berkeley DB, the other Berkeley DB type, truncated: refused before
  // Berkeley DB sees them, byte-identical afterwards.
  Spit(File("text"), std::string(8192, 'x'));
  TableSpec other{
      GetParam() == TableType::kHash ? TableType::kBtree : TableType::kHash,
      Spec("other").path};
  Entries five = Numbered(5);
  Result<BuildPlan> plan = PlanBuild(other, five.span(), {}, "src");
  ASSERT_TRUE(plan.has_value());
  ASSERT_OK(WriteTable(other, five.span(), *plan, {}, Src()));
  ASSERT_OK(Build(Numbered(2000), {}, "cut"));
  std::string cut = Slurp(File("cut"));
  Spit(File("cut"), cut.substr(0, cut.size() / 2));
  std::filesystem::create_directory(File("dir"));
  for (const char* name : {"text", "other", "cut", "dir"}) {
    const std::string before =
        std::string(name) == "dir" ? "" : Slurp(File(name));
    r = AddToTable(Spec(name), e.span(), {}, Src(), "in");
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_NE(r.error().message().find(File(name)), std::string::npos)
        << r.error().message();
    d = DeleteFromTable(Spec(name), std::vector<std::string>{"k"},
                        NulMode::kDefault);
    EXPECT_FALSE(d.has_value()) << name;
    if (std::string(name) != "dir") {
      EXPECT_EQ(Slurp(File(name)), before);
    }
  }
}

TEST(BdbUpdateTest, CdbStaysRefused) {
  testing::TempDir dir;
  TableSpec spec{TableType::kCdb, (dir.path() / "t").string()};
  Result<std::size_t> d =
      DeleteFromTable(spec, std::vector<std::string>{"k"}, NulMode::kDefault);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), ErrorCode::kUnsupported);
}

// A batch that cannot be written (the file size limit: EFBIG, as a full
// disk gives ENOSPC) names the table and the cause, and the file is as it
// was, byte for byte: the growth is reserved before libdb writes a page.
TEST_P(BdbTableTest, AFailedBatchNamesTheTableAndLeavesTheFileAsItWas) {
  ASSERT_OK(Build(Numbered(2000, "old")));
  const std::string before = Slurp(File());
  Entries more = Numbered(40000, "new");
  Status add;
  testing::WithFileSizeLimit(before.size() + 65536, [&] {
    Result<UpdateReport> r = AddToTable(Spec(), more.span(), {}, Src(), "in");
    add = r ? Status::Ok() : r.error();
  });
  EXPECT_EQ(add.message(),
            "update " + File() + " (table unchanged): File too large");
  EXPECT_TRUE(Slurp(File()) == before) << "the file changed";
  EXPECT_EQ(Records().size(), 2000u);
}

// On a full file system (a small tmpfs; skipped where mounting is not
// permitted): -i says ENOSPC, names the table, leaves the file as it was
// and the space free; a build says the same and keeps the old table. No
// message shows a pointer value (libdb prints buffer addresses).
TEST_P(BdbTableTest, FullDiskUpdateAndBuildSayNoSpaceAndKeepTheTable) {
  testing::SmallFilesystem fs(4 << 20);
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  const TableSpec spec{GetParam(), (fs.path() / "t").string()};
  const std::string file = spec.FileName();
  Entries old = Numbered(5000, "old");
  BuildOptions bo;
  Result<BuildPlan> plan = PlanBuild(spec, old.span(), bo, "src");
  ASSERT_TRUE(plan);
  ASSERT_OK(WriteTable(spec, old.span(), *plan, bo, Src()));
  const std::string before = Slurp(file);
  fs.FillLeaving(128 << 10);
  const std::uint64_t free_before = fs.Free();
  Entries more = Numbered(60000, "new");
  Result<UpdateReport> r = AddToTable(spec, more.span(), {}, Src(), "in");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "update " + file + " (table unchanged): No space left on device");
  EXPECT_TRUE(Slurp(file) == before) << "the file changed";
  EXPECT_GE(fs.Free(), free_before);

  Result<BuildPlan> big = PlanBuild(spec, more.span(), bo, "src");
  ASSERT_TRUE(big);
  Status st = WriteTable(spec, more.span(), *big, bo, Src());
  EXPECT_EQ(st.message(), "write " + file +
                              " (previous table untouched): No space left on "
                              "device");
  EXPECT_EQ(st.message().find("0x"), std::string::npos) << st.message();
  EXPECT_TRUE(Slurp(file) == before) << "the table changed";
}

// As for lmdb: a cursor over a damaged table can crash libdb (a small
// btree: 16 to 40 of 200 damaged copies; hash tables more rarely), so
// dump has DB->verify walk the file first. Over 60 tables damaged with
// a fixed seed, no dump dies of a signal and every table verify flags is
// refused with exit 2. (Without the walk, 7 of the btree dumps die of SIGBUS.)
TEST_P(BdbTableTest, DumpOfDamagedTablesNeverCrashesAndRefusesWhatVerifyFlags) {
  ASSERT_OK(Build(Numbered(300)));
  const std::string good = Slurp(File());
  std::mt19937 rng(20240602);
  std::vector<TableSpec> specs;
  std::vector<bool> damaged;
  for (int i = 0; i < 60; ++i) {
    specs.push_back(Spec("m" + std::to_string(i)));
    Spit(specs.back().FileName(), testing::Mutate(good, rng));
    std::vector<std::string> problems;
    Status verified = VerifyTable(specs.back(), &problems);
    damaged.push_back(!verified.ok() || !problems.empty());
  }
  const std::vector<int> got = testing::DumpInChildren(specs, true);
  ASSERT_EQ(got.size(), specs.size());
  int flagged = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    flagged += damaged[i];
    EXPECT_EQ(got[i], damaged[i] ? 2 : 0)
        << "file " << i << (got[i] < 0 ? ": dump died of a signal" : "");
  }
  EXPECT_GT(flagged, 20);
}

// Berkeley DB's own text (the detail in a message) has its buffer
// addresses replaced; short hex numbers (flags, page types) stay.
TEST(BdbMessageTest, PointerValuesAreReplaced) {
  EXPECT_EQ(bdb::CleanDbMessage(
                "BDB0137 write: 0x56203b706b70, 4096: No space left on device"),
            "BDB0137 write: <pointer>, 4096: No space left on device");
  EXPECT_EQ(bdb::CleanDbMessage("a 0X7FFD1234ABCD and 0x7f00deadbeef0"),
            "a <pointer> and <pointer>");
  EXPECT_EQ(bdb::CleanDbMessage("page 7: bad flags 0x2 (0x1f)"),
            "page 7: bad flags 0x2 (0x1f)");
  EXPECT_EQ(bdb::CleanDbMessage("BDB0xx 10x12345"), "BDB0xx 10x12345");
}

INSTANTIATE_TEST_SUITE_P(Types, BdbTableTest,
                         ::testing::Values(TableType::kHash, TableType::kBtree),
                         [](const auto& info) {
                           return std::string(TableTypeName(info.param));
                         });

}  // namespace
}  // namespace mapctl
