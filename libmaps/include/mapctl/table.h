// mapctl/table.h - indexed tables as Postfix names, writes and reads them.
//
// A table is named "type:path" as in main.cf (lmdb:/etc/postfix/relay);
// the file Postfix opens is the path plus the type's suffix. Writing goes
// through PlanBuild() (sort, resolve duplicates, check limits: no I/O) and
// WriteTable() (a temporary file beside the target, renamed over it).
// Reading goes through TableReader: each ReadUnit holds Postfix's shared
// lock for the type and one consistent snapshot, and is meant to be short.

#ifndef MAPCTL_TABLE_H_
#define MAPCTL_TABLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/fold.h"
#include "mapctl/page_allocator.h"
#include "mapctl/source.h"
#include "mapctl/span.h"
#include "mapctl/status.h"

namespace mapctl {

enum class TableType : std::uint8_t {
  kLmdb,
  kCdb,
  kHash,
  kBtree,
  kTexthash,  // the source file itself, parsed at open (read only)
};

// "lmdb", "cdb", ...
MAPCTL_EXPORT std::string_view TableTypeName(TableType type) noexcept;

// A table as Postfix names it.
struct MAPCTL_EXPORT TableSpec {
  TableType type = TableType::kLmdb;
  std::string path;  // without suffix, as written in main.cf

  // The file Postfix opens: path plus ".lmdb", ".cdb" or ".db"; the path
  // itself for texthash.
  std::string FileName() const;
  // "lmdb:/etc/postfix/relay".
  std::string ToString() const;
};

// Parses "type:path". A bare path (no ':') gets `default_type`, main.cf's
// default_database_type, as postmap does; a ':' anywhere makes the part
// before it the type (postmap reads "/tmp/a:b" as type "/tmp/a"). Errors
// name the type and the types mapctl supports; a Postfix type mapctl does
// not read (pcre, cidr, ...) is kUnsupported, an unknown word
// kInvalidArgument.
MAPCTL_EXPORT Result<TableSpec> ParseTableSpec(std::string_view text,
                                               std::string_view default_type);

// Whether mapctl can write tables of this type (in this build).
MAPCTL_EXPORT Status CheckWritable(TableType type);

// Trailing NUL convention (postmap -N / -n).
enum class NulMode : std::uint8_t {
  kDefault,  // the type's default: NUL for lmdb/hash/btree, none for cdb;
             // readers try "key\0" then "key" and pin the first that hits
  kWith,     // postmap -N
  kWithout,  // postmap -n
};

enum class DuplicatePolicy : std::uint8_t {
  kFirstWarn,  // postmap's default: first wins, a warning per duplicate
  kFirst,      // postmap -w: first wins silently
  kLast,       // postmap -r: last wins silently
};

struct BuildOptions {
  NulMode nul = NulMode::kDefault;
  DuplicatePolicy duplicates = DuplicatePolicy::kFirstWarn;
  // New tables take the source's group/other read bits (postmap's umask
  // rule); postmap -p turns this off and gives 0644.
  bool copy_source_mode = true;
  // As root, a new table gets the source's owner and group; postmap -o
  // turns this off (the table stays root's).
  bool take_source_owner = true;
  // Called now and then during WriteTable with (entries written, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

// What the source file looked like, for the mode and owner rules. A source
// that is not a regular file (a pipe) leaves `regular` false.
struct SourceFileInfo {
  bool regular = false;
  std::uint32_t mode = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// Entries ready to be written: indices into the entry span, in the order
// the writer wants them (key order for lmdb), duplicates resolved.
// Positions into the entries, in write order (a large array: see
// mapctl/page_allocator.h).
using PlanOrder = std::vector<std::uint32_t, PageAllocator<std::uint32_t>>;

struct BuildPlan {
  PlanOrder order;
  std::vector<Diagnostic> diagnostics;  // kDuplicate warnings, line order
};

// Sorts and resolves duplicates; does no I/O. Errors: a key longer than
// the type allows after folding (LMDB: 511 bytes with its NUL); the
// message starts with "ORIGIN:LINE: ". `origin` names the source in
// diagnostics.
MAPCTL_EXPORT Result<BuildPlan> PlanBuild(const TableSpec& spec,
                                          Span<const Entry> entries,
                                          const BuildOptions& options,
                                          std::string_view origin);

// Writes the planned entries to a temporary file beside spec.FileName()
// (NAME.SUFFIX.mapctl-XXXXXX, created exclusively, flocked for the whole
// build), sets its mode and owner, syncs it and renames it over the
// target. On any error the previous table is untouched and the temporary
// file is gone. Removes leftovers of killed builds that it can flock
// without waiting.
MAPCTL_EXPORT Status WriteTable(const TableSpec& spec,
                                Span<const Entry> entries,
                                const BuildPlan& plan,
                                const BuildOptions& options,
                                const SourceFileInfo& source);

// Whether BuildTableFromSource() builds this type: cdb, whose records go
// in source order, so they can be written as they are parsed.
MAPCTL_EXPORT bool CanBuildFromSource(TableType type) noexcept;

// What BuildTableFromSource() found and did.
struct SourceBuildResult {
  // The parse's warnings and the duplicate warnings (as PlanBuild gives
  // them), in line order: the same ones ParseMapFile() and PlanBuild()
  // give for this source.
  std::vector<Diagnostic> diagnostics;
  std::size_t entries = 0;  // records in the table
  bool written = false;     // false: `strict` and diagnostics, or an error
};

// ParseMapFile(), PlanBuild() and WriteTable() in one pass, holding
// neither the source nor its keys: records are written to the temporary
// file as the source is read, and only hashes and offsets are kept.
// Same contract as WriteTable() (temporary file, mode and owner, sync,
// rename; on any error the previous table is untouched). With `strict`,
// a source with any diagnostic is not written (result->written false,
// Status ok). `result` is filled on errors too, with the diagnostics
// seen before the error. Errors: as ParseMapFile() for the source, as
// WriteTable() for the table; kUnsupported for a type
// CanBuildFromSource() refuses. options.progress gets (entries so far,
// an estimate of the total from the bytes read).
MAPCTL_EXPORT Status BuildTableFromSource(const TableSpec& spec,
                                          const std::string& source_path,
                                          const ParseOptions& parse,
                                          const BuildOptions& options,
                                          const SourceFileInfo& source,
                                          bool strict,
                                          SourceBuildResult* result);

// A position in a table scan; start with a default-constructed one.
struct ScanCursor {
  std::string token;  // type-specific: the last key seen, a file offset...
  bool started = false;
  bool done = false;
};

// One bounded read of a table: the type's shared lock (fcntl for lmdb)
// and a consistent snapshot, held until the unit is destroyed. Views it
// returns point into the mapped file and are valid only until then.
// Keep units short: never hold one while waiting for input or writing
// output. Not thread-safe.
class MAPCTL_EXPORT ReadUnit {
 public:
  virtual ~ReadUnit();

