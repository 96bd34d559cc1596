// postfix/pgsql_client.cc - pgsql: tables through libpq.
//
// As dict_pgsql.c in Postfix 3.7: every connection uses client_encoding
// LATIN1 (Postfix sets it after connecting; mapctl asks for it in the
// connection parameters, same effect): a UTF-8 key is taken as Latin-1
// bytes, so non-ASCII keys do not match UTF-8 rows, and a value outside
// Latin-1 is a server error. Keys are escaped with PQescapeStringConn() on
// the live connection (it follows standard_conforming_strings). Several
// statements in one query all run and the last result answers; NULL comes
// back as "" (PQgetvalue), which Postfix warns about as an empty result.
// Differences, deliberate: sessions are read-only
// (default_transaction_read_only), connecting and each query are bounded
// by the timeout, and hosts are tried in a fixed order (sql_config.h).

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "postfix/sql_client.h"
#include "postfix/sql_table.h"

namespace mapctl::sql {
namespace {

constexpr char kReadOnly[] = "-c default_transaction_read_only=on";

struct ResultClearer {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

class PgsqlClient : public SqlClient {
 public:
  PgsqlClient(const SqlConfig& config, const ClientOptions& options)
      : dbname_(config.dbname),
        user_(config.user),
        password_(config.password),
        timeout_(options.timeout),
        hosts_(config.hosts) {}
  ~PgsqlClient() override { Drop(); }

  void BeginLookup() override { hosts_.BeginLookup(); }

  Status Connect(std::vector<std::string>* failures) override {
    if (conn_ != nullptr) return Status::Ok();
    return hosts_.ConnectFirst(
        "pgsql",
        [this](const SqlHost& h) -> std::optional<std::string> {
          conn_ = Open(h);
          if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
            PQsetNoticeProcessor(conn_, &PgsqlClient::Notice, this);
            return std::nullopt;
          }
          return MessageText(conn_ ? PQerrorMessage(conn_) : "out of memory");
        },
        [this] { Drop(); }, &current_, failures);
  }

  Status Escape(std::string_view text, std::string* out) override {
    std::size_t at = out->size();
    out->resize(at + 2 * text.size() + 1);
    int err = 0;
    std::size_t n = PQescapeStringConn(conn_, out->data() + at, text.data(),
                                       text.size(), &err);
    out->resize(at + n);
    if (err != 0) {
      std::string why =
          "pgsql: (host " + current_->display +
          ") cannot escape input string: " + MessageText(PQerrorMessage(conn_));
      QueryFailed();
      return Status(ErrorCode::kIoError, std::move(why));
    }
    return Status::Ok();
  }

  Result<SqlRows> Run(const std::string& query) override {
    std::string from = current_->display;
    if (PQsendQuery(conn_, query.c_str()) == 0) return Failed(from, "");
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    ResultPtr last;
    for (;;) {
      while (PQisBusy(conn_)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{PQsocket(conn_), POLLIN, 0};
        int ready = left.count() > 0
                        ? ::poll(&p, 1, static_cast<int>(left.count()))
                        : 0;
        if (ready == 0) {
          QueryFailed();
          return Status(ErrorCode::kIoError,
                        "pgsql query failed: host " + from +
                            ": no answer within " +
                            std::to_string(timeout_.count()) + " ms");
        }
        if (ready < 0 && errno != EINTR) return Failed(from, "");
        if (PQconsumeInput(conn_) == 0) return Failed(from, "");
      }
      ResultPtr r(PQgetResult(conn_));
      if (r == nullptr) break;
      last = std::move(r);  // PQexec's rule: the last result answers
    }
    if (last == nullptr) return Failed(from, "");
    switch (PQresultStatus(last.get())) {
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        break;
      case PGRES_FATAL_ERROR:
        return Failed(from, PQresultErrorMessage(last.get()));
      case PGRES_BAD_RESPONSE:
        QueryFailed();
        return Status(ErrorCode::kIoError,
                      "pgsql query failed: protocol error, host " + from);
      default:
        QueryFailed();
        return Status(ErrorCode::kIoError,
                      "pgsql query failed: unknown code " +
                          std::to_string(PQresultStatus(last.get())) +
                          " from host " + from);
    }
    SqlRows rows;
    int nrows = PQntuples(last.get());
    int ncols = PQnfields(last.get());
    rows.columns = static_cast<std::size_t>(ncols);
    rows.cells.reserve(static_cast<std::size_t>(nrows) * rows.columns);
    for (int i = 0; i < nrows; ++i) {
      for (int j = 0; j < ncols; ++j) {
        rows.cells.emplace_back(PQgetvalue(last.get(), i, j));
      }
    }
    return rows;
  }

