// tables/bdb_meta.cc - what mapctl checks before Berkeley DB sees a file,
// the flock Postfix takes on .db files, and libdb's text made safe to
// quote (bdb_meta.h).

#include "tables/bdb_meta.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#ifdef MAPCTL_HAVE_BDB
#include <db.h>

#include "tables/table_backends.h"

namespace mapctl::bdb {

// The Berkeley DB metadata page (page 0; dbinc/db_page.h DBMETA): magic
// u32 @12, version u32 @16, page size u32 @20, encryption u8 @24, page
// type u8 @25 (8 hash, 9 btree), last page number u32 @32. Native byte
// order, or the other one for a file from a machine of the other
// endianness (Berkeley DB swaps those).

static std::uint32_t Swap32(std::uint32_t v) { return __builtin_bswap32(v); }

Result<MetaCheck> CheckMeta(int fd, const std::string& name, TableType wanted) {
  Result<std::uint64_t> size = TableFileSize(fd, name, "a Berkeley DB");
  if (!size) return size.error();
  MetaCheck mc;
  mc.file_size = *size;
  unsigned char page[72];
  if (mc.file_size < sizeof(page)) {
    return Status::Corruption(name + ": not a Berkeley DB file (" +
                              std::to_string(mc.file_size) + " bytes)");
  }
  ssize_t n = pread(fd, page, sizeof(page), 0);
  if (n < 0) return Status::IoError("read " + name, errno);
  if (static_cast<std::size_t>(n) != sizeof(page)) {
    return Status::Corruption(name + ": truncated (short read)");
  }
  auto load = [&page](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, page + at, 4);
    return v;
  };
  std::uint32_t magic = load(12), version = load(16), psize = load(20),
                last = load(32);
  if (magic == Swap32(DB_HASHMAGIC) || magic == Swap32(DB_BTREEMAGIC)) {
    magic = Swap32(magic);
    version = Swap32(version);
    psize = Swap32(psize);
    last = Swap32(last);
  }
  std::uint32_t old_version, new_version, page_type;
  if (magic == DB_HASHMAGIC) {
    mc.type = TableType::kHash;
    old_version = DB_HASHOLDVER;
    new_version = DB_HASHVERSION;
    page_type = 8;  // P_HASHMETA
  } else if (magic == DB_BTREEMAGIC) {
    mc.type = TableType::kBtree;
    old_version = DB_BTREEOLDVER;
    new_version = DB_BTREEVERSION;
    page_type = 9;  // P_BTREEMETA
  } else {
    return Status::Corruption(name + ": not a Berkeley DB hash or btree file");
  }
  if (mc.type != wanted) {
    const std::string is(TableTypeName(mc.type));
    return Status::InvalidArgument(
        "open database " + name + ": it is a Berkeley DB " + is +
        " table, not " + std::string(TableTypeName(wanted)) + " (name it " +
        is + ":)");
  }
  if (version < old_version || version > new_version) {
    return Status::Corruption(name + ": unsupported Berkeley DB " +
                              std::string(TableTypeName(mc.type)) +
                              " version " + std::to_string(version));
  }
  if (page[25] != page_type) {
    return Status::Corruption(name + ": bad metadata page type " +
                              std::to_string(page[25]));
  }
  if (page[24] != 0) {
    return Status::Unsupported(name +
                               ": encrypted Berkeley DB tables are "
                               "not supported");
  }
  if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0) {
    return Status::Corruption(name + ": bad page size " +
                              std::to_string(psize));
  }
  mc.page_size = psize;
  const std::uint64_t needed = (std::uint64_t{last} + 1) * psize;
  if (mc.file_size < needed) {
    return Status::Corruption(
        name + ": truncated (" + std::to_string(mc.file_size) +
        " bytes, the table needs " + std::to_string(needed) + ")");
  }
  return mc;
}

std::string CleanDbMessage(std::string_view text) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '0' && i + 1 < text.size() &&
        (text[i + 1] == 'x' || text[i + 1] == 'X') &&
        (i == 0 || !hex(text[i - 1]))) {
      std::size_t j = i + 2;
      while (j < text.size() && hex(text[j])) ++j;
      if (j - (i + 2) >= 5) {
        out += "<pointer>";
        i = j;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

Status Flock(int fd, int op, const std::string& name) {
  while (flock(fd, op) != 0) {
    if (errno != EINTR) return Status::IoError("lock " + name, errno);
  }
  return Status::Ok();
}

}  // namespace mapctl::bdb

#endif  // MAPCTL_HAVE_BDB