  // The raw bytes stored under exactly `key` (no folding, no NUL rules).
  // Empty optional: absent. Error: the table could not be read.
  virtual Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) = 0;

  using RawVisitor =
      std::function<bool(std::string_view key, std::string_view value)>;
  // Visits up to `limit` entries after `cursor`, in table order (key order
  // for lmdb), raw bytes; updates the cursor. A visitor returning false
  // stops the scan (the entry it was given counts as visited).
  virtual Status Scan(ScanCursor& cursor, std::size_t limit,
                      const RawVisitor& visit) = 0;

  // Identifies the table version this unit reads (LMDB's transaction id).
  // A multi-unit dump compares it to notice a table rewritten in place.
  virtual std::uint64_t version() const = 0;
};

class MAPCTL_EXPORT TableReader {
 public:
  virtual ~TableReader();

  const TableSpec& spec() const noexcept { return spec_; }
  // Whether Scan visits entries in key order.
  virtual bool sorted() const noexcept = 0;

  // Starts a read unit. Errors: I/O, or a table that fails the checks made
  // before trusting it.
  virtual Result<std::unique_ptr<ReadUnit>> Begin() = 0;

 protected:
  explicit TableReader(TableSpec spec) : spec_(std::move(spec)) {}

 private:
  TableSpec spec_;
};

struct OpenOptions {
  // For texthash, which parses its source at open: how to fold keys.
  FoldMode fold = FoldMode::kUtf8;
  bool check_utf8 = true;
  // Walk the whole file with VerifyTable()'s checks before the engine
  // sees it, and refuse a damaged one (kCorruption). For readers that
  // visit every page anyway (mapctl dump): LMDB and Berkeley DB trust the
  // file, and a damaged one can crash them in a scan. lmdb, hash, btree.
  bool verify = false;
};

// Opens a table read-only, never creating anything (no LMDB lock file).
// Before LMDB (or any engine) trusts the file, it is checked: missing,
// zero length, not a regular file, wrong magic or version, truncated,
// and for lmdb both B-tree roots. Each gives an error naming the file.
// These checks are cheap, not complete: without `verify`, a damaged
// table can still crash a lookup, as it can crash Postfix.
MAPCTL_EXPORT Result<std::unique_ptr<TableReader>> OpenTable(
    const TableSpec& spec, const OpenOptions& options);

// Postfix's dict layer over a ReadUnit: fold the query, try "key\0" then
// "key" (per NulMode), pin the form that hit first for the life of this
// object (as a Postfix table handle does), and return the value up to its
// first NUL. An empty key is absent. When `check_utf8` (smtputf8_enable
// and no -u; independent of -f), a key that is not valid UTF-8 is absent
// too (Postfix warns and reports not found; see invalid_key()).
class MAPCTL_EXPORT TableLookup {
 public:
  TableLookup(FoldMode fold, NulMode nul, bool check_utf8) noexcept;

  // The view is valid for the life of `unit`.
  Result<std::optional<std::string_view>> Find(ReadUnit& unit,
                                                std::string_view key);
  // Whether the last Find() refused its key as invalid UTF-8.
  bool invalid_key() const noexcept { return invalid_key_; }

 private:
  FoldMode fold_;
  bool check_utf8_;
  bool try_with_nul_;
  bool try_without_nul_;
  bool invalid_key_ = false;
  std::string folded_;
};

// The C-string view Postfix takes of a stored key or value: everything up
// to the first NUL.
MAPCTL_EXPORT std::string_view StoredText(std::string_view raw) noexcept;

// Walks every page of the table with mapctl's own checks, never trusting
// the engine with a damaged file. Each problem found is appended to
// `problems`. Errors: the file cannot be opened at all.
MAPCTL_EXPORT Status VerifyTable(const TableSpec& spec,
                                 std::vector<std::string>* problems);

}  // namespace mapctl

#endif  // MAPCTL_TABLE_H_
