// tables/cdb_reader.cc - cdb tables read through a checked mapping.
//
// The file never changes in place (postmap and mapctl both rename a new
// file over it), so it is mapped read-only and read without any lock, as
// Postfix does. Every position is checked against the file size before
// use: a damaged file gives kCorruption, never a bad read. The layout is
// in cdb_format.h.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "mapctl/table.h"
#include "tables/cdb_format.h"
#include "tables/table_backends.h"

namespace mapctl {
namespace cdb {
namespace {

// A read-only mapping of a whole file, and the descriptor it came from.
struct Mapped {
  ~Mapped() {
    if (data != nullptr && data != MAP_FAILED) {
      munmap(const_cast<unsigned char*>(data), size);
    }
    if (fd >= 0) close(fd);
  }
  int fd = -1;
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  std::uint64_t identity = 0;
  Layout layout;
  std::uint64_t data_end() const noexcept { return layout.data_end; }
};

Result<std::shared_ptr<Mapped>> MapFile(const std::string& name) {
  auto m = std::make_shared<Mapped>();
  m->fd = open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (m->fd < 0) return Status::IoError("open database " + name, errno);
  struct stat st;
  if (fstat(m->fd, &st) != 0) return Status::IoError("stat " + name, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("open database " + name +
                                   ": not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  unsigned char header[kHeaderSize];
  if (size >= kHeaderSize) {
    ssize_t n = pread(m->fd, header, sizeof(header), 0);
    if (n < 0) return Status::IoError("read " + name, errno);
    if (static_cast<std::size_t>(n) != sizeof(header)) {
      return Status::Corruption(name + ": truncated (short read)");
    }
  }
  MAPCTL_RETURN_IF_ERROR(CheckHeader(header, size, name, &m->layout));
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, m->fd, 0);
  if (p == MAP_FAILED) return Status::IoError("mmap " + name, errno);
  m->data = static_cast<const unsigned char*>(p);
  m->size = static_cast<std::size_t>(size);
  // Replaced files get new inodes; with the mtime this tells tables apart.
  std::uint64_t h = (static_cast<std::uint64_t>(st.st_dev) << 32) ^
                    static_cast<std::uint64_t>(st.st_ino) ^
                    (static_cast<std::uint64_t>(st.st_mtim.tv_nsec) << 20) ^
                    static_cast<std::uint64_t>(st.st_mtim.tv_sec);
  m->identity = h * 0x9E3779B97F4A7C15ull;
  return m;
}

class CdbReadUnit final : public ReadUnit {
 public:
  CdbReadUnit(std::shared_ptr<Mapped> map, const std::string& name)
      : map_(std::move(map)), name_(name) {}

  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    const Mapped& m = *map_;
    const std::uint32_t h = Hash(key);
    const std::uint32_t n = m.layout.slots[h & 255];
    if (n == 0) return std::optional<std::string_view>();
    const std::uint64_t table = m.layout.pos[h & 255];
    std::uint32_t slot = (h >> 8) % n;
    for (std::uint32_t probes = 0; probes < n; ++probes) {
      const unsigned char* s = m.data + table + 8 * std::uint64_t{slot};
      const std::uint32_t rpos = Load32(s + 4);
      if (rpos == 0) break;
      if (Load32(s) == h) {
        if (rpos < kHeaderSize || std::uint64_t{rpos} + 8 > m.data_end()) {
          return BadRecord(rpos);
        }
        const std::uint32_t klen = Load32(m.data + rpos);
        const std::uint32_t vlen = Load32(m.data + rpos + 4);
        if (std::uint64_t{rpos} + 8 + klen + vlen > m.data_end()) {
          return BadRecord(rpos);
        }
        const char* k = reinterpret_cast<const char*>(m.data) + rpos + 8;
        if (klen == key.size() && std::memcmp(k, key.data(), klen) == 0) {
          return std::optional<std::string_view>(
              std::string_view(k + klen, vlen));
        }
      }
      if (++slot == n) slot = 0;
    }
    return std::optional<std::string_view>();
  }

  // File order; the token is the offset of the next record, in decimal.
  Status Scan(ScanCursor& cursor, std::size_t limit,
              const RawVisitor& visit) override {
    if (cursor.done || limit == 0) return Status::Ok();
    const Mapped& m = *map_;
    std::uint64_t pos = kHeaderSize;
    if (cursor.started) {
      const char* b = cursor.token.data();
      auto [end, ec] = std::from_chars(b, b + cursor.token.size(), pos);
      if (ec != std::errc() || end != b + cursor.token.size()) {
        return Status::InvalidArgument("bad scan position for " + name_);
      }
    }
    cursor.started = true;
    std::size_t visited = 0;
    bool go_on = true;
    while (go_on && visited < limit && pos < m.data_end()) {
      if (pos + 8 > m.data_end()) return BadRecord(pos);
      const std::uint32_t klen = Load32(m.data + pos);
      const std::uint32_t vlen = Load32(m.data + pos + 4);
      const std::uint64_t next = pos + 8 + klen + vlen;
      if (next > m.data_end()) return BadRecord(pos);
      const char* k = reinterpret_cast<const char*>(m.data) + pos + 8;
      pos = next;
      ++visited;
      go_on =
          visit(std::string_view(k, klen), std::string_view(k + klen, vlen));
    }
    cursor.token = std::to_string(pos);
    if (pos >= m.data_end()) cursor.done = true;
    return Status::Ok();
  }

  std::uint64_t version() const override { return map_->identity; }

 private:
  Status BadRecord(std::uint64_t pos) const {
    return Status::Corruption("read " + name_ + ": record at offset " +
                              std::to_string(pos) +
                              " runs past the end of the data");
  }

  std::shared_ptr<Mapped> map_;
  std::string name_;  // a copy: a unit may outlive its reader
};

class CdbReader final : public TableReader {
 public:
  CdbReader(TableSpec spec, std::string name, std::shared_ptr<Mapped> map)
      : TableReader(std::move(spec)),
        name_(std::move(name)),
        map_(std::move(map)) {}

  bool sorted() const noexcept override { return false; }

  Result<std::unique_ptr<ReadUnit>> Begin() override {
    // A rebuilt table replaced ours by rename; Postfix daemons notice
    // st_nlink == 0 and restart (util/dict.c), we follow the name.
    struct stat st;
    if (fstat(map_->fd, &st) == 0 && st.st_nlink == 0) {
      Result<std::shared_ptr<Mapped>> fresh = MapFile(name_);
      if (!fresh) return std::move(fresh).error();
      map_ = std::move(fresh).value();
    }
    return std::unique_ptr<ReadUnit>(new CdbReadUnit(map_, name_));
  }

 private:
  std::string name_;
  std::shared_ptr<Mapped> map_;
};
}  // namespace
}  // namespace cdb

Result<std::unique_ptr<TableReader>> OpenCdbTable(const TableSpec& spec) {
  std::string name = spec.FileName();
  Result<std::shared_ptr<cdb::Mapped>> map = cdb::MapFile(name);
  if (!map) return std::move(map).error();
  return std::unique_ptr<TableReader>(
      new cdb::CdbReader(spec, std::move(name), std::move(map).value()));
}

}  // namespace mapctl
