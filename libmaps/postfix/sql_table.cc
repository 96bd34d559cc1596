// postfix/sql_table.cc - one SQL table lookup, in Postfix 3.7's order.

#include "postfix/sql_table.h"

#include <algorithm>
#include <unordered_set>

namespace mapctl::sql {

std::string MessageText(std::string_view text, std::size_t max) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  std::string out;
  std::size_t end = std::min(text.size(), max);
  for (std::size_t i = 0; i < end;) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {  // keep well-formed UTF-8, as postmap prints it
      std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (n > 1 && i + n <= text.size() && IsValidUtf8(text.substr(i, n))) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    out.push_back(c < 0x20 || c >= 0x7f ? '?' : static_cast<char>(c));
    ++i;
  }
  if (text.size() > max) out += "...";
  return out;
}

Result<std::unique_ptr<SqlTable>> SqlTable::Open(
    SqlType type, const std::string& path, const SqlTableOptions& options,
    std::vector<Diagnostic>* warnings) {
  // Postfix reads the .cf before it looks for the client; so does mapctl,
  // so that a bad file is reported the same way in every build.
  Result<CfParams> params = CfParams::ReadFile(path);
  if (!params) return params.error();
  Result<SqlConfig> config = ParseSqlConfig(type, *params);
  if (warnings != nullptr) {
    warnings->insert(warnings->end(), params->diagnostics().begin(),
                     params->diagnostics().end());
  }
  if (!config) return config.error();
  return FromConfig(std::move(config).value(), options);
}

Result<std::unique_ptr<SqlTable>> SqlTable::FromConfig(
    SqlConfig config, const SqlTableOptions& options) {
  Result<Templates> templates =
      Templates::Parse(config.query, config.result_format);
  if (!templates) {
    return Status::ParseError(CfWhere(config.origin, config.query_line) +
                              templates.error().message());
  }
  Result<DomainList> domain = DomainList::Parse(
      config.domain, options.domain_fold, options.open_domain_table);
  if (!domain) {
    const Status& e = domain.error();
    return Status(e.code(), CfWhere(config.origin, config.domain_line) +
                                "domain: " + e.message());
  }
  Result<std::unique_ptr<SqlClient>> client =
      OpenSqlClient(config, options.client);
  if (!client) return client.error();
  return std::unique_ptr<SqlTable>(new SqlTable(
      std::move(config), std::move(templates).value(),
      std::move(domain).value(), std::move(client).value(), options));
}

SqlTable::SqlTable(SqlConfig config, Templates templates, DomainList domain,
                   std::unique_ptr<SqlClient> client,
                   const SqlTableOptions& options)
    : config_(std::move(config)),
      templates_(std::move(templates)),
      domain_(std::move(domain)),
      client_(std::move(client)),
      options_(options),
      name_(std::string(SqlTypeName(config_.type)) + ":" + config_.origin) {}

void SqlTable::Fail(SqlAnswer* answer, std::string cause) const {
  answer->outcome = SqlOutcome::kError;
  answer->error =
      Status(ErrorCode::kIoError, "table " + name_ + ": query error: " + cause);
}

bool SqlTable::Prepare(std::string_view key, std::string* folded,
                       SqlAnswer* answer) {
  // The dict_utf8 layer checks the key before the table sees it.
  if (options_.check_utf8 && !IsValidUtf8(key)) {
    answer->warnings.push_back(name_ + ": non-UTF-8 key \"" + MessageText(key) +
                               "\": malformed UTF-8 or invalid codepoint");
    return false;
  }
  if (!FoldKey(key, options_.fold, folded).ok()) {
    (void)FoldKey(key, FoldMode::kAscii, folded);
  }
  // dict_sqlite skips keys that are not UTF-8 on its own (seen when
  // smtputf8 is off); the other types send the bytes as they are.
  if (config_.type == SqlType::kSqlite && !IsValidUtf8(*folded)) {
    return false;
  }
  Result<bool> admitted = domain_.Admits(*folded);
  if (!admitted) {
    Fail(answer, "domain: " + admitted.error().message());
    return false;
  }
  if (!*admitted) return false;
  switch (templates_.Fit(*folded)) {
    case KeyFit::kEmpty:
      answer->warnings.push_back("table \"" + name_ +
                                 "\": empty query string -- ignored");
      return false;
    case KeyFit::kSuppressed:
      return false;
    case KeyFit::kFits:
      break;
  }
  return true;
}

SqlAnswer SqlTable::Lookup(std::string_view key) {
  SqlAnswer answer;
  if (!Prepare(key, &folded_, &answer)) return answer;
  if (keeping_) {
    // The first lookup connects as it always does, failures and warnings
    // included; the batch runs on the connection it leaves up.
    if (!pending_.empty() && client_->live()) RunPrefetch();
    auto kept = kept_.find(folded_);
    if (kept != kept_.end()) return kept->second;
  }
  std::optional<SqlRows> rows = RunQuery(folded_, &answer);
  if (!rows) return answer;
  Format(*rows, folded_, &answer);
  if (keeping_) Keep(folded_, answer);
  return answer;
}

