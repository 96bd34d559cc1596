// util/ascii.h - ASCII case and whitespace rules, and Postfix's list splitting
// (internal).
//
// Postfix compares host names, parameter words (yes/no, DUNNO, all) and
// address local parts without regard to ASCII case only: bytes above 0x7f
// compare as they are (util/stringops.h strcasecmp_utf8 is for keys, which
// fold.h handles). This file is the one place those rules live.

#ifndef MAPCTL_LIBMAPS_UTIL_ASCII_H_
#define MAPCTL_LIBMAPS_UTIL_ASCII_H_

#include <string>
#include <string_view>
#include <vector>

namespace mapctl {

// 'A'-'Z' to 'a'-'z'; every other byte unchanged.
inline char AsciiLower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Whitespace as Postfix's parsers skip it (space, \t, \r, \n, \v, \f).
inline bool IsAsciiSpace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

// The one case-insensitive comparison of the library (ASCII only).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) noexcept;
// Orders as if both were AsciiLower()ed; a std::set/map comparator.
struct LessIgnoreCase {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

// Hash and equality as if both were AsciiLower()ed: an unordered
// container's, where a set of host names is probed once per sender.
struct HashIgnoreCase {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept;
};
struct EqualToIgnoreCase {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    return EqualsIgnoreCase(a, b);
  }
};

// A copy with 'A'-'Z' lowered.
std::string Lower(std::string_view s);

// `s` without leading and trailing IsAsciiSpace() bytes.
std::string_view Trim(std::string_view s) noexcept;

// Separators of Postfix's parameter lists (CHARS_COMMA_SP): commas and
// whitespace.
inline constexpr std::string_view kListSeparators = ", \t\r\n";

// The next element of a list separated by any byte of `separators`, a
// {...} group kept whole with what it holds (mystrtokq with CHARS_BRACE,
// as maps.c and dict_inline.c split). Returns false at the end; *rest
// is what follows the element.
bool NextListItem(std::string_view* rest, std::string_view* item,
                  std::string_view separators = kListSeparators) noexcept;

// Every element of a list, as NextListItem() gives them. The views point
// into `list`.
std::vector<std::string_view> SplitList(
    std::string_view list, std::string_view separators = kListSeparators);

// The length of the balanced {...} group at the start of `s` (balpar), 0
// when `s` does not start with one.
std::size_t BalancedBraces(std::string_view s) noexcept;

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_UTIL_ASCII_H_
