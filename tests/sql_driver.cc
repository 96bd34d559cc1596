// sql_driver.cc - test-only front end to the SQL table core: prints what
// `postmap -q KEY TYPE:FILE.cf` / `postmap -q - TYPE:FILE.cf` prints.
//
//   sql_driver [-c CONFIG_DIR] [-f] [-u] [-v] [-t TIMEOUT_MS] TYPE:FILE
//   KEY...|-
//
// stdout is postmap's: the value alone for one KEY, "KEY<TAB>VALUE" per
// found key for several keys or for "-" (one key per input line, only the
// newline removed). Exit 0 when a key was found, 1 when none, 2 on trouble
// (postmap exits 1 for its fatal errors too). Messages go to stderr in
// mapctl's form. Used by tests/interop/sql_differential.py until
// `mapctl query` reaches SQL tables through the table interface.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/table.h"
#include "postfix/sql_config.h"
#include "postfix/sql_table.h"

namespace {

using mapctl::Result;
using mapctl::Status;
namespace sql = mapctl::sql;

std::string Safe(std::string_view text) { return sql::MessageText(text, 4000); }

void Error(std::string_view message) {
  std::fprintf(stderr, "mapctl: error: %s\n", Safe(message).c_str());
}

void Warning(std::string_view message) {
  std::fprintf(stderr, "mapctl: warning: %s\n", Safe(message).c_str());
}

int Usage() {
  std::fprintf(stderr,
               "usage: sql_driver [-c DIR] [-f] [-u] [-v] [-t MS] "
               "TYPE:FILE KEY...|-\n");
  return 2;
}

// domain = type:table items, read through the indexed-table layer.
sql::DomainTableOpener DomainOpener(const mapctl::MainConfig& config,
                                    mapctl::FoldMode fold, bool check_utf8) {
  std::string default_type = config.Get("default_database_type");
  return [=](std::string_view name) -> Result<sql::DomainTableLookup> {
    Result<mapctl::TableSpec> spec = mapctl::ParseTableSpec(name, default_type);
    if (!spec) return spec.error();
    mapctl::OpenOptions open;
    open.fold = fold;
    open.check_utf8 = check_utf8;
    Result<std::unique_ptr<mapctl::TableReader>> reader =
        mapctl::OpenTable(*spec, open);
    if (!reader) {
      // Postfix's wording for any table it cannot open (texthash's reader
      // says "open FILE").
      std::string m = reader.error().message();
      if (m.rfind("open database ", 0) != 0 && m.rfind("open ", 0) == 0) {
        m.insert(5, "database ");
      }
      return Status(reader.error().code(), m);
    }
    std::shared_ptr<mapctl::TableReader> shared(std::move(reader).value());
    auto lookup = std::make_shared<mapctl::TableLookup>(
        fold, mapctl::NulMode::kDefault, check_utf8);
    return sql::DomainTableLookup(
        [shared, lookup](std::string_view key) -> Result<bool> {
          Result<std::unique_ptr<mapctl::ReadUnit>> unit = shared->Begin();
          if (!unit) return unit.error();
          auto v = lookup->Find(**unit, key);
          if (!v) return v.error();
          return v->has_value();
        });
  };
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) Warning(w);
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::cin.tie(nullptr);  // one write per buffer, not per line
  std::string config_dir = "/etc/postfix";
  if (const char* env = std::getenv("MAIL_CONFIG")) config_dir = env;
  bool no_fold = false, no_utf8 = false, verbose = false;
  long timeout_ms = 30000;
  int opt;
  while ((opt = getopt(argc, argv, "c:fuvt:")) != -1) {
    switch (opt) {
      case 'c':
        config_dir = optarg;
        break;
      case 'f':
        no_fold = true;
        break;
      case 'u':
        no_utf8 = true;
        break;
      case 'v':
        verbose = true;
        break;
      case 't':
        timeout_ms = std::atol(optarg);
        break;
      default:
        return Usage();
    }
  }
  if (argc - optind < 2) return Usage();
  std::string table = argv[optind];
  std::vector<std::string> keys(argv + optind + 1, argv + argc);

  Result<mapctl::MainConfig> config = mapctl::MainConfig::Load(config_dir);
  if (!config) {
    Error(config.error().message());
    return 2;
  }
  std::size_t colon = table.find(':');
  std::optional<sql::SqlType> type =
      colon == std::string::npos ? std::nullopt
                                 : sql::SqlTypeFromName(table.substr(0, colon));
  if (!type) {
    Error(table + ": not an sqlite:, pgsql: or mysql: table");
    return 2;
  }
  std::string path = table.substr(colon + 1);
  if (path.empty() || (path[0] != '/' && path[0] != '.')) {
    Error(table + ": the main.cf parameter form is not supported here");
    return 2;
  }

  sql::SqlTableOptions options;
  options.fold = mapctl::KeyFoldMode(*config, no_utf8, no_fold);
  options.check_utf8 = mapctl::ChecksUtf8(*config, no_utf8);
  options.domain_fold = mapctl::KeyFoldMode(*config, no_utf8, false);
  options.open_domain_table =
      DomainOpener(*config, options.domain_fold, options.check_utf8);
  options.client.timeout = std::chrono::milliseconds(timeout_ms);

  std::vector<mapctl::Diagnostic> diagnostics;
  Result<std::unique_ptr<sql::SqlTable>> opened =
      sql::SqlTable::Open(*type, path, options, &diagnostics);
  for (const mapctl::Diagnostic& d : diagnostics) {
    std::fprintf(stderr, "mapctl: %s:%u: warning: %s\n", Safe(d.file).c_str(),
                 d.line, Safe(d.message).c_str());
  }
  if (!opened) {
    Error(opened.error().message());
    return 2;
  }
  sql::SqlTable& t = **opened;
  if (verbose) {
    std::string echo = sql::EchoConfig(t.config());
    std::fprintf(stderr, "mapctl: %s:\n%s", t.name().c_str(), echo.c_str());
  }

  bool from_stdin = keys.size() == 1 && keys[0] == "-";
  bool bare = keys.size() == 1 && !from_stdin;
  bool found = false;
  auto one = [&](const std::string& key) -> bool {
    sql::SqlAnswer a = t.Lookup(key);
    PrintWarnings(a.warnings);
    if (verbose && !a.query.empty()) {
      std::fprintf(stderr, "mapctl: %s: query on %s: %s\n", t.name().c_str(),
                   a.host.c_str(), Safe(a.query).c_str());
    }
    if (a.outcome == sql::SqlOutcome::kError) {
      std::cout.flush();
      Error(a.error.message());
      return false;
    }
    if (a.outcome == sql::SqlOutcome::kFound) {
      found = true;
      if (!bare) std::cout << key << '\t';
      std::cout << a.value << '\n';
    }
    return true;
  };
  if (from_stdin) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!one(line)) return 2;
    }
  } else {
    for (const std::string& key : keys) {
      if (!one(key)) return 2;
    }
  }
  std::cout.flush();
  return found ? 0 : 1;
}
