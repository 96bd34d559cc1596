// cli_config.cc - main.cf discovery and table arguments for the CLI.

#include "cli_config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <resolv.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "report.h"

namespace mapctl::cli {

// Whether `ip` is an address of this host (inet_interfaces = all).
bool IsOwnAddress(std::string_view ip) {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool own = false;
  char buf[INET6_ADDRSTRLEN];
  for (struct ifaddrs* a = list; a != nullptr && !own; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    const void* raw = nullptr;
    if (a->ifa_addr->sa_family == AF_INET) {
      raw = &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr;
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      raw = &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
    }
    if (raw != nullptr &&
        inet_ntop(a->ifa_addr->sa_family, raw, buf, sizeof buf) != nullptr) {
      own = ip == buf;
    }
  }
  freeifaddrs(list);
  return own;
}

// MX host names of `domain`, best preference first (--resolve).
Result<std::vector<std::string>> ResolveMx(std::string_view domain) {
  std::string name(domain);
  unsigned char answer[8192];
  int len = res_query(name.c_str(), ns_c_in, ns_t_mx, answer, sizeof answer);
  if (len < 0) {
    return Status(ErrorCode::kIoError, "MX lookup of " + name + " failed");
  }
  ns_msg msg;
  if (ns_initparse(answer, len, &msg) < 0) {
    return Status(ErrorCode::kIoError,
                  "MX reply for " + name + " is malformed");
  }
  std::vector<std::pair<int, std::string>> mx;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx) {
      continue;
    }
    char host[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, host,
                  sizeof host) < 0) {
      continue;
    }
    mx.emplace_back(ns_get16(ns_rr_rdata(rr)), host);
  }
  if (mx.empty()) return std::vector<std::string>{name};  // no MX: A record
  std::stable_sort(mx.begin(), mx.end());
  std::vector<std::string> hosts;
  for (auto& [pref, host] : mx) hosts.push_back(std::move(host));
  return hosts;
}

Result<MainConfig> LoadPostmapConfig(const TableFlags& flags) {
  std::string dir = flags.config_dir;
  if (dir.empty()) {
    const char* env = std::getenv("MAIL_CONFIG");
    dir = (env != nullptr && *env != '\0') ? env : "/etc/postfix";
  }
  Result<MainConfig> config = MainConfig::Load(dir);
  if (!config) {
    return Status(config.error().code(),
                  config.error().message() +
                      " (name the Postfix configuration directory with -c "
                      "DIR or MAIL_CONFIG)");
  }
  for (const Diagnostic& d : config->diagnostics()) {
    if (d.severity == Severity::kError) {
      return Status::ParseError(d.file + ":" + std::to_string(d.line) + ": " +
                                d.message);
    }
  }
  return config;
}

Result<OptionalConfig> LoadOptionalConfig(const TableFlags& flags) {
  const char* env = std::getenv("MAIL_CONFIG");
  bool named = !flags.config_dir.empty() || (env != nullptr && *env != '\0');
  if (named || access("/etc/postfix/main.cf", F_OK) == 0) {
    Result<MainConfig> config = LoadPostmapConfig(flags);
    if (!config) return config.error();
    return OptionalConfig{std::move(config).value(), false};
  }
  MainConfig pinned("/etc/postfix");
  pinned.Set("compatibility_level", "3.6");
  pinned.Set("myhostname", "localhost.localdomain");
  return OptionalConfig{std::move(pinned), true};
}

void ReportPinnedDefaults(const MainConfig& config) {
  ReportInfo(
      "note: no main.cf (no -c, no MAIL_CONFIG, no /etc/postfix/main.cf): "
      "using Postfix 3.7 defaults with compatibility_level = " +
      config.Get("compatibility_level") +
      " (smtputf8_enable = " + config.Get("smtputf8_enable") + ")");
}

int ForEachTable(
    const TableFlags& flags, const std::vector<std::string>& tables,
    const std::function<int(const MainConfig&, const std::string&)>& each) {
  Result<MainConfig> config = LoadPostmapConfig(flags);
  if (!config) {
    ReportError(config.error());
    return kExitTrouble;
  }
  int exit_code = kExitOk;
  for (const std::string& table : tables) {
    exit_code = std::max(exit_code, each(*config, table));
  }
  return exit_code;
}

