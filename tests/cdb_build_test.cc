// cdb_build_test.cc - the streaming cdb build (BuildTableFromSource) and
// its writer: the same bytes and warnings as the parse-plan-write path
// and as tinycdb, duplicates, colliding hashes, limits and failures.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/table.h"
#include "tables/cdb_writer.h"
#include "tables/table_backends.h"
#include "test_util.h"
#include "tinycdb_writer.h"

namespace mapctl {
namespace {

using testing::Src;

class CdbBuildTest : public ::testing::Test {
 protected:
  TableSpec Spec(const std::string& name) const {
    return TableSpec{TableType::kCdb, (dir_.path() / name).string()};
  }
  std::string Bytes(const std::string& name) const {
    return testing::ReadFileOrDie(Spec(name).FileName());
  }
  ParseOptions Parse(const std::string& name) const {
    ParseOptions p;
    p.origin = Spec(name).path;
    return p;
  }

  // The streaming build of source NAME into NAME.cdb.
  SourceBuildResult Stream(const std::string& name, const BuildOptions& opts,
                           bool strict = false, Status* status = nullptr) {
    SourceBuildResult r;
    Status st = BuildTableFromSource(Spec(name), Spec(name).path, Parse(name),
                                     opts, Src(), strict, &r);
    if (status != nullptr) {
      *status = st;
    } else {
      EXPECT_OK(st);
    }
    return r;
  }

  // The parse-plan-write build of source NAME into REF.cdb, and its
  // diagnostics as the CLI merges them; tinycdb's file into TINY.cdb.
  std::vector<Diagnostic> Planned(const std::string& name,
                                  const std::string& ref,
                                  const std::string& tiny,
                                  const BuildOptions& opts) {
    Result<ParsedMap> parsed = ParseMapFile(Spec(name).path, Parse(name));
    EXPECT_TRUE(parsed.has_value());
    if (!parsed) return {};
    Result<BuildPlan> plan =
        PlanBuild(Spec(ref), parsed->entries(), opts, Spec(name).path);
    EXPECT_TRUE(plan.has_value());
    if (!plan) return {};
    if (opts.duplicates == DuplicatePolicy::kFirst) {
      // postmap -w writes every record, repeats included.
      plan->order.resize(parsed->entries().size());
      for (std::uint32_t i = 0; i < plan->order.size(); ++i) plan->order[i] = i;
    }
    EXPECT_OK(WriteTable(Spec(ref), parsed->entries(), *plan, opts, Src()));
    EXPECT_OK(testing::WriteCdbTableWithTinycdb(Spec(tiny), parsed->entries(),
                                                *plan, opts, Src()));
    std::vector<Diagnostic> all = parsed->diagnostics();
    all.insert(all.end(), plan->diagnostics.begin(), plan->diagnostics.end());
    std::stable_sort(all.begin(), all.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return a.line < b.line;
                     });
    return all;
  }

  static std::vector<std::string> Texts(const std::vector<Diagnostic>& ds) {
    std::vector<std::string> out;
    for (const Diagnostic& d : ds) {
      out.push_back(d.file + ":" + std::to_string(d.line) + ": " + d.message);
    }
    return out;
  }

  std::vector<std::string> VerifyProblems(const std::string& name) const {
    std::vector<std::string> problems;
    EXPECT_OK(VerifyTable(Spec(name), &problems));
    return problems;
  }

  std::size_t FilesInDir() const {
    std::size_t n = 0;
    for (auto& f : std::filesystem::directory_iterator(dir_.path())) {
      (void)f;
      ++n;
    }
    return n;
  }

