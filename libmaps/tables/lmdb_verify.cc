// tables/lmdb_verify.cc - VerifyLmdbTable(): mapctl's own walk of an LMDB file.
//
// LMDB trusts every byte it reads, so a damaged table can make it read
// out of bounds. This walker trusts nothing: it maps the file read-only
// and checks, from the two meta pages down, every page of the main and
// free-list B-trees (layout in lmdb_handle.h): page number matches the
// offset, flags, node bounds, key and data sizes, overflow runs inside the
// file, key order within pages and against the parent's separators, one
// leaf depth, no page reached twice, and the page and entry counts the DB
// record claims. Every finding is a string; nothing here can crash on any
// input (tests/fuzz/lmdb_verify_fuzz.cc feeds it random images).
//
// A file truncated *while* it is being verified could still raise SIGBUS
// through the mapping; mapctl's writers never truncate (they rename), and
// Postfix's in-place writer only grows the file.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_image.h"
#include "tables/lmdb_handle.h"
#include "tables/table_backends.h"

namespace mapctl {
namespace lmdb {
namespace {

using layout::Load;

constexpr std::size_t kMaxProblems = 200;
constexpr int kMaxDepth = 32;  // LMDB's cursor stack (CURSOR_STACK)

class Walker {
 public:
  Walker(const unsigned char* data, std::size_t size,
         std::vector<std::string>* problems)
      : data_(data), size_(size), problems_(problems) {}

  void Run();

 private:
  struct Frame {
    std::uint64_t pgno;
    int depth;
    std::string_view low;   // keys must be >= low (if has_low)
    std::string_view high;  // and < high (if has_high)
    bool has_low;
    bool has_high;
  };
  struct Counts {
    std::uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0;
    int leaf_depth = -1;
  };

  bool Problem(std::string msg) {
    if (problems_->size() < kMaxProblems) {
      problems_->push_back(std::move(msg));
    } else if (problems_->size() == kMaxProblems) {
      problems_->push_back("too many problems; not reporting more");
    }
    return false;
  }
  bool Full() const { return problems_->size() > kMaxProblems; }

  const unsigned char* Page(std::uint64_t pgno) const {
    return data_ + pgno * page_size_;
  }
  // Whether page `pgno` (and `count` pages from it) is inside the table.
  bool InTable(std::uint64_t pgno, std::uint64_t count = 1) const {
    return pgno >= 2 && pgno < pages_ && count <= pages_ - pgno;
  }
  bool Claim(std::uint64_t pgno, const char* what);
  int Compare(std::string_view a, std::string_view b) const;
  void WalkTree(const DbRecord& db, const char* name, bool integer_keys,
                bool free_db);
  void CheckFreeList(std::string_view key, std::string_view value);

