// postfix/sql_config.cc - reading an SQL table's .cf (cfg_parser rules).

#include "postfix/sql_config.h"

#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "postfix/sql_template.h"

namespace mapctl::sql {
namespace {

// Postfix's cfg_get_str/int/bool over one .cf file, worded for mapctl.
class Reader {
 public:
  explicit Reader(const CfParams& params) : params_(params) {}

  // cfg_get_str(name, default, min_length): a value shorter than `min` is
  // fatal in Postfix ("bad string length 0 < 1: dbname = ").
  Result<std::string> Str(std::string_view name, std::string_view def,
                          std::size_t min, std::uint32_t* line = nullptr) {
    const CfValue* v = params_.Find(name);
    if (line != nullptr) *line = v ? v->line : 0;
    std::string value(v ? std::string_view(v->value) : def);
    if (value.size() < min) {
      return Status::ParseError(Where(v) + params_.Named(name) +
                                (v ? " must not be empty" : " is not set"));
    }
    return value;
  }

  // A parameter Postfix reads with a NULL default: unset is "no value".
  // For query and select_function an empty value counts as unset too
  // (3.7.11 builds the legacy query for "query =").
  std::optional<std::string> Opt(std::string_view name, bool empty_is_unset,
                                 std::uint32_t* line = nullptr) {
    const CfValue* v = params_.Find(name);
    if (v == nullptr || (empty_is_unset && v->value.empty())) {
      return std::nullopt;
    }
    if (line != nullptr) *line = v->line;
    return v->value;
  }

  // cfg_get_int: an optional sign and decimal digits within int range.
  Result<int> Int(std::string_view name, int def) {
    const CfValue* v = params_.Find(name);
    if (v == nullptr) return def;
    const std::string& s = v->value;
    std::size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    bool digits = i < s.size() &&
                  std::all_of(s.begin() + static_cast<long>(i), s.end(),
                              [](char c) { return c >= '0' && c <= '9'; });
    errno = 0;
    long n = digits ? std::strtol(s.c_str(), nullptr, 10) : 0;
    if (!digits || errno == ERANGE || n < INT_MIN || n > INT_MAX) {
      return Status::ParseError(Where(v) + "bad numerical configuration: " +
                                params_.Named(name) + " is not a number");
    }
    return static_cast<int>(n);
  }

  // cfg_get_bool: "yes" or "no" in any case, nothing else.
  Result<std::optional<bool>> Bool(std::string_view name) {
    const CfValue* v = params_.Find(name);
    if (v == nullptr) return std::optional<bool>();
    if (strcasecmp(v->value.c_str(), "yes") == 0) return std::optional(true);
    if (strcasecmp(v->value.c_str(), "no") == 0) return std::optional(false);
    return Status::ParseError(Where(v) + "bad boolean configuration: " +
                              params_.Named(name) + " must be yes or no");
  }

  std::string Where(const CfValue* v) const {
    return CfWhere(params_.origin(), v ? v->line : 0);
  }

