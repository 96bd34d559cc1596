// tables/cdb_format.h - the cdb file layout, shared by the writer, the
// reader and the verifier (internal).
//
// The format is D. J. Bernstein's cdb as tinycdb writes it for Postfix
// (util/dict_cdb.c; spec 4.4): a 2048-byte header of 256 little-endian
// (u32 position, u32 slot count) pairs, the records (u32 klen, u32 vlen,
// key, value), then 256 hash tables of (u32 hash, u32 record position)
// slots. A key's hash h starts at 5381 and takes h = ((h << 5) + h) ^ byte;
// table h & 255 has twice as many slots as records, the first probe is
// (h >> 8) % slots, and collisions probe linearly. cdb::Hash() and
// cdb::kHeaderSize are declared in table_backends.h.

#ifndef MAPCTL_LIBMAPS_TABLES_CDB_FORMAT_H_
#define MAPCTL_LIBMAPS_TABLES_CDB_FORMAT_H_

#include <cstdint>
#include <string>

#include "mapctl/status.h"
#include "tables/table_backends.h"

namespace mapctl::cdb {

// Positions are 32-bit: no byte of a cdb file lies at 4 GiB or beyond.
inline constexpr std::uint64_t kMaxFileSize = 0xFFFFFFFFull;

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

// The header says where each hash table is; derived facts about a file
// that passed CheckHeader().
struct Layout {
  std::uint32_t pos[256];
  std::uint32_t slots[256];
  std::uint64_t data_end;  // the first hash table: records end here
};

// The checks made before any lookup trusts the file. `size` is the file
// size; `data` holds at least the header when size >= 2048. Errors are
// kCorruption, "NAME: ...".
Status CheckHeader(const unsigned char* data, std::uint64_t size,
                   const std::string& name, Layout* out);

}  // namespace mapctl::cdb

#endif  // MAPCTL_LIBMAPS_TABLES_CDB_FORMAT_H_
