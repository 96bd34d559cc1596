// mapctl/span.h - a read view of contiguous elements for the public API.
//
// std::span is C++20. The public headers build as C++17 too, so that
// `g++ prog.cc $(pkg-config --cflags --libs mapctl)` works with g++'s
// default standard and the .pc file need not force a -std= on every
// consumer. A Span converts from any contiguous container (a vector, an
// array, a std::span; a temporary one must outlive the call, as with
// std::string_view) and, in C++20, to std::span.

#ifndef MAPCTL_SPAN_H_
#define MAPCTL_SPAN_H_

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>
#if __cplusplus >= 202002L
#include <span>
#endif

namespace mapctl {

template <typename T>
class Span {
 public:
  constexpr Span() noexcept = default;
  constexpr Span(T* data, std::size_t size) noexcept
      : data_(data), size_(size) {}
  template <typename C,
            typename = std::enable_if_t<
                !std::is_same_v<std::remove_cv_t<std::remove_reference_t<C>>,
                                Span> &&
                std::is_convertible_v<
                    decltype(std::data(std::declval<C&>())), T*>>>
  constexpr Span(C&& container) noexcept  // NOLINT: implicit, like std::span
      : data_(std::data(container)), size_(std::size(container)) {}
#if __cplusplus >= 202002L
  constexpr operator std::span<T>() const noexcept { return {data_, size_}; }
#endif

  constexpr T* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr T& front() const noexcept { return data_[0]; }
  constexpr T& back() const noexcept { return data_[size_ - 1]; }
  constexpr Span subspan(std::size_t offset) const noexcept {
    return Span(data_ + offset, size_ - offset);
  }
  constexpr Span subspan(std::size_t offset, std::size_t count) const noexcept {
    return Span(data_ + offset, count);
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace mapctl

#endif  // MAPCTL_SPAN_H_
