// lmdb_table_test.cc - LMDB tables through real files: write, read, fail.

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tables/lmdb_handle.h"
#include "mapctl/table.h"
#include "mapctl/update.h"
#include "tables/table_backends.h"
#include "test_util.h"

namespace mapctl {
namespace {

using testing::Entries;
using testing::Numbered;
using testing::Src;




class LmdbTableTest : public ::testing::Test {
 protected:
  TableSpec Spec(const std::string& name = "t") const {
    return TableSpec{TableType::kLmdb, (dir_.path() / name).string()};
  }
  std::string File(const std::string& name = "t") const {
    return Spec(name).path + ".lmdb";
  }

  Status Build(const Entries& e, const BuildOptions& opts = {},
               const std::string& name = "t", SourceFileInfo src = Src(),
               lmdb::WriterTuning tuning = {}) {
    Result<BuildPlan> plan = PlanBuild(Spec(name), e.span(), opts, "src");
    if (!plan) return plan.error();
    return WriteLmdbTableTuned(Spec(name), e.span(), *plan, opts, src, tuning);
  }

  // Every entry as raw bytes, in table order.
  std::vector<std::pair<std::string, std::string>> Dump(
      const std::string& name = "t") {
    std::vector<std::pair<std::string, std::string>> out;
    Result<std::unique_ptr<TableReader>> r = OpenLmdbTable(Spec(name));
    EXPECT_TRUE(r) << r.error().ToString();
    if (!r) return out;
    Result<std::unique_ptr<ReadUnit>> u = (*r)->Begin();
    EXPECT_TRUE(u);
    if (!u) return out;
    ScanCursor c;
    while (!c.done) {
      Status st =
          (*u)->Scan(c, 1000, [&](std::string_view k, std::string_view v) {
            out.emplace_back(k, v);
            return true;
          });
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok()) break;
    }
    return out;
  }

  std::vector<std::string> DirNames() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  void ExpectVerifies(const std::string& name = "t") {
    std::vector<std::string> problems;
    ASSERT_OK(VerifyLmdbTable(Spec(name), &problems));
    EXPECT_TRUE(problems.empty()) << problems[0];
  }

  testing::TempDir dir_;
};

std::string WithNul(std::string_view s) { return std::string(s) + '\0'; }

TEST_F(LmdbTableTest, RoundTripStoresKeyAndValueWithTrailingNul) {
  Entries e = Numbered(5000);
  ASSERT_OK(Build(e));
  auto rows = Dump();
  ASSERT_EQ(rows.size(), 5000u);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
  for (const auto& [k, v] : rows) {
    ASSERT_EQ(k.back(), '\0');
    ASSERT_EQ(v.back(), '\0');
    EXPECT_EQ(v.substr(1, v.size() - 2), k.substr(4, k.find('@') - 4));
  }
  Result<std::unique_ptr<TableReader>> r = OpenLmdbTable(Spec());
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)->sorted());
  Result<std::unique_ptr<ReadUnit>> u = (*r)->Begin();
  ASSERT_TRUE(u);
  auto hit = (*u)->GetRaw(WithNul("user42@example.com"));
  ASSERT_TRUE(hit);
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ(**hit, WithNul("v42"));
  auto miss = (*u)->GetRaw("user42@example.com");  // no NUL: absent
  ASSERT_TRUE(miss);
  EXPECT_FALSE(miss->has_value());
  ExpectVerifies();
}

TEST_F(LmdbTableTest, DashNWritesNoNulAndDashCapitalNWritesOne) {
  Entries e;
  e.Add("k", "v");
  BuildOptions without;
  without.nul = NulMode::kWithout;
  ASSERT_OK(Build(e, without, "n"));
  EXPECT_EQ(Dump("n"),
            (std::vector<std::pair<std::string, std::string>>{{"k", "v"}}));
  BuildOptions with;
  with.nul = NulMode::kWith;
  ASSERT_OK(Build(e, with, "w"));
  EXPECT_EQ(Dump("w"), (std::vector<std::pair<std::string, std::string>>{
                           {WithNul("k"), WithNul("v")}}));
}

TEST_F(LmdbTableTest, MapGrowsWhenTheFirstGuessIsFarTooSmall) {
  Entries e = Numbered(20000);
  e.Add("big", std::string(300000, 'x'));
  lmdb::WriterTuning tiny;
  tiny.initial_map_size = 16384;
  tiny.batch_entries = 1000;
  ASSERT_OK(Build(e, {}, "t", Src(), tiny));
  EXPECT_EQ(Dump().size(), 20001u);
  ExpectVerifies();
}

