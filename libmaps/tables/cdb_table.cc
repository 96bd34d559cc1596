// tables/cdb_table.cc - cdb tables: writer, checked reader, verifier.
//
// The format is D. J. Bernstein's cdb as tinycdb writes it for Postfix
// (util/dict_cdb.c; spec 4.4): a 2048-byte header of 256 little-endian
// (u32 position, u32 slot count) pairs, the records (u32 klen, u32 vlen,
// key, value), then 256 hash tables of (u32 hash, u32 record position)
// slots. A key's hash h starts at 5381 and takes h = ((h << 5) + h) ^ byte;
// table h & 255 has twice as many slots as records, the first probe is
// (h >> 8) % slots, and collisions probe linearly.
//
// Writing: our own writer, not tinycdb's cdb_make. It lays the file out
// exactly as cdb_make does (records in the order given, slots filled in
// that order, so the bytes are identical; cdb_table_test checks that) but
// writes through one large buffer and sorts the slots by table with a
// counting sort instead of per-table linked chunks. docs/table-formats.md
// has the measurement. tinycdb's writer stays available as
// cdb::WriteCdbTableWithTinycdb() for that comparison and for the tests.
//
// Records go in source order, the duplicates PlanBuild() dropped left
// out: cdb lookups do not care about order, and source order keeps the
// writer's reads of the entries sequential. postmap's file has the same
// order (tinycdb's CDB_PUT_REPLACE for -r removes the earlier record, so
// only the position of a replaced key can differ).
//
// Reading: the file never changes in place (postmap and mapctl both
// rename a new file over it), so it is mapped read-only and read without
// any lock, as Postfix does. Every position is checked against the file
// size before use: a damaged file gives kCorruption, never a bad read.

#include <cdb.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "util/atomic_file.h"
#include "mapctl/table.h"
#include "util/file_image.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"

namespace mapctl {
namespace cdb {
namespace {

constexpr std::uint64_t kMaxFileSize = 0xFFFFFFFFull;  // u32 positions
constexpr std::size_t kWriteBuffer = 1u << 20;
constexpr std::size_t kProgressEvery = 65536;
constexpr std::size_t kMaxProblems = 200;

inline std::uint32_t Load32(const unsigned char* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) |
         static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 |
         static_cast<std::uint32_t>(p[3]) << 24;
}

inline void Store32(unsigned char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
  p[2] = static_cast<unsigned char>(v >> 16);
  p[3] = static_cast<unsigned char>(v >> 24);
}

Status WriteAll(int fd, const unsigned char* p, std::size_t n,
                const std::string& name) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("write " + name, errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return Status::Ok();
}

// Appends to a file through one large buffer.
class BufferedOut {
 public:
  BufferedOut(int fd, const std::string& name)
      : fd_(fd), name_(name), buf_(new unsigned char[kWriteBuffer]) {}

  Status Append(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    if (used_ + n > kWriteBuffer) {
      MAPCTL_RETURN_IF_ERROR(Flush());
      if (n >= kWriteBuffer) return WriteAll(fd_, p, n, name_);
    }
    std::memcpy(buf_.get() + used_, p, n);
    used_ += n;
    return Status::Ok();
  }
  Status Flush() {
    Status st = WriteAll(fd_, buf_.get(), used_, name_);
    used_ = 0;
    return st;
  }

