// atomic_file_test.cc - temporary file, flock, rename, mode and owner rules.

#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace mapctl {
namespace {

AtomicFileOptions Source(std::uint32_t mode, bool regular = true) {
  AtomicFileOptions o;
  o.source.regular = regular;
  o.source.mode = mode;
  o.source.uid = 1234;
  o.source.gid = 5678;
  return o;
}

struct stat Existing(std::uint32_t mode, uid_t uid = 42, gid_t gid = 43) {
  struct stat st {};
  st.st_mode = S_IFREG | mode;
  st.st_uid = uid;
  st.st_gid = gid;
  return st;
}

std::vector<std::string> DirNames(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FileAttrsTest, NewTableTakesTheSourcesReadBitsAsPostmapDoes) {
  // spec 5.5's observed source mode -> table mode pairs.
  const std::pair<std::uint32_t, std::uint32_t> cases[] = {
      {0600, 0600}, {0640, 0640}, {0604, 0604},
      {0644, 0644}, {0666, 0644}, {0400, 0600}};
  for (auto [src, want] : cases) {
    EXPECT_EQ(ComputeFileAttrs(Source(src), nullptr, 1000).mode, want)
        << std::oct << src;
  }
}

TEST(FileAttrsTest, DashPAndNonRegularSourcesGive0644) {
  AtomicFileOptions p = Source(0600);
  p.copy_source_mode = false;
  EXPECT_EQ(ComputeFileAttrs(p, nullptr, 1000).mode, 0644u);
  EXPECT_EQ(ComputeFileAttrs(Source(0, false), nullptr, 1000).mode, 0644u);
}

TEST(FileAttrsTest, ReplacingKeepsTheModeButDropsOtherBitsTheSourceLacks) {
  struct stat ex = Existing(0644);
  EXPECT_EQ(ComputeFileAttrs(Source(0644), &ex, 1000).mode, 0644u);
  EXPECT_EQ(ComputeFileAttrs(Source(0640), &ex, 1000).mode, 0640u);
  EXPECT_EQ(ComputeFileAttrs(Source(0600), &ex, 1000).mode, 0640u);
  struct stat ex2 = Existing(0666);
  EXPECT_EQ(ComputeFileAttrs(Source(0604), &ex2, 1000).mode, 0664u);
  AtomicFileOptions p = Source(0600);
  p.copy_source_mode = false;
  EXPECT_EQ(ComputeFileAttrs(p, &ex2, 1000).mode, 0666u);
  struct stat setuid = Existing(04755);
  EXPECT_EQ(ComputeFileAttrs(Source(0644), &setuid, 0).mode, 0754u);
}

TEST(FileAttrsTest, RootGivesANewTableTheSourcesOwnerUnlessDashO) {
  FileAttrs a = ComputeFileAttrs(Source(0640), nullptr, 0);
  EXPECT_EQ(a.uid, 1234u);
  EXPECT_EQ(a.gid, 5678u);
  AtomicFileOptions o = Source(0640);
  o.take_source_owner = false;
  a = ComputeFileAttrs(o, nullptr, 0);
  EXPECT_EQ(a.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(a.gid, static_cast<gid_t>(-1));
  // Not root: nothing to change.
  a = ComputeFileAttrs(Source(0640), nullptr, 1000);
  EXPECT_EQ(a.uid, static_cast<uid_t>(-1));
}

TEST(FileAttrsTest, ReplacingKeepsTheOwnerAsRootAndTheGroupOtherwise) {
  struct stat ex = Existing(0640, 42, 43);
  FileAttrs a = ComputeFileAttrs(Source(0640), &ex, 0);
  EXPECT_EQ(a.uid, 42u);
  EXPECT_EQ(a.gid, 43u);
  a = ComputeFileAttrs(Source(0640), &ex, 1000);
  EXPECT_EQ(a.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(a.gid, 43u);
}

class AtomicFileTest : public ::testing::Test {
 protected:
  std::string Target() const { return (dir_.path() / "t.lmdb").string(); }
  testing::TempDir dir_;
};

TEST_F(AtomicFileTest, CommitReplacesTheTargetAndLeavesNoTemporaryFile) {
  dir_.WriteFile("t.lmdb", "old", 0600);
  Result<std::unique_ptr<AtomicFile>> f =
      AtomicFile::Create(Target(), Source(0644));
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ((*f)->temp_path().rfind(Target() + ".mapctl-", 0), 0u);
  ASSERT_EQ(write((*f)->fd(), "new", 3), 3);
  EXPECT_EQ(testing::ReadFileOrDie(Target()), "old");
  ASSERT_OK((*f)->Commit());
  f->reset();
  EXPECT_EQ(testing::ReadFileOrDie(Target()), "new");
  EXPECT_EQ(DirNames(dir_.path()), std::vector<std::string>{"t.lmdb"});
}

TEST_F(AtomicFileTest, AbandonedBuildRemovesItsFileAndKeepsTheTarget) {
  dir_.WriteFile("t.lmdb", "old");
  {
    Result<std::unique_ptr<AtomicFile>> f =
        AtomicFile::Create(Target(), Source(0644));
    ASSERT_TRUE(f);
    ASSERT_EQ(write((*f)->fd(), "partial", 7), 7);
  }
  EXPECT_EQ(testing::ReadFileOrDie(Target()), "old");
  EXPECT_EQ(DirNames(dir_.path()), std::vector<std::string>{"t.lmdb"});
}

TEST_F(AtomicFileTest, ModeIsSetOnTheDescriptorWhateverTheUmask) {
  mode_t old = umask(077);
  Result<std::unique_ptr<AtomicFile>> f =
      AtomicFile::Create(Target(), Source(0644));
  umask(old);
  ASSERT_TRUE(f);
  ASSERT_OK((*f)->Commit());
  struct stat st;
  ASSERT_EQ(stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(AtomicFileTest, TheBuildHoldsAnExclusiveFlock) {
  Result<std::unique_ptr<AtomicFile>> f =
      AtomicFile::Create(Target(), Source(0644));
  ASSERT_TRUE(f);
  int other = open((*f)->temp_path().c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(other, 0);
  EXPECT_NE(flock(other, LOCK_EX | LOCK_NB), 0);
  close(other);
}

TEST_F(AtomicFileTest, LeftoversAreRemovedUnlessABuildHoldsThem) {
  dir_.WriteFile("t.lmdb.mapctl-dead01", "x");
  dir_.WriteFile("t.lmdb.mapctl-live01", "x");
  dir_.WriteFile("other.lmdb.mapctl-dead02", "x");  // another table's
  dir_.WriteFile("t.lmdb.mapctl-toolong1", "x");    // not our name shape
  int held = open((dir_.path() / "t.lmdb.mapctl-live01").c_str(),
                  O_RDONLY | O_CLOEXEC);
  ASSERT_GE(held, 0);
  ASSERT_EQ(flock(held, LOCK_EX), 0);
  EXPECT_EQ(RemoveAtomicLeftovers(Target()), 1);
  close(held);
  EXPECT_EQ(DirNames(dir_.path()),
            (std::vector<std::string>{"other.lmdb.mapctl-dead02",
                                      "t.lmdb.mapctl-live01",
                                      "t.lmdb.mapctl-toolong1"}));
}

TEST_F(AtomicFileTest, AsRootANewTableGetsTheSourcesOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Result<std::unique_ptr<AtomicFile>> f =
      AtomicFile::Create(Target(), Source(0640));
  ASSERT_TRUE(f) << f.error().ToString();
  ASSERT_OK((*f)->Commit());
  struct stat st;
  ASSERT_EQ(stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(AtomicFileTest, ReplacingKeepsTheExistingOwnerAndMode) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string t = dir_.WriteFile("t.lmdb", "old", 0604);
  ASSERT_EQ(chown(t.c_str(), 99, 98), 0);
  Result<std::unique_ptr<AtomicFile>> f =
      AtomicFile::Create(Target(), Source(0644));
  ASSERT_TRUE(f);
  ASSERT_OK((*f)->Commit());
  struct stat st;
  ASSERT_EQ(stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 99u);
  EXPECT_EQ(st.st_gid, 98u);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
}

TEST_F(AtomicFileTest, MissingDirectoryIsAnIoError) {
  Result<std::unique_ptr<AtomicFile>> f = AtomicFile::Create(
      (dir_.path() / "nodir" / "t.lmdb").string(), Source(0644));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(f.error().sys_errno(), ENOENT);
}

}  // namespace
}  // namespace mapctl