TEST_F(LmdbTableTest, MapGrowthRedoesATransactionFromTheGatherThread) {
  // Enough entries for the gather thread; every growth aborts a
  // transaction of several gather batches, which are gathered again.
  Entries e = Numbered(100000);
  lmdb::WriterTuning tiny;
  tiny.initial_map_size = 65536;
  tiny.batch_entries = 20000;
  ASSERT_OK(Build(e, {}, "t", Src(), tiny));
  auto rows = Dump();
  ASSERT_EQ(rows.size(), 100000u);
  std::map<std::string, std::string> want;
  for (const Entry& en : e.span()) {
    want[WithNul(std::string(en.key()))] = WithNul(std::string(en.value()));
  }
  std::map<std::string, std::string> got(rows.begin(), rows.end());
  EXPECT_EQ(got, want);
  ExpectVerifies();
}

TEST_F(LmdbTableTest, TenMegabyteValueRoundTrips) {
  Entries e;
  std::string big(10 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = 'a' + i % 26;
  e.Add("a", "small");
  e.Add("big", big);
  e.Add("z", "small");
  ASSERT_OK(Build(e));
  auto rows = Dump();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].second, WithNul(big));
  ExpectVerifies();
}

TEST_F(LmdbTableTest, NoEntriesGiveAValidEmptyTableOfTwoPages) {
  ASSERT_OK(Build(Entries{}));
  struct stat st;
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 2 * sysconf(_SC_PAGESIZE));
  EXPECT_TRUE(Dump().empty());
  ExpectVerifies();
}

TEST_F(LmdbTableTest, ProgressIsReportedUpToTheTotal) {
  Entries e = Numbered(150000);
  BuildOptions opts;
  std::vector<std::size_t> seen;
  opts.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 150000u);
    seen.push_back(done);
  };
  ASSERT_OK(Build(e, opts));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 150000u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(LmdbTableTest, NeverCreatesALockFileNorLeavesTemporaryFiles) {
  ASSERT_OK(Build(Numbered(100)));
  ASSERT_OK(Build(Numbered(200)));
  EXPECT_EQ(Dump().size(), 200u);
  EXPECT_EQ(DirNames(), std::vector<std::string>{"t.lmdb"});
}

TEST_F(LmdbTableTest, FailedWriteLeavesThePreviousTableUntouched) {
  ASSERT_OK(Build(Numbered(100, "old")));
  auto before = Dump();
  // The file size limit makes LMDB's writes fail with EFBIG mid-build,
  // as a full disk would with ENOSPC.
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ign {
  }, old_action;
  ign.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ign, &old_action);
  struct rlimit small = old_limit;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status st = Build(Numbered(100000, "new"));
  setrlimit(RLIMIT_FSIZE, &old_limit);
  sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_EQ(st.code(), ErrorCode::kIoError) << st.ToString();
  EXPECT_EQ(Dump(), before);
  EXPECT_EQ(DirNames(), std::vector<std::string>{"t.lmdb"});
}

TEST_F(LmdbTableTest, KeyTooLongFailsBeforeAnythingIsWritten) {
  ASSERT_OK(Build(Numbered(10)));
  Entries e = Numbered(10);
  e.Add(std::string(600, 'k'), "v");
  Status st = Build(e);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Dump().size(), 10u);
  EXPECT_EQ(DirNames(), std::vector<std::string>{"t.lmdb"});
}

TEST_F(LmdbTableTest, LeftoversOfKilledBuildsAreRemoved) {
  dir_.WriteFile("t.lmdb.mapctl-Ab3dE9", "junk");
  ASSERT_OK(Build(Numbered(10)));
  EXPECT_EQ(DirNames(), std::vector<std::string>{"t.lmdb"});
}

TEST_F(LmdbTableTest, ConcurrentWritersEachProduceACompleteTable) {
  Entries a = Numbered(30000, "a");
  Entries b = Numbered(40000, "b");
  Status sa, sb;
  std::thread ta([&] { sa = Build(a); });
  std::thread tb([&] { sb = Build(b); });
  ta.join();
  tb.join();
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  auto rows = Dump();
  ASSERT_TRUE(rows.size() == 30000u || rows.size() == 40000u);
  const char tag = rows.size() == 30000u ? 'a' : 'b';
  for (const auto& row : rows) ASSERT_EQ(row.second[0], tag);
  EXPECT_EQ(DirNames(), std::vector<std::string>{"t.lmdb"});
}