  testing::TempDir dir_;
};

// A source with most of what the parser knows: duplicates (some far
// apart), continuation lines, comments inside continuations, blank lines,
// malformed lines, upper case, and enough of it (over 4 MiB) that it is
// read and parsed in several pieces.
std::string MessySource(int lines, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s;
  for (int i = 0; i < lines; ++i) {
    const unsigned r = rng() % 100;
    const std::string key = "User" + std::to_string(rng() % (lines / 2 + 1)) +
                            "@Example" + std::to_string(i % 7) + ".com";
    if (r < 3) {
      s += "# comment " + std::to_string(i) + "\n";
    } else if (r < 5) {
      s += "\n";
    } else if (r < 6) {
      s += "lonely" + std::to_string(i) + "\n";  // no value: a warning
    } else if (r < 10) {
      s += key + "  first part\n  # a comment inside\n\tsecond part\n";
    } else {
      s += key + "\t[smtp" + std::to_string(rng() % 64) +
           ".relay.example.net]:587" + std::string(rng() % 40, 'x') + "\n";
    }
  }
  return s;
}

TEST_F(CdbBuildTest, StreamedBuildHasThePlannedBuildsBytesAndWarnings) {
  dir_.WriteFile("src", MessySource(120000, 11));
  ASSERT_GT(std::filesystem::file_size(dir_.path() / "src"), 4u << 20);
  for (DuplicatePolicy policy :
       {DuplicatePolicy::kFirstWarn, DuplicatePolicy::kFirst,
        DuplicatePolicy::kLast}) {
    for (NulMode nul : {NulMode::kDefault, NulMode::kWith}) {
      BuildOptions opts;
      opts.duplicates = policy;
      opts.nul = nul;
      SourceBuildResult got = Stream("src", opts);
      std::vector<Diagnostic> want = Planned("src", "ref", "tiny", opts);
      const std::string bytes = Bytes("src");
      EXPECT_EQ(bytes, Bytes("ref")) << static_cast<int>(policy);
      EXPECT_EQ(bytes, Bytes("tiny")) << static_cast<int>(policy);
      EXPECT_EQ(Texts(got.diagnostics), Texts(want));
      EXPECT_TRUE(got.written);
      if (policy == DuplicatePolicy::kFirstWarn) {
        EXPECT_GT(want.size(), 1000u);  // the source has many duplicates
      }
    }
  }
}

TEST_F(CdbBuildTest, DuplicatesKeepTheFirstByDefaultAndTheLastWithReplace) {
  dir_.WriteFile("src", "a 1\nb 2\nA 3\n\nc 4\na 5\n");
  BuildOptions first;
  SourceBuildResult r = Stream("src", first);
  EXPECT_EQ(r.entries, 3u);
  const std::string origin = Spec("src").path;
  EXPECT_EQ(Texts(r.diagnostics),
            (std::vector<std::string>{
                origin + ":3: duplicate entry: \"a\" (first seen on line 1)",
                origin + ":6: duplicate entry: \"a\" (first seen on line 1)"}));
  Planned("src", "ref", "tiny", first);
  EXPECT_EQ(Bytes("src"), Bytes("ref"));

  BuildOptions last;
  last.duplicates = DuplicatePolicy::kLast;
  r = Stream("src", last);
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.entries, 3u);
  Planned("src", "ref", "tiny", last);
  EXPECT_EQ(Bytes("src"), Bytes("tiny"));
  // The records left: b, c, then a with the last value.
  const std::string bytes = Bytes("src");
  EXPECT_NE(bytes.find("b2"), std::string::npos);
  EXPECT_LT(bytes.find("c4"), bytes.find("a5"));
  EXPECT_EQ(bytes.find("a1"), std::string::npos);
}

// Two different keys with the same 32-bit cdb hash (a birthday search
// over random 10-letter keys: 400,000 of them give ~18 pairs): both are
// kept, and repeats of each are dropped.
// The duplicates come late in the slot fill (their tables after the
// first table with a record): the tables written before are dropped.
TEST_F(CdbBuildTest, DuplicatesFoundLateInTheFillStillGiveTheSameBytes) {
  dir_.WriteFile("src",
                 "Alice@Example.com  one\nbob@example.com two\n# c\n"
                 "alice@example.com three\n  cont\nnovalue\ncarol@x  four\n"
                 "  five\nBOB@example.com six\n");
  ASSERT_LT(cdb::Hash("carol@x") & 255, cdb::Hash("bob@example.com") & 255);
  for (DuplicatePolicy policy :
       {DuplicatePolicy::kFirstWarn, DuplicatePolicy::kLast}) {
    BuildOptions opts;
    opts.duplicates = policy;
    Stream("src", opts);
    Planned("src", "ref", "tiny", opts);
    EXPECT_EQ(Bytes("src"), Bytes("tiny"));
    EXPECT_TRUE(VerifyProblems("src").empty());
  }
}

