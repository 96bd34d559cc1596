// postfix/map_list.cc - table lists as Postfix parameters name them (global/maps.c,
// util/dict_inline.c, util/dict_static.c, proxymap(8)).

#include "mapctl/map_list.h"

#include <algorithm>
#include <array>

namespace mapctl {
namespace {

bool IsListSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsListSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsListSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Next item of a list separated by `seps`, with {...} kept whole
// (mystrtokq). Returns false at the end.
bool NextItem(std::string_view* rest, std::string_view seps,
              std::string_view* item) {
  std::string_view s = *rest;
  std::size_t i = 0;
  while (i < s.size() && seps.find(s[i]) != seps.npos) ++i;
  if (i == s.size()) {
    *rest = {};
    return false;
  }
  std::size_t start = i;
  int depth = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth > 0) --depth;
    } else if (depth == 0 && seps.find(c) != seps.npos) {
      break;
    }
  }
  *item = s.substr(start, i - start);
  *rest = s.substr(i);
  return true;
}

// Length of the balanced {...} group at the start of `s`, 0 if none.
std::size_t BalancedBraces(std::string_view s) {
  if (s.empty() || s.front() != '{') return 0;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return 0;
}

constexpr std::string_view kListSeparators = ", \t\r\n";

constexpr std::array<std::string_view, 3> kPatternTypes = {"regexp", "pcre",
                                                           "cidr"};

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ParseInlineTable(
    std::string_view body) {
  auto bad = [&](std::string_view why) {
    return Status::ParseError(std::string(why) +
                              ": \"inline:" + std::string(body) +
                              "\"; need \"inline:{name=value...}\"");
  };
  std::size_t len = BalancedBraces(body);
  if (len == 0 || len != body.size() || len < 2) return bad("bad syntax");
  std::string_view inner = body.substr(1, len - 2);
  if (inner.empty()) return bad("bad syntax");

  std::vector<std::pair<std::string, std::string>> out;
  std::string_view item;
  while (NextItem(&inner, kListSeparators, &item)) {
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
    while (name_end < s.size() && !IsListSpace(s[name_end]) &&
           s[name_end] != '=') {
      ++name_end;
    }
    std::size_t eq = name_end;
    while (eq < s.size() && IsListSpace(s[eq])) ++eq;
    if (eq >= s.size() || s[eq] != '=') {
      return bad("missing '=' after attribute name");
    }
    out.emplace_back(std::string(s.substr(0, name_end)),
                     std::string(Trim(s.substr(eq + 1))));
  }
  if (out.empty()) return bad("empty table");
  return out;
}

std::string_view ProbeResultName(ProbeResult r) noexcept {
  switch (r) {
    case ProbeResult::kFound:
      return "found";
    case ProbeResult::kNotFound:
      return "not found";
    case ProbeResult::kSkipped:
      return "skipped";
    case ProbeResult::kUnsupported:
      return "unsupported";
    case ProbeResult::kError:
      return "error";
  }
  return "unknown";
}

MapTable::~MapTable() = default;

MapList::MapList() = default;
MapList::~MapList() = default;
MapList::MapList(MapList&&) noexcept = default;
MapList& MapList::operator=(MapList&&) noexcept = default;

