// cli_config.cc - main.cf discovery and table arguments for the CLI.

#include "cli_config.h"

#include <unistd.h>

#include <cstdlib>

#include "report.h"

namespace mapctl::cli {

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
  ReportInfo("note: no main.cf (no -c, no MAIL_CONFIG, no /etc/postfix/main.cf): "
             "using Postfix 3.7 defaults with compatibility_level = " +
             config.Get("compatibility_level") + " (smtputf8_enable = " +
             config.Get("smtputf8_enable") + ")");
}

Result<TableSpec> TableArgument(std::string_view text,
                                const MainConfig& config, bool for_reading) {
  constexpr std::string_view kProxy = "proxy:";
  if (text.substr(0, kProxy.size()) == kProxy) {
    if (!for_reading) {
      return Status::Unsupported("can't create maps via the proxy service");
    }
    text.remove_prefix(kProxy.size());
  }
  return ParseTableSpec(text, config.Get("default_database_type"));
}

ReadSettings ReadSettingsFor(const TableFlags& flags,
                             const MainConfig& config) {
  return {KeyFoldMode(config, flags.no_utf8, flags.no_fold),
          ChecksUtf8(config, flags.no_utf8), flags.nul};
}

}  // namespace mapctl::cli
