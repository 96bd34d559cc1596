// tables/cdb_writer.cc - cdb files in the layout of cdb_format.h, written
// as the records come (cdb_writer.h), and WriteCdbTable() on top of it.
//
// Our own writer, not tinycdb's cdb_make. It lays the file out exactly as
// cdb_make does (records in the order given, each table's slots filled in
// record order, so the bytes are identical; cdb_table_test checks that
// against tests/tinycdb_writer.cc) but writes through one large buffer,
// hashes four keys side by side, and keeps per record only its hash and
// position (and its line, for warnings) in one array that grows by
// mremap, never by copying.
//
// At the end the slots are filled table by table. The records of a batch
// of tables are gathered from the array in record order (a few passes
// over it, rather than a second array as large as the first), and each
// table is filled by linear probing from (h >> 8) % slots. Two records
// with the same key have the same hash, so the later one's probe chain
// always passes the earlier one's slot: that is where duplicates are
// seen (cdb_writer.h). When one must go, the hash tables written so far
// are abandoned, the dropped records are cut out of the data, and the
// tables are filled again.

#include "tables/cdb_writer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "tables/stored_form.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"
#include "util/atomic_file.h"

namespace mapctl {
namespace cdb {
namespace {

constexpr std::size_t kWriteBuffer = 1u << 20;
constexpr std::size_t kProgressEvery = 65536;

Status PwriteAll(int fd, const unsigned char* p, std::size_t n,
                 std::uint64_t off, const std::string& name) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("write " + name, errno);
    }
    p += w;
    off += static_cast<std::uint64_t>(w);
    n -= static_cast<std::size_t>(w);
  }
  return Status::Ok();
}

Status PreadAll(int fd, unsigned char* p, std::size_t n, std::uint64_t off,
                const std::string& name) {
  while (n > 0) {
    ssize_t r = pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + name, errno);
    }
    if (r == 0) return Status::IoError("read " + name, EIO);  // truncated
    p += r;
    off += static_cast<std::uint64_t>(r);
    n -= static_cast<std::size_t>(r);
  }
  return Status::Ok();
}

// Writes sequentially from a given offset through one large buffer.
class BufferedOut {
 public:
  BufferedOut(int fd, const std::string& name)
      : fd_(fd), name_(name), buf_(new unsigned char[kWriteBuffer]) {}

  // Continues at `off`; what is buffered and not flushed is dropped.
  void Seek(std::uint64_t off) noexcept {
    used_ = 0;
    off_ = off;
  }

  Status Append(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    if (used_ + n > kWriteBuffer) {
      MAPCTL_RETURN_IF_ERROR(Flush());
      if (n >= kWriteBuffer) {
        MAPCTL_RETURN_IF_ERROR(PwriteAll(fd_, p, n, off_, name_));
        off_ += n;
        return Status::Ok();
      }
    }
    std::memcpy(buf_.get() + used_, p, n);
    used_ += n;
    return Status::Ok();
  }
  Status Flush() {
    Status st = PwriteAll(fd_, buf_.get(), used_, off_, name_);
    off_ += used_;
    used_ = 0;
    return st;
  }

 private:
  int fd_;
  const std::string& name_;
  std::unique_ptr<unsigned char[]> buf_;
  std::size_t used_ = 0;
  std::uint64_t off_ = 0;
};

// An array in its own anonymous mapping, grown with mremap: no copy, no
// moment with two arrays alive, and freed to the system at once.
template <typename T>
class GrowArray {
 public:
  GrowArray() = default;
  GrowArray(const GrowArray&) = delete;
  GrowArray& operator=(const GrowArray&) = delete;
  ~GrowArray() {
    if (data_ != nullptr) munmap(data_, capacity_ * sizeof(T));
  }

  bool push_back(const T& v) {
    if (size_ == capacity_ && !Grow()) return false;
    data_[size_++] = v;
    return true;
  }
  void resize_down(std::size_t n) noexcept { size_ = std::min(size_, n); }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::size_t size() const noexcept { return size_; }

