// cmd_check.cc - `mapctl check`: findings about the sender-dependent relay
// and SASL setup and the tables main.cf references, as compiler-style
// lines (or JSON) on stdout. main.cf is found as for `query sender`.

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/check.h"
#include "mapctl/fold.h"
#include "mapctl/map_list.h"
#include "output.h"
#include "report.h"
#include "senders_input.h"

namespace mapctl::cli {
namespace {

Result<std::string> ReadWhole(const std::string& path, bool* exists) {
  std::ifstream in(path, std::ios::binary);
  *exists = in.is_open();
  if (!in.is_open()) {
    if (errno == ENOENT) return std::string();
    return Status::IoError("open " + path, errno);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool KnownCheck(std::string_view name) {
  for (std::string_view n : CheckNames()) {
    if (n == name) return true;
  }
  return false;
}

// --ignore keys match as check's keys do: A-Z folded, nothing else.
std::string Lower(std::string_view s) {
  std::string out;
  (void)FoldKey(s, FoldMode::kAscii, &out);  // never fails in kAscii
  return out;
}

// --ignore CHECK:KEY and the lines of --ignore-file (blank and '#' lines
// skipped). Keys compare without regard to ASCII case, as tables fold.
Status CollectIgnores(const CheckArgs& args,
                      std::vector<std::pair<std::string, std::string>>* out) {
  std::vector<std::string> items = args.ignore;
  for (const std::string& path : args.ignore_files) {
    bool exists = false;
    Result<std::string> text = ReadWhole(path, &exists);
    if (!text) return text.error();
    if (!exists) return Status::IoError("open " + path, ENOENT);
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
      }
      std::size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      items.push_back(line.substr(start));
    }
  }
  for (const std::string& item : items) {
    std::size_t colon = item.find(':');
    std::string check = item.substr(0, colon);
    if (colon == std::string::npos || !KnownCheck(check)) {
      return Status::InvalidArgument("--ignore " + item +
                                     ": expected CHECK:KEY with a known check");
    }
    out->emplace_back(check, Lower(item.substr(colon + 1)));
  }
  return Status::Ok();
}

// --relay-maps and --password-maps name sources: an indexed table there is
// refused in the options' words. A list that does not parse is left to
// RunChecks, which reports it (the relay list first, as before).
Status CheckSourceOptions(const SenderArgs& args, const MainConfig& config) {
  TableContext context;
  context.mode = MapListMode::kSources;
  context.default_database_type = config.Get("default_database_type");
  for (const auto& [flag, value] :
       {std::pair<const char*, const std::optional<std::string>*>{
            "--relay-maps", &args.relay_maps},
        {"--password-maps", &args.password_maps}}) {
    if (!*value) continue;
    Result<MapList> list = MapList::Parse(flag, **value, context);
    if (!list) return Status::Ok();
    for (std::size_t i = 0; i < list->size(); ++i) {
      const LookupTable& t = list->table(i);
      if (t.spec() != nullptr && t.spec()->type != TableType::kTexthash) {
        return Status::InvalidArgument(
            std::string(flag) + ": " + t.name() +
            " is an indexed table; give its source file (a bare path)");
      }
    }
  }
  return Status::Ok();
}

// The CLI's words for a fact the library leaves to its caller (HintCode):
// the options that supplied it, mapctl's commands for the remedy.
std::string HintWords(const Finding& f, HintCode code) {
  switch (code) {
    case HintCode::kAuthRequired:
      return "--auth-required names it";
    case HintCode::kMxUnknown:
      return "without --resolve";
    case HintCode::kBuildTable:
      return "postmap or mapctl build";
    case HintCode::kConvertTable:
      return "convert with: mapctl convert " + f.key.value_or("TABLE") +
             " lmdb:";
  }
  return {};
}

// The message with each hint span in the CLI's words.
std::string Worded(const Finding& f) {
  std::string out;
  std::size_t at = 0;
  for (const MessageHint& h : f.hints) {
    if (h.begin < at || h.begin + h.size > f.message.size()) continue;
    out.append(f.message, at, h.begin - at);
    out += HintWords(f, h.code);
    at = h.begin + h.size;
  }
  out.append(f.message, at);
  return out;
}

void AppendFinding(const Finding& f, bool json, std::string* out) {
  const std::string message = Worded(f);
  const char* severity = f.severity == Severity::kError ? "error" : "warning";
  if (json) {
    *out += "{\"file\": ";
    AppendJsonString(out, f.file);
    *out += ", \"line\": ";
    *out += f.line == 0 ? "null" : std::to_string(f.line);
    *out += ", \"severity\": \"";
    *out += severity;
    *out += "\", \"check\": ";
    AppendJsonString(out, f.check);
    *out += ", \"key\": ";
    if (f.key) {
      AppendJsonString(out, *f.key);
    } else {
      *out += "null";
    }
    *out += ", \"message\": ";
    AppendJsonString(out, message);
    *out += "}\n";
    return;
  }
  *out += Printable(f.file);
  if (f.line != 0) *out += ":" + std::to_string(f.line);
  *out += ": ";
  *out += severity;
  *out += ": " + Printable(message) + " [" + f.check + "]\n";
}

}  // namespace

int RunCheck(const CheckArgs& args) {
  for (const std::string& name : args.disable) {
    if (!KnownCheck(name)) {
      ReportError("--disable " + name + ": unknown check (see docs/checks.md)");
      return kExitTrouble;
    }
  }
  std::vector<std::pair<std::string, std::string>> ignores;
  if (Status s = CollectIgnores(args, &ignores); !s.ok()) {
    ReportError(s);
    return kExitTrouble;
  }
  const SenderArgs& setup_args = args.setup;
  const char* env = std::getenv("MAIL_CONFIG");
  const bool named =
      !setup_args.config_dir.empty() || (env != nullptr && *env != '\0');
  const bool explicit_maps = setup_args.relay_maps || setup_args.password_maps;
  Result<SenderSetup> setup = LoadSenderConfig(setup_args);
  if (!setup) {
    ReportError(setup.error());
    return kExitTrouble;
  }
  const MainConfig& config = setup->config;
  const bool pinned = !named && (explicit_maps || setup_args.relayhost);
  if (pinned) {
    for (const Warning& w : setup->assumptions) {
      if (w.code != "recipient" && w.code != "no_dns") {
        ReportInfo("note: " + w.message);
      }
    }
    for (const std::string& kv : setup_args.set) {
      ReportInfo("note: " + kv + " (--set)");
    }
  }
  for (const Diagnostic& d : config.diagnostics()) ReportDiagnostic(d);

  CheckOptions options;
  options.sources_only = args.sources_only || explicit_maps;
  options.relay_maps = setup_args.relay_maps;
  options.password_maps = setup_args.password_maps;
  options.auth_required = args.auth_required;
  if (!setup_args.senders_file.empty()) {
    Result<SenderList> senders = ReadSendersOption(setup_args.senders_file);
    if (!senders) {
      ReportError(senders.error());
      return kExitTrouble;
    }
    options.senders = std::move(senders->senders);
  }
  options.disabled.insert(args.disable.begin(), args.disable.end());
  options.own_address = IsOwnAddress;
  if (setup_args.resolve) options.resolve_mx = ResolveMx;
  options.table_timeout = setup_args.sql_timeout;
  if (!pinned) {
    bool exists = false;
    options.main_cf_path = config.config_directory() + "/main.cf";
    options.master_cf_path = config.config_directory() + "/master.cf";
    Result<std::string> master_cf = ReadWhole(options.master_cf_path, &exists);
    if (!master_cf) {
      ReportError(master_cf.error());
      return kExitTrouble;
    }
    options.master_cf_text = std::move(*master_cf);
  } else {
    options.main_cf_path = "(command line)";
  }

  if (Status s = CheckSourceOptions(setup_args, config); !s.ok()) {
    ReportError(s);
    return kExitTrouble;
  }
  Result<CheckReport> report = RunChecks(config, options);
  if (!report) {
    ReportError(report.error());
    return kExitTrouble;
  }
  for (const std::string& note : report->notes) ReportInfo("note: " + note);
  if (!report->checked_anything) {
    ReportError(
        "nothing to check: no sender_dependent_relayhost_maps, "
        "smtp_sasl_password_maps or indexed table is named (give -c DIR, "
        "--relay-maps or --password-maps)");
    return kExitTrouble;
  }
  std::string out;
  bool error = false, warning = false;
  for (const Finding& f : report->findings) {
    bool ignored = false;
    for (const auto& [check, key] : ignores) {
      ignored = ignored || (check == f.check && f.key && Lower(*f.key) == key);
    }
    if (ignored) continue;
    error = error || f.severity == Severity::kError;
    warning = warning || f.severity == Severity::kWarning;
    AppendFinding(f, args.json, &out);
  }
  if (!WriteStdoutOrReport(out)) return kExitTrouble;
  for (const Status& s : report->trouble) ReportError(s);
  if (!report->trouble.empty()) return kExitTrouble;
  return error || (args.strict && warning) ? kExitNegative : kExitOk;
}

}  // namespace mapctl::cli
