// postfix/sql_domain.cc - the `domain` string list (match_list.c rules).

#include "postfix/sql_domain.h"

#include "postfix/cf_params.h"
#include "util/read_file.h"

namespace mapctl::sql {
namespace {

constexpr std::string_view kSeparators = " ,\t\r\n";

// Postfix's MATCH_DICTIONARY(): a ':' that is not inside a "[...]" literal.
bool IsTableName(std::string_view item) {
  return !item.empty() && item.front() != '[' &&
         item.find(':') != std::string_view::npos;
}

}  // namespace

std::string DomainList::Fold(std::string_view text) const {
  std::string out;
  // Invalid UTF-8 cannot be folded as UTF-8; Postfix's casefold() then
  // leaves non-ASCII bytes alone, which ASCII folding does too.
  if (!FoldKey(text, fold_, &out).ok()) {
    (void)FoldKey(text, FoldMode::kAscii, &out);
  }
  return out;
}

Status DomainList::Add(std::string_view text, bool admit,
                       const DomainTableOpener& open, int depth) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of(kSeparators, pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    bool match = admit;
    while (!item.empty() && item.front() == '!') {
      match = !match;
      item.remove_prefix(1);
    }
    if (item.empty()) continue;
    if (item.front() == '/') {
      if (depth > 10) {
        return Status::InvalidArgument("domain: files nested too deeply");
      }
      Result<std::string> body = ReadFile(std::string(item));
      if (!body) {
        return Status::IoError("open file " + std::string(item),
                               body.error().sys_errno());
      }
      std::size_t lpos = 0;
      while (lpos < body->size()) {
        std::size_t nl = body->find('\n', lpos);
        if (nl == std::string::npos) nl = body->size();
        std::string_view line(body->data() + lpos, nl - lpos);
        lpos = nl + 1;
        std::size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#') continue;
        MAPCTL_RETURN_IF_ERROR(Add(line, match, open, depth + 1));
      }
      continue;
    }
    Item it;
    it.admit = match;
    if (IsTableName(item)) {
      it.name = std::string(item);
      if (!open) {
        return Status::Unsupported("domain: table " + it.name +
                                   ": tables are not supported here");
      }
      Result<DomainTableLookup> table = open(item);
      if (!table) return table.error();
      it.table = std::move(table).value();
    } else {
      it.name = Fold(item);
    }
    items_.push_back(std::move(it));
  }
  return Status::Ok();
}

Result<DomainList> DomainList::Parse(std::string_view text, FoldMode fold,
                                     const DomainTableOpener& open) {
  DomainList list;
  list.fold_ = fold == FoldMode::kNone ? FoldMode::kAscii : fold;
  MAPCTL_RETURN_IF_ERROR(list.Add(text, true, open, 0));
  return list;
}

Result<bool> DomainList::Admits(std::string_view key) const {
  if (items_.empty()) return true;
  std::size_t at = key.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string domain = Fold(key.substr(at + 1));
  for (const Item& it : items_) {
    bool hit = false;
    if (it.table) {
      Result<bool> found = it.table(domain);
      if (!found) return found.error();
      hit = *found;
    } else {
      hit = it.name == domain;
    }
    if (hit) return it.admit;
  }
  return false;
}

}  // namespace mapctl::sql
