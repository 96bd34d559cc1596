// report.cc - GNU-style messages: "mapctl: FILE:LINE: severity: text".

#include "report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "mapctl/fold.h"

namespace mapctl::cli {
namespace {

// What reaches a terminal: control bytes, and bytes that are not valid
// UTF-8, become '?' as in postmap's messages, so a crafted key cannot
// drive the admin's terminal.
std::string Safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (n > 1 && i + n <= text.size() && IsValidUtf8(text.substr(i, n))) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
      out.push_back('?');
    } else {
      out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    }
    ++i;
  }
  return out;
}

}  // namespace

void ReportDiagnostic(const Diagnostic& d, bool as_error) {
  const char* severity =
      (as_error || d.severity == Severity::kError) ? "error" : "warning";
  std::string file = Safe(d.file);
  std::string message = Safe(d.message);
  if (d.line > 0) {
    std::fprintf(stderr, "mapctl: %s:%u: %s: %s\n", file.c_str(),
                 static_cast<unsigned>(d.line), severity, message.c_str());
  } else if (!d.file.empty()) {
    std::fprintf(stderr, "mapctl: %s: %s: %s\n", file.c_str(), severity,
                 message.c_str());
  } else {
    std::fprintf(stderr, "mapctl: %s: %s\n", severity, message.c_str());
  }
}

Diagnostic PostmapWarning(const TableWarning& w) {
  const std::string& text = w.postfix_text;
  const std::string& msg = w.postfix_message;
  const bool rule_prefix =
      w.diagnostic.line != 0 && !msg.empty() && text.size() > msg.size() &&
      text.compare(text.size() - msg.size(), msg.size(), msg) == 0 &&
      text.find(" map ") != std::string::npos &&
      text.rfind(", line ", text.size() - msg.size()) != std::string::npos;
  if (!rule_prefix) {
    return Diagnostic{Severity::kWarning, DiagnosticKind::kOther, "", 0, text};
  }
  return Diagnostic{Severity::kWarning, DiagnosticKind::kOther,
                    w.diagnostic.file, w.diagnostic.line, w.postfix_message};
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
  std::fprintf(stderr, "mapctl: error: %s\n", Safe(message).c_str());
}

void ReportError(const Status& status) { ReportError(status.message()); }

void ReportWarning(std::string_view message) {
  std::fprintf(stderr, "mapctl: warning: %s\n", Safe(message).c_str());
}

void ReportInfo(std::string_view message) {
  std::fprintf(stderr, "mapctl: %s\n", Safe(message).c_str());
}

void ReportProgress(std::string_view message) {
  std::fprintf(stderr, "\rmapctl: %s", Safe(message).c_str());
}

void EndProgress() { std::fputc('\n', stderr); }

bool ReportsToTerminal() { return isatty(STDERR_FILENO) == 1; }

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