 private:
  const CfParams& params_;
};

#define MAPCTL_ASSIGN(lhs, expr)           \
  do {                                     \
    auto _r = (expr);                      \
    if (!_r) return std::move(_r).error(); \
    lhs = std::move(_r).value();           \
  } while (false)

// db_common_sql_build_query(): "SELECT f FROM t WHERE w='%s' conditions".
Result<std::string> LegacyQuery(Reader& r) {
  std::string table, select, where;
  MAPCTL_ASSIGN(table, r.Str("table", "", 1));
  MAPCTL_ASSIGN(select, r.Str("select_field", "", 1));
  MAPCTL_ASSIGN(where, r.Str("where_field", "", 1));
  std::string extra;
  MAPCTL_ASSIGN(extra, r.Str("additional_conditions", "", 0));
  return "SELECT " + select + " FROM " + table + " WHERE " + where + "='%s' " +
         extra;
}

bool HasPrefix(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// A libpq URI with its passwords ("user:PW@", "password=PW") masked.
std::string MaskUri(std::string uri) {
  std::size_t scheme = uri.find("://");
  std::size_t at = uri.find('@');
  std::size_t slash = uri.find('/', scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    std::size_t colon = uri.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) {
      uri.replace(colon + 1, at - colon - 1, "****");
    }
  }
  for (std::size_t p = uri.find("password="); p != std::string::npos;
       p = uri.find("password=", p + 1)) {
    std::size_t start = p + 9;
    std::size_t end = uri.find('&', start);
    if (end == std::string::npos) end = uri.size();
    uri.replace(start, end - start, "****");
  }
  return uri;
}

SqlHost ParseHost(SqlType type, std::string_view text) {
  SqlHost h;
  h.text = std::string(text);
  h.display = h.text;
  if (type == SqlType::kPgsql &&
      (HasPrefix(text, "postgresql://") || HasPrefix(text, "postgres://"))) {
    h.kind = HostKind::kUri;
    h.name = h.text;
    h.display = MaskUri(h.text);
    return h;
  }
  if (HasPrefix(text, "unix:")) {  // the rest is the path, ':' and all
    h.kind = HostKind::kUnix;
    h.name = std::string(text.substr(5));
    return h;
  }
  if (HasPrefix(text, "inet:")) text.remove_prefix(5);
  std::size_t colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    h.port = std::string(text.substr(colon + 1));
    text = text.substr(0, colon);
  }
  h.name = std::string(text);
  if (type == SqlType::kMysql) {
    // libmariadb's rule: "localhost" means the default unix socket.
    if (strcasecmp(h.name.c_str(), "localhost") == 0) {
      h.kind = HostKind::kUnix;
      h.name.clear();
    }
  } else if (h.name.empty() || h.name[0] == '/') {
    h.kind = HostKind::kUnix;  // libpq's rule: a path is a socket directory
  }
  return h;
}

Result<SqlConfig> Fill(SqlType type, const CfParams& params, SqlConfig c) {
  Reader r(params);
  int limit = 0;
  if (type == SqlType::kSqlite) {
    MAPCTL_ASSIGN(c.dbpath, r.Str("dbpath", "", 1));
  } else {
    MAPCTL_ASSIGN(c.user, r.Str("user", "", 0));
    MAPCTL_ASSIGN(c.password, r.Str("password", "", 0));
    MAPCTL_ASSIGN(c.dbname, r.Str("dbname", "", 1));
    MAPCTL_ASSIGN(c.result_format,
                  r.Str("result_format", "%s", 1, &c.result_format_line));
  }
  if (type == SqlType::kMysql) {
    c.option_file = r.Opt("option_file", false);
    MAPCTL_ASSIGN(c.option_group, r.Str("option_group", "client", 0));
    c.tls_key_file = r.Opt("tls_key_file", false);
    c.tls_cert_file = r.Opt("tls_cert_file", false);
    c.tls_ca_file = r.Opt("tls_CAfile", false);
    c.tls_ca_path = r.Opt("tls_CApath", false);
    c.tls_ciphers = r.Opt("tls_ciphers", false);
    MAPCTL_ASSIGN(c.tls_verify_cert, r.Bool("tls_verify_cert"));
    std::optional<bool> require;
    MAPCTL_ASSIGN(require, r.Bool("require_result_set"));
    c.require_result_set = require.value_or(true);
  }
  if (type != SqlType::kSqlite)
    MAPCTL_ASSIGN(limit, r.Int("expansion_limit", 0));

  if (std::optional<std::string> q = r.Opt("query", true, &c.query_line)) {
    c.query = std::move(*q);
  } else if (std::optional<std::string> f;
             type == SqlType::kPgsql &&
             (f = r.Opt("select_function", true, &c.query_line))) {
    c.query = "SELECT " + *f + "('%s')";
  } else {
    c.query_line = 0;
    MAPCTL_ASSIGN(c.query, LegacyQuery(r));
  }
  if (type == SqlType::kSqlite) {
    MAPCTL_ASSIGN(c.result_format,
                  r.Str("result_format", "%s", 1, &c.result_format_line));
    MAPCTL_ASSIGN(limit, r.Int("expansion_limit", 0));
  }
  c.expansion_limit = limit;

  // db_common_parse() on both templates, then the domain list.
  Result<Templates> t = Templates::Parse(c.query, c.result_format);
  if (!t) {
    bool in_query = HasPrefix(t.error().message(), "invalid query");
    return Status::ParseError(
        CfWhere(params.origin(),
                in_query ? c.query_line : c.result_format_line) +
        t.error().message());
  }
  MAPCTL_ASSIGN(c.domain, r.Str("domain", "", 0, &c.domain_line));
  if (type != SqlType::kSqlite) {
    std::string hosts;
    MAPCTL_ASSIGN(hosts, r.Str("hosts", "", 0));
    c.hosts = ParseHosts(type, hosts);
  }
  return c;
}

#undef MAPCTL_ASSIGN

}  // namespace