  void TakeNotices(std::vector<std::string>* out) override {
    for (std::string& n : notices_) out->push_back(std::move(n));
    notices_.clear();
  }

  bool failover() const noexcept override { return true; }
  std::string host() const override {
    return current_ ? current_->display : std::string();
  }

 private:
  static void Notice(void* self, const char* message) {
    static_cast<PgsqlClient*>(self)->notices_.push_back(
        "pgsql server notice: " + MessageText(message));
  }

  // libpq's connect_timeout is whole seconds, at least 2.
  std::string TimeoutSeconds() const {
    long long s = (timeout_.count() + 999) / 1000;
    return std::to_string(s < 2 ? 2 : s);
  }

  PGconn* Open(const SqlHost& h) const {
    std::string timeout = TimeoutSeconds();
    std::vector<const char*> keys, values;
    auto add = [&](const char* k, const std::string& v) {
      keys.push_back(k);
      values.push_back(v.c_str());
    };
    std::string options = kReadOnly;
    if (h.kind == HostKind::kUri) {
      // The URI alone says where and as whom (Postfix applies none of the
      // .cf's user, password, dbname to it); keep its own options.
      if (PQconninfoOption* parsed = PQconninfoParse(h.name.c_str(), nullptr)) {
        for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
          if (o->val != nullptr && std::string_view(o->keyword) == "options") {
            options = std::string(o->val) + " " + kReadOnly;
          }
        }
        PQconninfoFree(parsed);
      }
      add("dbname", h.name);
    } else {
      if (!h.name.empty()) add("host", h.name);
      if (!h.port.empty()) add("port", h.port);
      add("dbname", dbname_);
      add("user", user_);
      add("password", password_);
    }
    add("client_encoding", kLatin1);
    add("connect_timeout", timeout);
    add("options", options);
    add("fallback_application_name", kAppName);
    keys.push_back(nullptr);
    values.push_back(nullptr);
    return PQconnectdbParams(keys.data(), values.data(),
                             h.kind == HostKind::kUri ? 1 : 0);
  }

  // A query that failed: Postfix's warning text, and the host is dropped
  // for the rest of this lookup.
  Status Failed(const std::string& from, const char* result_message) {
    std::string why =
        *result_message != '\0' ? result_message : PQerrorMessage(conn_);
    QueryFailed();
    return Status(ErrorCode::kIoError,
                  "pgsql query failed: fatal error from host " + from + ": " +
                      MessageText(why));
  }

  void QueryFailed() {
    if (current_ != nullptr) hosts_.QueryFailed(current_);
    Drop();
  }

  void Drop() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    current_ = nullptr;
  }

  inline static const std::string kLatin1 = "LATIN1";
  inline static const std::string kAppName = "mapctl";

  std::string dbname_, user_, password_;
  std::chrono::milliseconds timeout_;
  HostSet hosts_;
  const SqlHost* current_ = nullptr;
  PGconn* conn_ = nullptr;
  std::vector<std::string> notices_;
};

}  // namespace

Result<std::unique_ptr<SqlClient>> OpenPgsqlClient(
    const SqlConfig& config, const ClientOptions& options) {
  return std::unique_ptr<SqlClient>(new PgsqlClient(config, options));
}

}  // namespace mapctl::sql