TEST_F(LmdbTableTest, NewTableModeFollowsTheSourceAndDashP) {
  ASSERT_OK(Build(Numbered(3), {}, "a", Src(0640)));
  BuildOptions p;
  p.copy_source_mode = false;
  ASSERT_OK(Build(Numbered(3), p, "b", Src(0600)));
  struct stat st;
  ASSERT_EQ(stat(File("a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(stat(File("b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(LmdbTableTest, ReplacedTableKeepsItsModeMinusOtherBits) {
  ASSERT_OK(Build(Numbered(3), {}, "t", Src(0644)));
  ASSERT_EQ(chmod(File().c_str(), 0604), 0);
  BuildOptions p;
  p.copy_source_mode = false;
  ASSERT_OK(Build(Numbered(3), p, "t", Src(0600)));
  struct stat st;
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);  // -p: as it was
  ASSERT_OK(Build(Numbered(3), {}, "t", Src(0600)));
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);  // the source grants other nothing
}

TEST_F(LmdbTableTest, MissingTableIsReportedAsPostmapDoes) {
  Result<std::unique_ptr<TableReader>> r = OpenLmdbTable(Spec("nope"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(r.error().message(),
            "open database " + File("nope") + ": No such file or directory");
}

TEST_F(LmdbTableTest, ZeroLengthDirectoryAndFifoAreRefused) {
  dir_.WriteFile("zero.lmdb", "");
  std::filesystem::create_directory(dir_.path() / "dir.lmdb");
  ASSERT_EQ(mkfifo(File("fifo").c_str(), 0644), 0);
  auto zero = OpenLmdbTable(Spec("zero"));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(zero.error().message().find("zero length"), std::string::npos);
  for (const char* name : {"dir", "fifo"}) {
    auto r = OpenLmdbTable(Spec(name));
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().message().find("not a regular file"), std::string::npos)
        << r.error().message();
  }
  EXPECT_FALSE(std::filesystem::exists(File("zero") + "-lock"));
}

class DamagedTableTest : public LmdbTableTest {
 protected:
  void SetUp() override { ASSERT_OK(Build(Numbered(2000))); }
  void Patch(off_t offset, std::uint32_t value) {
    int fd = open(File().c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, &value, 4, offset), 4);
    close(fd);
  }
  std::string OpenError() {
    auto r = OpenLmdbTable(Spec());
    EXPECT_FALSE(r);
    return r ? "" : r.error().ToString();
  }
};

TEST_F(DamagedTableTest, BadMagicIsNotAnLmdbFile) {
  Patch(16, 0x12345678);
  EXPECT_NE(OpenError().find("not an LMDB file"), std::string::npos);
}

TEST_F(DamagedTableTest, BadVersionIsUnsupported) {
  Patch(sysconf(_SC_PAGESIZE) + 20, 2);
  EXPECT_NE(OpenError().find("unsupported LMDB version 2"), std::string::npos);
}

TEST_F(DamagedTableTest, TruncatedFileIsReported) {
  ASSERT_EQ(truncate(File().c_str(), 5 * sysconf(_SC_PAGESIZE)), 0);
  std::string err = OpenError();
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  EXPECT_NE(err.find("corruption"), std::string::npos) << err;
}

TEST_F(LmdbTableTest, ScanResumesAfterTheLastKeyWithASmallLimit) {
  ASSERT_OK(Build(Numbered(250)));
  auto r = OpenLmdbTable(Spec());
  ASSERT_TRUE(r);
  ScanCursor c;
  std::vector<std::string> keys;
  int calls = 0;
  while (!c.done) {
    auto u = (*r)->Begin();  // a new unit per step, as a long dump does
    ASSERT_TRUE(u);
    ASSERT_OK((*u)->Scan(c, 100, [&](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      return true;
    }));
    ++calls;
  }
  EXPECT_EQ(keys.size(), 250u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  EXPECT_GE(calls, 3);
}

TEST_F(LmdbTableTest, ReaderFollowsATableReplacedByRename) {
  Entries old_e;
  old_e.Add("k", "old");
  ASSERT_OK(Build(old_e));
  auto r = OpenLmdbTable(Spec());
  ASSERT_TRUE(r);
  std::uint64_t v1;
  {
    auto u = (*r)->Begin();
    ASSERT_TRUE(u);
    v1 = (*u)->version();
    auto got = (*u)->GetRaw(WithNul("k"));
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ(**got, WithNul("old"));
  }
  Entries new_e;
  new_e.Add("k", "new");
  ASSERT_OK(Build(new_e));
  auto u = (*r)->Begin();
  ASSERT_TRUE(u);
  EXPECT_NE((*u)->version(), v1);
  auto got = (*u)->GetRaw(WithNul("k"));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, WithNul("new"));
}

TEST_F(LmdbTableTest, ReadUnitHoldsAPostfixReadLock) {
  ASSERT_OK(Build(Numbered(10)));
  auto r = OpenLmdbTable(Spec());
  ASSERT_TRUE(r);
  auto probe = [&] {
    // F_GETLK from a child: our own process never conflicts with itself.
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(File().c_str(), O_RDWR);
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      fcntl(fd, F_GETLK, &fl);
      _exit(fl.l_type == F_RDLCK ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WEXITSTATUS(status) == 1;
  };
  {
    auto u = (*r)->Begin();
    ASSERT_TRUE(u);
    EXPECT_TRUE(probe());
  }
  EXPECT_FALSE(probe());
}

// postmap -i and -d in place. The issue: -d of 300 keys from a 200k-entry
// table failed with MDB_MAP_FULL (no room to grow, no retry), while
// postmap -d deletes 100,000 of them.
TEST_F(LmdbTableTest, DeletingHalfOfA200kEntryTableWorksAsPostmapDoes) {
  constexpr int kEntries = 200000;
  ASSERT_OK(Build(Numbered(kEntries)));
  std::filesystem::copy_file(File(), File("mapctl_sample"));
  std::filesystem::copy_file(File(), File("postmap_sample"));
  std::vector<std::string> keys;  // the even ones, in a scrambled order
  for (int i = 0; i < kEntries; ++i) {
    const int k = static_cast<int>(i * 7919LL % kEntries);
    if (k % 2 == 0) keys.push_back("user" + std::to_string(k) + "@example.com");
  }
  Result<std::size_t> n = DeleteFromTable(Spec(), keys, NulMode::kDefault);
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, keys.size());
  std::vector<std::pair<std::string, std::string>> left = Dump();
  ASSERT_EQ(left.size(), kEntries - keys.size());
  std::string expected;  // as postmap -s lists it: "key<TAB>value", no NUL
  for (const auto& [k, v] : left) {
    const int num = std::stoi(k.substr(4));
    EXPECT_EQ(num % 2, 1) << k;
    EXPECT_EQ(v, WithNul("v" + std::to_string(num)));
    expected +=
        k.substr(0, k.size() - 1) + "\t" + v.substr(0, v.size() - 1) + "\n";
  }
  ExpectVerifies();

  const std::string postmap = testing::Postmap(dir_.path());
  if (postmap.empty()) GTEST_SKIP() << "postmap is not installed";
  const std::string conf = dir_.path().string();
  std::string listed;
  ASSERT_EQ(
      testing::RunProgram({postmap, "-c", conf, "-s", "lmdb:" + Spec().path},
                          "", &listed),
      0);
  std::vector<std::string> got, want;
  std::string line;
  for (std::istringstream in(listed); std::getline(in, line);) {
    got.push_back(line);
  }
  for (std::istringstream in(expected); std::getline(in, line);) {
    want.push_back(line);
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  // postmap -d itself on a sample of the same keys (it syncs every
  // deletion: 100,000 take minutes here): the same table, byte for byte.
  std::vector<std::string> sample(keys.begin(), keys.begin() + 300);
  std::string input;
  for (const std::string& k : sample) input += k + "\n";
  ASSERT_TRUE(
      DeleteFromTable(Spec("mapctl_sample"), sample, NulMode::kDefault));
  ASSERT_EQ(testing::RunProgram({postmap, "-c", conf, "-d", "-",
                                 "lmdb:" + Spec("postmap_sample").path},
                                input, nullptr),
            0);
  const auto ours = Dump("mapctl_sample");
  EXPECT_EQ(ours.size(), kEntries - sample.size());
  EXPECT_TRUE(ours == Dump("postmap_sample"));
}

// A batch that cannot be written (here the file size limit: EFBIG, as a
// full disk gives ENOSPC) says which table and why, and leaves the file
// as it was: same entries, same size, so the disk is not left full.
TEST_F(LmdbTableTest, AFailedBatchNamesTheTableAndLeavesTheFileAsItWas) {
  ASSERT_OK(Build(Numbered(20000, "old")));
  const auto before = Dump();
  const auto size = std::filesystem::file_size(File());
  Entries more;
  for (int i = 0; i < 50000; ++i) {
    more.Add("new" + std::to_string(i * 7919 % 50000) + "@example.org",
             std::string(40, 'x'));
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; i += 2) {
    keys.push_back("user" + std::to_string(i) + "@example.com");
  }
  Status add, del;
  testing::WithFileSizeLimit(size + 65536, [&] {
    Result<UpdateReport> r =
        AddToTable(Spec(), more.span(), {}, Src(), "stdin");
    add = r ? Status::Ok() : r.error();
    Result<std::size_t> d = DeleteFromTable(Spec(), keys, NulMode::kDefault);
    del = d ? Status::Ok() : d.error();
  });
  for (const Status& st : {add, del}) {
    EXPECT_EQ(st.code(), ErrorCode::kIoError) << st.ToString();
    EXPECT_NE(st.message().find(File()), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("File too large"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("table unchanged"), std::string::npos)
        << st.message();
  }
  EXPECT_EQ(std::filesystem::file_size(File()), size);
  EXPECT_EQ(Dump(), before);
  ExpectVerifies();
}

// The same on a full file system, where the cause is ENOSPC. Needs a
// tmpfs mount (root); skipped where that is not permitted.
TEST(LmdbFullDiskTest, UpdateAndBuildSayNoSpaceNameTheTableAndFreeTheSpace) {
  testing::SmallFilesystem fs(4 << 20);
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  const TableSpec spec{TableType::kLmdb, (fs.path() / "t").string()};
  const std::string file = spec.path + ".lmdb";
  Entries old = Numbered(20000, "old");
  BuildOptions bo;
  Result<BuildPlan> plan = PlanBuild(spec, old.span(), bo, "src");
  ASSERT_TRUE(plan);
  ASSERT_OK(WriteTable(spec, old.span(), *plan, bo, Src()));
  const auto size = std::filesystem::file_size(file);
  fs.FillLeaving(256 << 10);
  const std::uint64_t free_before = fs.Free();
  Entries more;
  for (int i = 0; i < 50000; ++i) {
    more.Add("new" + std::to_string(i * 7919 % 50000) + "@example.org",
             std::string(40, 'x'));
  }
  Result<UpdateReport> r = AddToTable(spec, more.span(), {}, Src(), "stdin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "update " + file + " (table unchanged): No space left on device");
  EXPECT_EQ(std::filesystem::file_size(file), size);
  EXPECT_GE(fs.Free(), free_before);

  // A build of the bigger table fails the same way before the rename.
  Result<BuildPlan> big = PlanBuild(spec, more.span(), bo, "src");
  ASSERT_TRUE(big);
  Status st = WriteTable(spec, more.span(), *big, bo, Src());
  EXPECT_EQ(st.message(), "write " + file +
                              " (previous table untouched): No space left on "
                              "device");
  EXPECT_EQ(std::filesystem::file_size(file), size);
  // And on a file system with no room at all, for every type a build
  // writes: the table's name and ENOSPC, the old table intact.
  fs.FillLeaving(0);
  for (TableType type : {TableType::kLmdb, TableType::kCdb, TableType::kHash}) {
    if (type == TableType::kHash && !kHaveBdb) continue;
    const TableSpec other{type, spec.path};
    st = WriteTable(other, more.span(), *big, bo, Src());
    EXPECT_EQ(st.message(), "write " + other.FileName() +
                                " (previous table untouched): No space left "
                                "on device");
  }
  Result<std::unique_ptr<TableReader>> reader = OpenTable(spec, {});
  ASSERT_TRUE(reader);
  Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
  ASSERT_TRUE(unit);
  TableLookup lookup(FoldMode::kAscii, NulMode::kDefault, false);
  Result<std::optional<std::string_view>> v =
      lookup.Find(**unit, "user7@example.com");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value_or(""), "old7");
}

}  // namespace
}  // namespace mapctl
