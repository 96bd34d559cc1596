// tables/fold.cc - case folding and UTF-8 checks, the way Postfix 3.7 does them.
//
// Postfix util/casefold.c: all-ASCII text (or non-UTF-8 mode) is lowered
// A-Z only; anything else must pass valid_utf8_string() and then goes
// through ICU ucasemap_utf8FoldCase() with locale "en_US" and
// U_FOLD_CASE_DEFAULT. The result is not normalized and may grow.

#include "mapctl/fold.h"

#include <unicode/ucasemap.h>
#include <unicode/utypes.h>

#include <cstring>
#include <memory>

namespace mapctl {
namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Index of the first byte >= 0x80 in [p, p + n), or n. Eight bytes at a
// time: keys and lines are mostly ASCII, so this is the hot path.
std::size_t AsciiPrefix(const unsigned char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, sizeof(word));
    if ((word & kHighBits) != 0) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

// Length of the well-formed sequence starting at p[0] (a byte >= 0x80), or
// 0 when it is malformed. Same acceptance as Postfix's parse_utf8_char():
// RFC 3629, no overlong forms, no surrogates, nothing above U+10FFFF;
// non-characters such as U+FFFE are accepted.
std::size_t Utf8SequenceLength(const unsigned char* p,
                               std::size_t avail) noexcept {
  const unsigned char c0 = p[0];
  if (c0 < 0xC2) return 0;  // stray tail byte, or overlong C0/C1 lead
  if (c0 <= 0xDF) {
    if (avail < 2 || (p[1] & 0xC0) != 0x80) return 0;
    return 2;
  }
  if (c0 <= 0xEF) {
    if (avail < 3) return 0;
    // E0 needs A0..BF (else overlong); ED needs 80..9F (else surrogate).
    const unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c0 == 0xED ? 0x9F : 0xBF;
    if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return 0;
    return 3;
  }
  if (c0 <= 0xF4) {
    if (avail < 4) return 0;
    // F0 needs 90..BF (else overlong); F4 needs 80..8F (else > U+10FFFF).
    const unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c0 == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
        (p[3] & 0xC0) != 0x80) {
      return 0;
    }
    return 4;
  }
  return 0;  // F5..FF never start a sequence
}

void LowerAsciiInPlace(char* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    // Only A-Z, as Postfix's lowercase() in the C locale.
    if (static_cast<unsigned>(c - 'A') < 26u)
      p[i] = static_cast<char>(c + ('a' - 'A'));
  }
}

struct CaseMapCloser {
  void operator()(UCaseMap* map) const noexcept { ucasemap_close(map); }
};

// One UCaseMap per thread: ICU does not promise that a UCaseMap may be
// used by two threads at once, and opening one per key is slow.
UCaseMap* ThreadCaseMap(UErrorCode* error) {
  thread_local std::unique_ptr<UCaseMap, CaseMapCloser> map;
  if (map == nullptr) {
    // "en_US" and U_FOLD_CASE_DEFAULT, as Postfix util/casefold.c.
    map.reset(ucasemap_open("en_US", U_FOLD_CASE_DEFAULT, error));
  }
  return map.get();
}

}  // namespace

bool IsAscii(std::string_view text) noexcept {
  return AsciiPrefix(reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) == text.size();
}

bool IsValidUtf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    i += AsciiPrefix(p + i, n - i);
    if (i == n) break;
    const std::size_t len = Utf8SequenceLength(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Status FoldKey(std::string_view key, FoldMode mode, std::string* out) {
  switch (mode) {
    case FoldMode::kNone:
      out->assign(key);
      return Status::Ok();
    case FoldMode::kAscii:
      out->assign(key);
      LowerAsciiInPlace(out->data(), out->size());
      return Status::Ok();
    case FoldMode::kUtf8:
      break;
  }
  if (IsAscii(key)) {
    out->assign(key);
    LowerAsciiInPlace(out->data(), out->size());
    return Status::Ok();
  }
  // Postfix checks first because ICU folds malformed input without
  // complaint; the message is casefold()'s.
  if (!IsValidUtf8(key)) {
    return Status::InvalidArgument("malformed UTF-8 or invalid codepoint");
  }
  UErrorCode error = U_ZERO_ERROR;
  UCaseMap* map = ThreadCaseMap(&error);
  if (map == nullptr || U_FAILURE(error)) {
    return Status::Unsupported(std::string("ucasemap_open: ") +
                               u_errorName(error));
  }
  // Full folding grows text by at most a factor of three (U+0390 and
  // friends); start with room for the common case and retry once.
  if (key.size() > static_cast<std::size_t>(INT32_MAX / 3)) {
    return Status::InvalidArgument("key too long to fold");
  }
  const auto src_len = static_cast<int32_t>(key.size());
  out->resize(key.size() + key.size() / 2 + 8);
  for (int attempt = 0; attempt < 2; ++attempt) {
    error = U_ZERO_ERROR;
    const int32_t need = ucasemap_utf8FoldCase(
        map, out->data(), static_cast<int32_t>(out->size()), key.data(),
        src_len, &error);
    if (error == U_BUFFER_OVERFLOW_ERROR) {
      out->resize(static_cast<std::size_t>(need));
      continue;
    }
    if (U_FAILURE(error)) break;
    out->resize(static_cast<std::size_t>(need));
    return Status::Ok();
  }
  out->clear();
  return Status::InvalidArgument(std::string("ucasemap_utf8FoldCase: ") +
                                 u_errorName(error));
}

}  // namespace mapctl
