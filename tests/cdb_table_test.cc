// cdb_table_test.cc - cdb tables through real files: write, read, verify,
// and agreement with tinycdb (the library Postfix reads them with).

#include <cdb.h>
#include <fcntl.h>
#include <signal.h>
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
#include "tables/table_backends.h"
#include "test_util.h"
#include "tinycdb_writer.h"

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







class CdbTableTest : public ::testing::Test {
 protected:
  TableSpec Spec(const std::string& name = "t") const {
    return TableSpec{TableType::kCdb, (dir_.path() / name).string()};
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

  // Every record, raw, in file order.
  std::vector<std::pair<std::string, std::string>> Records(
      const std::string& name = "t", std::size_t chunk = 1000) {
    std::vector<std::pair<std::string, std::string>> out;
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(name), {});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (!r) return out;
    EXPECT_FALSE((*r)->sorted());
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

  std::vector<std::string> Verify(const std::string& name = "t") {
    std::vector<std::string> problems;
    EXPECT_OK(VerifyTable(Spec(name), &problems));
    return problems;
  }

  testing::TempDir dir_;
  BuildPlan last_plan_;
};

TEST_F(CdbTableTest, RoundTripInSourceOrder) {
  Entries e = Numbered(3000);
  ASSERT_OK(Build(e));
  auto recs = Records("t", 250);
  ASSERT_EQ(recs.size(), 3000u);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].first, e.span()[i].key());  // no NUL by default
    EXPECT_EQ(recs[i].second, e.span()[i].value());
  }
  for (int i = 0; i < 3000; i += 37) {
    EXPECT_EQ(Lookup("USER" + std::to_string(i) + "@Example.COM"),
              "v" + std::to_string(i));
  }
  EXPECT_EQ(Lookup("nobody@example.com"), std::nullopt);
  EXPECT_EQ(Lookup(""), std::nullopt);
  EXPECT_TRUE(Verify().empty());
}

TEST_F(CdbTableTest, EmptyTableIsTheBareHeader) {
  Entries e;
  ASSERT_OK(Build(e));
  std::string bytes = Slurp(File());
  ASSERT_EQ(bytes.size(), 2048u);
  for (int t = 0; t < 256; ++t) {
    EXPECT_EQ(bytes.substr(8 * t, 8),
              std::string("\x00\x08\x00\x00", 4) + std::string(4, '\0'));
  }
  EXPECT_TRUE(Records().empty());
  EXPECT_TRUE(Verify().empty());
}

// Our writer lays the file out as tinycdb's cdb_make does, byte for byte.
TEST_F(CdbTableTest, SameBytesAsTinycdb) {
  std::mt19937 rng(7);
  for (int n : {0, 1, 2, 3, 4, 5, 255, 256, 257, 4099}) {
    Entries e;
    for (int i = 0; i < n; ++i) {
      std::string k(1 + rng() % 60, 'k');
      for (char& c : k) c = static_cast<char>('a' + rng() % 26);
      e.Add(k + std::to_string(i), std::string(1 + rng() % 200, 'v'));
    }
    if (n == 5) e.Add(std::string(5000, 'x'), "long key");  // no key limit
    for (NulMode nul : {NulMode::kDefault, NulMode::kWith}) {
      BuildOptions opts;
      opts.nul = nul;
      ASSERT_OK(Build(e, opts, "ours"));
      Result<BuildPlan> plan = PlanBuild(Spec("ref"), e.span(), opts, "src");
      ASSERT_TRUE(plan.has_value());
      ASSERT_OK(testing::WriteCdbTableWithTinycdb(Spec("ref"), e.span(),
                                                  *plan, opts, Src()));
      EXPECT_EQ(Slurp(File("ours")), Slurp(File("ref"))) << "n=" << n;
    }
  }
}

