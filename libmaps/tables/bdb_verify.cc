// tables/bdb_verify.cc - mapctl verify for hash: and btree: tables: our
// metadata check (bdb_meta.h), a pass over the page types and the btree
// levels, then Berkeley DB's own DB->verify.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"

#ifdef MAPCTL_HAVE_BDB
#include "tables/bdb_handle.h"
#include "tables/bdb_meta.h"
#endif

namespace mapctl {

#ifndef MAPCTL_HAVE_BDB

Status VerifyBdbTable(const TableSpec& spec, std::vector<std::string>*) {
  return BdbUnavailable(spec.type);
}

#else  // MAPCTL_HAVE_BDB

namespace bdb {
namespace {

constexpr std::size_t kMaxProblems = 200;

// Whether a page of type `t` can be part of a table of `type` as Postfix
// builds them: hash (8 meta, 2 and 13 buckets) or btree (9 meta, 3
// internal, 5 leaf), overflow pages (7), off-page duplicate trees (3, 12)
// and free pages (0). The metadata page is page 0 only.
bool PageTypeBelongs(TableType type, std::uint64_t pgno, unsigned char t) {
  const unsigned char meta = type == TableType::kHash ? 8 : 9;
  if (pgno == 0) return t == meta;
  switch (t) {
    case 0: case 3: case 7: case 12:
      return true;
    case 2: case 13:
      return type == TableType::kHash;
    case 5:
      return type == TableType::kBtree;
    default:
      return false;
  }
}

// One internal (type 3) page's entry: a child page one level down.
struct ChildLink {
  std::uint32_t parent;
  std::uint32_t child;
};

// The entries of internal page `pgno` (its bytes in `page`), appended to
// `links`; false when an entry lies outside the page.
bool ReadChildLinks(const unsigned char* page, std::uint32_t page_size,
                    std::uint32_t pgno, std::vector<ChildLink>* links) {
  constexpr std::uint32_t kHeader = 26;  // PAGE's fixed part; then inp[]
  const std::uint32_t entries = page[20] | page[21] << 8;
  if (kHeader + 2 * entries > page_size) return false;
  for (std::uint32_t i = 0; i < entries; ++i) {
    const std::uint32_t at = page[kHeader + 2 * i] |
                             page[kHeader + 2 * i + 1] << 8;
    // BINTERNAL: len (2), type (1), unused (1), pgno (4), nrecs (4), data
    if (at < kHeader || at + 8 > page_size) return false;
    const std::uint32_t child = page[at + 4] | page[at + 5] << 8 |
                                page[at + 6] << 16 |
                                static_cast<std::uint32_t>(page[at + 7]) << 24;
    links->push_back({pgno, child});
  }
  return true;
}

// libdb's verifier trusts each page's type byte (offset 25) and hands the
// page to that type's verifier: a heap page (15) in a btree file makes
// __heap_vrfy free memory twice (docs/fuzzing.md, F5), and queue or recno
// pages reach other verifiers made for other files. It also walks a btree
// by recursion from the root, following the child pointers of internal
// pages before it compares their levels (byte 24): an internal page that
// points at itself or at an ancestor recurses until the stack overflows
// (F10). So one pass over the file, which DB->verify reads anyway,
// refuses pages of the wrong type and child pointers that do not lead
// exactly one level down (levels then strictly decrease from at most 255,
// which bounds libdb's recursion), before libdb sees them.
Status CheckPages(int fd, const std::string& name, const MetaCheck& check,
                  TableType type, std::vector<std::string>* problems) {
  const std::uint64_t pages = check.file_size / check.page_size;
  constexpr std::size_t kChunkPages = 256;
  std::vector<unsigned char> buf(kChunkPages * check.page_size);
  std::vector<unsigned char> levels(pages);
  std::vector<ChildLink> links;
  std::size_t found = 0;
  auto problem = [&](std::string text) {
    problems->push_back(std::move(text));
    return ++found >= kMaxProblems;
  };
  for (std::uint64_t first = 0; first < pages; first += kChunkPages) {
    const std::uint64_t n = std::min<std::uint64_t>(kChunkPages, pages - first);
    const std::size_t want = static_cast<std::size_t>(n * check.page_size);
    ssize_t got = pread(fd, buf.data(), want,
                        static_cast<off_t>(first * check.page_size));
    if (got < 0) return Status::IoError("read " + name, errno);
    if (static_cast<std::size_t>(got) != want) {
      return Status::Corruption(name + ": truncated (short read)");
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      const unsigned char* page = &buf[i * check.page_size];
      const std::uint64_t pgno = first + i;
      const unsigned char t = page[25];
      levels[pgno] = page[24];
      if (!PageTypeBelongs(type, pgno, t)) {
        if (problem("page " + std::to_string(pgno) + ": type " +
                    std::to_string(t) + ", which a " +
                    std::string(TableTypeName(type)) + " table never holds")) {
          return Status::Ok();
        }
      } else if (t == 3 &&
                 !ReadChildLinks(page, check.page_size,
                                 static_cast<std::uint32_t>(pgno), &links)) {
        if (problem("page " + std::to_string(pgno) +
                    ": an internal entry lies outside the page")) {
          return Status::Ok();
        }
      }
    }
  }
  for (const ChildLink& l : links) {
    const unsigned parent_level = levels[l.parent];
    if (l.child < pages && parent_level >= 2 &&
        levels[l.child] + 1u == parent_level) {
      continue;
    }
    std::string text = "page " + std::to_string(l.parent) + " (level " +
                       std::to_string(parent_level) + "): a child pointer to ";
    text += l.child < pages ? "page " + std::to_string(l.child) + " (level " +
                                  std::to_string(levels[l.child]) + ")"
                            : "page " + std::to_string(l.child) +
                                  ", past the end of the file";
    text += ", not one level down";
    if (problem(std::move(text))) return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace
}  // namespace bdb

// Berkeley DB's own DB->verify, after our metadata check. verify()
// consumes its handle whatever the outcome, so it gets a fresh one, never
// a reader's.
Status VerifyBdbTable(const TableSpec& spec,
                      std::vector<std::string>* problems) {
  const std::string name = spec.FileName();
  int fd = open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Status::IoError("open database " + name, errno);
  if (Status st = bdb::Flock(fd, LOCK_SH, name); !st.ok()) {
    close(fd);
    return st;
  }
  Result<bdb::MetaCheck> check = bdb::CheckMeta(fd, name, spec.type);
  if (!check) {
    // Refused before Berkeley DB sees it, as a reader refuses it: an
    // error (exit 2), like lmdb's pre-trust checks.
    close(fd);
    return std::move(check).error();
  }
  const std::size_t known = problems->size();
  if (Status st = bdb::CheckPages(fd, name, *check, spec.type, problems);
      !st.ok() || problems->size() > known) {
    close(fd);
    return st;
  }
  bdb::MessageScope scope;
  DB* raw = nullptr;
  int rc = db_create(&raw, nullptr, 0);
  if (rc == 0) {
    bdb::Quiet(raw);
    rc = raw->verify(raw, name.c_str(), nullptr, nullptr, 0);  // frees raw
  }
  close(fd);  // releases the lock
  if (rc == 0) return Status::Ok();
  if (rc != DB_VERIFY_BAD) {
    return bdb::FromDb(rc, "verify " + name, scope.first());
  }
  std::size_t start = 0;
  const std::string& text = scope.text();
  std::size_t reported = 0;
  while (start < text.size() && reported < bdb::kMaxProblems) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    problems->push_back(text.substr(start, end - start));
    ++reported;
    start = end + 1;
  }
  if (reported == 0) {
    problems->push_back("Berkeley DB's verify found damage");
  }
  return Status::Ok();
}

#endif  // MAPCTL_HAVE_BDB

}  // namespace mapctl
