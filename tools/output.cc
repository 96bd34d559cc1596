// output.cc - stdout formats: tab-separated like postmap, or JSON lines.

#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "mapctl/fold.h"
#include "report.h"

namespace mapctl::cli {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
std::size_t Utf8SequenceLength(std::string_view s) {
  unsigned char c = static_cast<unsigned char>(s[0]);
  std::size_t n = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
  if (n == 0 || s.size() < n) return 0;
  return IsValidUtf8(s.substr(0, n)) ? n : 0;
}

}  // namespace

void AppendCEscaped(std::string* out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\\': out->append("\\\\"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

void AppendJsonString(std::string* out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      if (std::size_t n = Utf8SequenceLength(text.substr(i)); n > 0) {
        out->append(text.substr(i, n));
        i += n;
      } else {
        // Not UTF-8: U+FFFD, so every JSON parser accepts the line (a
        // lone surrogate escape would be lossless but strict parsers
        // reject it). The plain output keeps the exact bytes.
        out->append("\\ufffd");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

void AppendKeyValue(std::string* out, std::string_view key,
                    std::string_view value, bool json) {
  if (json) {
    out->push_back('{');
    AppendJsonString(out, key);
    out->append(": ");
    AppendJsonString(out, value);
    out->append("}\n");
    return;
  }
  out->append(key);
  out->push_back('\t');
  out->append(value);
  out->push_back('\n');
}

bool WriteStdout(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool WriteStdoutOrReport(std::string_view data) {
  if (WriteStdout(data)) return true;
  ReportError(Status::IoError("write standard output", errno));
  return false;
}

}  // namespace mapctl::cli
