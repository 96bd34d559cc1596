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

#include <algorithm>
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
    return ToRows(last.get());
  }

  bool batches() const noexcept override { return true; }
  bool live() const noexcept override { return conn_ != nullptr; }

  // libpq's pipeline mode: up to kInFlight queries sent, then one sync,
  // then their results read, so that the server answers a run of queries
  // without waiting for us between them. Each query is the text Run()
  // would send (PQsendQueryParams without parameters: the extended
  // protocol, which pipeline mode requires; a text holding several
  // statements fails there and is left to Run()). A failed query aborts
  // the rest of its run (PGRES_PIPELINE_ABORTED), which are left to Run()
  // too.
  bool RunBatch(const std::vector<std::string>& queries,
                std::vector<std::optional<SqlRows>>* rows) override {
    rows->assign(queries.size(), std::nullopt);
    if (PQstatus(conn_) != CONNECTION_OK || PQenterPipelineMode(conn_) == 0) {
      return false;
    }
    const std::size_t notices = notices_.size();
    bool clean = true;
    bool usable = true;  // the pipeline is in step with what we read
    for (std::size_t at = 0; usable && at < queries.size(); at += kInFlight) {
      const std::size_t end = std::min(queries.size(), at + kInFlight);
      for (std::size_t i = at; usable && i < end; ++i) {
        usable = PQsendQueryParams(conn_, queries[i].c_str(), 0, nullptr,
                                   nullptr, nullptr, nullptr, 0) != 0;
      }
      if (!usable || PQpipelineSync(conn_) == 0) {
        usable = false;
        break;
      }
      const auto deadline = std::chrono::steady_clock::now() + timeout_;
      ResultPtr last;
      for (std::size_t i = at;;) {
        if (!AwaitResult(deadline)) {
          usable = false;
          break;
        }
        ResultPtr r(PQgetResult(conn_));
        if (r == nullptr) {  // the end of query i's results
          if (i == end) {
            usable = false;  // no sync result: the connection broke
            break;
          }
          ExecStatusType st =
              last ? PQresultStatus(last.get()) : PGRES_FATAL_ERROR;
          if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            (*rows)[i] = ToRows(last.get());
          } else {
            clean = false;
          }
          last.reset();
          ++i;
          continue;
        }
        if (PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) {
          usable = i == end;
          break;
        }
        last = std::move(r);
      }
    }
    if (usable && PQexitPipelineMode(conn_) == 0) usable = false;
    if (!usable) {
      // Results still due, or a connection in an unknown state: start
      // afresh at the next Connect(); the host is not to blame.
      Drop();
      clean = false;
    }
    if (notices_.size() != notices) {
      // A notice cannot be told apart from its query's answer here: every
      // answer of the batch is left to Run(), which reports it with its
      // lookup.
      notices_.resize(notices);
      for (std::optional<SqlRows>& r : *rows) r.reset();
      clean = false;
    }
    if (!usable) {
      for (std::optional<SqlRows>& r : *rows) r.reset();
    }
    return clean;
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

  // A batch's queries in flight at once: their texts and answers fit in
  // the sockets' buffers, so that neither side blocks writing while the
  // other writes too.
  static constexpr std::size_t kInFlight = 128;

  static SqlRows ToRows(const PGresult* result) {
    SqlRows rows;
    int nrows = PQntuples(result);
    int ncols = PQnfields(result);
    rows.columns = static_cast<std::size_t>(ncols);
    rows.cells.reserve(static_cast<std::size_t>(nrows) * rows.columns);
    for (int i = 0; i < nrows; ++i) {
      for (int j = 0; j < ncols; ++j) {
        rows.cells.emplace_back(PQgetvalue(result, i, j));
      }
    }
    return rows;
  }

  // Waits until PQgetResult() would not block. False: the deadline passed
  // or the connection failed.
  bool AwaitResult(std::chrono::steady_clock::time_point deadline) {
    while (PQisBusy(conn_)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{PQsocket(conn_), POLLIN, 0};
      int ready =
          left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready == 0) return false;
      if (ready < 0 && errno != EINTR) return false;
      if (PQconsumeInput(conn_) == 0) return false;
    }
    return true;
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
