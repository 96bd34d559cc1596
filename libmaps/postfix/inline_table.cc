// postfix/inline_table.cc - inline:{...} tables (inline_table(5), Postfix
// 3.0+; util/dict_inline.c): entries written in the parameter value, held
// in memory.

#include <algorithm>

#include "postfix/table_types.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

class InlineTable final : public LookupTable {
 public:
  InlineTable(const TableName& name, std::size_t fields,
              std::vector<std::pair<std::string, std::string>> entries,
              const TableContext& context)
      : LookupTable(std::string(name.type), std::string(name.text),
                    "inline:{ " + std::to_string(fields) +
                        (fields == 1 ? " entry }" : " entries }"),
                    TableTraits{/*fixed_keys=*/true, /*enumerable=*/true,
                                /*has_lines=*/false, /*evaluated=*/true}),
        entries_(std::move(entries)),
        fold_(context.fold),
        check_utf8_(context.check_utf8) {}

  Answer Find(std::string_view key) override {
    Answer a;
    if (key.empty()) return a;
    if ((check_utf8_ && !IsAscii(key) && !IsValidUtf8(key)) ||
        !FoldKey(key, fold_, &folded_).ok()) {
      a.invalid_key = true;
      return a;
    }
    auto it = std::lower_bound(
        entries_.begin(), entries_.end(), folded_,
        [](const auto& e, const std::string& k) { return e.first < k; });
    if (it == entries_.end() || it->first != folded_) return a;
    return FoundAnswer(it->second);
  }

  Status ForEach(const Visitor& visit) override {
    for (const auto& [k, v] : entries_) {
      if (!visit(k, v, 0)) break;
    }
    return Status::Ok();
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // folded, sorted
  FoldMode fold_;
  bool check_utf8_;
  std::string folded_;
};

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ParseInlineTable(
    std::string_view body) {
  auto bad = [&](std::string_view why) {
    return Status::ParseError(std::string(why) + ": \"inline:" +
                              std::string(body) +
                              "\"; need \"inline:{name=value...}\"");
  };
  std::size_t len = BalancedBraces(body);
  if (len == 0 || len != body.size() || len < 2) return bad("bad syntax");
  std::string_view inner = body.substr(1, len - 2);
  if (inner.empty()) return bad("bad syntax");

  std::vector<std::pair<std::string, std::string>> out;
  std::string_view item;
  while (NextListItem(&inner, &item)) {
    if (item.front() == '{') {
      // "{ key = value with spaces }": braces and outer spaces go.
      if (BalancedBraces(item) != item.size()) {
        return bad("syntax error after '}' in \"" + std::string(item) + "\"");
      }
      item = Trim(item.substr(1, item.size() - 2));
    }
    // split_nameval: name, optional spaces, '=', value trimmed.
    std::string_view s = Trim(item);
    if (s.empty() || s.front() == '=') return bad("missing attribute name");
    std::size_t name_end = 0;
    while (name_end < s.size() && !IsAsciiSpace(s[name_end]) &&
           s[name_end] != '=') {
      ++name_end;
    }
    std::size_t eq = name_end;
    while (eq < s.size() && IsAsciiSpace(s[eq])) ++eq;
    if (eq >= s.size() || s[eq] != '=') {
      return bad("missing '=' after attribute name");
    }
    out.emplace_back(std::string(s.substr(0, name_end)),
                     std::string(Trim(s.substr(eq + 1))));
  }
  if (out.empty()) return bad("empty table");
  return out;
}

Result<std::unique_ptr<LookupTable>> OpenInlineTable(
    const TableName& name, const TableContext& context) {
  Result<std::vector<std::pair<std::string, std::string>>> fields =
      ParseInlineTable(name.body);
  if (!fields) return std::move(fields).error();
  // dict_inline has no duplicate check: the last update wins.
  std::vector<std::pair<std::string, std::string>> entries;
  std::string folded;
  for (auto& [k, v] : *fields) {
    if (!FoldKey(k, context.fold, &folded).ok()) {
      continue;  // Postfix skips keys that are not UTF-8 as well
    }
    entries.emplace_back(folded, std::move(v));
  }
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> unique;
  for (auto& e : entries) {
    if (!unique.empty() && unique.back().first == e.first) {
      unique.back().second = std::move(e.second);
    } else {
      unique.push_back(std::move(e));
    }
  }
  return std::unique_ptr<LookupTable>(
      new InlineTable(name, fields->size(), std::move(unique), context));
}

}  // namespace mapctl