// tinycdb's reader (what Postfix's dict_cdb calls) finds every key.
TEST_F(CdbTableTest, TinycdbFindsEveryKey) {
  Entries e = Numbered(2000);
  ASSERT_OK(Build(e));
  int fd = open(File().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  struct cdb c;
  ASSERT_EQ(cdb_init(&c, fd), 0);
  for (const Entry& en : e.span()) {
    ASSERT_GT(
        cdb_find(&c, en.key().data(), static_cast<unsigned>(en.key().size())),
        0);
    std::string v(cdb_datalen(&c), '\0');
    ASSERT_EQ(cdb_read(&c, v.data(), cdb_datalen(&c), cdb_datapos(&c)), 0);
    EXPECT_EQ(v, en.value());
  }
  EXPECT_EQ(cdb_find(&c, "absent", 6), 0);
  cdb_free(&c);
  close(fd);
}

TEST_F(CdbTableTest, NulModes) {
  Entries e;
  e.Add("a", "1");
  BuildOptions with;
  with.nul = NulMode::kWith;
  ASSERT_OK(Build(e, with));
  auto recs = Records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].first, std::string("a\0", 2));
  EXPECT_EQ(recs[0].second, std::string("1\0", 2));
  EXPECT_EQ(Lookup("a"), "1");
  EXPECT_EQ(Lookup("a", NulMode::kWithout), std::nullopt);

  BuildOptions without;
  without.nul = NulMode::kWithout;
  ASSERT_OK(Build(e, without));
  recs = Records();
  EXPECT_EQ(recs[0].first, "a");
  EXPECT_EQ(Lookup("a", NulMode::kWith), std::nullopt);
  EXPECT_EQ(Lookup("a", NulMode::kWithout), "1");
}

TEST_F(CdbTableTest, Duplicates) {
  Entries e;
  e.Add("a", "1");
  e.Add("b", "2");
  e.Add("a", "3");
  e.Add("a", "4");
  for (auto [policy, want, warnings] :
       {std::tuple{DuplicatePolicy::kFirstWarn, "1", 2u},
        std::tuple{DuplicatePolicy::kFirst, "1", 0u},
        std::tuple{DuplicatePolicy::kLast, "4", 0u}}) {
    BuildOptions opts;
    opts.duplicates = policy;
    ASSERT_OK(Build(e, opts));
    EXPECT_EQ(last_plan_.diagnostics.size(), warnings);
    auto recs = Records();
    ASSERT_EQ(recs.size(), 2u);  // one record per key, as postmap -r leaves
    EXPECT_EQ(Lookup("a"), want);
    EXPECT_EQ(Lookup("b"), "2");
  }
}

