// postfix/sql_lookup_table.cc - sqlite:, pgsql: and mysql: tables as a
// LookupTable: the .cf read and the client connected on first use, one
// connection for the table's life, the query that ran in `detail`.
//
// SQL tables are fixed-key tables (dict_sqlite.c, dict_pgsql.c and
// dict_mysql.c set DICT_FLAG_FIXED): the sender search asks them the same
// partial keys as an indexed table. They cannot be listed.

#include <optional>

#include "mapctl/config.h"
#include "postfix/cf_params.h"
#include "postfix/lazy_table.h"
#include "postfix/sql_config.h"
#include "postfix/sql_table.h"
#include "postfix/table_types.h"

namespace mapctl {
namespace {

// `domain = type:table` items, opened through the table registry with
// this table's context (Postfix opens them with dict_open as well).
sql::DomainTableOpener DomainOpener(TableContext context) {
  return [context](std::string_view name) -> Result<sql::DomainTableLookup> {
    Result<std::unique_ptr<LookupTable>> opened =
        OpenLookupTable(name, context);
    if (!opened) return opened.error();
    std::shared_ptr<LookupTable> table(std::move(opened).value());
    if (Status s = table->Open(); !s.ok()) {
      // Postfix's wording for any table it cannot open; texthash's
      // reader says "open FILE".
      std::string m = s.message();
      if (m.rfind("open database ", 0) != 0 && m.rfind("open ", 0) == 0) {
        m.insert(5, "database ");
      }
      return Status(s.code(), std::move(m));
    }
    return sql::DomainTableLookup(
        [table](std::string_view key) -> Result<bool> {
          Answer a = table->Find(key);
          table->EndBatch();
          if (a.outcome == Outcome::kError ||
              a.outcome == Outcome::kNotEvaluated) {
            return a.error;
          }
          return a.outcome == Outcome::kFound;
        });
  };
}

class SqlLookupTable final : public LazyTable {
 public:
  SqlLookupTable(const TableName& name, sql::SqlType type,
                 const TableContext& context)
      : LazyTable(std::string(name.type), std::string(name.text),
                  std::string(name.text),
                  TableTraits{/*fixed_keys=*/true, /*enumerable=*/false,
                              /*has_lines=*/false, /*evaluated=*/true}),
        sql_type_(type),
        path_(name.body) {
    if (MainCfForm() && context.config != nullptr) {
      // "mysql:NAME" (no '/' or '.' in front, as Postfix's cfg_parser tells
      // the forms apart): main.cf's NAME_hosts, NAME_query, ..., expanded
      // as main.cf values are, those main.cf's overrides (--set) give
      // included. Copied now: the config need not outlive us.
      const MainConfig& config = *context.config;
      const std::string prefix = path_ + "_";
      CfParams params(config.config_directory() + "/main.cf");
      params.SetNamePrefix(prefix);
      for (const std::string& n : config.NamesWithPrefix(prefix)) {
        if (n.size() > prefix.size()) {
          params.Set(n.substr(prefix.size()), config.Get(n), config.Line(n));
        }
      }
      main_cf_params_.emplace(std::move(params));
    }
    options_.fold = context.fold;
    options_.check_utf8 = context.check_utf8;
    // The domain list folds as smtputf8_enable says; postmap -f does not
    // change it.
    options_.domain_fold =
        context.fold == FoldMode::kNone
            ? (context.check_utf8 ? FoldMode::kUtf8 : FoldMode::kAscii)
            : context.fold;
    options_.open_domain_table = DomainOpener(context);
    options_.client.timeout = context.timeout;
  }

  // Does not open the table: a table the coming lookups never reach
  // stays unopened, as without the prefetch.
  void Prefetch(Span<const std::string_view> keys) override {
    if (table_) {
      table_->Prefetch(keys);
    } else {
      prefetch_.assign(keys.begin(), keys.end());
    }
  }

  void EndBatch() override {
    if (table_) table_->EndBatch();
    prefetch_.clear();
  }

 private:
  Status Load(std::vector<TableWarning>* warnings) override {
    std::vector<Diagnostic> diagnostics;
    Result<std::unique_ptr<sql::SqlTable>> t =
        Status::Unsupported(name() + ": no main.cf to read " + path_ +
                            "_* parameters from (name a .cf file)");
    if (!MainCfForm()) {
      t = sql::SqlTable::Open(sql_type_, path_, options_, &diagnostics);
    } else if (main_cf_params_) {
      Result<sql::SqlConfig> config =
          sql::ParseSqlConfig(sql_type_, *main_cf_params_);
      t = config
              ? sql::SqlTable::FromConfig(std::move(config).value(), options_)
              : Result<std::unique_ptr<sql::SqlTable>>(config.error());
    }
    for (Diagnostic& d : diagnostics) {
      std::string text = d.message;
      warnings->push_back(
          TableWarning{std::move(d), std::move(text), std::string()});
    }
    if (!t) return std::move(t).error();
    table_ = std::move(*t);
    return Status::Ok();
  }

  Answer FindLoaded(std::string_view key) override {
    if (!prefetch_.empty()) {  // asked before the table opened
      std::vector<std::string_view> keys(prefetch_.begin(), prefetch_.end());
      table_->Prefetch(keys);
      prefetch_.clear();
    }
    Answer a;
    last_ = table_->Lookup(key);
    for (const std::string& w : last_.warnings) {
      a.warnings.push_back(TableWarning{
          Diagnostic{Severity::kWarning, DiagnosticKind::kOther, path_, 0,
                     sql::MessageText(w)},
          w, std::string()});
    }
    a.detail = last_.query;
    switch (last_.outcome) {
      case sql::SqlOutcome::kFound:
        a.outcome = Outcome::kFound;
        a.value = last_.value;
        break;
      case sql::SqlOutcome::kNotFound:
        a.outcome = Outcome::kNotFound;
        break;
      case sql::SqlOutcome::kError:
        a.outcome = Outcome::kError;
        a.error = last_.error;
        break;
    }
    return a;
  }

  bool MainCfForm() const {
    return path_.empty() || (path_[0] != '/' && path_[0] != '.');
  }

  sql::SqlType sql_type_;
  std::string path_;
  std::optional<CfParams> main_cf_params_;  // the main.cf form's
  sql::SqlTableOptions options_;
  std::unique_ptr<sql::SqlTable> table_;
  sql::SqlAnswer last_;  // Answer::value points into it
  std::vector<std::string> prefetch_;  // Prefetch() before the table opened
};

template <sql::SqlType kType>
Result<std::unique_ptr<LookupTable>> OpenSql(const TableName& name,
                                             const TableContext& context) {
  return std::unique_ptr<LookupTable>(new SqlLookupTable(name, kType, context));
}

}  // namespace

Result<std::unique_ptr<LookupTable>> OpenSqliteTable(
    const TableName& name, const TableContext& context) {
  return OpenSql<sql::SqlType::kSqlite>(name, context);
}
Result<std::unique_ptr<LookupTable>> OpenPgsqlTable(
    const TableName& name, const TableContext& context) {
  return OpenSql<sql::SqlType::kPgsql>(name, context);
}
Result<std::unique_ptr<LookupTable>> OpenMysqlTable(
    const TableName& name, const TableContext& context) {
  return OpenSql<sql::SqlType::kMysql>(name, context);
}

}  // namespace mapctl
