// cmd_verify.cc - `mapctl verify TABLE...`: mapctl's own walk of every
// page, for tables that query and dump would otherwise trust.

#include "cli_config.h"
#include "commands.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {

int RunVerify(const VerifyArgs& args) {
  Result<MainConfig> config = LoadPostmapConfig(args.flags);
  if (!config) {
    ReportError(config.error());
    return kExitTrouble;
  }
  int exit_code = kExitOk;
  for (const std::string& argument : args.tables) {
    Result<TableSpec> spec = TableArgument(argument, *config, true);
    if (!spec) {
      ReportError(spec.error());
      exit_code = kExitTrouble;
      continue;
    }
    std::vector<std::string> problems;
    if (Status s = VerifyTable(*spec, &problems); !s.ok()) {
      ReportError(s);
      exit_code = kExitTrouble;
      continue;
    }
    for (const std::string& p : problems) {
      ReportDiagnostic({Severity::kError, DiagnosticKind::kOther,
                        spec->FileName(), 0, p});
    }
    if (!problems.empty()) {
      exit_code = std::max<int>(exit_code, kExitNegative);
    } else {
      WriteStdout(spec->ToString() + ": ok\n");
    }
  }
  return exit_code;
}

}  // namespace mapctl::cli
