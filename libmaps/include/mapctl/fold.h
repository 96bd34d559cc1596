// mapctl/fold.h - case folding and UTF-8 checks, the way Postfix does them.
//
// Postfix folds the keys of fixed-key tables (lmdb, cdb, hash, btree,
// texthash) when it stores them and when it looks them up. With
// smtputf8_enable = yes it uses ICU full case folding for non-ASCII keys
// (Postfix util/casefold.c); otherwise only A-Z are lowered. Building and
// querying must use the same function, so everything in mapctl that folds
// goes through FoldKey().

#ifndef MAPCTL_FOLD_H_
#define MAPCTL_FOLD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mapctl/export.h"
#include "mapctl/status.h"

namespace mapctl {

enum class FoldMode : std::uint8_t {
  kNone,   // postmap -f: keys are stored and queried as written
  kAscii,  // smtputf8_enable = no, or postmap -u: A-Z only
  kUtf8,   // smtputf8_enable = yes: ASCII fast path, else ICU full folding
};

// True when `text` is well-formed UTF-8 as Postfix's valid_utf8_string()
// judges it (no overlong forms, no surrogates, nothing above U+10FFFF).
MAPCTL_EXPORT bool IsValidUtf8(std::string_view text) noexcept;

// True when every byte is below 0x80.
MAPCTL_EXPORT bool IsAscii(std::string_view text) noexcept;

// Replaces *out with the folded form of `key`. With kUtf8, a key that is
// not valid UTF-8 is an error (Postfix reports such a query key as "not
// found" after a warning; callers decide). The result may be longer than
// the input (German sharp s folds to "ss").
MAPCTL_EXPORT Status FoldKey(std::string_view key, FoldMode mode,
                             std::string* out);

}  // namespace mapctl

#endif  // MAPCTL_FOLD_H_
