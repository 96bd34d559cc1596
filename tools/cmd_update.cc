// cmd_update.cc - `mapctl build -i` and `mapctl build -d KEY`: postmap's
// incremental modes, changing a table in place under Postfix's lock.

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/update.h"
#include "report.h"

namespace mapctl::cli {
namespace {

Result<std::string> ReadAll(int fd) {
  std::string text;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("read standard input", errno);
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
  }
}

int Add(const BuildArgs& args, const MainConfig& config,
        const std::vector<TableSpec>& specs) {
  Result<std::string> text = ReadAll(STDIN_FILENO);
  if (!text) {
    ReportError(text.error());
    return kExitTrouble;
  }
  // postmap -i names its input "stdin" in messages.
  ParseOptions parse;
  parse.origin = "stdin";
  parse.fold = KeyFoldMode(config, args.flags.no_utf8, args.flags.no_fold);
  parse.check_utf8 = ChecksUtf8(config, args.flags.no_utf8);
  ParsedMap parsed = ParseMapText(std::move(text).value(), parse);
  ReportDiagnostics(parsed.diagnostics(), args.strict);
  if (args.strict && !parsed.diagnostics().empty()) {
    ReportError("not updating: problems in the input and --strict");
    return kExitNegative;
  }
  SourceFileInfo input;
  struct stat st;
  if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    input = {true, static_cast<std::uint32_t>(st.st_mode & 07777),
             static_cast<std::uint32_t>(st.st_uid),
             static_cast<std::uint32_t>(st.st_gid)};
  }
  UpdateOptions options;
  options.nul = args.flags.nul;
  options.duplicates = args.duplicates;
  options.copy_source_mode = !args.plain_mode;
  options.take_source_owner = !args.keep_root;
  int exit_code = kExitOk;
  for (const TableSpec& spec : specs) {
    Result<UpdateReport> report =
        AddToTable(spec, parsed.entries(), options, input, "stdin");
    if (!report) {
      ReportError(report.error());
      exit_code = kExitTrouble;
      continue;
    }
    ReportDiagnostics(report->diagnostics, false);
    if (args.flags.verbose > 0) {
      ReportInfo(spec.FileName() + ": " + std::to_string(report->written) +
                 " entries added or replaced");
    }
  }
  return exit_code;
}

int Delete(const BuildArgs& args, const MainConfig& config,
           const std::vector<TableSpec>& specs) {
  std::vector<std::string> keys;
  for (const std::string& k : args.delete_keys) {
    if (k != "-") {
      keys.push_back(k);
      continue;
    }
    Result<std::string> text = ReadAll(STDIN_FILENO);
    if (!text) {
      ReportError(text.error());
      return kExitTrouble;
    }
    std::string_view rest = *text;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      keys.emplace_back(rest.substr(0, nl));
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
  }
  FoldMode fold = KeyFoldMode(config, args.flags.no_utf8, args.flags.no_fold);
  for (std::string& key : keys) {
    std::string folded;
    if (FoldKey(key, fold, &folded).ok()) {
      key = std::move(folded);
    } else {
      ReportWarning("non-UTF-8 key \"" + Printable(Excerpt(key)) +
                    "\": malformed UTF-8 or invalid codepoint");
      key.clear();  // never matches: DeleteFromTable skips empty keys
    }
  }
  bool deleted_any = false;
  int exit_code = kExitOk;
  for (const TableSpec& spec : specs) {
    Result<std::size_t> deleted = DeleteFromTable(spec, keys, args.flags.nul);
    if (!deleted) {
      ReportError(deleted.error());
      exit_code = kExitTrouble;
      continue;
    }
    deleted_any = deleted_any || *deleted > 0;
  }
  if (exit_code != kExitOk) return exit_code;
  return deleted_any ? kExitOk : kExitNegative;
}

}  // namespace

int RunUpdate(const BuildArgs& args) {
  if (args.incremental && !args.delete_keys.empty()) {
    ReportError("specify only one of -i or -d");
    return kExitTrouble;
  }
  Result<MainConfig> config = LoadPostmapConfig(args.flags);
  if (!config) {
    ReportError(config.error());
    return kExitTrouble;
  }
  std::vector<TableSpec> specs;
  for (const std::string& argument : args.tables) {
    // postmap -d refuses these before opening them; -i refuses them as a
    // build does (TableArgument()).
    const NoUpdate refusal =
        args.incremental ? NoUpdate::kNone : UpdateRefusal(argument);
    if (refusal != NoUpdate::kNone) {
      ReportError(refusal == NoUpdate::kReadOnly ? RefuseUpdate(argument)
                                                 : RefuseDelete(argument));
      return kExitTrouble;
    }
    Result<TableSpec> spec = TableArgument(argument, *config, false);
    if (!spec) {
      ReportError(spec.error());
      return kExitTrouble;
    }
    specs.push_back(std::move(spec).value());
  }
  return args.incremental ? Add(args, *config, specs)
                          : Delete(args, *config, specs);
}

}  // namespace mapctl::cli
