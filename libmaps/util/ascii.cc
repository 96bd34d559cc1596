// util/ascii.cc - ASCII case and whitespace rules, Postfix list splitting.

#include "util/ascii.h"

#include <algorithm>
#include <cstdint>

namespace mapctl {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s,
                          std::string_view prefix) noexcept {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool LessIgnoreCase::operator()(std::string_view a,
                                std::string_view b) const noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = AsciiLower(a[i]), y = AsciiLower(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

std::size_t HashIgnoreCase::operator()(std::string_view s) const noexcept {
  // FNV-1a: host names are short, and the sets hold few of them.
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(AsciiLower(c));
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool NextListItem(std::string_view* rest, std::string_view* item,
                  std::string_view separators) noexcept {
  std::string_view s = *rest;
  std::size_t i = 0;
  while (i < s.size() && separators.find(s[i]) != s.npos) ++i;
  if (i == s.size()) {
    *rest = {};
    return false;
  }
  const std::size_t start = i;
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth > 0) --depth;
    } else if (depth == 0 && separators.find(c) != s.npos) {
      break;
    }
  }
  *item = s.substr(start, i - start);
  *rest = s.substr(i);
  return true;
}

std::vector<std::string_view> SplitList(std::string_view list,
                                        std::string_view separators) {
  std::vector<std::string_view> out;
  std::string_view item;
  while (NextListItem(&list, &item, separators)) out.push_back(item);
  return out;
}

std::size_t BalancedBraces(std::string_view s) noexcept {
  if (s.empty() || s.front() != '{') return 0;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return 0;
}

}  // namespace mapctl