Result<TableSpec> TableArgument(std::string_view text, const MainConfig& config,
                                bool for_reading) {
  constexpr std::string_view kProxy = "proxy:";
  if (text.substr(0, kProxy.size()) == kProxy) {
    if (!for_reading) {
      return Status::Unsupported("can't create maps via the proxy service");
    }
    text.remove_prefix(kProxy.size());
  }
  Result<TableSpec> spec =
      ParseTableSpec(text, config.Get("default_database_type"));
  if (!spec && !for_reading) {
    // Types Postfix reads but cannot create from a source, worded as
    // postmap refuses them.
    static constexpr std::string_view kNoBulkCreate[] = {
        "regexp", "pcre",     "cidr",      "static",  "inline", "sqlite",
        "pgsql",  "mysql",    "ldap",      "memcache", "tcp",   "socketmap",
        "unionmap", "pipemap", "randmap", "environ", "fail"};
    const std::string_view type = text.substr(0, text.find(':'));
    for (std::string_view t : kNoBulkCreate) {
      if (type == t && type.size() < text.size()) {
        return Status::Unsupported("unsupported dictionary type: " +
                                   std::string(type) +
                                   " does not support bulk-mode creation");
      }
    }
  }
  return spec;
}

namespace {

std::string_view WithoutProxy(std::string_view text) {
  constexpr std::string_view kProxy = "proxy:";
  if (text.substr(0, kProxy.size()) == kProxy) text.remove_prefix(kProxy.size());
  return text;
}

}  // namespace

bool IsLookupOnlyTable(std::string_view argument) {
  argument = WithoutProxy(argument);
  const std::size_t colon = argument.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view type = argument.substr(0, colon);
  for (std::string_view t : {"regexp", "pcre", "sqlite", "pgsql", "mysql"}) {
    if (type == t) return true;
  }
  return false;
}

namespace {

std::string_view TypeOf(std::string_view argument) {
  argument = WithoutProxy(argument);
  const std::size_t colon = argument.find(':');
  return colon == std::string_view::npos ? std::string_view()
                                         : argument.substr(0, colon);
}

}  // namespace

NoUpdate UpdateRefusal(std::string_view argument) {
  if (IsLookupOnlyTable(argument)) return NoUpdate::kReadOnly;
  const std::string_view type = TypeOf(argument);
  for (std::string_view t : {"cidr", "inline", "unionmap", "pipemap"}) {
    if (type == t) return NoUpdate::kReadOnly;
  }
  if (type == "static" || type == "environ") return NoUpdate::kNoDelete;
  return NoUpdate::kNone;
}

bool RefusesSequence(std::string_view argument) {
  const std::string_view type = TypeOf(argument);
  for (std::string_view t :
       {"cidr", "static", "environ", "unionmap", "pipemap"}) {
    if (type == t) return true;
  }
  return false;
}

std::string RefusedTableName(std::string_view argument) {
  argument = WithoutProxy(argument);
  // static:VALUE is its own answer, maybe a password (postmap prints it).
  const std::string_view type = TypeOf(argument);
  if (type == "static") return "static:****";
  if (argument.substr(type.size()).substr(0, 2) == ":{") {
    return std::string(type) + ":{...}";  // an inline list: maybe results
  }
  return std::string(argument);
}

Status RefuseDelete(std::string_view argument) {
  return Status::Unsupported("table " + RefusedTableName(argument) +
                             ": delete operation is not supported");
}

Status RefuseUpdate(std::string_view argument) {
  argument = WithoutProxy(argument);
  const std::size_t colon = argument.find(':');
  std::string name(argument);
  if (colon != std::string_view::npos && colon + 1 < argument.size() &&
      argument[colon + 1] == '{') {
    name = std::string(argument.substr(0, colon)) + ":{...}";
  }
  return Status::Unsupported(name + " map requires O_RDONLY access mode");
}

Status RefuseSequence(std::string_view display) {
  return Status::Unsupported("table " + std::string(display) +
                             ": sequence operation is not supported");
}

Result<std::unique_ptr<LookupTable>> OpenQueryTable(
    std::string_view text, const MainConfig& config,
    const ReadSettings& settings) {
  Result<TableSpec> spec = TableArgument(text, config, true);
  TableContext context;
  context.default_database_type = config.Get("default_database_type");
  context.fold = settings.fold;
  context.check_utf8 = settings.check_utf8;
  context.nul = settings.nul;
  context.timeout = settings.timeout;
  context.config = &config;
  Result<std::unique_ptr<LookupTable>> table = OpenLookupTable(text, context);
  if (!table) {
    // An empty name or an unknown type: worded as for every command.
    const bool both_invalid =
        !spec && spec.error().code() == ErrorCode::kInvalidArgument &&
        table.error().code() == ErrorCode::kInvalidArgument;
    return both_invalid ? spec.error() : table.error();
  }
  if (!(*table)->traits().evaluated) return (*table)->NotEvaluatedReason();
  return table;
}

