// mapctl/status.h - how every fallible libmaps call reports failure.
//
// The library never throws across its boundary. A call that can fail
// returns Status (nothing to hand back) or Result<T> (a value or a
// Status). Both are [[nodiscard]]: ignoring one is a compile warning.
// "Absent" is not an error: lookups return Result<std::optional<T>>.

#ifndef MAPCTL_STATUS_H_
#define MAPCTL_STATUS_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "mapctl/export.h"

namespace mapctl {

enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,  // the caller passed something unusable
  kParseError,       // input text (source, main.cf) that cannot be used
  kCorruption,       // a table file fails its own consistency checks
  kIoError,          // the operating system refused; message has strerror
  kUnsupported,      // table type or feature not compiled in
  kTableFull,        // LMDB map size exhausted (MDB_MAP_FULL)
  kBusy,             // a lock could not be taken without waiting
  kChanged,          // a table was rewritten under a multi-unit read
};

class [[nodiscard]] MAPCTL_EXPORT Status {
 public:
  Status() = default;  // success
  Status(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(ErrorCode::kInvalidArgument, std::move(msg));
  }
  static Status ParseError(std::string msg) {
    return Status(ErrorCode::kParseError, std::move(msg));
  }
  static Status Corruption(std::string msg) {
    return Status(ErrorCode::kCorruption, std::move(msg));
  }
  static Status Unsupported(std::string msg) {
    return Status(ErrorCode::kUnsupported, std::move(msg));
  }

  // ("open virtual.lmdb", ENOENT) -> "open virtual.lmdb: No such file or
  // directory". The errno value is kept for callers that branch on it.
  static Status IoError(std::string_view what, int errnum);

  bool ok() const noexcept { return code_ == ErrorCode::kOk; }
  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // The errno behind a kIoError, 0 otherwise.
  int sys_errno() const noexcept { return errno_; }

  // "ok", or "<code name>: <message>" for logs.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  int errno_ = 0;
  std::string message_;  // empty on success: no allocation on the OK path
};

// A T or the Status saying why there is none. The member names follow
// std::expected<T, Status> so that moving to C++23 is a type alias.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Status error) : v_(std::in_place_index<1>, std::move(error)) {
    assert(!std::get<1>(v_).ok() && "Result built from an OK Status");
  }

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value()
  const Status& error() const& { return std::get<1>(v_); }
  Status&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

// How much of a key or an address a message quotes: Postfix's messages
// quote at most 100 characters of either ("%.100s").
inline constexpr std::size_t kMessageQuoteLimit = 100;

// `text` as a message quotes it: unchanged up to kMessageQuoteLimit bytes;
// longer, its first kMessageQuoteLimit bytes (cut back to the start of a
// UTF-8 character) followed by "...". Every message that echoes a key or
// an address goes through this, so a 1 MB address gives a short message.
MAPCTL_EXPORT std::string Excerpt(std::string_view text);

}  // namespace mapctl

// Returns early from a function returning Status or Result<T>.
#define MAPCTL_RETURN_IF_ERROR(expr)                \
  do {                                              \
    if (::mapctl::Status _st = (expr); !_st.ok()) { \
      return _st;                                   \
    }                                               \
  } while (false)

#endif  // MAPCTL_STATUS_H_
