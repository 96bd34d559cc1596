// postfix/indexed_table.cc - lmdb, cdb, hash, btree and texthash tables as a
// LookupTable: a TableReader opened on first use, Postfix's dict layer
// (TableLookup) over one read unit per batch.

#include "postfix/lazy_table.h"
#include "postfix/table_types.h"

namespace mapctl {
namespace {

class IndexedTable final : public LazyTable {
 public:
  IndexedTable(const TableName& name, TableSpec spec,
               const TableContext& context)
      : LazyTable(std::string(name.type), std::string(name.text),
                  std::string(name.text),
                  TableTraits{/*fixed_keys=*/true, /*enumerable=*/true,
                              /*has_lines=*/false, /*evaluated=*/true}),
        spec_(std::move(spec)),
        fold_(context.fold),
        check_utf8_(context.check_utf8),
        nul_(context.nul),
        opener_(context.open) {}

  const TableSpec* spec() const noexcept override { return &spec_; }

  void EndBatch() override { unit_.reset(); }

  // In chunks of 65536 entries, each in its own read unit (StreamTable's
  // rule): no lock is held while the visitor works on a big table.
  Status ForEach(const Visitor& visit) override {
    EndBatch();
    MAPCTL_RETURN_IF_ERROR(Open());
    ScanCursor cursor;
    std::uint64_t version = 0;
    bool started = false;
    bool stopped = false;
    const std::size_t limit = reader_->sorted() ? 65536 : SIZE_MAX;
    while (!cursor.done && !stopped) {
      Result<std::unique_ptr<ReadUnit>> unit = reader_->Begin();
      if (!unit) return unit.error();
      if (started && (*unit)->version() != version) {
        return Status(ErrorCode::kChanged,
                      name() + " was rewritten while it was being read");
      }
      started = true;
      version = (*unit)->version();
      std::size_t seen = 0;
      MAPCTL_RETURN_IF_ERROR((*unit)->Scan(
          cursor, limit, [&](std::string_view k, std::string_view v) {
            ++seen;
            stopped = !visit(StoredText(k), StoredText(v), 0);
            return !stopped;
          }));
      if (seen == 0) break;
    }
    return Status::Ok();
  }

 private:
  Status Load(std::vector<TableWarning>*) override {
    OpenOptions oo;
    oo.fold = fold_;
    oo.check_utf8 = check_utf8_;
    Result<std::unique_ptr<TableReader>> r =
        opener_ ? opener_(spec_, oo) : OpenTable(spec_, oo);
    if (!r) return std::move(r).error();
    reader_ = std::move(*r);
    lookup_.emplace(fold_, nul_, check_utf8_);
    return Status::Ok();
  }

  Answer FindLoaded(std::string_view key) override {
    Answer a;
    if (!unit_) {
      Result<std::unique_ptr<ReadUnit>> u = reader_->Begin();
      if (!u) {
        a.outcome = Outcome::kError;
        a.error = std::move(u).error();
        return a;
      }
      unit_ = std::move(*u);
    }
    Result<std::optional<std::string_view>> r = lookup_->Find(*unit_, key);
    if (!r) {
      a.outcome = Outcome::kError;
      a.error = std::move(r).error();
      return a;
    }
    a.invalid_key = lookup_->invalid_key();
    if (r->has_value()) {
      a.outcome = Outcome::kFound;
      a.value = **r;
    }
    return a;
  }

  TableSpec spec_;
  FoldMode fold_;
  bool check_utf8_;
  NulMode nul_;
  TableOpener opener_;
  std::unique_ptr<TableReader> reader_;
  std::unique_ptr<ReadUnit> unit_;
  std::optional<TableLookup> lookup_;
};

}  // namespace

Result<std::unique_ptr<LookupTable>> OpenIndexedTable(
    const TableName& name, const TableContext& context) {
  Result<TableSpec> spec =
      ParseTableSpec(name.text, context.default_database_type);
  if (!spec) return std::move(spec).error();
  return std::unique_ptr<LookupTable>(
      new IndexedTable(name, std::move(*spec), context));
}

}  // namespace mapctl