 private:
  bool Grow() {
    // 2 MiB at first (one huge page), then doubling.
    const std::size_t bytes = capacity_ == 0 ? std::size_t{2} << 20
                                             : 2 * capacity_ * sizeof(T);
    void* p = data_ == nullptr
                  ? mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : mremap(data_, capacity_ * sizeof(T), bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return false;
    // Fewer page faults, when the system allows it (only a hint).
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    data_ = static_cast<T*>(p);
    capacity_ = bytes / sizeof(T);
    return true;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

struct Rec {
  std::uint32_t hash;
  std::uint32_t pos;
};

// One record of a batch, gathered for its table's fill.
struct Item {
  std::uint32_t hash;
  std::uint32_t pos;
  std::uint32_t index;  // into the record array
};

}  // namespace

class Writer::Impl {
 public:
  Impl(int fd, std::string file_name, WriterOptions options)
      : fd_(fd),
        name_(std::move(file_name)),
        opts_(std::move(options)),
        out_(fd, name_),
        keep_lines_(opts_.find_duplicates &&
                    opts_.duplicates == DuplicatePolicy::kFirstWarn) {
    out_.Seek(kHeaderSize);
  }

  Status Add(const std::string_view* keys, const std::string_view* values,
             const std::uint32_t* lines, int n) {
    std::uint32_t h[4];
    Hash4(keys, n, h);
    for (int j = 0; j < n; ++j) {
      const std::uint64_t size = 8 + std::uint64_t{keys[j].size()} +
                                 values[j].size();
      // Every record costs 16 bytes of slots too; positions stay 32-bit.
      if (pos_ + size + 16 * (std::uint64_t{recs_.size()} + 1) >
          opts_.max_file_size) {
        return TooLarge(recs_.size() + 1);
      }
      unsigned char head[8];
      Store32(head, static_cast<std::uint32_t>(keys[j].size()));
      Store32(head + 4, static_cast<std::uint32_t>(values[j].size()));
      MAPCTL_RETURN_IF_ERROR(out_.Append(head, 8));
      MAPCTL_RETURN_IF_ERROR(out_.Append(keys[j].data(), keys[j].size()));
      MAPCTL_RETURN_IF_ERROR(out_.Append(values[j].data(), values[j].size()));
      if (!recs_.push_back({h[j], static_cast<std::uint32_t>(pos_)}) ||
          (keep_lines_ && !lines_.push_back(lines[j]))) {
        return Status::IoError("build " + opts_.target, ENOMEM);
      }
      pos_ += size;
    }
    return Status::Ok();
  }

  Status Finish(std::vector<Diagnostic>* warnings) {
    MAPCTL_RETURN_IF_ERROR(out_.Flush());
    data_end_ = pos_;
    bool found = false;
    MAPCTL_RETURN_IF_ERROR(Fill(opts_.find_duplicates, &found, warnings));
    if (found) {
      MAPCTL_RETURN_IF_ERROR(Compact());
      bool again = false;
      MAPCTL_RETURN_IF_ERROR(Fill(false, &again, warnings));
      // The file was longer before the cut.
      if (ftruncate(fd_, static_cast<off_t>(data_end_ + 16 * recs_.size())) !=
          0) {
        return Status::IoError("truncate " + name_, errno);
      }
    }
    std::stable_sort(warnings->begin(), warnings->end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return a.line < b.line;
                     });
    return PwriteAll(fd_, header_, sizeof(header_), 0, name_);
  }

  std::size_t added() const noexcept { return added_ + recs_.size(); }
  std::size_t written() const noexcept { return recs_.size(); }

 private:
  Status TooLarge(std::size_t count) const {
    return Status::InvalidArgument("cannot write " + opts_.target +
                                   ": a cdb file is limited to 4 GiB, too "
                                   "small for these " +
                                   std::to_string(count) + " entries");
  }

  // Reads the key of the record at `pos` into `key`.
  Status ReadKey(std::uint32_t pos, std::string* key) {
    unsigned char head[8];
    MAPCTL_RETURN_IF_ERROR(PreadAll(fd_, head, 8, pos, name_));
    key->resize(Load32(head));
    return PreadAll(fd_, reinterpret_cast<unsigned char*>(key->data()),
                    key->size(), pos + 8, name_);
  }

  // Fills and writes every table's slots after the data and sets the
  // header. With `detect`, records whose keys repeat are marked dead_
  // (and warned about); once one is, nothing more is written and *found
  // says so: the caller cuts them out and fills again.
  Status Fill(bool detect, bool* found, std::vector<Diagnostic>* warnings) {
    const std::size_t n = recs_.size();
    if (data_end_ + 16 * std::uint64_t{n} > opts_.max_file_size) {
      return TooLarge(n);
    }
    std::uint32_t count[256] = {};
    for (std::size_t i = 0; i < n; ++i) ++count[recs_[i].hash & 255];
    std::uint64_t table_pos = data_end_;
    std::uint32_t largest = 0;
    for (int t = 0; t < 256; ++t) {
      Store32(header_ + 8 * t, static_cast<std::uint32_t>(table_pos));
      Store32(header_ + 8 * t + 4, 2 * count[t]);
      table_pos += 16 * std::uint64_t{count[t]};
      largest = std::max(largest, count[t]);
    }
    out_.Seek(data_end_);

    // Batches of whole tables, about a sixteenth of the records each.
    const std::size_t batch_limit =
        std::max<std::size_t>({std::size_t{1} << 16, n / 16, largest});
    std::vector<Item> items(std::min(batch_limit, n));
    std::vector<std::uint32_t> probe(2 * std::size_t{largest});
    std::vector<unsigned char> packed(16 * std::size_t{largest});
    std::string key_a, key_b;
    for (int first = 0; first < 256;) {
      int last = first;
      std::size_t in_batch = 0;
      while (last < 256 && in_batch + count[last] <= batch_limit) {
        in_batch += count[last++];
      }
      // Where each table of the batch starts in items.
      std::uint32_t fill[256];
      std::uint32_t at = 0;
      for (int t = first; t < last; ++t) {
        fill[t] = at;
        at += count[t];
      }
      for (std::size_t i = 0; i < n; ++i) {
        const int t = static_cast<int>(recs_[i].hash & 255);
        if (t >= first && t < last) {
          items[fill[t]++] = {recs_[i].hash, recs_[i].pos,
                              static_cast<std::uint32_t>(i)};
        }
      }
      std::uint32_t begin = 0;
      for (int t = first; t < last; ++t) {
        const std::uint32_t slots = 2 * count[t];
        std::fill_n(probe.begin(), slots, 0u);
        for (std::uint32_t k = begin; k < begin + count[t]; ++k) {
          const Item& it = items[k];
          std::uint32_t s = (it.hash >> 8) % slots;
          bool placed = false;
          while (probe[s] != 0) {
            const Item& seen = items[probe[s] - 1];
            if (detect && seen.hash == it.hash) {
              MAPCTL_RETURN_IF_ERROR(ReadKey(seen.pos, &key_a));
              MAPCTL_RETURN_IF_ERROR(ReadKey(it.pos, &key_b));
              if (key_a == key_b) {
                *found = true;
                Duplicate(seen, it, key_b, warnings);
                if (opts_.duplicates == DuplicatePolicy::kLast) {
                  probe[s] = k + 1;  // the later record takes the slot
                }
                placed = true;
                break;
              }
            }
            if (++s == slots) s = 0;
          }
          if (!placed) probe[s] = k + 1;
        }
        if (!*found && slots > 0) {
          for (std::uint32_t s = 0; s < slots; ++s) {
            const Item* it = probe[s] != 0 ? &items[probe[s] - 1] : nullptr;
            Store32(&packed[8 * std::size_t{s}], it ? it->hash : 0);
            Store32(&packed[8 * std::size_t{s} + 4], it ? it->pos : 0);
          }
          MAPCTL_RETURN_IF_ERROR(out_.Append(packed.data(), 8 * std::size_t{slots}));
        }
        begin += count[t];
      }
      first = last;
    }
    return *found ? Status::Ok() : out_.Flush();
  }

  // `later` repeats `earlier`'s key: drop the one the policy says.
  void Duplicate(const Item& earlier, const Item& later, std::string_view key,
                 std::vector<Diagnostic>* warnings) {
    if (opts_.duplicates == DuplicatePolicy::kLast) {
      dead_.push_back(earlier.index);
      return;
    }
    dead_.push_back(later.index);
    if (opts_.duplicates != DuplicatePolicy::kFirstWarn) return;
    key.remove_suffix(std::min(opts_.nul, key.size()));
    warnings->push_back(DuplicateWarning(opts_.origin, lines_[later.index],
                                         key, lines_[earlier.index]));
  }

  // Cuts the dead records out of the data: every record after the first
  // one moves down, in one forward pass, and the array follows.
  Status Compact() {
    std::sort(dead_.begin(), dead_.end());
    const std::size_t n = recs_.size();
    std::size_t d = 0;
    std::size_t out = dead_.front();
    std::uint64_t write = recs_[out].pos;
    std::vector<unsigned char> buf(kWriteBuffer);
    for (std::size_t i = out; i < n;) {
      if (d < dead_.size() && dead_[d] == i) {
        ++d;
        ++i;
        continue;
      }
      // A run of live records [i, j) moves as one block.
      std::size_t j = i + 1;
      while (j < n && !(d < dead_.size() && dead_[d] == j)) ++j;
      const std::uint64_t from = recs_[i].pos;
      const std::uint64_t to = j < n ? recs_[j].pos : data_end_;
      const std::uint64_t shift = from - write;
      for (std::uint64_t p = from; p < to;) {
        const std::size_t len =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), to - p));
        MAPCTL_RETURN_IF_ERROR(PreadAll(fd_, buf.data(), len, p, name_));
        MAPCTL_RETURN_IF_ERROR(PwriteAll(fd_, buf.data(), len, p - shift, name_));
        p += len;
      }
      for (std::size_t k = i; k < j; ++k, ++out) {
        recs_[out] = {recs_[k].hash, static_cast<std::uint32_t>(recs_[k].pos - shift)};
        if (keep_lines_) lines_[out] = lines_[k];
      }
      write += to - from;
      i = j;
    }
    added_ += dead_.size();
    recs_.resize_down(out);
    lines_.resize_down(out);
    data_end_ = write;
    dead_.clear();
    return Status::Ok();
  }

  const int fd_;
  const std::string name_;
  const WriterOptions opts_;
  BufferedOut out_;
  const bool keep_lines_;
  std::uint64_t pos_ = kHeaderSize;  // where the next record goes
  std::uint64_t data_end_ = kHeaderSize;
  GrowArray<Rec> recs_;               // in record (= file) order
  GrowArray<std::uint32_t> lines_;    // kFirstWarn: each record's line
  std::vector<std::uint32_t> dead_;   // records to cut out
  std::size_t added_ = 0;             // records cut out so far
  unsigned char header_[kHeaderSize] = {};
};

