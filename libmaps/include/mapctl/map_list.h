// mapctl/map_list.h - the list of tables a Postfix parameter names.
//
// A parameter such as sender_dependent_relayhost_maps holds tables
// separated by commas and/or whitespace: "lmdb:/etc/postfix/relay,
// proxy:lmdb:/etc/postfix/b inline:{ {k1 = v1}, k2=v2 }". Postfix asks
// them in order and the first table with the key wins (global/maps.c).
// Partial keys (everything but a full address, see mail_addr_find.c) are
// only asked of fixed-key tables. "proxy:" is stripped: proxymap(8) asks
// the same table. inline: tables (inline_table(5), Postfix 3.0+) are held
// in memory. Pattern and service tables (pcre, regexp, cidr, ldap, mysql,
// ...) cannot be evaluated here: a key that would reach one is answered
// "unsupported", never guessed.

#ifndef MAPCTL_MAP_LIST_H_
#define MAPCTL_MAP_LIST_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/fold.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl {

// How a bare path (no "type:") in the list is read.
enum class MapListMode : std::uint8_t {
  kMainCf,   // as main.cf means it: default_database_type:PATH
  kSources,  // mapctl's --*-maps options: the source file (texthash:PATH)
};

enum class MapKind : std::uint8_t {
  kFile,     // lmdb, cdb, hash, btree, texthash: read through OpenTable()
  kInline,   // inline:{...}, parsed into memory
  kStatic,   // static:VALUE: every key finds VALUE
  kPattern,  // regexp, pcre, cidr: asked with full keys only
  kOther,    // ldap, mysql, dbm, tcp, ...: asked with every key
};

// One table of a list. Not thread-safe; owned by its MapList.
class MAPCTL_EXPORT MapTable {
 public:
  ~MapTable();
  MapTable(const MapTable&) = delete;
  MapTable& operator=(const MapTable&) = delete;

  // The table as written, "proxy:" removed ("lmdb:/etc/postfix/relay").
  // Holds passwords for inline: and static: credential tables.
  const std::string& name() const noexcept { return name_; }
  // name(), except that inline: and static: tables show no values
  // ("inline:{ 2 entries }", "static:{...}"): safe to print.
  const std::string& display() const noexcept { return display_; }
  MapKind kind() const noexcept { return kind_; }
  std::string_view type() const noexcept { return type_; }
  bool proxied() const noexcept { return proxied_; }
  // Whether partial keys are asked of this table (DICT_FLAG_FIXED).
  bool fixed_key() const noexcept { return kind_ != MapKind::kPattern; }

 private:
  friend class MapList;
  MapTable() = default;

  std::string name_;
  std::string display_;
  std::string type_;
  MapKind kind_ = MapKind::kFile;
  bool proxied_ = false;
  TableSpec spec_;  // kFile
  std::vector<std::pair<std::string, std::string>>
      entries_;               // kInline,
                              // folded keys, sorted
  std::string static_value_;  // kStatic
  std::unique_ptr<TableReader> reader_;
  std::unique_ptr<ReadUnit> unit_;
  std::unique_ptr<TableLookup> lookup_;
  Status open_error_;
  bool open_tried_ = false;
};

enum class ProbeResult : std::uint8_t {
  kFound,
  kNotFound,
  kSkipped,      // a partial key and a table that is not fixed-key
  kUnsupported,  // the table cannot be evaluated (pattern, service, ...)
  kError,        // the table failed, or holds an empty value (maps.c)
};

// "found", "not found", "skipped", "unsupported", "error".
MAPCTL_EXPORT std::string_view ProbeResultName(ProbeResult r) noexcept;

struct Probe {
  ProbeResult result = ProbeResult::kNotFound;
  // kFound: the value, valid until the next Find() or EndBatch().
  std::string_view value;
  // kError, kUnsupported: why.
  Status error;
};

struct MapListOptions {
  // Type for bare paths in kMainCf mode (main.cf's default_database_type).
  std::string default_database_type = "hash";
  // Key folding and UTF-8 checks, as for building (KeyFoldMode,
  // ChecksUtf8 of the same main.cf).
  FoldMode fold = FoldMode::kUtf8;
  bool check_utf8 = true;
  // Opens a file table; OpenTable() when empty. Tests inject fakes.
  std::function<Result<std::unique_ptr<TableReader>>(const TableSpec&,
                                                     const OpenOptions&)>
      open;
};

// A parsed table list. Tables are opened on first use. Each lookup runs in
// a read unit per table that stays open until EndBatch(): call it after a
// batch of lookups and before waiting for input or writing output.
// Not thread-safe.
class MAPCTL_EXPORT MapList {
 public:
  MapList();
  ~MapList();
  MapList(MapList&&) noexcept;
  MapList& operator=(MapList&&) noexcept;

  // Parses a parameter value. `parameter` names it in messages. Errors:
  // an unknown table type, a bad inline: table (inline_table(5) syntax:
  // braces, key=value entries, inner braces around entries with spaces),
  // an empty name. The empty value gives an empty list.
  static Result<MapList> Parse(std::string_view parameter,
                               std::string_view value, MapListMode mode,
                               const MapListOptions& options);

  const std::string& parameter() const noexcept { return parameter_; }
  bool empty() const noexcept { return tables_.empty(); }
  std::size_t size() const noexcept { return tables_.size(); }
  const MapTable& table(std::size_t i) const { return *tables_[i]; }

  // Asks table `i` for `key` the way Postfix's dict layer does (fold, NUL
  // probing, value up to its first NUL). `partial` keys skip tables that
  // are not fixed-key. An empty key is not found (maps.c).
  Probe Find(std::size_t i, std::string_view key, bool partial);

  // Ends the read units of the current batch (locks and snapshots).
  void EndBatch();

 private:
  Status Open(MapTable& t);

  std::string parameter_;
  MapListOptions options_;
  std::vector<std::unique_ptr<MapTable>> tables_;
  std::string folded_;
};

// The fields of an inline:{...} table body ("{ {k = v}, k2=v2 }") in
// order, unfolded. Errors name the problem as Postfix does ("missing '='
// after attribute name", "empty table").
MAPCTL_EXPORT Result<std::vector<std::pair<std::string, std::string>>>
ParseInlineTable(std::string_view body);

}  // namespace mapctl

#endif  // MAPCTL_MAP_LIST_H_