 private:
  int fd_;
  std::string name_;  // a copy: a unit may outlive its reader
  std::unique_ptr<unsigned char[]> buf_;
  std::size_t used_ = 0;
};

// The header says where each hash table is; derived facts about a file
// that passed CheckHeader().
struct Layout {
  std::uint32_t pos[256];
  std::uint32_t slots[256];
  std::uint64_t data_end;  // the first hash table: records end here
};

// The checks made before any lookup trusts the file. `size` is the file
// size; `data` holds at least the header when size >= 2048.
Status CheckHeader(const unsigned char* data, std::uint64_t size,
                   const std::string& name, Layout* out) {
  if (size == 0) {
    return Status::Corruption(name +
                              ": empty file (zero length), not a cdb "
                              "table");
  }
  if (size < kHeaderSize) {
    return Status::Corruption(name + ": truncated or not a cdb file (" +
                              std::to_string(size) +
                              " bytes, shorter than the 2048-byte header)");
  }
  if (size > kMaxFileSize) {
    return Status::Corruption(name + ": not a cdb file (larger than 4 GiB)");
  }
  std::uint64_t data_end = size;
  std::uint64_t tables_end = kHeaderSize;
  for (int t = 0; t < 256; ++t) {
    out->pos[t] = Load32(data + 8 * t);
    out->slots[t] = Load32(data + 8 * t + 4);
    const std::uint64_t end =
        std::uint64_t{out->pos[t]} + 8 * std::uint64_t{out->slots[t]};
    if (out->pos[t] < kHeaderSize || end > kMaxFileSize) {
      return Status::Corruption(name + ": not a cdb file (hash table " +
                                std::to_string(t) + " at offset " +
                                std::to_string(out->pos[t]) + ")");
    }
    data_end = std::min<std::uint64_t>(data_end, out->pos[t]);
    tables_end = std::max(tables_end, end);
  }
  if (tables_end > size) {
    return Status::Corruption(name + ": truncated (" + std::to_string(size) +
                              " bytes, its hash tables end at " +
                              std::to_string(tables_end) + ")");
  }
  out->data_end = data_end;
  return Status::Ok();
}

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

// VerifyCdbImage's walk, with its findings.
class Walker {
 public:
  Walker(const unsigned char* data, std::size_t size,
         std::vector<std::string>* problems)
      : data_(data), size_(size), problems_(problems) {}

  void Run() {
    Layout layout;
    Status st = CheckHeader(data_, size_, "file", &layout);
    if (!st.ok()) {
      // "file: ..." -> "...": the caller prefixes the file name.
      Problem(st.message().substr(6));
      return;
    }
    CheckTableLayout(layout);
    WalkRecords(layout.data_end);
    CheckSlots(layout);
  }

 private:
  struct Record {
    std::uint32_t pos;
    std::uint32_t hash;
  };

  void Problem(std::string msg) {
    if (problems_->size() < kMaxProblems) {
      problems_->push_back(std::move(msg));
    } else if (problems_->size() == kMaxProblems) {
      problems_->push_back("too many problems; not reporting more");
    }
  }

  // cdb writers put the tables in order right after the records, each
  // right after the previous one, and end the file with the last.
  void CheckTableLayout(const Layout& l) {
    std::uint64_t expect = l.data_end;
    for (int t = 0; t < 256; ++t) {
      if (l.pos[t] != expect) {
        Problem("hash table " + std::to_string(t) + " at offset " +
                std::to_string(l.pos[t]) + ", expected " +
                std::to_string(expect));
        expect = l.pos[t];
      }
      expect += 8 * std::uint64_t{l.slots[t]};
    }
    if (expect != size_) {
      Problem(std::to_string(size_ - std::min<std::uint64_t>(expect, size_)) +
              " bytes after the last hash table");
    }
  }

  void WalkRecords(std::uint64_t data_end) {
    std::uint64_t pos = kHeaderSize;
    while (pos < data_end) {
      if (pos + 8 > data_end) {
        Problem("record at offset " + std::to_string(pos) +
                " runs past the end of the data (" + std::to_string(data_end) +
                ")");
        return;
      }
      const std::uint64_t klen = Load32(data_ + pos);
      const std::uint64_t vlen = Load32(data_ + pos + 4);
      if (pos + 8 + klen + vlen > data_end) {
        Problem("record at offset " + std::to_string(pos) + " (" +
                std::to_string(klen) + "-byte key, " + std::to_string(vlen) +
                "-byte value) runs past the end of the data (" +
                std::to_string(data_end) + ")");
        return;
      }
      records_.push_back(
          {static_cast<std::uint32_t>(pos),
           Hash(std::string_view(reinterpret_cast<const char*>(data_) + pos + 8,
                                 klen))});
      pos += 8 + klen + vlen;
    }
  }

