// util/string_hash.h - the hash of unordered containers keyed by std::string
// that are probed with std::string_view (internal).

#ifndef MAPCTL_LIBMAPS_UTIL_STRING_HASH_H_
#define MAPCTL_LIBMAPS_UTIL_STRING_HASH_H_

#include <cstddef>
#include <functional>
#include <string_view>

namespace mapctl {

// Transparent: with std::equal_to<>, a lookup by string_view builds no
// std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>()(s);
  }
};

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_UTIL_STRING_HASH_H_
