// test_util.cc - TempDir and file helpers for unit tests.

#include "test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace mapctl::testing {

TempDir::TempDir() {
  std::string tmpl = ::testing::TempDir() + "mapctl-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::WriteFile(std::string_view name,
                               std::string_view contents,
                               unsigned mode) const {
  std::string full = (path_ / name).string();
  int fd = open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    ADD_FAILURE() << "open " << full << ": " << std::strerror(errno);
    return full;
  }
  std::size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = write(fd, contents.data() + off, contents.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  fchmod(fd, mode);
  close(fd);
  return full;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void Entries::Add(std::string key, std::string value, std::uint32_t line) {
  const std::size_t key_size = key.size();
  store_.push_back(std::move(key) + '\t' + value);
  const char* k = store_.back().data();
  const std::uint32_t at = line != 0 ? line : next_line_;
  entries_.emplace_back(k, static_cast<std::uint32_t>(key_size),
                        k + key_size + 1,
                        static_cast<std::uint32_t>(value.size()), at);
  next_line_ = at + 1;
}

Entries Numbered(int n, const std::string& tag) {
  Entries e;
  for (int i = 0; i < n; ++i) {
    e.Add("user" + std::to_string(i * 7919 % n) + "@example.com",
          tag + std::to_string(i * 7919 % n));
  }
  return e;
}

SourceFileInfo Src(std::uint32_t mode) {
  SourceFileInfo s;
  s.regular = true;
  s.mode = mode;
  s.uid = geteuid();
  s.gid = getegid();
  return s;
}

namespace {

class FakeUnit : public ReadUnit {
 public:
  explicit FakeUnit(FakeData* d) : d_(d) {}
  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    if (d_->fail_get) return Status::Corruption("fake: broken");
    auto it = d_->raw.find(std::string(key));
    if (it == d_->raw.end()) return std::optional<std::string_view>();
    return std::optional<std::string_view>(it->second);
  }
  Status Scan(ScanCursor&, std::size_t, const RawVisitor&) override {
    return Status::Ok();
  }
  std::uint64_t version() const override { return 1; }

 private:
  FakeData* d_;
};

}  // namespace

Result<std::unique_ptr<ReadUnit>> FakeReader::Begin() {
  ++d_->begins;
  return std::unique_ptr<ReadUnit>(new FakeUnit(d_));
}

bool Mentions(const std::vector<std::string>& problems, std::string_view text) {
  for (const std::string& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

namespace {

// mapctl dump's reading of one table; 0 or 2 as its exit status would be.
char DumpOne(const TableSpec& spec, bool verify) {
  OpenOptions options;
  options.verify = verify;
  Result<std::unique_ptr<TableReader>> reader = OpenTable(spec, options);
  if (!reader) return 2;
  ScanCursor cursor;
  volatile unsigned sum = 0;  // every byte read, as a dump writes them
  while (!cursor.done) {
    Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
    if (!unit) return 2;
    Status st = (*unit)->Scan(cursor, 4096,
                              [&](std::string_view k, std::string_view v) {
                                for (char c : StoredText(k)) sum = sum + c;
                                for (char c : StoredText(v)) sum = sum + c;
                                return true;
                              });
    if (!st.ok()) return 2;
  }
  return 0;
}

}  // namespace

std::vector<int> DumpInChildren(const std::vector<TableSpec>& specs,
                                bool verify) {
  std::vector<int> out;
  while (out.size() < specs.size()) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) break;
    pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      close(fds[0]);
      for (std::size_t i = out.size(); i < specs.size(); ++i) {
        char r = DumpOne(specs[i], verify);
        if (write(fds[1], &r, 1) != 1) _exit(3);
      }
      _exit(0);
    }
    close(fds[1]);
    for (char r; read(fds[0], &r, 1) == 1;) out.push_back(r);
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) break;
    if (out.size() < specs.size()) {  // it died on the next table
      out.push_back(WIFSIGNALED(status) ? -WTERMSIG(status)
                                        : 100 + WEXITSTATUS(status));
    }
  }
  return out;
}

std::string Mutate(const std::string& image, std::mt19937& rng) {
  std::string out = image;
  std::uniform_int_distribution<std::size_t> at(0, out.size() - 1);
  std::uniform_int_distribution<int> count(1, 8), byte(0, 255);
  for (int n = count(rng); n > 0; --n) {
    out[at(rng)] = static_cast<char>(byte(rng));
  }
  return out;
}

std::string Postmap(const std::filesystem::path& conf_dir) {
  const char* env = std::getenv("POSTMAP");
  std::string postmap =
      env != nullptr && *env != '\0' ? env : "/usr/sbin/postmap";
  if (access(postmap.c_str(), X_OK) != 0) return "";
  const std::string cf = (conf_dir / "main.cf").string();
  WriteBytes(cf, "compatibility_level = 3.6\n");
  struct utimbuf old = {1000000000, 1000000000};
  utime(cf.c_str(), &old);
  return postmap;
}

int RunProgram(const std::vector<std::string>& argv, std::string_view input,
               std::string* out) {
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return -1;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  // The child reads all of stdin before it writes much: write, then read.
  std::size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(in_pipe[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  close(in_pipe[1]);
  char buf[65536];
  for (ssize_t n; (n = read(out_pipe[0], buf, sizeof buf)) > 0;) {
    if (out != nullptr) out->append(buf, static_cast<std::size_t>(n));
  }
  close(out_pipe[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

void WithFileSizeLimit(std::uint64_t limit, const std::function<void()>& fn) {
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ign = {}, old_action;
  ign.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ign, &old_action);
  struct rlimit small = old_limit;
  small.rlim_cur = static_cast<rlim_t>(limit);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  fn();
  setrlimit(RLIMIT_FSIZE, &old_limit);
  sigaction(SIGXFSZ, &old_action, nullptr);
}

SmallFilesystem::SmallFilesystem(std::uint64_t bytes) {
  const std::string options = "size=" + std::to_string(bytes);
  mounted_ = mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                   options.c_str()) == 0;
}

SmallFilesystem::~SmallFilesystem() {
  if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
}

std::uint64_t SmallFilesystem::Free() const {
  struct statvfs vfs;
  if (statvfs(dir_.path().c_str(), &vfs) != 0) return 0;
  return std::uint64_t{vfs.f_bfree} * vfs.f_frsize;
}

void SmallFilesystem::FillLeaving(std::uint64_t leave) {
  const std::string filler = (dir_.path() / "filler").string();
  int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const std::string block(4096, 'f');
  while (Free() > leave + block.size()) {
    if (write(fd, block.data(), block.size()) <= 0) break;
  }
  close(fd);
}

}  // namespace mapctl::testing