  const Record* FindRecord(std::uint32_t pos) const {
    auto it = std::lower_bound(
        records_.begin(), records_.end(), pos,
        [](const Record& r, std::uint32_t p) { return r.pos < p; });
    return it != records_.end() && it->pos == pos ? &*it : nullptr;
  }

  // Every used slot must name a record start whose key hashes to the
  // stored hash and to this table, and be reachable from the key's first
  // probe without crossing an empty slot; every record must be in exactly
  // one slot.
  void CheckSlots(const Layout& l) {
    std::vector<bool> seen(records_.size());
    std::vector<std::uint64_t> per_table(256);
    for (const Record& r : records_) ++per_table[r.hash & 255];
    std::uint64_t used_total = 0;
    for (int t = 0; t < 256; ++t) {
      const std::uint32_t n = l.slots[t];
      const unsigned char* table = data_ + l.pos[t];
      std::uint64_t used = 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t h = Load32(table + 8 * std::uint64_t{i});
        const std::uint32_t rpos = Load32(table + 8 * std::uint64_t{i} + 4);
        if (rpos == 0) continue;
        ++used;
        const std::string where =
            "hash table " + std::to_string(t) + " slot " + std::to_string(i);
        const Record* r = FindRecord(rpos);
        if (r == nullptr) {
          Problem(where + " points to offset " + std::to_string(rpos) +
                  ", which is not the start of a record");
          continue;
        }
        if (r->hash != h || (h & 255) != static_cast<std::uint32_t>(t)) {
          Problem(where + ": the record at offset " + std::to_string(rpos) +
                  " has a key that hashes elsewhere");
          continue;
        }
        // Lookups stop at the first empty slot after the first probe.
        for (std::uint32_t j = (h >> 8) % n; j != i;
             j = j + 1 == n ? 0 : j + 1) {
          if (Load32(table + 8 * std::uint64_t{j} + 4) == 0) {
            Problem(where + ": the record at offset " + std::to_string(rpos) +
                    " cannot be found (an empty slot comes first)");
            break;
          }
        }
        const std::size_t index = static_cast<std::size_t>(r - records_.data());
        if (seen[index]) {
          Problem(where + ": the record at offset " + std::to_string(rpos) +
                  " is in more than one slot");
        }
        seen[index] = true;
      }
      if (used != per_table[t]) {
        Problem("hash table " + std::to_string(t) + " has " +
                std::to_string(used) + " used slots for " +
                std::to_string(per_table[t]) + " records");
      }
      used_total += used;
    }
    std::uint64_t missing = 0;
    for (std::size_t i = 0; i < records_.size(); ++i) {
      if (seen[i]) continue;
      if (++missing <= 10) {
        Problem("the record at offset " + std::to_string(records_[i].pos) +
                " is in no hash slot (lookups cannot find it)");
      }
    }
    if (missing > 10) {
      Problem(std::to_string(missing - 10) + " more records in no hash slot");
    }
    (void)used_total;
  }

  const unsigned char* data_;
  std::size_t size_;
  std::vector<std::string>* problems_;
  std::vector<Record> records_;  // in file order, so sorted by position
};

}  // namespace

std::uint32_t Hash(std::string_view key) noexcept {
  std::uint32_t h = 5381;
  for (unsigned char c : key) h = ((h << 5) + h) ^ c;
  return h;
}

