// report.h - exit codes and the one place the CLI writes to stderr.

#ifndef MAPCTL_TOOLS_REPORT_H_
#define MAPCTL_TOOLS_REPORT_H_

#include <string_view>
#include <vector>

#include "mapctl/lookup_table.h"
#include "mapctl/source.h"
#include "mapctl/status.h"

namespace mapctl::cli {

// Exit codes follow grep(1)/diff(1), which admins' scripts already test
// for. Documented in docs/mapctl.1.
enum ExitCode : int {
  kExitOk = 0,        // found / identical / clean / built
  kExitNegative = 1,  // not found / differ / --strict found warnings
  kExitTrouble = 2,   // usage, unreadable input, I/O, corruption
};

// "mapctl: FILE:LINE: warning: MESSAGE"; `as_error` prints "error"
// instead (--strict).
void ReportDiagnostic(const Diagnostic& d, bool as_error = false);
// Diagnostics of several origins, in file order then line order.
void ReportDiagnostics(std::vector<Diagnostic> diagnostics, bool as_error);
// "mapctl: error: MESSAGE".
void ReportError(std::string_view message);
void ReportError(const Status& status);
// "mapctl: warning: MESSAGE".
void ReportWarning(std::string_view message);
// "mapctl: MESSAGE" (verbose lines).
void ReportInfo(std::string_view message);
// "\rmapctl: MESSAGE" without a newline: a progress line on a terminal,
// which the next call overwrites; EndProgress() ends it with a newline.
void ReportProgress(std::string_view message);
void EndProgress();
// Whether the messages go to a terminal (progress lines do only then).
bool ReportsToTerminal();

// A table's warning in postmap's words (those of `query TABLE KEY`, which
// prints values anyway): postmap's "TYPE map FILE, line N: " prefix
// becomes "FILE:LINE: warning: "; other prefixes ("pcre:FILE: ") stay in
// the text, as postmap has them.
Diagnostic PostmapWarning(const TableWarning& w);

// Text safe to put inside a diagnostic: control and non-ASCII bytes are
// written as \xHH, so a message never carries raw bytes to a terminal.
std::string Printable(std::string_view text);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_REPORT_H_
