// postfix/sql_client.cc - choosing the client library for a type, and the
// host order shared by the network clients.

#include "postfix/sql_client.h"

namespace mapctl::sql {
namespace {

// Postfix's RETRY_CONN_INTV (dict_pgsql.c, dict_mysql.c): a host that could
// not be reached is left alone for a minute.
constexpr std::chrono::seconds kRetryAfter{60};

}  // namespace

bool SqlClientBuiltIn(SqlType type) noexcept {
  switch (type) {
    case SqlType::kSqlite:
#ifdef MAPCTL_HAVE_SQLITE
      return true;
#else
      return false;
#endif
    case SqlType::kPgsql:
#ifdef MAPCTL_HAVE_PGSQL
      return true;
#else
      return false;
#endif
    case SqlType::kMysql:
#ifdef MAPCTL_HAVE_MYSQL
      return true;
#else
      return false;
#endif
  }
  return false;
}

Result<std::unique_ptr<SqlClient>> OpenSqlClient(const SqlConfig& config,
                                                 const ClientOptions& options) {
  (void)options;
  switch (config.type) {
#ifdef MAPCTL_HAVE_SQLITE
    case SqlType::kSqlite:
      return OpenSqliteClient(config, options);
#endif
#ifdef MAPCTL_HAVE_PGSQL
    case SqlType::kPgsql:
      return OpenPgsqlClient(config, options);
#endif
#ifdef MAPCTL_HAVE_MYSQL
    case SqlType::kMysql:
      return OpenMysqlClient(config, options);
#endif
    default:
      break;
  }
  return Status::Unsupported(std::string(SqlTypeName(config.type)) +
                             ": support not built in");
}

bool SqlClient::RunBatch(const std::vector<std::string>& queries,
                         std::vector<std::optional<SqlRows>>* rows) {
  rows->assign(queries.size(), std::nullopt);
  std::vector<std::string> notices;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    Result<SqlRows> r = Run(queries[i]);
    TakeNotices(&notices);
    if (!r || !notices.empty()) {
      // The notice belongs to this lookup: leave it to Run() at its turn.
      (*rows)[i].reset();
      return false;
    }
    (*rows)[i] = std::move(r).value();
  }
  return true;
}

const SqlHost* HostSet::Next() {
  auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    const State& s = state_[i];
    if (s.failed_in_lookup == lookup_ || now < s.retry_after) continue;
    return &hosts_[i];
  }
  return nullptr;
}

void HostSet::ConnectFailed(const SqlHost* host) {
  StateOf(host).retry_after = std::chrono::steady_clock::now() + kRetryAfter;
  StateOf(host).failed_in_lookup = lookup_;
}

void HostSet::QueryFailed(const SqlHost* host) {
  StateOf(host).failed_in_lookup = lookup_;
}

}  // namespace mapctl::sql