void Hash4(const std::string_view* keys, int n, std::uint32_t* out) noexcept {
  if (n < 4) {
    for (int j = 0; j < n; ++j) out[j] = Hash(keys[j]);
    return;
  }
  const auto* a = reinterpret_cast<const unsigned char*>(keys[0].data());
  const auto* b = reinterpret_cast<const unsigned char*>(keys[1].data());
  const auto* c = reinterpret_cast<const unsigned char*>(keys[2].data());
  const auto* d = reinterpret_cast<const unsigned char*>(keys[3].data());
  const std::size_t common = std::min(std::min(keys[0].size(), keys[1].size()),
                                      std::min(keys[2].size(), keys[3].size()));
  std::uint32_t ha = 5381, hb = 5381, hc = 5381, hd = 5381;
  for (std::size_t i = 0; i < common; ++i) {
    ha = ((ha << 5) + ha) ^ a[i];
    hb = ((hb << 5) + hb) ^ b[i];
    hc = ((hc << 5) + hc) ^ c[i];
    hd = ((hd << 5) + hd) ^ d[i];
  }
  std::uint32_t h[4] = {ha, hb, hc, hd};
  for (int j = 0; j < 4; ++j) {
    const auto* p = reinterpret_cast<const unsigned char*>(keys[j].data());
    for (std::size_t i = common; i < keys[j].size(); ++i) {
      h[j] = ((h[j] << 5) + h[j]) ^ p[i];
    }
    out[j] = h[j];
  }
}

void VerifyCdbImage(const unsigned char* data, std::size_t size,
                    std::vector<std::string>* problems) {
  Walker(data, size, problems).Run();
}

Status WriteCdbTableWithTinycdb(const TableSpec& spec,
                                std::span<const Entry> entries,
                                const BuildPlan& plan,
                                const BuildOptions& options,
                                const SourceFileInfo& source) {
  const std::string target = spec.FileName();
  const std::size_t nul = options.nul == NulMode::kWith ? 1 : 0;
  std::vector<bool> keep(entries.size());
  for (std::uint32_t idx : plan.order) {
    if (idx >= entries.size()) {
      return Status::InvalidArgument("build plan does not match its entries");
    }
    keep[idx] = true;
  }
  AtomicFileOptions fopts;
  fopts.source = source;
  fopts.copy_source_mode = options.copy_source_mode;
  fopts.take_source_owner = options.take_source_owner;
  Result<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(target, fopts);
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;
  struct cdb_make cdbm;
  if (cdb_make_start(&cdbm, out.fd()) != 0) {
    return Status::IoError("cdb_make_start " + out.temp_path(), errno);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!keep[i]) continue;
    const Entry& e = entries[i];
    if (cdb_make_add(&cdbm, e.key().data(),
                     static_cast<unsigned>(e.key().size() + nul),
                     e.value().data(),
                     static_cast<unsigned>(e.value().size() + nul)) != 0) {
      // cdb_make keeps its record lists until cdb_make_finish().
      int err = errno;
      (void)cdb_make_finish(&cdbm);
      return ExplainBuildFailure(
          Status::IoError("write " + out.temp_path(), err), out.fd(), target);
    }
  }
  if (cdb_make_finish(&cdbm) != 0) {
    return ExplainBuildFailure(
        Status::IoError("write " + out.temp_path(), errno), out.fd(), target);
  }
  return out.Commit();
}

}  // namespace cdb

