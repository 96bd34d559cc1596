// tables/texthash_table.cc - texthash: a source file read straight into memory.
//
// Postfix's texthash type (since 2.8) parses the source with postmap's
// parser at open time and keeps it in an in-memory hash; duplicates keep
// the first entry. mapctl uses it for `texthash:PATH` tables and for source
// files named where a table is read (the --*-maps options).

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tables/key_hash_index.h"
#include "tables/table_backends.h"

namespace mapctl {
namespace {

// Scans in source order (the first entry of each key): a texthash table has
// no key order of its own (Postfix's is its hash table's), and callers that
// want one sort what they read, as they do for cdb.
class TexthashUnit final : public ReadUnit {
 public:
  TexthashUnit(const ParsedMap& parsed, const KeyHashIndex& index,
               const std::vector<std::uint32_t>& kept)
      : entries_(parsed.entries()), index_(index), kept_(kept) {}

  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    std::optional<std::uint32_t> i = index_.Find(key);
    if (!i) return std::optional<std::string_view>();
    return std::optional<std::string_view>(entries_[*i].value());
  }

  // The cursor's token is the position in `kept_` to go on from.
  Status Scan(ScanCursor& cursor, std::size_t limit,
              const RawVisitor& visit) override {
    std::size_t next = 0;
    if (cursor.started) next = std::strtoull(cursor.token.c_str(), nullptr, 10);
    cursor.started = true;
    for (std::size_t n = 0; n < limit && next < kept_.size(); ++n) {
      const Entry& e = entries_[kept_[next++]];
      cursor.token = std::to_string(next);
      if (!visit(e.key(), e.value())) return Status::Ok();
    }
    cursor.done = next >= kept_.size();
    return Status::Ok();
  }

  std::uint64_t version() const override { return 1; }

 private:
  std::span<const Entry> entries_;
  const KeyHashIndex& index_;
  const std::vector<std::uint32_t>& kept_;
};

class TexthashReader final : public TableReader {
 public:
  TexthashReader(TableSpec spec, ParsedMap parsed)
      : TableReader(std::move(spec)), parsed_(std::move(parsed)) {}

  Status Index() {
    if (!index_.Allocate(parsed_.entries())) {
      return Status::IoError("index " + spec().path, errno);
    }
    kept_.reserve(parsed_.entries().size());
    // First entry wins among duplicates, as dict_thash keeps the first.
    index_.InsertAll(
        [&](std::uint32_t j) { kept_.push_back(j); },
        [](std::uint32_t, std::uint32_t) { return OnDuplicate::kKeepSeen; });
    return Status::Ok();
  }

  bool sorted() const noexcept override { return false; }

  Result<std::unique_ptr<ReadUnit>> Begin() override {
    return std::unique_ptr<ReadUnit>(new TexthashUnit(parsed_, index_, kept_));
  }

 private:
  ParsedMap parsed_;
  KeyHashIndex index_;
  std::vector<std::uint32_t> kept_;  // entries that won, in source order
};

}  // namespace

Result<std::unique_ptr<TableReader>> OpenTexthashTable(
    const TableSpec& spec, const OpenOptions& options) {
  ParseOptions parse;
  parse.origin = spec.path;
  parse.fold = options.fold;
  parse.check_utf8 = options.check_utf8;
  Result<ParsedMap> parsed = ParseMapFile(spec.path, parse);
  if (!parsed) return std::move(parsed).error();
  auto reader =
      std::make_unique<TexthashReader>(spec, std::move(parsed).value());
  MAPCTL_RETURN_IF_ERROR(reader->Index());
  return std::unique_ptr<TableReader>(std::move(reader));
}

}  // namespace mapctl