// postmap -w keeps every record; a lookup finds the first.
TEST_F(CdbBuildTest, IgnoreDuplicatesKeepsEveryRecordAndTheFirstIsFound) {
  dir_.WriteFile("src", "a 1\nb 2\na 3\n");
  BuildOptions opts;
  opts.duplicates = DuplicatePolicy::kFirst;
  SourceBuildResult r = Stream("src", opts);
  EXPECT_EQ(r.entries, 3u);
  EXPECT_TRUE(r.diagnostics.empty());
  auto table = OpenTable(Spec("src"), {});
  ASSERT_TRUE(table.has_value());
  auto unit = (*table)->Begin();
  ASSERT_TRUE(unit.has_value());
  auto v = (*unit)->GetRaw("a");
  ASSERT_TRUE(v.has_value() && v->has_value());
  EXPECT_EQ(**v, "1");
}

TEST_F(CdbBuildTest, KeysWithTheSameHashAreNotDuplicates) {
  std::unordered_map<std::uint32_t, std::string> seen;
  std::mt19937 rng(1);
  std::string k1, k2;
  for (int i = 0; i < 400000 && k2.empty(); ++i) {
    std::string k(10, 'a');
    for (char& c : k) c = static_cast<char>('a' + rng() % 26);
    auto [it, fresh] = seen.emplace(cdb::Hash(k), k);
    if (!fresh && it->second != k) {
      k1 = it->second;
      k2 = k;
    }
  }
  ASSERT_FALSE(k2.empty());
  ASSERT_EQ(cdb::Hash(k1), cdb::Hash(k2));
  dir_.WriteFile("src", k1 + " one\n" + k2 + " two\n" + k1 + " again\n" +
                            k2 + " again\n");
  for (DuplicatePolicy policy :
       {DuplicatePolicy::kFirstWarn, DuplicatePolicy::kLast}) {
    BuildOptions opts;
    opts.duplicates = policy;
    SourceBuildResult r = Stream("src", opts);
    EXPECT_EQ(r.entries, 2u);
    EXPECT_EQ(r.diagnostics.size(),
              policy == DuplicatePolicy::kFirstWarn ? 2u : 0u);
    Planned("src", "ref", "tiny", opts);
    EXPECT_EQ(Bytes("src"), Bytes("tiny"));
    auto table = OpenTable(Spec("src"), {});
    ASSERT_TRUE(table.has_value());
    auto unit = (*table)->Begin();
    ASSERT_TRUE(unit.has_value());
    auto v1 = (*unit)->GetRaw(k1);
    auto v2 = (*unit)->GetRaw(k2);
    ASSERT_TRUE(v1.has_value() && v1->has_value());
    ASSERT_TRUE(v2.has_value() && v2->has_value());
    const bool last = policy == DuplicatePolicy::kLast;
    EXPECT_EQ(**v1, last ? "again" : "one");
    EXPECT_EQ(**v2, last ? "again" : "two");
  }
}

TEST_F(CdbBuildTest, EmptySourceGivesTheBareHeader) {
  dir_.WriteFile("src", "# nothing here\n\n");
  SourceBuildResult r = Stream("src", {});
  EXPECT_EQ(r.entries, 0u);
  EXPECT_TRUE(r.diagnostics.empty());
  Planned("src", "ref", "tiny", {});
  EXPECT_EQ(Bytes("src").size(), 2048u);
  EXPECT_EQ(Bytes("src"), Bytes("tiny"));
}

// A value larger than the read buffer: the buffer grows for the line.
TEST_F(CdbBuildTest, ValueLargerThanTheReadBufferIsStoredWhole) {
  const std::string huge(9u << 20, 'v');
  dir_.WriteFile("src", "before 1\nbig " + huge + "\n  continued\nafter 2\n");
  SourceBuildResult r = Stream("src", {});
  EXPECT_EQ(r.entries, 3u);
  Planned("src", "ref", "tiny", {});
  EXPECT_EQ(Bytes("src"), Bytes("tiny"));
  auto table = OpenTable(Spec("src"), {});
  ASSERT_TRUE(table.has_value());
  auto unit = (*table)->Begin();
  ASSERT_TRUE(unit.has_value());
  auto v = (*unit)->GetRaw("big");
  ASSERT_TRUE(v.has_value() && v->has_value());
  EXPECT_EQ(**v, huge + "  continued");
}