  const unsigned char* data_;
  std::size_t size_;
  std::vector<std::string>* problems_;
  std::uint32_t page_size_ = 0;
  std::uint64_t pages_ = 0;  // pages the table may use: min(last_pg+1, file)
  bool integer_keys_ = false;
  std::vector<std::uint8_t> seen_;
  std::vector<std::uint64_t> free_pages_;
};

std::string Num(std::uint64_t v) { return std::to_string(v); }
std::string Hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

bool Walker::Claim(std::uint64_t pgno, const char* what) {
  if (seen_[pgno]) {
    return Problem("page " + Num(pgno) + " reached twice (" + what + ")");
  }
  seen_[pgno] = 1;
  return true;
}

int Walker::Compare(std::string_view a, std::string_view b) const {
  if (integer_keys_ && a.size() == 8 && b.size() == 8) {
    std::uint64_t x =
        Load<std::uint64_t>(reinterpret_cast<const unsigned char*>(a.data()));
    std::uint64_t y =
        Load<std::uint64_t>(reinterpret_cast<const unsigned char*>(b.data()));
    return x < y ? -1 : x > y;
  }
  const int c = a.compare(b);  // once: this runs for every key of the table
  return c < 0 ? -1 : c > 0;
}

void Walker::CheckFreeList(std::string_view key, std::string_view value) {
  // A free-list record: key = txnid (8 bytes), value = page count then
  // that many page numbers (64-bit each).
  if (key.size() != 8) {
    Problem("free list: key of " + Num(key.size()) + " bytes, not 8");
    return;
  }
  if (value.size() < 8 || value.size() % 8 != 0) {
    Problem("free list: record of " + Num(value.size()) + " bytes");
    return;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  std::uint64_t n = Load<std::uint64_t>(p);
  if (n > value.size() / 8 - 1) {
    Problem("free list: record claims " + Num(n) + " pages in " +
            Num(value.size()) + " bytes");
    return;
  }
  for (std::uint64_t i = 0; i < n && !Full(); ++i) {
    std::uint64_t pg = Load<std::uint64_t>(p + 8 * (i + 1));
    if (!InTable(pg)) {
      Problem("free list: page " + Num(pg) + " outside the table");
    } else {
      free_pages_.push_back(pg);
    }
  }
}

void Walker::WalkTree(const DbRecord& db, const char* name, bool integer_keys,
                      bool free_db) {
  integer_keys_ = integer_keys;
  const std::string where = std::string(name) + ": ";
  if (db.root == layout::kNoPage) {
    if (db.depth != 0 || db.entries != 0 || db.branch_pages != 0 ||
        db.leaf_pages != 0 || db.overflow_pages != 0) {
      Problem(where + "empty tree with non-zero counts");
    }
    return;
  }
  Counts c;
  std::vector<Frame> stack;
  stack.push_back({db.root, 1, {}, {}, false, false});
  while (!stack.empty() && !Full()) {
    Frame f = stack.back();
    stack.pop_back();
    const std::string at = where + "page " + Num(f.pgno) + ": ";
    if (!InTable(f.pgno)) {
      Problem(at + "outside the table (" + Num(pages_) + " pages)");
      continue;
    }
    if (!Claim(f.pgno, name)) continue;
    if (f.depth > kMaxDepth) {
      Problem(at + "tree deeper than " + Num(kMaxDepth));
      continue;
    }
    const unsigned char* pg = Page(f.pgno);
    if (Load<std::uint64_t>(pg) != f.pgno) {
      Problem(at + "header says page " + Num(Load<std::uint64_t>(pg)));
      continue;
    }
    const std::uint16_t flags = Load<std::uint16_t>(pg + 10);
    const bool branch = flags == layout::kBranch;
    const bool leaf = flags == layout::kLeaf;
    if (!branch && !leaf) {
      Problem(at + "flags " + Hex(flags) + " are not a branch or leaf page");
      continue;
    }
    const std::uint16_t lower = Load<std::uint16_t>(pg + 12);
    const std::uint16_t upper = Load<std::uint16_t>(pg + 14);
    if (lower < layout::kPageHeader || (lower & 1) || upper > page_size_ ||
        lower > upper) {
      Problem(at + "bad free-space bounds " + Num(lower) + ".." + Num(upper));
      continue;
    }
    const std::size_t nkeys = (lower - layout::kPageHeader) / 2;
    if (nkeys == 0 || (branch && nkeys < 2 && f.depth == 1)) {
      Problem(at + "too few nodes (" + Num(nkeys) + ")");
      continue;
    }
    if (branch) ++c.branch;
    if (leaf) {
      ++c.leaf;
      if (c.leaf_depth < 0) c.leaf_depth = f.depth;
      if (c.leaf_depth != f.depth) {
        Problem(at + "leaf at depth " + Num(f.depth) + ", others at " +
                Num(c.leaf_depth));
      }
    }
    std::string_view prev;
    std::vector<Frame> children;
    bool page_ok = true;
    // LMDB packs nodes at the end of the page: together they fill
    // [upper, page size) exactly, each 2-byte aligned.
    std::size_t node_bytes = 0;
    for (std::size_t i = 0; i < nkeys && page_ok; ++i) {
      const std::uint16_t off = Load<std::uint16_t>(pg + 16 + 2 * i);
      // Built only for a problem: this runs for every node of the table.
      auto node_at = [&at, i] { return at + "node " + Num(i) + ": "; };
      if (off < upper || (off & 1) || off + layout::kNodeHeader > page_size_) {
        page_ok = Problem(node_at() + "offset " + Num(off) + " out of bounds");
        break;
      }
      const unsigned char* node = pg + off;
      const std::uint16_t lo = Load<std::uint16_t>(node);
      const std::uint16_t hi = Load<std::uint16_t>(node + 2);
      const std::uint16_t nflags = Load<std::uint16_t>(node + 4);
      const std::uint16_t ksize = Load<std::uint16_t>(node + 6);
      const std::size_t key_end = off + layout::kNodeHeader + ksize;
      if (key_end > page_size_) {
        page_ok = Problem(node_at() + "key of " + Num(ksize) +
                          " bytes runs past the page");
        break;
      }
      std::string_view key(reinterpret_cast<const char*>(node + 8), ksize);
      const bool implicit = branch && i == 0;  // first branch key unused
      if (!implicit) {
        if (ksize == 0 || ksize > kLmdbMaxKeySize) {
          Problem(node_at() + "key size " + Num(ksize));
        }
        if (i > (branch ? 1u : 0u) && Compare(prev, key) >= 0) {
          Problem(node_at() + "key out of order");
        }
        if (f.has_low && Compare(key, f.low) < 0) {
          Problem(node_at() + "key below its parent's separator");
        }
        if (f.has_high && Compare(key, f.high) >= 0) {
          Problem(node_at() + "key not below the next separator");
        }
        prev = key;
      }
      std::size_t node_size = layout::kNodeHeader + ksize;
      if (leaf) {
        node_size +=
            (nflags & layout::kBigData) ? 8 : (lo | (std::size_t{hi} << 16));
      }
      node_bytes += (node_size + 1) & ~std::size_t{1};
      if (branch) {
        const std::uint64_t child =
            lo | (std::uint64_t{hi} << 16) | (std::uint64_t{nflags} << 32);
        Frame cf{child,
                 f.depth + 1,
                 implicit ? f.low : key,
                 {},
                 implicit ? f.has_low : true,
                 false};
        children.push_back(cf);
        continue;
      }
      ++c.entries;
      const std::uint32_t dsize = lo | (std::uint32_t{hi} << 16);
      if (nflags & ~layout::kBigData) {
        Problem(node_at() + "node flags " + Hex(nflags) +
                " (sub-databases or duplicates: not a Postfix table)");
        continue;
      }
      if (nflags & layout::kBigData) {
        if (key_end + 8 > page_size_) {
          page_ok = Problem(node_at() + "overflow page number past the page");
          break;
        }
        const std::uint64_t ov = Load<std::uint64_t>(pg + key_end);
        const std::uint64_t need =
            (layout::kPageHeader - 1 + std::uint64_t{dsize}) / page_size_ + 1;
        if (!InTable(ov, need)) {
          Problem(node_at() + "overflow run " + Num(ov) + "+" + Num(need) +
                  " outside the table");
          continue;
        }
        const unsigned char* op = Page(ov);
        const std::uint32_t count = Load<std::uint32_t>(op + 12);
        if (Load<std::uint64_t>(op) != ov ||
            Load<std::uint16_t>(op + 10) != layout::kOverflow) {
          Problem(node_at() + "page " + Num(ov) + " is not an overflow page");
          continue;
        }
        if (count != need || !InTable(ov, count)) {
          Problem(node_at() + "overflow run of " + Num(count) + " pages for " +
                  Num(dsize) + " bytes");
          continue;
        }
        bool claimed = true;
        for (std::uint64_t k = 0; k < count && claimed; ++k) {
          claimed = Claim(ov + k, name);
        }
        c.overflow += count;
        if (free_db) {
          CheckFreeList(
              key,
              std::string_view(reinterpret_cast<const char*>(op + 16), dsize));
        }
      } else {
        if (key_end + dsize > page_size_) {
          Problem(node_at() + "data of " + Num(dsize) +
                  " bytes runs past the page");
          continue;
        }
        if (free_db) {
          CheckFreeList(
              key, std::string_view(reinterpret_cast<const char*>(pg + key_end),
                                    dsize));
        }
      }
    }
    if (!page_ok) continue;
    if (node_bytes != page_size_ - upper) {
      Problem(at + "nodes take " + Num(node_bytes) + " bytes, the page " +
              "header says " + Num(page_size_ - upper));
    }
    // Each child's keys must stay below the next separator.
    for (std::size_t i = 0; i + 1 < children.size(); ++i) {
      children[i].high = children[i + 1].low;
      children[i].has_high = true;
    }
    if (!children.empty()) {
      children.back().high = f.high;
      children.back().has_high = f.has_high;
    }
    // Reverse, so the walk goes left to right.
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      stack.push_back(*it);
    }
  }
  if (Full()) return;
  if (c.leaf_depth >= 0 && c.leaf_depth != db.depth) {
    Problem(where + "depth " + Num(c.leaf_depth) + ", record says " +
            Num(db.depth));
  }
  if (c.entries != db.entries) {
    Problem(where + Num(c.entries) + " entries, record says " +
            Num(db.entries));
  }
  if (c.branch != db.branch_pages || c.leaf != db.leaf_pages ||
      c.overflow != db.overflow_pages) {
    Problem(where + "pages found (branch " + Num(c.branch) + ", leaf " +
            Num(c.leaf) + ", overflow " + Num(c.overflow) +
            ") differ from the record (" + Num(db.branch_pages) + ", " +
            Num(db.leaf_pages) + ", " + Num(db.overflow_pages) + ")");
  }
}

void Walker::Run() {
  // Meta pages: LMDB refuses the file unless both are valid.
  if (size_ < layout::kMetaOffset + layout::kMetaSize) {
    Problem(size_ == 0 ? "empty file (zero length)"
                       : "not an LMDB file (too short)");
    return;
  }
  MetaInfo metas[2];
  bool valid[2] = {false, false};
  std::uint32_t ps = Load<std::uint32_t>(data_ + layout::kMetaOffset + 24);
  for (int i = 0; i < 2; ++i) {
    const std::string which = i == 0 ? "meta page 0: " : "meta page 1: ";
    std::uint64_t off = i == 0 ? 0 : ps;
    if (i == 1 &&
        (!valid[0] || off + layout::kMetaOffset + layout::kMetaSize > size_)) {
      if (valid[0]) Problem(which + "missing (file truncated)");
      break;
    }
    MetaInfo m = ParseMeta(data_ + off);
    if (m.magic != layout::kMagic || !(m.page_flags & layout::kMetaPage)) {
      Problem(which + "not an LMDB meta page");
      continue;
    }
    if (m.version != layout::kDataVersion) {
      Problem(which + "unsupported LMDB version " + Num(m.version));
      continue;
    }
    if (Load<std::uint64_t>(data_ + off) != static_cast<std::uint64_t>(i)) {
      Problem(which + "header page number wrong");
    }
    std::uint32_t mps = m.free_db.pad;
    if (mps < 512 || mps > 65536 || (mps & (mps - 1)) || mps != ps) {
      Problem(which + "bad page size " + Num(mps));
      continue;
    }
    metas[i] = m;
    valid[i] = true;
  }
  if (!valid[0] && !valid[1]) return;
  const int newest = valid[0] && valid[1]
                         ? (metas[1].txnid > metas[0].txnid ? 1 : 0)
                         : (valid[0] ? 0 : 1);
  const MetaInfo& m = metas[newest];
  page_size_ = ps;
  const std::uint64_t file_pages = size_ / ps;
  if (m.last_pg < 1 || m.last_pg >= file_pages) {
    Problem("truncated: the newest meta page (txn " + Num(m.txnid) + ") uses " +
            Num(m.last_pg + 1) + " pages, the file has " + Num(file_pages));
  }
  pages_ = std::min<std::uint64_t>(m.last_pg + 1, file_pages);
  if (m.last_pg == layout::kNoPage) pages_ = file_pages;
  // The free DB record's flags also carry the environment's persistent
  // flags (MDB_NOSUBDIR is 0x4000); the DB flags proper are 0x7e.
  if ((m.free_db.flags & 0x7e) != layout::kIntegerKey) {
    Problem("free DB flags " + Hex(m.free_db.flags) + ", expected 0x8");
  }
  if (m.main_db.flags != 0) {
    Problem("main DB flags " + Hex(m.main_db.flags) +
            " (Postfix tables use 0; only key order is checked)");
  }
  seen_.assign(pages_, 0);
  WalkTree(m.main_db, "main DB", false, false);
  WalkTree(m.free_db, "free list", true, true);
  if (Full()) return;
  for (std::uint64_t pg : free_pages_) Claim(pg, "free list entry");
  std::uint64_t lost = 0, first_lost = 0;
  for (std::uint64_t pg = 2; pg < pages_; ++pg) {
    if (!seen_[pg] && lost++ == 0) first_lost = pg;
  }
  if (lost != 0) {
    Problem(Num(lost) + " pages neither in a tree nor free (first: " +
            Num(first_lost) + ")");
  }
}

}  // namespace

// Verifies an in-memory image of an LMDB file (the fuzz target's entry).
void VerifyLmdbImage(const unsigned char* data, std::size_t size,
                     std::vector<std::string>* problems) {
  Walker(data, size, problems).Run();
}

Status VerifyLmdbFile(int fd, std::uint64_t size, const std::string& name,
                      std::vector<std::string>* problems) {
  if (size == 0) {
    VerifyLmdbImage(nullptr, 0, problems);
    return Status::Ok();
  }
  void* p = mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_SHARED,
                 fd, 0);
  if (p == MAP_FAILED) return Status::IoError("mmap " + name, errno);
  VerifyLmdbImage(static_cast<const unsigned char*>(p),
                  static_cast<std::size_t>(size), problems);
  munmap(p, static_cast<std::size_t>(size));
  return Status::Ok();
}

}  // namespace lmdb

Status VerifyLmdbTable(const TableSpec& spec,
                       std::vector<std::string>* problems) {
  const std::string name = spec.path + ".lmdb";
  Result<FileImage> image = FileImage::Open(name);
  if (!image) return image.error();
  // What query and dump refuse before trusting LMDB (empty, not LMDB,
  // truncated) is "cannot verify" too: an error, not a list of problems.
  if (Result<lmdb::FileCheck> check = lmdb::CheckFile(image->fd(), name);
      !check) {
    return check.error();
  }
  lmdb::VerifyLmdbImage(image->data(), image->size(), problems);
  return Status::Ok();
}

}  // namespace mapctl
