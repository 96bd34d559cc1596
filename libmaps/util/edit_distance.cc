// util/edit_distance.cc - see mapctl/edit_distance.h.

#include "mapctl/edit_distance.h"

#include <algorithm>
#include <vector>

#include "util/ascii.h"

namespace mapctl {

// Levenshtein's recurrence over one row (names are short).
std::size_t EditDistance(std::string_view a, std::string_view b,
                         LetterCase letter_case) {
  const bool fold = letter_case == LetterCase::kIgnoreAscii;
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = fold ? AsciiLower(a[i - 1]) == AsciiLower(b[j - 1])
                             : a[i - 1] == b[j - 1];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace mapctl
