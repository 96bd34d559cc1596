// report.cc - GNU-style messages: "mapctl: FILE:LINE: severity: text".

#include "report.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace mapctl::cli {

void ReportDiagnostic(const Diagnostic& d, bool as_error) {
  const char* severity =
      (as_error || d.severity == Severity::kError) ? "error" : "warning";
  if (d.line > 0) {
    std::fprintf(stderr, "mapctl: %s:%u: %s: %s\n", d.file.c_str(),
                 static_cast<unsigned>(d.line), severity, d.message.c_str());
  } else if (!d.file.empty()) {
    std::fprintf(stderr, "mapctl: %s: %s: %s\n", d.file.c_str(), severity,
                 d.message.c_str());
  } else {
    std::fprintf(stderr, "mapctl: %s: %s\n", severity, d.message.c_str());
  }
}

void ReportDiagnostics(std::vector<Diagnostic> diagnostics, bool as_error) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.file != b.file) return a.file < b.file;
                     return a.line < b.line;
                   });
  for (const Diagnostic& d : diagnostics) ReportDiagnostic(d, as_error);
}

void ReportError(std::string_view message) {
  std::fprintf(stderr, "mapctl: error: %.*s\n",
               static_cast<int>(message.size()), message.data());
}

void ReportError(const Status& status) { ReportError(status.message()); }

void ReportWarning(std::string_view message) {
  std::fprintf(stderr, "mapctl: warning: %.*s\n",
               static_cast<int>(message.size()), message.data());
}

void ReportInfo(std::string_view message) {
  std::fprintf(stderr, "mapctl: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace mapctl::cli
