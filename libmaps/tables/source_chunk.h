// tables/source_chunk.h - a source parsed a piece at a time (internal).
//
// For builds that write records as they are parsed (cdb_build.cc): the
// caller reads the source into its own buffer, cuts it where a logical
// line starts, and parses each piece with the parser
// ParseMapFile() uses, so every rule and message is the same.

#ifndef MAPCTL_LIBMAPS_TABLES_SOURCE_CHUNK_H_
#define MAPCTL_LIBMAPS_TABLES_SOURCE_CHUNK_H_

#include <cstddef>

#include "mapctl/source.h"

namespace mapctl {

// Where buf[0, n) can be cut so that both parts parse as they would
// together: the start of the last physical line whose first byte is
// neither whitespace nor '#' (continuations start with whitespace,
// comments are skipped anywhere). 0: no such line after the first.
std::size_t LastLogicalLineStart(const char* buf, std::size_t n) noexcept;

// Parses buf[0, n) into `map` (buf is only read), replacing its entries
// and diagnostics; lines count from 1 within the piece (line_count() gives
// the piece's physical lines). The entries point into buf and into `map`,
// valid until the next call with this map or until buf changes.
void ParseMapChunk(const char* buf, std::size_t n, const ParseOptions& options,
                   ParsedMap* map);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_SOURCE_CHUNK_H_
