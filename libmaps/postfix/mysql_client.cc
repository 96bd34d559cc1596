// postfix/mysql_client.cc - mysql: tables through libmariadb.
//
// As dict_mysql.c in Postfix 3.7: option_file and option_group (default
// "client") are handed to the library, which then also reads its default
// option files; the .cf's user and password are passed even when empty
// (so an option file's password never applies); TLS through
// mysql_ssl_set() and tls_verify_cert; CLIENT_MULTI_RESULTS, of which only
// the first result set that has data is used (a second one with data is
// an error, none at all is one unless require_result_set = no); keys
// escaped with mysql_real_escape_string() on the live connection (it
// follows the server's NO_BACKSLASH_ESCAPES); NULL values skipped.
// "localhost" means libmariadb's default unix socket. Differences,
// deliberate: sessions are read-only (SET SESSION TRANSACTION READ ONLY at
// connect), every wait on the server is bounded by the timeout, and hosts
// are tried in a fixed order (sql_config.h).

#include <errmsg.h>
#include <mysql.h>
#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "postfix/sql_client.h"
#include "postfix/sql_table.h"

namespace mapctl::sql {
namespace {

struct ResultFreer {
  void operator()(MYSQL_RES* r) const noexcept { mysql_free_result(r); }
};
using ResultPtr = std::unique_ptr<MYSQL_RES, ResultFreer>;

const char* OrNull(const std::optional<std::string>& v) {
  return v ? v->c_str() : nullptr;
}

// Postfix's find_inet_port(): a number or a service name.
unsigned PortNumber(const std::string& port) {
  if (port.empty()) return 0;
  char* end = nullptr;
  unsigned long n = std::strtoul(port.c_str(), &end, 10);
  if (*end == '\0') return static_cast<unsigned>(n);
  servent* s = getservbyname(port.c_str(), "tcp");
  return s ? ntohs(static_cast<uint16_t>(s->s_port)) : 0;
}

class MysqlClient : public SqlClient {
 public:
  MysqlClient(const SqlConfig& config, const ClientOptions& options)
      : config_(config), timeout_(options.timeout), hosts_(config.hosts) {}
  ~MysqlClient() override { Drop(); }

  void BeginLookup() override { hosts_.BeginLookup(); }

  Status Connect(std::vector<std::string>* failures) override {
    if (db_ != nullptr) return Status::Ok();
    return hosts_.ConnectFirst(
        "mysql",
        [this](const SqlHost& h) -> std::optional<std::string> {
          if (Open(h)) return std::nullopt;
          return MessageText(db_ ? mysql_error(db_) : "out of memory");
        },
        [this] { Drop(); }, &current_, failures);
  }

  Status Escape(std::string_view text, std::string* out) override {
    std::size_t at = out->size();
    out->resize(at + 2 * text.size() + 1);
    unsigned long n = mysql_real_escape_string(db_, out->data() + at,
                                               text.data(), text.size());
    if (n == static_cast<unsigned long>(-1)) {
      out->resize(at);
      return Failed("cannot escape input string: " +
                    MessageText(mysql_error(db_)));
    }
    out->resize(at + n);
    return Status::Ok();
  }

  Result<SqlRows> Run(const std::string& query) override {
    const auto start = std::chrono::steady_clock::now();
    if (mysql_real_query(db_, query.data(), query.size()) != 0) {
      std::string why = MessageText(mysql_error(db_));
      // libmariadb reports its read timeout as a lost connection: say
      // which bound ran out.
      if (mysql_errno(db_) == CR_SERVER_LOST &&
          std::chrono::steady_clock::now() - start >= WaitSeconds()) {
        why += " (no answer within " +
               std::to_string(WaitSeconds().count() * 1000) + " ms)";
      }
      return Failed(std::move(why));
    }
    // Stored procedures may return several result sets: keep the first
    // one with data; status results are skipped (dict_mysql.c).
    ResultPtr first;
    std::string error;
    int next = 0;
    do {
      if (mysql_field_count(db_) == 0) continue;
      ResultPtr r(mysql_store_result(db_));
      if (r == nullptr) {
        if (error.empty()) {
          error = "(mysql_store_result): " + MessageText(mysql_error(db_));
        }
      } else if (first == nullptr) {
        first = std::move(r);
      } else if (error.empty()) {
        error = "multiple result sets returning data are not supported";
      }
    } while ((next = mysql_next_result(db_)) == 0);
    if (next > 0 && error.empty()) {
      error = "(mysql_next_result): " + MessageText(mysql_error(db_));
    }
    if (first == nullptr && config_.require_result_set && error.empty()) {
      error = "query returned no result set (require_result_set = yes)";
    }
    if (!error.empty()) return Failed(error);
    SqlRows rows;
    if (first == nullptr) return rows;
    rows.columns = mysql_num_fields(first.get());
    while (MYSQL_ROW row = mysql_fetch_row(first.get())) {
      for (std::size_t j = 0; j < rows.columns; ++j) {
        if (row[j] == nullptr) {
          rows.cells.emplace_back();
        } else {
          rows.cells.emplace_back(row[j]);  // a C string, as Postfix reads it
        }
      }
    }
    return rows;
  }

