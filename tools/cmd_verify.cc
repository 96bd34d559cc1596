// cmd_verify.cc - `mapctl verify TABLE...`: mapctl's own walk of every
// page, for tables that query and dump would otherwise trust.

#include "cli_config.h"
#include "commands.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {

int RunVerify(const VerifyArgs& args) {
  return ForEachTable(
      args.flags, args.tables,
      [](const MainConfig& config, const std::string& argument) -> int {
        Result<TableSpec> spec = TableArgument(argument, config, true);
        if (!spec) {
          ReportError(spec.error());
          return kExitTrouble;
        }
        std::vector<std::string> problems;
        if (Status s = VerifyTable(*spec, &problems); !s.ok()) {
          // A source has no pages to walk; mapctl's own check of it is a
          // strict build.
          if (spec->type == TableType::kTexthash &&
              s.code() == ErrorCode::kUnsupported) {
            ReportError(s.message() + " (check it with mapctl build --strict)");
          } else {
            ReportError(s);
          }
          return kExitTrouble;
        }
        for (const std::string& p : problems) {
          ReportDiagnostic({Severity::kError, DiagnosticKind::kOther,
                            spec->FileName(), 0, p});
        }
        if (!problems.empty()) return kExitNegative;
        WriteStdout(spec->ToString() + ": ok\n");
        return kExitOk;
      });
}

}  // namespace mapctl::cli
