// check/memory_table.h - the tables `mapctl check` reads many times: a sorted
// array of entries, and a TableReader over it.
//
// check resolves a representative sender for every key of the relay and
// credential maps, on several threads. Each thread's SenderResolver opens
// its tables through TableContext::open, and gets a MemoryReader: the same
// TableReader / LookupTable path as every other table, over entries that
// all threads share read-only.

#ifndef MAPCTL_LIBMAPS_CHECK_MEMORY_TABLE_H_
#define MAPCTL_LIBMAPS_CHECK_MEMORY_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapctl/diff.h"
#include "mapctl/page_allocator.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl::check {

// An entry as Postfix reads it: folded key, value up to its first NUL.
struct KeyEntry {
  std::string_view key;
  std::string_view value;
};

// A whole table: its entries in key order. The bytes they view are the
// table's own copy (`blocks`, each key and value followed by a NUL), or
// the file's map, kept valid by `pinned` for the life of the table (for
// lmdb it holds Postfix's read lock). Not modified after loading: threads
// may share it.
// A table's entries: a large array (mapctl/page_allocator.h).
using KeyEntries = std::vector<KeyEntry, PageAllocator<KeyEntry>>;

struct MemoryTable {
  // Blocks that never move as more are added.
  std::vector<std::unique_ptr<char[]>> blocks;
  // LoadBuilt() of a type that maps its file: the reader and the one read
  // unit the entries view. Others may read the file through `reader` (on
  // one thread at a time): a second reader of the same lmdb file in the
  // process would drop the read lock when it closes (fcntl locks belong
  // to the process).
  std::shared_ptr<TableReader> reader;
  std::unique_ptr<ReadUnit> pinned;
  KeyEntries entries;  // key order
  // Whether a MemoryReader answers every lookup as the file it was read
  // from does: true for sources; for a built file, when every stored key
  // has the same NUL convention and no other NUL (so no pinning or
  // stripping can tell the forms apart).
  bool same_answers = true;
  // The longest raw key the file's engine accepts (LMDB: 511 bytes); a
  // longer query is an engine error there, so MemoryReader reports it
  // through `too_long` instead of answering.
  std::size_t max_raw_key = SIZE_MAX;

  bool Has(std::string_view key) const;  // binary search
};

// A TableReader over `table`, answering only the "key\0" form, so that
// TableLookup pins it and every probe is one search of the sorted
// entries; lookups mostly come in key order, so each starts from the
// reader's last hit and gallops. Scan visits the entries in key order
// (keys and values as Postfix reads them, without NULs). A query longer
// than max_raw_key sets *too_long (when given): the file's engine would
// have failed it, so the caller must not trust the answers of that run.
// Each reader belongs to one thread; readers of one table may run on
// different threads at once.
std::unique_ptr<TableReader> MemoryReader(
    const TableSpec& spec, std::shared_ptr<const MemoryTable> table,
    bool* too_long = nullptr);

// A reader of the file `table` was loaded from, through the table's own
// reader (MemoryTable::reader); null when the table keeps none. Not
// thread-safe: use such readers on one thread at a time.
std::unique_ptr<TableReader> FileReader(const MemoryTable& table);

// The entries of `table` in key order, for DiffStreams(). Borrows it.
std::unique_ptr<EntryStream> StreamMemory(const MemoryTable& table);

// Copies a key-ordered stream (each key once) into a new table.
Result<std::shared_ptr<MemoryTable>> LoadStream(EntryStream& stream);

// Copies (key, value) pairs, given in key order, each key once.
std::shared_ptr<MemoryTable> LoadPairs(
    const std::vector<std::pair<std::string, std::string>>& pairs);

// Reads a built table whole, noting whether its raw keys keep one NUL
// convention. lmdb and cdb map their file: the entries view the map
// under one read unit that the table keeps (so postmap, which locks an
// lmdb table to write it in place, waits until the table is released;
// a table replaced by rename is not disturbed). Other types (Berkeley DB)
// are copied as StreamTable() reads them: chunks of 65536 entries, each
// under its own read unit (a table rewritten in place meanwhile is
// kChanged). An unordered table is sorted.
Result<std::shared_ptr<MemoryTable>> LoadBuilt(
    std::unique_ptr<TableReader> reader);

}  // namespace mapctl::check

#endif  // MAPCTL_LIBMAPS_CHECK_MEMORY_TABLE_H_