namespace {

std::string SystemHostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
    return "localhost.localdomain";
  }
  std::string host = buf;
  // Postfix qualifies a hostname without a dot with "localdomain".
  return host.find('.') == std::string::npos ? host + ".localdomain" : host;
}

}  // namespace

Result<SenderSetup> LoadSenderConfig(const SenderArgs& args) {
  const char* env = std::getenv("MAIL_CONFIG");
  bool named = !args.config_dir.empty() || (env != nullptr && *env != '\0');
  bool explicit_maps = args.relayhost || args.relay_maps || args.password_maps;
  SenderSetup setup;
  if (named || !explicit_maps) {
    TableFlags flags;
    flags.config_dir = args.config_dir;
    Result<MainConfig> loaded = LoadPostmapConfig(flags);
    if (!loaded) {
      return Status(loaded.error().code(),
                    loaded.error().message() +
                        (named ? ""
                               : "; or give --relayhost/--relay-maps/"
                                 "--password-maps to run without one"));
    }
    setup.config = std::move(loaded).value();
    if (!setup.config.IsSet("myhostname") && !args.myhostname) {
      setup.config.Set("myhostname", SystemHostname());
    }
  } else {
    setup.pinned = true;
    setup.config.Set("compatibility_level", "3.6");
    setup.assumptions.push_back(
        {"no_main_cf",
         "no main.cf: Postfix 3.7 defaults, with "
         "compatibility_level = 3.6 (as Debian's main.cf)"});
    if (!args.myhostname) {
      setup.config.Set("myhostname", "localhost.localdomain");
      setup.assumptions.push_back(
          {"myhostname", "myhostname = localhost.localdomain (--myhostname)"});
    }
  }
  MainConfig& c = setup.config;
  if (args.relayhost) c.Set("relayhost", *args.relayhost);
  if (args.recipient_delimiter) {
    c.Set("recipient_delimiter", *args.recipient_delimiter);
  }
  if (args.myhostname) c.Set("myhostname", *args.myhostname);
  if (args.myorigin) c.Set("myorigin", *args.myorigin);
  bool sets_auth = false, sets_sender_auth = false;
  for (const std::string& kv : args.set) {
    std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--set " + kv + ": expected NAME=VALUE");
    }
    std::string name = kv.substr(0, eq);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    std::size_t v = kv.find_first_not_of(' ', eq + 1);
    c.Set(name, v == std::string::npos ? "" : kv.substr(v));
    sets_auth = sets_auth || name == "smtp_sasl_auth_enable";
    sets_sender_auth =
        sets_sender_auth || name == "smtp_sender_dependent_authentication";
  }
  if (!named && explicit_maps && args.password_maps) {
    if (!sets_auth && !c.IsSet("smtp_sasl_auth_enable")) {
      c.Set("smtp_sasl_auth_enable", "yes");
      setup.assumptions.push_back({"smtp_sasl_auth_enable",
                                   "smtp_sasl_auth_enable = yes (because "
                                   "--password-maps was given)"});
    }
    if (!sets_sender_auth && !c.IsSet("smtp_sender_dependent_authentication")) {
      c.Set("smtp_sender_dependent_authentication", "yes");
      setup.assumptions.push_back(
          {"smtp_sender_dependent_authentication",
           "smtp_sender_dependent_authentication = yes (because "
           "--password-maps was given)"});
    }
  }
  if (args.recipient.empty()) {
    setup.assumptions.push_back(
        {"recipient", "recipient: a non-local placeholder in " +
                          std::string(SenderResolver::kDefaultRecipientDomain) +
                          " (--recipient); it decides the next hop only "
                          "without a sender relay and relayhost"});
  }
  if (!args.resolve) {
    setup.assumptions.push_back(
        {"no_dns",
         "no DNS lookups: an MX-routed next hop's host name is "
         "unknown (--resolve)"});
  }
  for (const Diagnostic& d : c.diagnostics()) {
    if (d.severity == Severity::kError) {
      return Status::ParseError(d.file + ": " + d.message);
    }
  }
  return setup;
}

ReadSettings ReadSettingsFor(const TableFlags& flags,
                             const MainConfig& config) {
  return {KeyFoldMode(config, flags.no_utf8, flags.no_fold),
          ChecksUtf8(config, flags.no_utf8), flags.nul};
}

}  // namespace mapctl::cli
