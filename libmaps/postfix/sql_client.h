// postfix/sql_client.h - what an SQL table needs from a database client
// library (internal).
//
// One implementation per library, each in its own file and each optional
// at build time: sqlite_client.cc (libsqlite3), pgsql_client.cc (libpq),
// mysql_client.cc (libmariadb). Only those files include the libraries'
// headers. A client keeps one connection for its table's whole life,
// reused across keys, connects at the first query (as Postfix does), never
// writes (read-only open or read-only sessions) and bounds every wait on
// the server by ClientOptions::timeout (Postfix has no such bound).
// Not thread-safe.

#ifndef MAPCTL_LIBMAPS_POSTFIX_SQL_CLIENT_H_
#define MAPCTL_LIBMAPS_POSTFIX_SQL_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/status.h"
#include "postfix/sql_config.h"

namespace mapctl::sql {

// What a query returned, row by row, column by column. An empty optional is
// a NULL the type skips silently (mysql, sqlite); pgsql reports NULL as ""
// because Postfix 3.7 cannot tell them apart (it warns for both).
struct SqlRows {
  std::size_t columns = 0;
  std::vector<std::optional<std::string>> cells;  // rows * columns
};

struct ClientOptions {
  // Bound on connecting and on each query (pgsql, mysql: each wait for the
  // server; sqlite: a query's run time and lock waits).
  std::chrono::milliseconds timeout{30000};
};

class SqlClient {
 public:
  virtual ~SqlClient() = default;

  // Starts one lookup: hosts that failed a query in the previous lookup
  // may be tried again (hosts that failed to connect wait 60 s, as in
  // Postfix).
  virtual void BeginLookup() {}

  // Makes sure a connection is up: keeps the live one, else tries the hosts
  // in order. Each host that fails is described in *failures ("connect to
  // pgsql server HOST: CAUSE"). Errors: no host could be reached (the last
  // failure says why), or "no host left to try" when every host failed
  // earlier (a query in this lookup, a connection within 60 s).
  virtual Status Connect(std::vector<std::string>* failures) = 0;

  // Appends `text` to *out escaped by the client library for the live
  // connection (PQescapeStringConn, mysql_real_escape_string, sqlite's %q).
  // REQUIRES: Connect() succeeded.
  virtual Status Escape(std::string_view text, std::string* out) = 0;

  // Runs `query` on the live connection. Errors: the query failed; the
  // message is worded like Postfix's warning for it. pgsql and mysql then
  // drop the connection and exclude the host for the rest of the lookup,
  // so that Connect() moves on to the next host (failover() is true), as
  // Postfix fails over on any query error. Escape() failures do the same.
  // REQUIRES: Connect() succeeded.
  virtual Result<SqlRows> Run(const std::string& query) = 0;

  // Moves the server's notices met since the last call (pgsql WARNING
  // lines, which libpq would otherwise print on stderr) to *out.
  virtual void TakeNotices(std::vector<std::string>* out) { (void)out; }

  // Whether RunBatch() is worth calling: a network client, where one run
  // of queries on one connection saves a wait for the server (and on a
  // shared machine, a wake-up on another CPU) per query.
  virtual bool batches() const noexcept { return false; }
  // A connection is up: Connect() would not connect.
  virtual bool live() const noexcept { return false; }

  // Runs `queries` on the live connection ahead of the lookups that need
  // them (SqlTable::Prefetch). (*rows)[i] holds query i's rows, or nothing
  // when it failed or did not run. Reports nothing: a query that failed is
  // run again by Run() at its lookup, which reports it as ever. Returns
  // false after anything that makes further batches unwise (a failed
  // query, a server notice, a timeout): the caller stops batching. The
  // connection is left as Run() needs it, or dropped without blaming the
  // host (the next Connect() connects again). Default: Run() each query in
  // turn, up to the first failure (which Run() handles as it always does).
  // REQUIRES: live().
  virtual bool RunBatch(const std::vector<std::string>& queries,
                        std::vector<std::optional<SqlRows>>* rows);

  // Whether a failed query may be retried on another host.
  virtual bool failover() const noexcept = 0;
  // The host of the live connection as written in `hosts` (a URI with its
  // password masked); the database path for sqlite.
  virtual std::string host() const = 0;
};

// The client for `config.type`. sqlite opens its file now (read-only, as
// Postfix opens it at table open); pgsql and mysql connect at the first
// Connect(). Errors: kUnsupported "pgsql: support not built in" when this
// build lacks the library; sqlite: the file cannot be opened.
Result<std::unique_ptr<SqlClient>> OpenSqlClient(const SqlConfig& config,
                                                 const ClientOptions& options);

// Whether this build has the client library for `type`.
bool SqlClientBuiltIn(SqlType type) noexcept;

// The hosts of one table and what happened to each: the try order shared
// by the pgsql and mysql clients.
class HostSet {
 public:
  explicit HostSet(std::vector<SqlHost> hosts) : hosts_(std::move(hosts)) {
    state_.resize(hosts_.size());
  }

  void BeginLookup() noexcept { ++lookup_; }
  // The next host to try, in order, skipping hosts that failed to connect
  // less than 60 s ago or failed a query in this lookup; nullptr when none
  // is left.
  const SqlHost* Next();
  void ConnectFailed(const SqlHost* host);

  // Tries the hosts in order (Next()) until `open(host)` connects one,
  // which becomes *current. `open` returns nothing on success, else the
  // cause; `drop()` then releases the failed attempt and the host waits
  // (ConnectFailed). Each failure goes to *failures as "connect to TYPE
  // server HOST: CAUSE". Errors: as SqlClient::Connect().
  template <typename Open, typename Drop>
  Status ConnectFirst(std::string_view type, Open open, Drop drop,
                      const SqlHost** current,
                      std::vector<std::string>* failures) {
    while (const SqlHost* h = Next()) {
      std::optional<std::string> cause = open(*h);
      if (!cause) {
        *current = h;
        return Status::Ok();
      }
      failures->push_back("connect to " + std::string(type) + " server " +
                          h->display + ": " + *cause);
      drop();
      ConnectFailed(h);
    }
    return Status(ErrorCode::kIoError, "no host left to try");
  }
  void QueryFailed(const SqlHost* host);

 private:
  struct State {
    std::chrono::steady_clock::time_point retry_after{};
    std::uint64_t failed_in_lookup = 0;
  };
  State& StateOf(const SqlHost* host) {
    return state_[static_cast<std::size_t>(host - hosts_.data())];
  }

  std::vector<SqlHost> hosts_;
  std::vector<State> state_;
  std::uint64_t lookup_ = 1;
};

// The per-library factories behind OpenSqlClient(); each exists only when
// its library is built in (MAPCTL_HAVE_SQLITE, _PGSQL, _MYSQL).
Result<std::unique_ptr<SqlClient>> OpenSqliteClient(
    const SqlConfig& config, const ClientOptions& options);
Result<std::unique_ptr<SqlClient>> OpenPgsqlClient(
    const SqlConfig& config, const ClientOptions& options);
Result<std::unique_ptr<SqlClient>> OpenMysqlClient(
    const SqlConfig& config, const ClientOptions& options);

}  // namespace mapctl::sql

#endif  // MAPCTL_LIBMAPS_POSTFIX_SQL_CLIENT_H_
