// postfix/sql_template.h - the query and result_format templates of an SQL
// table (internal).
//
// Postfix's db_common.c validates both templates into one context, and the
// flags they set together decide which keys are queried at all (a %d
// anywhere suppresses keys without a domain, even with %s beside it; %u
// and %U suppress an empty local part; %1..%9 need that many domain
// labels). Expansions (sqlite_table(5), pgsql_table(5), mysql_table(5)):
//   %s  the key (query) / the value (result)     %S  always the key
//   %u  local part, or all of it without an '@'   %U  the same, of the key
//   %d  domain part; required                     %D  the same, of the key
//   %1..%9  domain labels from the right (of the key)      %%  a '%'
// The key is split at its LAST '@'. Domain labels are the non-empty pieces
// between dots: "a..b.c" has the three labels a, b, c (checked with 3.7.11).

#ifndef MAPCTL_LIBMAPS_POSTFIX_SQL_TEMPLATE_H_
#define MAPCTL_LIBMAPS_POSTFIX_SQL_TEMPLATE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "mapctl/status.h"

namespace mapctl::sql {

// Appends `text`, escaped for the live connection, to *out. Errors: the
// client library refused to escape it (pgsql: an invalid multibyte
// sequence for the connection's encoding).
using Quoter = std::function<Status(std::string_view text, std::string* out)>;

enum class KeyFit : std::uint8_t {
  kFits,        // the query can be built: it runs
  kEmpty,       // an empty key: Postfix warns "empty query string"
  kSuppressed,  // the key lacks a part the templates need: no query, not found
};

class Templates {
 public:
  // Validates both templates. Errors (kParseError): an unknown '%'
  // sequence or a '%' at the end: "invalid query template: '%x' at byte 27"
  // ("invalid result template: ..."). The caller adds the file and line.
  static Result<Templates> Parse(std::string query, std::string result_format);

  // Whether `key` (already folded) gets a query (db_common_expand's checks).
  KeyFit Fit(std::string_view key) const;

  // The query for `key`, each inserted piece passed through `quote`.
  // REQUIRES: Fit(key) == KeyFit::kFits.
  Status ExpandQuery(std::string_view key, const Quoter& quote,
                     std::string* out) const;

  // Formats one non-empty result `value` for `key` and appends it to *out,
  // after a ',' when *out is not empty. Returns false (and appends nothing)
  // when the value lacks a part result_format needs: %d a domain, %u a
  // local part (Postfix skips such values silently).
  bool AppendResult(std::string_view value, std::string_view key,
                    std::string* out) const;

  const std::string& query() const noexcept { return query_; }
  const std::string& result_format() const noexcept { return result_; }

 private:
  Templates() = default;
  Status Scan(const std::string& text, bool query);

  std::string query_;
  std::string result_;
  unsigned flags_ = 0;
  int nparts_ = 0;  // the highest %1..%9 in either template
};

}  // namespace mapctl::sql

#endif  // MAPCTL_LIBMAPS_POSTFIX_SQL_TEMPLATE_H_
