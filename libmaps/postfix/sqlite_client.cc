// postfix/sqlite_client.cc - sqlite: tables through libsqlite3.
//
// As dict_sqlite.c in Postfix 3.7: the key is escaped with sqlite's own
// "%q" (sqlite3_mprintf doubles the quotes), only the FIRST column of each
// row is used, a NULL is skipped silently, the first statement runs and
// any text after it is ignored. The deliberate difference: Postfix opens
// the database read-write (creating an empty file when dbpath does not
// exist, and letting a query write); mapctl opens it read-only, so a
// missing file is an error at open and no query can change the database.

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>

#include "postfix/sql_client.h"

namespace mapctl::sql {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

class SqliteClient : public SqlClient {
 public:
  SqliteClient(const SqlConfig& config, const ClientOptions& options, DbPtr db)
      : path_(config.dbpath), timeout_(options.timeout), db_(std::move(db)) {
    // Lock waits and run time share the one bound; sqlite3_interrupt()
    // semantics through the progress handler stop a runaway query.
    sqlite3_busy_timeout(db_.get(), static_cast<int>(timeout_.count()));
    sqlite3_progress_handler(db_.get(), 1000, &SqliteClient::Progress, this);
  }

  Status Connect(std::vector<std::string>*) override { return Status::Ok(); }

  Status Escape(std::string_view text, std::string* out) override {
    std::string arg(text);
    char* quoted = sqlite3_mprintf("%q", arg.c_str());
    if (quoted == nullptr) {
      return Status(ErrorCode::kIoError, "sqlite3_mprintf: out of memory");
    }
    out->append(quoted);
    sqlite3_free(quoted);
    return Status::Ok();
  }

  Result<SqlRows> Run(const std::string& query) override {
    deadline_ = std::chrono::steady_clock::now() + timeout_;
    timed_out_ = false;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), query.c_str(), -1, &raw, nullptr) !=
        SQLITE_OK) {
      return Error("SQL prepare failed: ");
    }
    StmtPtr stmt(raw);
    SqlRows rows;
    rows.columns = 1;
    if (stmt == nullptr) {  // only a comment or whitespace: nothing to run
      return Status(ErrorCode::kIoError,
                    "SQL step failed for query '" + query + "': no statement");
    }
    for (;;) {
      int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status e = Error("SQL step failed for query '" + query + "': ");
        if (timed_out_) {
          e = Status(ErrorCode::kIoError, "SQL step failed for query '" +
                                              query + "': timed out after " +
                                              std::to_string(timeout_.count()) +
                                              " ms");
        }
        return e;
      }
      const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
      if (text == nullptr) {
        rows.cells.emplace_back();  // NULL (or out of memory, as Postfix)
      } else {
        // Postfix reads the value as a C string: up to a NUL.
        rows.cells.emplace_back(reinterpret_cast<const char*>(text));
      }
    }
    return rows;
  }

  bool failover() const noexcept override { return false; }
  std::string host() const override { return path_; }

 private:
  static int Progress(void* self) {
    auto* c = static_cast<SqliteClient*>(self);
    if (std::chrono::steady_clock::now() < c->deadline_) return 0;
    c->timed_out_ = true;
    return 1;  // interrupts the statement
  }

  Status Error(std::string what) const {
    return Status(ErrorCode::kIoError, what + sqlite3_errmsg(db_.get()));
  }

  std::string path_;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point deadline_{};
  bool timed_out_ = false;
  DbPtr db_;
};

}  // namespace

Result<std::unique_ptr<SqlClient>> OpenSqliteClient(
    const SqlConfig& config, const ClientOptions& options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(config.dbpath.c_str(), &raw, SQLITE_OPEN_READONLY,
                           nullptr);
  DbPtr db(raw);  // sqlite3 returns a handle even on failure; close it
  if (rc != SQLITE_OK) {
    return Status(ErrorCode::kIoError,
                  "sqlite:" + config.origin + ": can't open database " +
                      config.dbpath + ": " +
                      (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  return std::unique_ptr<SqlClient>(
      new SqliteClient(config, options, std::move(db)));
}

}  // namespace mapctl::sql