Status WriteCdbTable(const TableSpec& spec, std::span<const Entry> entries,
                     const BuildPlan& plan, const BuildOptions& options,
                     const SourceFileInfo& source) {
  const std::string target = spec.FileName();
  // cdb's own default is no NUL (dict_cdb.c); -N adds one.
  const std::size_t nul = options.nul == NulMode::kWith ? 1 : 0;

  // Records go out in source order. PlanBuild's plan for cdb is already
  // in source order (duplicates dropped): it is used as it is. A plan in
  // any other order (key order, from a caller's own plan) is turned into
  // the set of surviving entries, then written in one sequential pass.
  bool in_source_order = true;
  for (std::size_t k = 0; k < plan.order.size(); ++k) {
    if (plan.order[k] >= entries.size()) {
      return Status::InvalidArgument("build plan does not match its entries");
    }
    if (k > 0 && plan.order[k] <= plan.order[k - 1]) in_source_order = false;
  }
  std::vector<std::uint32_t> sorted_order;
  if (!in_source_order) {
    std::vector<std::uint8_t> keep(entries.size());
    for (std::uint32_t idx : plan.order) keep[idx] = 1;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (keep[i]) sorted_order.push_back(static_cast<std::uint32_t>(i));
    }
  }
  const std::vector<std::uint32_t>& order =
      in_source_order ? plan.order : sorted_order;
  const std::size_t count = order.size();
  // Positions are 32-bit: header, records and 16 bytes of slots per
  // record must stay below 4 GiB. Checked as the records are written.
  const std::uint64_t slot_bytes = 16 * std::uint64_t{count};
  auto too_large = [&]() {
    return Status::InvalidArgument("cannot write " + target +
                                   ": a cdb file is limited to 4 GiB, too "
                                   "small for these " +
                                   std::to_string(count) + " entries");
  };
  if (cdb::kHeaderSize + slot_bytes > cdb::kMaxFileSize) return too_large();

  AtomicFileOptions fopts;
  fopts.source = source;
  fopts.copy_source_mode = options.copy_source_mode;
  fopts.take_source_owner = options.take_source_owner;
  Result<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(target, fopts);
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;
  // A failure to write names the table and the cause (a full disk), not
  // the temporary file.
  auto write = [&]() -> Status {
    if (lseek(out.fd(), cdb::kHeaderSize, SEEK_SET) < 0) {
      return Status::IoError("seek " + out.temp_path(), errno);
    }

    // (hash, position) of each record, in record order.
    struct Slot {
      std::uint32_t hash;
      std::uint32_t pos;
    };
    std::vector<Slot> recs(count);
    std::uint32_t per_table[256] = {};
    cdb::BufferedOut buf(out.fd(), out.temp_path());
    std::uint64_t pos = cdb::kHeaderSize;
    {
      std::size_t done = 0;
      std::size_t next_progress = cdb::kProgressEvery;
      // Records go out in groups of four whose keys are hashed together:
      // the cdb hash is one long dependency chain per key, and four chains
      // side by side keep the CPU busy.
      std::string_view ks[4], vs[4];
      int group = 0;
      auto flush_group = [&]() -> Status {
        std::uint32_t h[4];
        cdb::Hash4(ks, group, h);
        for (int j = 0; j < group; ++j) {
          unsigned char head[8];
          cdb::Store32(head, static_cast<std::uint32_t>(ks[j].size()));
          cdb::Store32(head + 4, static_cast<std::uint32_t>(vs[j].size()));
          MAPCTL_RETURN_IF_ERROR(buf.Append(head, 8));
          MAPCTL_RETURN_IF_ERROR(buf.Append(ks[j].data(), ks[j].size()));
          MAPCTL_RETURN_IF_ERROR(buf.Append(vs[j].data(), vs[j].size()));
          recs[done++] = {h[j], static_cast<std::uint32_t>(pos)};
          ++per_table[h[j] & 255];
          pos += 8 + ks[j].size() + vs[j].size();
        }
        group = 0;
        if (pos + slot_bytes > cdb::kMaxFileSize) return too_large();
        return Status::Ok();
      };
      for (std::uint32_t i : order) {
        const Entry& e = entries[i];
        // Entry guarantees a NUL just past each view: "key\0" is in place.
        ks[group] = std::string_view(e.key().data(), e.key().size() + nul);
        vs[group] = std::string_view(e.value().data(), e.value().size() + nul);
        if (++group == 4) {
          MAPCTL_RETURN_IF_ERROR(flush_group());
          if (options.progress && done >= next_progress) {
            options.progress(done, count);
            next_progress += cdb::kProgressEvery;
          }
        }
      }
      if (group > 0) MAPCTL_RETURN_IF_ERROR(flush_group());
    }
    sorted_order = std::vector<std::uint32_t>();

    // Group the records by table, keeping record order within a table (a
    // stable counting sort), then fill each table's slots in that order, as
    // cdb_make_finish() does; the bytes come out the same.
    std::uint32_t start[257];
    start[0] = 0;
    for (int t = 0; t < 256; ++t) start[t + 1] = start[t] + per_table[t];
    std::vector<Slot> grouped(count);
    {
      std::uint32_t fill[256];
      std::copy(start, start + 256, fill);
      for (const Slot& r : recs) grouped[fill[r.hash & 255]++] = r;
    }
    recs = std::vector<Slot>();

    unsigned char header[cdb::kHeaderSize];
    std::uint32_t max_slots = 0;
    for (int t = 0; t < 256; ++t) {
      max_slots = std::max(max_slots, 2 * per_table[t]);
    }
    std::vector<Slot> table(max_slots);
    std::vector<unsigned char> packed(8 * std::size_t{max_slots});
    for (int t = 0; t < 256; ++t) {
      const std::uint32_t n = 2 * per_table[t];
      cdb::Store32(header + 8 * t, static_cast<std::uint32_t>(pos));
      cdb::Store32(header + 8 * t + 4, n);
      if (n == 0) continue;
      std::fill_n(table.begin(), n, Slot{0, 0});
      for (std::uint32_t i = start[t]; i < start[t + 1]; ++i) {
        std::uint32_t s = (grouped[i].hash >> 8) % n;
        while (table[s].pos != 0) {
          if (++s == n) s = 0;
        }
        table[s] = grouped[i];
      }
      for (std::uint32_t s = 0; s < n; ++s) {
        cdb::Store32(&packed[8 * std::size_t{s}], table[s].hash);
        cdb::Store32(&packed[8 * std::size_t{s} + 4], table[s].pos);
      }
      MAPCTL_RETURN_IF_ERROR(buf.Append(packed.data(), 8 * std::size_t{n}));
      pos += 8 * std::uint64_t{n};
    }
    MAPCTL_RETURN_IF_ERROR(buf.Flush());
    ssize_t w = pwrite(out.fd(), header, sizeof(header), 0);
    if (w != static_cast<ssize_t>(sizeof(header))) {
      return Status::IoError("write " + out.temp_path(), w < 0 ? errno : EIO);
    }
    return Status::Ok();
  };
  MAPCTL_RETURN_IF_ERROR(ExplainBuildFailure(write(), out.fd(), target));
  if (options.progress) options.progress(count, count);
  return out.Commit();
}

Result<std::unique_ptr<TableReader>> OpenCdbTable(const TableSpec& spec) {
  std::string name = spec.FileName();
  Result<std::shared_ptr<cdb::Mapped>> map = cdb::MapFile(name);
  if (!map) return std::move(map).error();
  return std::unique_ptr<TableReader>(
      new cdb::CdbReader(spec, std::move(name), std::move(map).value()));
}

Status VerifyCdbTable(const TableSpec& spec,
                      std::vector<std::string>* problems) {
  const std::string name = spec.FileName();
  Result<FileImage> image = FileImage::Open(name);
  if (!image) return image.error();
  // What a reader refuses before trusting the file is "cannot verify", as
  // for lmdb: an error, not a list of problems.
  if (image->size() < 2048) {
    return Status::Corruption(
        name + (image->size() == 0 ? ": empty file (zero length)"
                                   : ": truncated: shorter than the "
                                     "2048-byte cdb header"));
  }
  cdb::VerifyCdbImage(image->data(), image->size(), problems);
  return Status::Ok();
}

}  // namespace mapctl
