// postfix/sql_table.h - one sqlite:, pgsql: or mysql: table: a lookup as
// Postfix 3.7's dict_sqlite/dict_pgsql/dict_mysql answer it (internal).
//
// The core that the table interface (LookupTable) adapts: it reads the
// .cf, keeps one client connection for the table's life and answers one key
// at a time. A lookup, in Postfix's order: the UTF-8 check (smtputf8),
// folding (DICT_FLAG_FOLD_FIX), the domain list, the template checks
// (suppressed keys send no query and need no connection), the query with
// the key escaped by the client library, then the values formatted with
// result_format and joined with ',' (no space), subject to
// expansion_limit. The library never prints: Postfix's warnings come back
// in the answer. Not thread-safe.

#ifndef MAPCTL_LIBMAPS_POSTFIX_SQL_TABLE_H_
#define MAPCTL_LIBMAPS_POSTFIX_SQL_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapctl/fold.h"
#include "mapctl/span.h"
#include "mapctl/status.h"
#include "postfix/sql_client.h"
#include "postfix/sql_config.h"
#include "postfix/sql_domain.h"
#include "postfix/sql_template.h"

namespace mapctl::sql {

struct SqlTableOptions {
  // Key folding: kUtf8 with smtputf8_enable = yes, kAscii without it (or
  // postmap -u), kNone for postmap -f.
  FoldMode fold = FoldMode::kUtf8;
  // smtputf8_enable = yes and no -u: a key that is not UTF-8 is not found
  // (with a warning), a value that is not UTF-8 is an error.
  bool check_utf8 = true;
  // How `domain` items match: kUtf8 or kAscii (smtputf8_enable); postmap
  // -f does not change it.
  FoldMode domain_fold = FoldMode::kUtf8;
  // Opens the type:table items of `domain` (the caller's table layer).
  DomainTableOpener open_domain_table;
  ClientOptions client;
};

enum class SqlOutcome : std::uint8_t { kFound, kNotFound, kError };

struct SqlAnswer {
  SqlOutcome outcome = SqlOutcome::kNotFound;
  std::string value;  // kFound: the joined values, never empty
  // The query that ran, with the key escaped and filled in (it holds no
  // .cf password, but may return credentials: callers mask values, not
  // this). Empty when no query ran (domain list, suppressed key, empty key).
  std::string query;
  std::string host;  // the host that answered (or failed last)
  // kError: "table pgsql:FILE: query error: CAUSE", CAUSE naming the host
  // and the server's or the library's message. Postfix dies on these.
  Status error;
  // Postfix's warnings for this lookup, in its order, without the
  // "postmap: warning: " prefix (empty results, a host that failed before
  // another answered, a non-UTF-8 key).
  std::vector<std::string> warnings;
};

class SqlTable {
 public:
  // Reads the .cf at `path` and prepares the table ("pgsql:PATH"). Errors:
  // what postmap dies on at open (sql_config.h), a domain list that cannot
  // be opened, kUnsupported "pgsql: support not built in", an sqlite
  // database that cannot be opened read-only. `warnings` receives the
  // .cf reader's diagnostics.
  static Result<std::unique_ptr<SqlTable>> Open(
      SqlType type, const std::string& path, const SqlTableOptions& options,
      std::vector<Diagnostic>* warnings);
  // The same from a configuration already read (the main.cf form).
  static Result<std::unique_ptr<SqlTable>> FromConfig(
      SqlConfig config, const SqlTableOptions& options);

  // Looks `key` up exactly as written (this folds it). Once Prefetch() was
  // called, answers found or not found without a warning are kept (up to
  // kMaxKept, until EndBatch()) and a key asked again is answered from
  // them: an answer may be that of the prefetch's or an earlier lookup's
  // moment, within one batch.
  SqlAnswer Lookup(std::string_view key);

  // Forgets the kept answers and the keys not yet sent: the caller is
  // about to wait (for input) or is done with this batch.
  void EndBatch();

  // Keys a coming run of Lookup() calls may ask. With a client that
  // batches (SqlClient::batches(): pgsql, mysql), their queries run
  // together, one run on the connection, at the next Lookup() that would
  // query while the connection is up (the first lookup connects as ever,
  // with its warnings), and their answers are kept. Keys Lookup() would
  // not query (not UTF-8, outside the domain list, suppressed by the
  // template) are not sent. A query that fails, or any server notice,
  // leaves the keys of its batch to Lookup(), which reports them as ever,
  // and ends prefetching for this table. Does nothing for sqlite.
  void Prefetch(Span<const std::string_view> keys);

  // Answers kept at most: a batch that would pass it starts afresh.
  static constexpr std::size_t kMaxKept = 16384;

  const SqlConfig& config() const noexcept { return config_; }
  // "pgsql:/etc/postfix/pgsql-sasl.cf": the table as Postfix names it.
  const std::string& name() const noexcept { return name_; }

 private:
  SqlTable(SqlConfig config, Templates templates, DomainList domain,
           std::unique_ptr<SqlClient> client, const SqlTableOptions& options);
  // Postfix's steps before the query: the UTF-8 check, folding (into
  // *folded), the domain list, the template. Returns whether the key is to
  // be queried; if not, *answer is the lookup's answer.
  bool Prepare(std::string_view key, std::string* folded, SqlAnswer* answer);
  // Runs the queries of the pending keys on the live connection.
  void RunPrefetch();
  // Keeps `answer` of the folded key if another lookup could repeat it.
  void Keep(const std::string& folded, const SqlAnswer& answer);
  // Connects (failing over), builds and runs the query; fills answer.query,
  // host, error. Returns the rows, or nothing on error.
  std::optional<SqlRows> RunQuery(std::string_view key, SqlAnswer* answer);
  void Format(const SqlRows& rows, std::string_view key, SqlAnswer* answer);
  void Fail(SqlAnswer* answer, std::string cause) const;

  SqlConfig config_;
  Templates templates_;
  DomainList domain_;
  std::unique_ptr<SqlClient> client_;
  SqlTableOptions options_;
  std::string name_;
  std::string folded_;
  // Prefetch(): keys not yet sent, answers kept, whether to go on.
  bool keeping_ = false;
  bool prefetching_ = true;
  std::vector<std::string> pending_;
  std::unordered_map<std::string, SqlAnswer> kept_;
};

// `text` fit for a message: control bytes and bytes that are not UTF-8 as
// '?' (as Postfix prints them), a trailing newline dropped, at most about
// `max` bytes followed by "...".
std::string MessageText(std::string_view text, std::size_t max = 400);

}  // namespace mapctl::sql

#endif  // MAPCTL_LIBMAPS_POSTFIX_SQL_TABLE_H_
