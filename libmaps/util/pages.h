// util/pages.h - fresh anonymous mappings for large arrays (internal).
//
// The mapping behind PageAllocator (mapctl/page_allocator.h), also used
// directly where an array must be a mapping of its own, e.g. to hand part
// of it back to the system with madvise(MADV_DONTNEED).

#ifndef MAPCTL_LIBMAPS_UTIL_PAGES_H_
#define MAPCTL_LIBMAPS_UTIL_PAGES_H_

#include <cstddef>

namespace mapctl {

// A zero-filled private mapping of at least `bytes` (nullptr, errno set,
// on failure). From 2 MiB on it is aligned to 2 MiB and marked for
// transparent huge pages, so that it faults in 2 MiB at a time.
void* MapPages(std::size_t bytes) noexcept;
// Unmaps what MapPages(bytes) returned.
void UnmapPages(void* p, std::size_t bytes) noexcept;

// Gives the whole pages of [mapping + offset, mapping + offset + bytes) of
// a MapPages() mapping back to the system; they read as zeros afterwards.
void DiscardMappedPages(void* mapping, std::size_t offset,
                        std::size_t bytes) noexcept;

// DiscardMappedPages() for an array that came from PageAllocator with
// `capacity_bytes`. Nothing for an array small enough to come from
// operator new (its pages are shared).
void DiscardPages(void* array, std::size_t capacity_bytes, std::size_t offset,
                  std::size_t bytes) noexcept;

// False in AddressSanitizer builds, where PageAllocator takes every array
// from operator new (and DiscardPages does nothing).
bool LargeArraysAreMapped() noexcept;

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_UTIL_PAGES_H_