void SqlTable::Prefetch(Span<const std::string_view> keys) {
  if (!client_->batches()) return;
  keeping_ = true;
  if (!prefetching_) return;
  for (std::string_view k : keys) {
    if (pending_.size() == kMaxKept) break;
    pending_.emplace_back(k);
  }
}

void SqlTable::EndBatch() {
  kept_.clear();
  pending_.clear();
}

void SqlTable::Keep(const std::string& folded, const SqlAnswer& answer) {
  // Warnings belong to the lookup that met them (an empty result, a host
  // that failed, a server notice): such an answer is asked again, so that
  // each lookup reports its own, as without the prefetch.
  if (answer.outcome == SqlOutcome::kError || !answer.warnings.empty()) return;
  if (kept_.size() >= kMaxKept) kept_.clear();
  kept_.emplace(folded, answer);
}

void SqlTable::RunPrefetch() {
  std::vector<std::string> keys, queries;
  std::unordered_set<std::string> seen;
  SqlAnswer scratch;
  bool escaped = true;
  for (const std::string& k : pending_) {
    std::string folded;
    scratch.warnings.clear();
    if (!Prepare(k, &folded, &scratch) || kept_.count(folded) != 0 ||
        !seen.insert(folded).second) {
      continue;
    }
    std::string query;
    Status built = templates_.ExpandQuery(
        folded,
        [this](std::string_view text, std::string* out) {
          return client_->Escape(text, out);
        },
        &query);
    if (!built.ok() || !client_->live()) {
      escaped = false;  // Lookup() meets it again and reports it
      break;
    }
    keys.push_back(std::move(folded));
    queries.push_back(std::move(query));
  }
  pending_.clear();
  if (!escaped) prefetching_ = false;
  if (queries.empty()) return;
  if (kept_.size() + queries.size() > kMaxKept) kept_.clear();
  std::vector<std::optional<SqlRows>> rows;
  if (!client_->RunBatch(queries, &rows)) prefetching_ = false;
  const std::string host = client_->host();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!rows[i]) continue;
    SqlAnswer a;
    a.query = std::move(queries[i]);
    a.host = host;
    Format(*rows[i], keys[i], &a);
    Keep(keys[i], a);
  }
}

std::optional<SqlRows> SqlTable::RunQuery(std::string_view key,
                                          SqlAnswer* answer) {
  client_->BeginLookup();
  std::string pending;  // the last failed query's message
  std::vector<std::string> failures;
  for (;;) {
    failures.clear();
    Status connected = client_->Connect(&failures);
    if (!connected.ok()) {
      // The lookup fails with the last thing that went wrong; what went
      // wrong before it stays a warning, as in Postfix's log.
      std::string cause = connected.message();
      if (!failures.empty()) {
        cause = std::move(failures.back());
        failures.pop_back();
      } else if (!pending.empty()) {
        cause = std::move(pending);
      }
      if (!pending.empty()) answer->warnings.push_back(std::move(pending));
      for (std::string& f : failures) answer->warnings.push_back(std::move(f));
      Fail(answer, std::move(cause));
      return std::nullopt;
    }
    if (!pending.empty()) answer->warnings.push_back(std::move(pending));
    pending.clear();
    for (std::string& f : failures) answer->warnings.push_back(std::move(f));
    answer->host = client_->host();
    answer->query.clear();
    Status built = templates_.ExpandQuery(
        key,
        [this](std::string_view text, std::string* out) {
          return client_->Escape(text, out);
        },
        &answer->query);
    Result<SqlRows> rows =
        built.ok() ? client_->Run(answer->query) : Result<SqlRows>(built);
    client_->TakeNotices(&answer->warnings);
    if (rows) return std::move(rows).value();
    if (!client_->failover()) {
      Fail(answer, rows.error().message());
      return std::nullopt;
    }
    pending = rows.error().message();
  }
}

void SqlTable::Format(const SqlRows& rows, std::string_view key,
                      SqlAnswer* answer) {
  int expansions = 0;
  for (const std::optional<std::string>& cell : rows.cells) {
    if (!cell) continue;  // NULL: skipped silently (mysql, sqlite)
    if (cell->empty()) {
      answer->warnings.push_back("table \"" + name_ +
                                 "\": empty lookup result for: \"" +
                                 MessageText(key) + "\" -- ignored");
      continue;
    }
    if (templates_.AppendResult(*cell, key, &answer->value) &&
        config_.expansion_limit > 0 && ++expansions > config_.expansion_limit) {
      answer->value.clear();
      Fail(answer,
           "expansion limit exceeded for key: '" + MessageText(key) + "'");
      return;
    }
  }
  if (answer->value.empty()) return;
  if (options_.check_utf8 && !IsValidUtf8(answer->value)) {
    answer->value.clear();
    Fail(answer, "key \"" + MessageText(key) +
                     "\": non-UTF-8 value: malformed UTF-8 or invalid "
                     "codepoint");
    return;
  }
  answer->outcome = SqlOutcome::kFound;
}

}  // namespace mapctl::sql