std::string_view SqlTypeName(SqlType type) noexcept {
  switch (type) {
    case SqlType::kSqlite:
      return "sqlite";
    case SqlType::kPgsql:
      return "pgsql";
    case SqlType::kMysql:
      return "mysql";
  }
  return "sql";
}

std::optional<SqlType> SqlTypeFromName(std::string_view name) noexcept {
  if (name == "sqlite") return SqlType::kSqlite;
  if (name == "pgsql") return SqlType::kPgsql;
  if (name == "mysql") return SqlType::kMysql;
  return std::nullopt;
}

std::vector<SqlHost> ParseHosts(SqlType type, std::string_view hosts) {
  std::vector<SqlHost> out;
  std::size_t pos = 0;
  while (pos < hosts.size()) {
    std::size_t end = hosts.find_first_of(" ,\t\r\n", pos);
    if (end == std::string_view::npos) end = hosts.size();
    if (end > pos) out.push_back(ParseHost(type, hosts.substr(pos, end - pos)));
    pos = end + 1;
  }
  if (out.empty()) out.push_back(ParseHost(type, "localhost"));
  std::stable_sort(out.begin(), out.end(),
                   [](const SqlHost& a, const SqlHost& b) {
                     return static_cast<int>(a.kind) < static_cast<int>(b.kind);
                   });
  return out;
}

Result<SqlConfig> ParseSqlConfig(SqlType type, const CfParams& params) {
  SqlConfig c;
  c.type = type;
  c.origin = params.origin();
  c.diagnostics = params.diagnostics();
  return Fill(type, params, std::move(c));
}

std::string EchoConfig(const SqlConfig& c) {
  std::string out;
  auto line = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(" = ").append(value).push_back('\n');
  };
  auto opt = [&line](std::string_view name,
                     const std::optional<std::string>& v) {
    if (v) line(name, *v);
  };
  if (c.type == SqlType::kSqlite) {
    line("dbpath", c.dbpath);
  } else {
    std::string hosts;
    for (const SqlHost& h : c.hosts) {
      if (!hosts.empty()) hosts += ' ';
      hosts += h.display;
    }
    line("hosts", hosts);
    line("user", c.user);
    line("password", c.password.empty() ? "" : "****");
    line("dbname", c.dbname);
  }
  line("query", c.query);
  line("result_format", c.result_format);
  line("expansion_limit", std::to_string(c.expansion_limit));
  if (!c.domain.empty()) line("domain", c.domain);
  if (c.type == SqlType::kMysql) {
    opt("option_file", c.option_file);
    line("option_group", c.option_group);
    opt("tls_key_file", c.tls_key_file);
    opt("tls_cert_file", c.tls_cert_file);
    opt("tls_CAfile", c.tls_ca_file);
    opt("tls_CApath", c.tls_ca_path);
    opt("tls_ciphers", c.tls_ciphers);
    if (c.tls_verify_cert)
      line("tls_verify_cert", *c.tls_verify_cert ? "yes" : "no");
    line("require_result_set", c.require_result_set ? "yes" : "no");
  }
  return out;
}

}  // namespace mapctl::sql
