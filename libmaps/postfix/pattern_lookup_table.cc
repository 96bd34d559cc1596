// postfix/pattern_lookup_table.cc - regexp: and pcre: tables as a LookupTable:
// the rules compiled once (PatternTable) on first use, asked with full
// addresses only (DICT_FLAG_PATTERN), the matching rule's line in `where`.
//
// An empty result is found with an empty value here, as postmap -q prints
// it; the table lists (maps.c) make it an error for the sender search, as
// Postfix's daemons do.

#include "postfix/lazy_table.h"
#include "postfix/pattern_table.h"
#include "postfix/table_types.h"

namespace mapctl {
namespace {

TableWarning ToTableWarning(const pattern::PatternWarning& w) {
  return TableWarning{w.diagnostic, w.postfix_text, w.postfix_message};
}

class PatternLookupTable final : public LazyTable {
 public:
  PatternLookupTable(const TableName& name, pattern::PatternType type,
                     const TableContext& context)
      : LazyTable(std::string(name.type), std::string(name.text),
                  // An inline table's text holds its results (maybe
                  // passwords): only its size is shown.
                  name.body.front() == '{' ? std::string(name.type) + ":{...}"
                                           : std::string(name.text),
                  TableTraits{/*fixed_keys=*/false, /*enumerable=*/false,
                              /*has_lines=*/true, /*evaluated=*/true}),
        pattern_type_(type),
        body_(name.body) {
    options_.check_utf8 = context.check_utf8;
    options_.no_regsub = context.no_regsub;
    options_.strict = context.strict;
  }

 private:
  Status Load(std::vector<TableWarning>* warnings) override {
    Result<std::unique_ptr<pattern::PatternTable>> t =
        pattern::PatternTable::Open(pattern_type_, body_, options_);
    if (!t) return std::move(t).error();
    table_ = std::move(*t);
    for (const pattern::PatternWarning& w : table_->warnings()) {
      warnings->push_back(ToTableWarning(w));
    }
    return Status::Ok();
  }

  Answer FindLoaded(std::string_view key) override {
    Answer a;
    pattern::PatternAnswer p = table_->Find(key);
    for (const pattern::PatternWarning& w : p.warnings) {
      a.warnings.push_back(ToTableWarning(w));
    }
    switch (p.outcome) {
      case pattern::PatternOutcome::kFound:
        a.outcome = Outcome::kFound;
        a.value = p.value;
        a.where = SourceLocation{table_->origin(), p.line};
        break;
      case pattern::PatternOutcome::kNotFound:
        a.outcome = Outcome::kNotFound;
        break;
      case pattern::PatternOutcome::kError:
        a.outcome = Outcome::kError;
        a.error = std::move(p.error);
        break;
    }
    return a;
  }

  pattern::PatternType pattern_type_;
  std::string body_;
  pattern::PatternOptions options_;
  std::unique_ptr<pattern::PatternTable> table_;
};

}  // namespace

Result<std::unique_ptr<LookupTable>> OpenRegexpTable(
    const TableName& name, const TableContext& context) {
  return std::unique_ptr<LookupTable>(
      new PatternLookupTable(name, pattern::PatternType::kRegexp, context));
}

Result<std::unique_ptr<LookupTable>> OpenPcreTable(
    const TableName& name, const TableContext& context) {
  return std::unique_ptr<LookupTable>(
      new PatternLookupTable(name, pattern::PatternType::kPcre, context));
}

}  // namespace mapctl
