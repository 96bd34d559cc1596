// mapctl/page_allocator.h - the allocator of the library's large arrays
// (a source's entries, a build plan, the tables check holds).
//
// These arrays are written once, front to back, in fresh memory. On the
// nested VMs mapctl is measured on, every page fault costs ~30 us, so a
// 32 MB array in 4 KiB pages costs a quarter of a second in faults alone.
// Large arrays get their own mapping, aligned to 2 MiB and marked for
// transparent huge pages, so nearly all of it is faulted in 2 MiB at a
// time; small ones come from operator new as usual. A drop-in for
// std::allocator in std::vector.

#ifndef MAPCTL_PAGE_ALLOCATOR_H_
#define MAPCTL_PAGE_ALLOCATOR_H_

#include <cstddef>
#include <new>

#include "mapctl/export.h"

namespace mapctl {

// `bytes` of memory (operator new below the large size, a huge-page
// aligned mapping above), or nullptr. Free it with FreePages and the same
// `bytes`.
MAPCTL_EXPORT void* AllocatePages(std::size_t bytes) noexcept;
MAPCTL_EXPORT void FreePages(void* p, std::size_t bytes) noexcept;

template <typename T>
class PageAllocator {
 public:
  using value_type = T;

  PageAllocator() noexcept = default;
  template <typename U>
  PageAllocator(const PageAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    void* p = AllocatePages(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept { FreePages(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const PageAllocator<U>&) const noexcept {
    return true;
  }
  template <typename U>
  bool operator!=(const PageAllocator<U>&) const noexcept {
    return false;
  }
};

}  // namespace mapctl

#endif  // MAPCTL_PAGE_ALLOCATOR_H_
