// postfix/cf_params.cc - "name = value" parameter files (dict_load_file).

#include "postfix/cf_params.h"

#include <algorithm>

#include "util/ascii.h"
#include "util/read_file.h"

namespace mapctl {
namespace {

// A line Postfix's readllines() skips: empty, whitespace only, or a comment
// (first non-blank byte '#').
bool IsSkipped(std::string_view line) {
  std::string_view t = Trim(line);
  return t.empty() || t.front() == '#';
}

}  // namespace


std::string CfWhere(std::string_view origin, std::uint32_t line) {
  std::string out(origin);
  if (line != 0) out += ":" + std::to_string(line);
  out += ": ";
  return out;
}

Result<CfParams> CfParams::ReadFile(const std::string& path) {
  Result<std::string> text = mapctl::ReadFile(path);
  if (!text) return text.error();
  return Parse(*text, path);
}

Result<CfParams> CfParams::Parse(std::string_view text, std::string origin) {
  CfParams params(std::move(origin));
  std::string logical;
  std::uint32_t logical_line = 0;  // 0: no logical line open
  std::uint32_t lineno = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (IsSkipped(line)) continue;
    if (IsAsciiSpace(line.front())) {
      if (logical_line == 0) {
        params.diagnostics_.push_back(
            {Severity::kWarning, DiagnosticKind::kLeadingWhitespace,
             params.origin_, lineno,
             "logical line must not start with whitespace"});
      } else {
        logical.append(line);
      }
      continue;
    }
    if (logical_line != 0) {
      MAPCTL_RETURN_IF_ERROR(params.AddLine(logical, logical_line));
    }
    logical.assign(line);
    logical_line = lineno;
  }
  if (logical_line != 0) {
    MAPCTL_RETURN_IF_ERROR(params.AddLine(logical, logical_line));
  }
  return params;
}

// Postfix's split_nameval(): the name is the first word, then '=', then the
// value with surrounding whitespace removed.
Status CfParams::AddLine(std::string_view logical, std::uint32_t line) {
  std::size_t name_end = 0;
  while (name_end < logical.size() && !IsAsciiSpace(logical[name_end]) &&
         logical[name_end] != '=') {
    ++name_end;
  }
  std::string_view name = logical.substr(0, name_end);
  std::size_t eq = name_end;
  while (eq < logical.size() && IsAsciiSpace(logical[eq])) ++eq;
  if (name.empty()) {
    return Status::ParseError(CfWhere(origin_, line) +
                              "missing attribute name");
  }
  if (eq >= logical.size() || logical[eq] != '=') {
    return Status::ParseError(CfWhere(origin_, line) +
                              "missing '=' after attribute name");
  }
  std::string_view value = Trim(logical.substr(eq + 1));
  auto it = values_.find(name);
  if (it != values_.end()) {
    diagnostics_.push_back(
        {Severity::kWarning, DiagnosticKind::kDuplicate, origin_, line,
         "overriding earlier entry for \"" + std::string(name) + "\" (line " +
             std::to_string(it->second.line) + ")"});
    it->second = CfValue{std::string(value), line};
  } else {
    values_.emplace(std::string(name), CfValue{std::string(value), line});
  }
  return Status::Ok();
}

const CfValue* CfParams::Find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

void CfParams::Set(std::string name, std::string value, std::uint32_t line) {
  values_[std::move(name)] = CfValue{std::move(value), line};
}

std::vector<std::string> CfParams::Names() const {
  std::vector<std::pair<std::uint32_t, std::string>> order;
  for (const auto& [name, v] : values_) order.emplace_back(v.line, name);
  std::sort(order.begin(), order.end());
  std::vector<std::string> out;
  for (auto& [line, name] : order) out.push_back(std::move(name));
  return out;
}

}  // namespace mapctl
