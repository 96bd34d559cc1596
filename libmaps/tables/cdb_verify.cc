// tables/cdb_verify.cc - mapctl verify for cdb: every record and every
// slot checked against the layout in cdb_format.h, without trusting any
// position before it is checked.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/table.h"
#include "tables/cdb_format.h"
#include "tables/table_backends.h"
#include "util/file_image.h"

namespace mapctl {
namespace cdb {
namespace {

constexpr std::size_t kMaxProblems = 200;

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

void VerifyCdbImage(const unsigned char* data, std::size_t size,
                    std::vector<std::string>* problems) {
  Walker(data, size, problems).Run();
}

}  // namespace cdb

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
