// util/page_allocator.cc - large arrays in 2 MiB-aligned, huge-page mappings.

#include "mapctl/page_allocator.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "util/pages.h"

namespace mapctl {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
#if defined(__SANITIZE_ADDRESS__)
#define MAPCTL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAPCTL_ASAN 1
#endif
#endif

// Below this an array is not worth its own mapping in PageAllocator (a
// system call, and up to a huge page of unused tail). Under AddressSanitizer
// every array comes from operator new, whose ends ASan guards: a mapping
// would let an overflow of a large source buffer or entry array go unseen.
#ifdef MAPCTL_ASAN
constexpr std::size_t kLarge = SIZE_MAX;
#else
constexpr std::size_t kLarge = std::size_t{4} << 20;
#endif

// The length MapPages maps for `bytes`: whole small pages. Not rounded up
// to a huge page: the kernel gives huge pages only to the aligned 2 MiB
// stretches inside the mapping, the tail gets small ones, and a tail
// rounded up would be resident whole as soon as one byte of it is touched
// (2 MiB more in every array).
std::size_t PageSize() {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

std::size_t MappedSize(std::size_t bytes) {
  return (bytes + PageSize() - 1) & ~(PageSize() - 1);
}

}  // namespace

void* MapPages(std::size_t bytes) noexcept {
  const std::size_t size = MappedSize(bytes);
  if (size < bytes || size + kHugePage < size) return nullptr;
  if (size < kHugePage) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  // Over-map by one huge page, then trim both ends to the alignment: the
  // kernel places mappings on 4 KiB boundaries, and an unaligned array
  // would fault its first and last 2 MiB in small pages.
  void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const std::uintptr_t tail = aligned + size;
  const std::uintptr_t mapped_end = start + size + kHugePage;
  if (mapped_end > tail) {
    munmap(reinterpret_cast<void*>(tail), mapped_end - tail);
  }
  // Only a hint: without transparent huge pages it is 4 KiB pages again.
  (void)madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void UnmapPages(void* p, std::size_t bytes) noexcept {
  if (p != nullptr && bytes != 0) munmap(p, MappedSize(bytes));
}

void DiscardMappedPages(void* mapping, std::size_t offset,
                        std::size_t bytes) noexcept {
  if (mapping == nullptr) return;
  const std::uintptr_t page = PageSize();
  const auto base = reinterpret_cast<std::uintptr_t>(mapping) + offset;
  const std::uintptr_t first = (base + page - 1) & ~(page - 1);
  const std::uintptr_t last = (base + bytes) & ~(page - 1);
  if (last > first) {
    (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }
}

void DiscardPages(void* array, std::size_t capacity_bytes, std::size_t offset,
                  std::size_t bytes) noexcept {
  if (capacity_bytes >= kLarge) DiscardMappedPages(array, offset, bytes);
}

bool LargeArraysAreMapped() noexcept { return kLarge != SIZE_MAX; }

void* AllocatePages(std::size_t bytes) noexcept {
  if (bytes < kLarge) return ::operator new(bytes, std::nothrow);
  return MapPages(bytes);
}

void FreePages(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kLarge) {
    ::operator delete(p);
  } else {
    UnmapPages(p, bytes);
  }
}

}  // namespace mapctl
