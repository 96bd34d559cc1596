// postfix/sql_config.h - an SQL table's .cf configuration, read as
// Postfix 3.7 reads it (internal).
//
// The parameters each type reads and their defaults are those of
// sqlite_table(5), pgsql_table(5) and mysql_table(5) for 3.7 (dict_sqlite.c,
// dict_pgsql.c, dict_mysql.c, db_common.c); parameters a type does not read
// are ignored silently, as Postfix ignores them. What Postfix dies on at
// open is an error here, naming the file and, where it has one, the line:
// an empty dbpath/dbname/result_format, a missing legacy field, a bad
// number or boolean, an invalid '%' in a template. Messages never quote a
// value (the file holds the password).

#ifndef MAPCTL_LIBMAPS_POSTFIX_SQL_CONFIG_H_
#define MAPCTL_LIBMAPS_POSTFIX_SQL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/status.h"
#include "postfix/cf_params.h"

namespace mapctl::sql {

enum class SqlType : std::uint8_t { kSqlite, kPgsql, kMysql };

// "sqlite", "pgsql", "mysql".
std::string_view SqlTypeName(SqlType type) noexcept;
// The type for a Postfix table type name; empty for any other name.
std::optional<SqlType> SqlTypeFromName(std::string_view name) noexcept;

enum class HostKind : std::uint8_t {
  kUnix,  // a unix socket: pgsql a directory, mysql a socket file
  kInet,  // TCP
  kUri,   // pgsql "postgresql://..." handed whole to libpq
};

// One entry of `hosts`.
struct SqlHost {
  std::string text;     // as written ("unix:/run/postgresql")
  std::string display;  // `text` with a URI's password as "****": messages
  HostKind kind = HostKind::kInet;
  // Socket path or host name. Empty for mysql "localhost" (libmariadb's
  // default socket) and pgsql "unix:" (libpq's default directory).
  std::string name;
  std::string port;  // as written; empty: the client's default
};

struct SqlConfig {
  SqlType type = SqlType::kSqlite;
  std::string origin;  // the .cf file as the caller named it

  // The query template: `query`, or the one Postfix builds from pgsql's
  // select_function or the legacy table/select_field/where_field/
  // additional_conditions. `query_line` is where it came from (0: built).
  std::string query;
  std::uint32_t query_line = 0;
  std::string result_format = "%s";
  std::uint32_t result_format_line = 0;
  int expansion_limit = 0;  // > 0 limits; 0 and below: none (as Postfix)
  std::string domain;       // the raw list; empty: every key is queried
  std::uint32_t domain_line = 0;

  std::string dbpath;  // sqlite

  // pgsql and mysql. Postfix passes an unset user/password as "" (not
  // NULL): mysql's option files then cannot supply a password.
  std::string user;
  std::string password;
  std::string dbname;
  std::vector<SqlHost> hosts;  // in the order mapctl tries them

  // mysql only. Unset strings are empty optionals (Postfix passes NULL).
  std::optional<std::string> option_file;
  std::string option_group = "client";
  std::optional<std::string> tls_key_file, tls_cert_file, tls_ca_file,
      tls_ca_path, tls_ciphers;
  std::optional<bool> tls_verify_cert;
  bool require_result_set = true;

  // Warnings met while reading (the .cf reader's, e.g. overridden entries).
  std::vector<Diagnostic> diagnostics;
};

// Reads the configuration of a `type` table from `params`. Errors
// (kParseError, "FILE[:LINE]: ..."): see the file comment.
Result<SqlConfig> ParseSqlConfig(SqlType type, const CfParams& params);

// Orders `hosts` as mapctl tries them: unix sockets first, then TCP, then
// (pgsql) URIs, each kind in the order written. Postfix picks at random
// within a kind; mapctl stays deterministic (docs/compatibility.md).
std::vector<SqlHost> ParseHosts(SqlType type, std::string_view hosts);

// The parameters as this type reads them, one "name = value" line each,
// with the password shown as "****" (postmap -v prints it in clear).
std::string EchoConfig(const SqlConfig& config);

}  // namespace mapctl::sql

#endif  // MAPCTL_LIBMAPS_POSTFIX_SQL_CONFIG_H_
