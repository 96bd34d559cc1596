// postfix/pattern_source.cc - logical lines (util/readlline.c) and inline
// tables (util/dict_stream.c) of regexp: and pcre: tables.

#include "postfix/pattern_source.h"

namespace mapctl::pattern {
namespace {

// Length of the "{...}" that starts `s`, braces nested; 0 when `s` does
// not start with '{' or the braces never close (util/balpar.c).
std::size_t BalancedLength(std::string_view s) {
  if (s.empty() || s[0] != '{') return 0;
  int level = 1;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '}') {
      if (--level == 0) return i + 1;
    } else if (s[i] == '{') {
      ++level;
    }
  }
  return 0;
}

// The text inside the braces of `s`, or Postfix's complaint (extpar()).
Result<std::string_view> InsideBraces(std::string_view s) {
  if (s.empty() || s[0] != '{') {
    return Status::ParseError("no '{' at start of text in \"" + std::string(s) +
                              "\"");
  }
  std::size_t len = BalancedLength(s);
  if (len == 0) {
    return Status::ParseError("missing '}' in \"" + std::string(s) + "\"");
  }
  if (len != s.size()) {
    return Status::ParseError("syntax error after '}' in \"" + std::string(s) +
                              "\"");
  }
  return s.substr(1, len - 2);
}

bool IsRuleSeparator(char c) {
  return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

std::vector<LogicalLine> SplitLogicalLines(std::string_view text) {
  std::vector<LogicalLine> lines;
  std::size_t pos = 0;
  std::uint32_t lineno = 0;
  std::string buf;
  for (;;) {
    buf.clear();
    std::uint32_t first = 0;
    for (;;) {
      const std::size_t start = buf.size();
      std::size_t nl = text.find('\n', pos);
      const bool eof = nl == std::string_view::npos;
      std::size_t end = eof ? text.size() : nl;
      buf.append(text.substr(pos, end - pos));
      pos = eof ? text.size() : nl + 1;
      if (!eof || buf.size() > start) ++lineno;
      std::size_t cp = start;
      while (cp < buf.size() && IsSpace(buf[cp])) ++cp;
      if (cp == buf.size() || buf[cp] == '#') {
        buf.resize(start);  // comment or blank line, even mid-rule
      } else if (start == 0) {
        first = lineno;
      }
      if (eof) break;
      // The logical line goes on while the next line starts with
      // whitespace or is a comment.
      if (!buf.empty() &&
          (pos >= text.size() || (text[pos] != '#' && !IsSpace(text[pos])))) {
        break;
      }
    }
    if (buf.empty()) return lines;
    LogicalLine out;
    out.line = first;
    if (IsSpace(buf[0])) {
      std::size_t quote = buf.find('\0');
      if (quote == std::string::npos || quote > 30) quote = 30;
      out.text = buf.substr(0, quote);
      if (buf.size() > 30) out.text += "...";
      out.dropped = true;
      lines.push_back(std::move(out));
      continue;
    }
    // dict_regexp/dict_pcre see a C string, trimmed at the end.
    std::size_t len = buf.find('\0');
    if (len == std::string::npos) len = buf.size();
    while (len > 0 && IsSpace(buf[len - 1])) --len;
    if (len == 0) continue;
    out.text = buf.substr(0, len);
    lines.push_back(std::move(out));
  }
}

Result<std::string> InlineRulesToText(std::string_view type,
                                      std::string_view name,
                                      std::uint32_t* rules) {
  *rules = 0;
  // Postfix hands the name around as a C string.
  name = name.substr(0, name.find('\0'));
  auto fail = [&](const Status& s) {
    return Status::ParseError(std::string(type) + " map: " + s.message());
  };
  Result<std::string_view> inner = InsideBraces(name);
  if (!inner) return fail(inner.error());
  std::string_view rest = *inner;
  std::string text;
  std::size_t pos = 0;
  for (;;) {
    while (pos < rest.size() && IsRuleSeparator(rest[pos])) ++pos;
    if (pos == rest.size()) break;
    // One rule: up to a separator outside braces (mystrtokq()).
    const std::size_t start = pos;
    int level = 0;
    for (; pos < rest.size(); ++pos) {
      char c = rest[pos];
      if (c == '{') {
        ++level;
      } else if (level > 0 && c == '}') {
        --level;
      } else if (level == 0 && IsRuleSeparator(c)) {
        break;
      }
    }
    std::string_view token = rest.substr(start, pos - start);
    if (pos < rest.size()) ++pos;
    Result<std::string_view> rule = InsideBraces(token);
    if (!rule) return fail(rule.error());
    std::string_view r = *rule;
    while (!r.empty() && IsSpace(r.back())) r.remove_suffix(1);
    while (!r.empty() && IsSpace(r.front())) r.remove_prefix(1);
    text.append(r);
    text.push_back('\n');
    ++*rules;
  }
  return text;
}

}  // namespace mapctl::pattern
