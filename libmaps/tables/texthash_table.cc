// tables/texthash_table.cc - texthash: a source file read straight into memory.
//
// Postfix's texthash type (since 2.8) parses the source with postmap's
// parser at open time and keeps it in an in-memory hash; duplicates keep
// the first entry. mapctl uses it for `texthash:PATH` tables and for source
// files named where a table is read (the --*-maps options).

#include <algorithm>
#include <vector>

#include "tables/table_backends.h"

namespace mapctl {
namespace {

struct Row {
  std::string_view key;
  std::string_view value;
};

class TexthashUnit final : public ReadUnit {
 public:
  explicit TexthashUnit(const std::vector<Row>& rows) : rows_(rows) {}

  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    auto it = std::lower_bound(
        rows_.begin(), rows_.end(), key,
        [](const Row& r, std::string_view k) { return r.key < k; });
    if (it == rows_.end() || it->key != key) {
      return std::optional<std::string_view>();
    }
    return std::optional<std::string_view>(it->value);
  }

  Status Scan(ScanCursor& cursor, std::size_t limit,
              const RawVisitor& visit) override {
    std::size_t index = 0;
    if (cursor.started) {
      index = std::upper_bound(rows_.begin(), rows_.end(), cursor.token,
                               [](std::string_view k, const Row& r) {
                                 return k < r.key;
                               }) -
              rows_.begin();
    }
    cursor.started = true;
    for (std::size_t n = 0; n < limit; ++n, ++index) {
      if (index >= rows_.size()) {
        cursor.done = true;
        return Status::Ok();
      }
      cursor.token.assign(rows_[index].key);
      if (!visit(rows_[index].key, rows_[index].value)) return Status::Ok();
    }
    cursor.done = index >= rows_.size();
    return Status::Ok();
  }

  std::uint64_t version() const override { return 1; }

 private:
  const std::vector<Row>& rows_;
};

class TexthashReader final : public TableReader {
 public:
  TexthashReader(TableSpec spec, ParsedMap parsed)
      : TableReader(std::move(spec)), parsed_(std::move(parsed)) {
    rows_.reserve(parsed_.entries().size());
    for (const Entry& e : parsed_.entries()) {
      rows_.push_back({e.key(), e.value()});
    }
    // First entry wins among duplicates, as dict_thash keeps the first.
    std::stable_sort(rows_.begin(), rows_.end(),
                     [](const Row& a, const Row& b) { return a.key < b.key; });
    rows_.erase(std::unique(rows_.begin(), rows_.end(),
                            [](const Row& a, const Row& b) {
                              return a.key == b.key;
                            }),
                rows_.end());
  }

  bool sorted() const noexcept override { return true; }

  Result<std::unique_ptr<ReadUnit>> Begin() override {
    return std::unique_ptr<ReadUnit>(new TexthashUnit(rows_));
  }

  const ParsedMap& parsed() const { return parsed_; }

 private:
  ParsedMap parsed_;
  std::vector<Row> rows_;
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
  return std::unique_ptr<TableReader>(
      new TexthashReader(spec, std::move(parsed).value()));
}

}  // namespace mapctl