  // A batch runs its queries one after another (SqlClient::RunBatch):
  // libmariadb has no pipeline, but a run on one connection still saves
  // the switches between the tables' connections.
  bool batches() const noexcept override { return true; }
  bool live() const noexcept override { return db_ != nullptr; }

  bool failover() const noexcept override { return true; }
  std::string host() const override {
    return current_ ? current_->display : std::string();
  }

 private:
  // libmariadb's timeouts are whole seconds: the bound rounded up.
  std::chrono::seconds WaitSeconds() const {
    return std::chrono::seconds(
        std::max<long long>(1, (timeout_.count() + 999) / 1000));
  }

  bool Open(const SqlHost& h) {
    db_ = mysql_init(nullptr);
    if (db_ == nullptr) return false;
    // The read and write timeouts bound each wait on the server.
    unsigned seconds = static_cast<unsigned>(WaitSeconds().count());
    mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
    mysql_options(db_, MYSQL_OPT_READ_TIMEOUT, &seconds);
    mysql_options(db_, MYSQL_OPT_WRITE_TIMEOUT, &seconds);
    if (config_.option_file) {
      mysql_options(db_, MYSQL_READ_DEFAULT_FILE, config_.option_file->c_str());
    }
    if (!config_.option_group.empty()) {
      mysql_options(db_, MYSQL_READ_DEFAULT_GROUP,
                    config_.option_group.c_str());
    }
    if (config_.tls_key_file || config_.tls_cert_file || config_.tls_ca_file ||
        config_.tls_ca_path || config_.tls_ciphers) {
      mysql_ssl_set(db_, OrNull(config_.tls_key_file),
                    OrNull(config_.tls_cert_file), OrNull(config_.tls_ca_file),
                    OrNull(config_.tls_ca_path), OrNull(config_.tls_ciphers));
    }
    if (config_.tls_verify_cert) {
      my_bool verify = *config_.tls_verify_cert ? 1 : 0;
      mysql_options(db_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    mysql_options(db_, MYSQL_INIT_COMMAND, "SET SESSION TRANSACTION READ ONLY");
    const char* host = h.kind == HostKind::kInet ? h.name.c_str() : nullptr;
    const char* socket =
        h.kind == HostKind::kUnix && !h.name.empty() ? h.name.c_str() : nullptr;
    return mysql_real_connect(db_, host, config_.user.c_str(),
                              config_.password.c_str(), config_.dbname.c_str(),
                              PortNumber(h.port), socket,
                              CLIENT_MULTI_RESULTS) != nullptr;
  }

  // A failed query: the host is dropped for the rest of this lookup.
  Status Failed(std::string why) {
    std::string from = current_ ? current_->display : std::string("?");
    if (current_ != nullptr) hosts_.QueryFailed(current_);
    Drop();
    return Status(ErrorCode::kIoError,
                  "mysql query failed on host " + from + ": " + why);
  }

  void Drop() {
    if (db_ != nullptr) mysql_close(db_);
    db_ = nullptr;
    current_ = nullptr;
  }

  SqlConfig config_;
  std::chrono::milliseconds timeout_;
  HostSet hosts_;
  const SqlHost* current_ = nullptr;
  MYSQL* db_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<SqlClient>> OpenMysqlClient(
    const SqlConfig& config, const ClientOptions& options) {
  return std::unique_ptr<SqlClient>(new MysqlClient(config, options));
}

}  // namespace mapctl::sql