Writer::Writer(int fd, std::string file_name, WriterOptions options)
    : impl_(std::make_unique<Impl>(fd, std::move(file_name),
                                   std::move(options))) {}
Writer::~Writer() = default;

Status Writer::Add(const std::string_view* keys,
                   const std::string_view* values, const std::uint32_t* lines,
                   int n) {
  return impl_->Add(keys, values, lines, n);
}

Status Writer::Finish(std::vector<Diagnostic>* warnings) {
  return impl_->Finish(warnings);
}

std::size_t Writer::added() const noexcept { return impl_->added(); }
std::size_t Writer::written() const noexcept { return impl_->written(); }

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
  PlanOrder sorted_order;
  if (!in_source_order) {
    std::vector<std::uint8_t> keep(entries.size());
    for (std::uint32_t idx : plan.order) keep[idx] = 1;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (keep[i]) sorted_order.push_back(static_cast<std::uint32_t>(i));
    }
  }
  const PlanOrder& order = in_source_order ? plan.order : sorted_order;
  const std::size_t count = order.size();
  // Refused before any file is made: 16 bytes of slots per record alone
  // would pass 4 GiB.
  if (cdb::kHeaderSize + 16 * std::uint64_t{count} > cdb::kMaxFileSize) {
    return Status::InvalidArgument("cannot write " + target +
                                   ": a cdb file is limited to 4 GiB, too "
                                   "small for these " +
                                   std::to_string(count) + " entries");
  }

  Result<std::unique_ptr<AtomicFile>> file =
      AtomicFile::Create(target, BuildFileOptions(options, source));
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;
  cdb::WriterOptions wopts;
  wopts.find_duplicates = false;  // the plan has resolved them
  wopts.nul = nul;
  wopts.target = target;
  cdb::Writer writer(out.fd(), out.temp_path(), wopts);
  // A failure to write names the table and the cause (a full disk), not
  // the temporary file.
  auto write = [&]() -> Status {
    std::string_view ks[4], vs[4];
    StoredForm stored_keys[4], stored_values[4];
    std::uint32_t lines[4];
    std::size_t next_progress = cdb::kProgressEvery;
    int group = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const Entry& e = entries[order[k]];
      ks[group] = stored_keys[group].Of(e.key(), nul);
      vs[group] = stored_values[group].Of(e.value(), nul);
      lines[group] = e.line();
      if (++group == 4 || k + 1 == count) {
        MAPCTL_RETURN_IF_ERROR(writer.Add(ks, vs, lines, group));
        group = 0;
      }
      if (options.progress && k + 1 >= next_progress) {
        options.progress(k + 1, count);
        next_progress += cdb::kProgressEvery;
      }
    }
    std::vector<Diagnostic> none;
    return writer.Finish(&none);
  };
  MAPCTL_RETURN_IF_ERROR(ExplainBuildFailure(write(), out.fd(), target));
  if (options.progress) options.progress(count, count);
  return out.Commit();
}

}  // namespace mapctl