TEST_F(CdbTableTest, ModeFollowsSourceAndNoTempLeft) {
  Entries e = Numbered(10);
  ASSERT_OK(Build(e, {}, "t", Src(0640)));
  struct stat st;
  ASSERT_EQ(stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  BuildOptions plain;
  plain.copy_source_mode = false;
  ASSERT_OK(Build(e, plain, "p", Src(0600)));
  ASSERT_EQ(stat(File("p").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  int files = 0;
  for (auto& f : std::filesystem::directory_iterator(dir_.path())) {
    (void)f;
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST_F(CdbTableTest, FailedBuildLeavesPreviousTable) {
  Entries small = Numbered(10, "old");
  ASSERT_OK(Build(small));
  const std::string before = Slurp(File());
  Entries big = Numbered(200000, "new");
  // A file size limit makes the writer's write() fail with EFBIG.
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = saved;
  lim.rlim_cur = 1 << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  Status st = Build(big);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_EQ(st.code(), ErrorCode::kIoError) << st.ToString();
  EXPECT_EQ(Slurp(File()), before);
  int files = 0;
  for (auto& f : std::filesystem::directory_iterator(dir_.path())) {
    (void)f;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(CdbTableTest, ReaderFollowsARebuild) {
  Entries one;
  one.Add("k", "old");
  ASSERT_OK(Build(one));
  Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(), {});
  ASSERT_TRUE(r.has_value());
  std::uint64_t v1;
  {
    auto unit = (*r)->Begin();
    ASSERT_TRUE(unit.has_value());
    v1 = (*unit)->version();
  }
  Entries two;
  two.Add("k", "new");
  ASSERT_OK(Build(two));
  auto unit = (*r)->Begin();
  ASSERT_TRUE(unit.has_value());
  EXPECT_NE((*unit)->version(), v1);
  auto got = (*unit)->GetRaw("k");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, "new");
}

TEST_F(CdbTableTest, OpenErrors) {
  auto open_error = [&](const std::string& name) {
    Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(name), {});
    EXPECT_FALSE(r.has_value());
    return r ? Status::Ok() : r.error();
  };
  Status st = open_error("missing");
  EXPECT_EQ(st.message(),
            "open database " + File("missing") + ": No such file or directory");

  Spit(File("zero"), "");
  st = open_error("zero");
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_NE(st.message().find("zero length"), std::string::npos);

  std::filesystem::create_directory(File("dir"));
  st = open_error("dir");
  EXPECT_NE(st.message().find("not a regular file"), std::string::npos);

  Spit(File("short"), std::string(100, 'x'));
  st = open_error("short");
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_NE(st.message().find("2048"), std::string::npos);

  Spit(File("text"), std::string(4096, 'x'));  // pointers 0x78787878
  st = open_error("text");
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);

  std::string zeros(4096, '\0');  // pointers below the header
  Spit(File("zeros"), zeros);
  st = open_error("zeros");
  EXPECT_NE(st.message().find("not a cdb file"), std::string::npos);

  ASSERT_OK(Build(Numbered(100), {}, "cut"));
  std::string bytes = Slurp(File("cut"));
  Spit(File("cut"), bytes.substr(0, bytes.size() - 9));
  st = open_error("cut");
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
  std::vector<std::string> problems;
  EXPECT_OK(VerifyTable(Spec("cut"), &problems));
  EXPECT_FALSE(problems.empty());

  EXPECT_FALSE(VerifyTable(Spec("missing"), &problems).ok());
}

TEST_F(CdbTableTest, VerifyFindsDamage) {
  Entries e = Numbered(500);
  ASSERT_OK(Build(e));
  const std::string good = Slurp(File());

  // A key byte changed: its slot's hash no longer matches the record.
  std::string bad = good;
  bad[2048 + 8] ^= 0x20;
  Spit(File(), bad);
  auto problems = Verify();
  EXPECT_TRUE(Mentions(problems, "hashes elsewhere"));

  // A key length that runs past the data area.
  bad = good;
  bad[2048 + 3] = '\x7f';
  Spit(File(), bad);
  problems = Verify();
  EXPECT_TRUE(Mentions(problems, "runs past"));
  // Lookups of a damaged record are errors, not crashes.
  Result<std::unique_ptr<TableReader>> r = OpenTable(Spec(), {});
  ASSERT_TRUE(r.has_value());
  auto unit = (*r)->Begin();
  ASSERT_TRUE(unit.has_value());
  ScanCursor cursor;
  Status st = (*unit)->Scan(cursor, 1000, [](auto, auto) { return true; });
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);

  // A slot emptied: its record cannot be found.
  bad = good;
  const std::uint32_t table0 = static_cast<unsigned char>(good[0]) |
                               static_cast<unsigned char>(good[1]) << 8 |
                               static_cast<unsigned char>(good[2]) << 16;
  std::size_t at = table0;
  while (good.substr(at + 4, 4) == std::string(4, '\0')) at += 8;
  bad.replace(at, 8, std::string(8, '\0'));
  Spit(File(), bad);
  problems = Verify();
  EXPECT_TRUE(Mentions(problems, "in no hash slot"));

  // Random damage never crashes the walk or the reader.
  std::mt19937 rng(3);
  for (int round = 0; round < 300; ++round) {
    bad = good;
    for (int k = 0; k < 1 + round % 8; ++k) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    if (round % 10 == 0) bad.resize(rng() % bad.size());
    Spit(File(), bad);
    std::vector<std::string> found_problems;
    Status vs = VerifyTable(Spec(), &found_problems);
    // A file cut below the header is refused before the walk (exit 2).
    EXPECT_TRUE(vs.ok() || (bad.size() < 2048 &&
                            vs.code() == ErrorCode::kCorruption))
        << vs.ToString();
    Result<std::unique_ptr<TableReader>> rr = OpenTable(Spec(), {});
    if (!rr) continue;
    auto u = (*rr)->Begin();
    ASSERT_TRUE(u.has_value());
    for (int i = 0; i < 500; i += 7) {
      (void)(*u)->GetRaw("user" + std::to_string(i) + "@example.com");
    }
    ScanCursor c;
    (void)(*u)->Scan(c, 100000, [](auto, auto) { return true; });
  }
}

}  // namespace
}  // namespace mapctl
