// cmd_verify.cc - `mapctl verify TABLE...`: mapctl's own walk of every
// page, for tables that query and dump would otherwise trust; for a
// regexp: or pcre: table, every rule compiled as Postfix compiles it.

#include "cli_config.h"
#include "commands.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {
namespace {

// "regexp:" or "pcre:" after an optional "proxy:".
bool IsPatternArgument(std::string_view text) {
  if (text.substr(0, 6) == "proxy:") text.remove_prefix(6);
  return text.substr(0, 7) == "regexp:" || text.substr(0, 5) == "pcre:";
}

// A pattern table has no pages: what can be damaged is a rule. Every
// warning Postfix logs when it opens the table means text it skips or
// reads otherwise than written (a rule that does not compile, an unknown
// flag, an IF without ENDIF), so each one is damage here: error, exit 1.
// The rules compile with the engine the table uses (regcomp, PCRE2).
int VerifyPatternTable(const MainConfig& config, const TableFlags& flags,
                       const std::string& argument) {
  Result<std::unique_ptr<LookupTable>> table =
      OpenQueryTableNow(argument, config, flags);
  if (!table) {
    ReportError(table.error());
    return kExitTrouble;
  }
  const std::vector<TableWarning>& warnings = (*table)->warnings();
  for (const TableWarning& w : warnings) {
    // The diagnostic's text is postmap's without any quoted result (a
    // password map's rule holds a password).
    Diagnostic d = w.diagnostic;
    d.severity = Severity::kError;
    ReportDiagnostic(d);
  }
  if (!warnings.empty()) return kExitNegative;
  WriteStdout((*table)->display() + ": ok\n");
  return kExitOk;
}

}  // namespace

int RunVerify(const VerifyArgs& args) {
  return ForEachTable(
      args.flags, args.tables,
      [&](const MainConfig& config, const std::string& argument) -> int {
        if (IsPatternArgument(argument)) {
          return VerifyPatternTable(config, args.flags, argument);
        }
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
