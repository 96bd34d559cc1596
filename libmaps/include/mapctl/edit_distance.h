// mapctl/edit_distance.h - how far one name is from another, for the
// "did you mean ...?" hints of check (a table file beside the one main.cf
// names) and of the CLI (a mistyped subcommand or option).

#ifndef MAPCTL_EDIT_DISTANCE_H_
#define MAPCTL_EDIT_DISTANCE_H_

#include <cstddef>
#include <string_view>

#include "mapctl/export.h"

namespace mapctl {

// Edits (insert, delete or replace one byte) that turn a into b. File
// names compare with ASCII case ignored (`SASL_passwd` is a near miss of
// `sasl_passwd`); option names must not (`-V` is not `-v`).
enum class LetterCase { kExact, kIgnoreAscii };
MAPCTL_EXPORT std::size_t EditDistance(std::string_view a, std::string_view b,
                                       LetterCase letter_case);

}  // namespace mapctl

#endif  // MAPCTL_EDIT_DISTANCE_H_