TEST_F(CdbBuildTest, StrictWithWarningsWritesNothingAndKeepsTheOldTable) {
  dir_.WriteFile("src", "a 1\n");
  Stream("src", {});
  const std::string before = Bytes("src");
  dir_.WriteFile("src", "a 2\nnovalue\n");
  SourceBuildResult r = Stream("src", {}, /*strict=*/true);
  EXPECT_FALSE(r.written);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].line, 2u);
  EXPECT_EQ(Bytes("src"), before);
  EXPECT_EQ(FilesInDir(), 2u);  // the source and the old table
}

TEST_F(CdbBuildTest, FailedWriteKeepsTheOldTableAndReportsEveryWarning) {
  dir_.WriteFile("src", "a 1\n");
  Stream("src", {});
  const std::string before = Bytes("src");
  std::string big = MessySource(60000, 5);
  dir_.WriteFile("src", big);
  Status st;
  SourceBuildResult r;
  testing::WithFileSizeLimit(1 << 20, [&] { r = Stream("src", {}, false, &st); });
  EXPECT_EQ(st.code(), ErrorCode::kIoError) << st.ToString();
  EXPECT_NE(st.message().find("previous table untouched"), std::string::npos)
      << st.message();
  EXPECT_FALSE(r.written);
  // The parse went on to the end: its warnings are all there.
  Result<ParsedMap> parsed = ParseMapFile(Spec("src").path, Parse("src"));
  ASSERT_TRUE(parsed.has_value());
  std::size_t parse_warnings = 0;
  for (const Diagnostic& d : r.diagnostics) {
    parse_warnings += d.kind != DiagnosticKind::kDuplicate;
  }
  EXPECT_EQ(parse_warnings, parsed->diagnostics().size());
  EXPECT_EQ(Bytes("src"), before);
  EXPECT_EQ(FilesInDir(), 2u);
}

TEST_F(CdbBuildTest, MissingSourceIsAnErrorAndCreatesNothing) {
  Status st;
  Stream("absent", {}, false, &st);
  EXPECT_EQ(st.message(),
            "open " + Spec("absent").path + ": No such file or directory");
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(CdbBuildTest, OtherTypesAreNotBuiltFromTheSource) {
  EXPECT_TRUE(CanBuildFromSource(TableType::kCdb));
  EXPECT_FALSE(CanBuildFromSource(TableType::kLmdb));
  SourceBuildResult r;
  Status st = BuildTableFromSource(TableSpec{TableType::kLmdb, "x"}, "x",
                                   ParseOptions{}, BuildOptions{}, Src(), false,
                                   &r);
  EXPECT_EQ(st.code(), ErrorCode::kUnsupported);
}

// The 4 GiB limit of 32-bit positions, reached with a lowered limit: the
// writer refuses the record that would pass it, and the finish refuses a
// table whose slots would.
TEST_F(CdbBuildTest, WriterRefusesAFileOverItsSizeLimit) {
  const std::string path = (dir_.path() / "limit").string();
  testing::WriteBytes(path, "");
  const int fd = open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  cdb::WriterOptions opts;
  opts.target = "limit.cdb";
  opts.max_file_size = 2048 + 10 * (8 + 2 + 2 + 16);
  cdb::Writer writer(fd, path, opts);
  const std::string_view key = "kk", value = "vv";
  const std::uint32_t line = 1;
  for (int i = 0; i < 10; ++i) ASSERT_OK(writer.Add(&key, &value, &line, 1));
  Status st = writer.Add(&key, &value, &line, 1);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "cannot write limit.cdb: a cdb file is limited to 4 GiB, too "
            "small for these 11 entries");
  std::vector<Diagnostic> warnings;
  EXPECT_OK(writer.Finish(&warnings));  // ten records fit exactly
  EXPECT_EQ(warnings.size(), 9u);       // all the same key
  EXPECT_EQ(writer.written(), 1u);
  close(fd);
}

}  // namespace
}  // namespace mapctl