Result<MapList> MapList::Parse(std::string_view parameter,
                               std::string_view value, MapListMode mode,
                               const MapListOptions& options) {
  MapList list;
  list.parameter_ = std::string(parameter);
  list.options_ = options;
  std::string_view rest = value;
  std::string_view item;
  while (NextItem(&rest, kListSeparators, &item)) {
    auto t = std::unique_ptr<MapTable>(new MapTable());
    // proxymap(8) asks the same table on the client's behalf.
    while (item.substr(0, 6) == "proxy:") {
      item.remove_prefix(6);
      t->proxied_ = true;
    }
    std::string text;
    std::size_t colon = item.find(':');
    if (colon == item.npos) {
      text = (mode == MapListMode::kSources ? std::string("texthash")
                                            : options.default_database_type) +
             ":" + std::string(item);
      colon = text.find(':');
    } else {
      text = std::string(item);
    }
    std::string_view type = std::string_view(text).substr(0, colon);
    std::string_view body = std::string_view(text).substr(colon + 1);
    t->name_ = text;
    t->type_ = std::string(type);
    if (body.empty()) {
      return Status::InvalidArgument(list.parameter_ + ": table name is " +
                                     "empty: \"" + text + "\"");
    }
    if (type == "inline") {
      Result<std::vector<std::pair<std::string, std::string>>> fields =
          ParseInlineTable(body);
      if (!fields) {
        return Status::ParseError(list.parameter_ + ": " +
                                  fields.error().message());
      }
      t->kind_ = MapKind::kInline;
      // dict_inline has no duplicate check: the last update wins.
      std::string folded;
      for (auto& [k, v] : *fields) {
        if (Status s = FoldKey(k, options.fold, &folded); !s.ok()) {
          continue;  // Postfix skips keys that are not UTF-8 as well
        }
        t->entries_.emplace_back(folded, std::move(v));
      }
      std::stable_sort(
          t->entries_.begin(), t->entries_.end(),
          [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<std::pair<std::string, std::string>> unique;
      for (auto& e : t->entries_) {
        if (!unique.empty() && unique.back().first == e.first) {
          unique.back().second = std::move(e.second);
        } else {
          unique.push_back(std::move(e));
        }
      }
      t->entries_ = std::move(unique);
      t->display_ = "inline:{ " + std::to_string(fields->size()) +
                    (fields->size() == 1 ? " entry }" : " entries }");
    } else if (type == "static") {
      t->kind_ = MapKind::kStatic;
      std::string_view v = body;
      if (BalancedBraces(v) == v.size()) v = Trim(v.substr(1, v.size() - 2));
      t->static_value_ = std::string(v);
      t->display_ = "static:{...}";
    } else if (std::find(kPatternTypes.begin(), kPatternTypes.end(), type) !=
               kPatternTypes.end()) {
      t->kind_ = MapKind::kPattern;
      t->display_ = text;
    } else {
      Result<TableSpec> spec =
          ParseTableSpec(text, options.default_database_type);
      t->display_ = text;
      if (spec) {
        t->kind_ = MapKind::kFile;
        t->spec_ = std::move(*spec);
      } else if (spec.error().code() == ErrorCode::kUnsupported ||
                 type == "unix" || type == "union") {
        t->kind_ = MapKind::kOther;
      } else {
        return Status::InvalidArgument(list.parameter_ + ": " +
                                       spec.error().message());
      }
    }
    list.tables_.push_back(std::move(t));
  }
  return list;
}

Status MapList::Open(MapTable& t) {
  t.open_tried_ = true;
  OpenOptions oo;
  oo.fold = options_.fold;
  oo.check_utf8 = options_.check_utf8;
  Result<std::unique_ptr<TableReader>> r =
      options_.open ? options_.open(t.spec_, oo) : OpenTable(t.spec_, oo);
  if (!r) {
    t.open_error_ = std::move(r).error();
    return t.open_error_;
  }
  t.reader_ = std::move(*r);
  t.lookup_ = std::make_unique<TableLookup>(options_.fold, NulMode::kDefault,
                                            options_.check_utf8);
  return Status::Ok();
}

Probe MapList::Find(std::size_t i, std::string_view key, bool partial) {
  Probe p;
  MapTable& t = *tables_[i];
  // maps.c: an empty key is never looked up; partial keys only go to
  // tables with fixed keys.
  if (key.empty()) return p;
  if (partial && !t.fixed_key()) {
    p.result = ProbeResult::kSkipped;
    return p;
  }
  auto empty_value = [&]() {
    p.result = ProbeResult::kError;
    p.error = Status::Corruption(t.display_ + " lookup of \"" + Excerpt(key) +
                                 "\" returns an empty string result");
  };
  switch (t.kind_) {
    case MapKind::kPattern:
    case MapKind::kOther:
      p.result = ProbeResult::kUnsupported;
      p.error = Status::Unsupported(t.display_ + ": " + t.type_ +
                                    " tables cannot be evaluated by mapctl");
      return p;
    case MapKind::kStatic:
      if (t.static_value_.empty()) {
        empty_value();
      } else {
        p.result = ProbeResult::kFound;
        p.value = t.static_value_;
      }
      return p;
    case MapKind::kInline: {
      if (options_.check_utf8 && !IsAscii(key) && !IsValidUtf8(key)) return p;
      if (!FoldKey(key, options_.fold, &folded_).ok()) return p;
      auto it = std::lower_bound(
          t.entries_.begin(), t.entries_.end(), folded_,
          [](const auto& e, const std::string& k) { return e.first < k; });
      if (it == t.entries_.end() || it->first != folded_) return p;
      if (it->second.empty()) {
        empty_value();
      } else {
        p.result = ProbeResult::kFound;
        p.value = it->second;
      }
      return p;
    }
    case MapKind::kFile:
      break;
  }
  if (!t.open_tried_) (void)Open(t);
  if (!t.reader_) {
    p.result = t.open_error_.code() == ErrorCode::kUnsupported
                   ? ProbeResult::kUnsupported
                   : ProbeResult::kError;
    p.error = t.open_error_;
    return p;
  }
  if (!t.unit_) {
    Result<std::unique_ptr<ReadUnit>> u = t.reader_->Begin();
    if (!u) {
      p.result = ProbeResult::kError;
      p.error = std::move(u).error();
      return p;
    }
    t.unit_ = std::move(*u);
  }
  Result<std::optional<std::string_view>> r = t.lookup_->Find(*t.unit_, key);
  if (!r) {
    p.result = ProbeResult::kError;
    p.error = std::move(r).error();
    return p;
  }
  if (!r->has_value()) return p;
  if ((*r)->empty()) {
    empty_value();
    return p;
  }
  p.result = ProbeResult::kFound;
  p.value = **r;
  return p;
}

void MapList::EndBatch() {
  for (auto& t : tables_) t->unit_.reset();
}

}  // namespace mapctl
