// Tests of the large-array allocator (mapctl/page_allocator.h) and the
// page discarding the parser's join relies on (util/pages.h).

#include "mapctl/page_allocator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "util/pages.h"

namespace mapctl {
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

TEST(PageAllocatorTest, LargeArraysStartOnAHugePageAndKeepTheirValuesAsTheyGrow) {
  std::vector<std::uint64_t, PageAllocator<std::uint64_t>> v;
  for (std::uint64_t i = 0; i < 3'000'000; ++i) v.push_back(i * 7);
  if (LargeArraysAreMapped()) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % kHugePage, 0u);
  }
  for (std::uint64_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], i * 7) << i;
}

TEST(PageAllocatorTest, SmallArraysWorkLikeAnyVector) {
  std::vector<int, PageAllocator<int>> v = {3, 1, 2};
  v.push_back(4);
  EXPECT_EQ(v, (std::vector<int, PageAllocator<int>>{3, 1, 2, 4}));
}

TEST(PageAllocatorTest, MappedPagesAreZeroAndAligned) {
  const std::size_t bytes = (std::size_t{5} << 20) + 123;
  auto* p = static_cast<unsigned char*>(MapPages(bytes));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHugePage, 0u);
  for (std::size_t i = 0; i < bytes; i += 4093) ASSERT_EQ(p[i], 0) << i;
  p[bytes - 1] = 1;  // the last byte is writable
  UnmapPages(p, bytes);
}

TEST(PageAllocatorTest, DiscardZeroesOnlyTheWholePagesInsideTheRange) {
  if (!LargeArraysAreMapped()) GTEST_SKIP() << "operator new under ASan";
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t bytes = std::size_t{8} << 20;
  PageAllocator<unsigned char> alloc;
  unsigned char* p = alloc.allocate(bytes);
  std::memset(p, 0xAB, bytes);
  // From inside page 1 to inside page 5: pages 2, 3 and 4 go.
  const std::size_t offset = page + 100;
  DiscardPages(p, bytes, offset, 4 * page);
  for (std::size_t i = 0; i < 6 * page; ++i) {
    const bool gone = i >= 2 * page && i < 5 * page;
    ASSERT_EQ(p[i], gone ? 0 : 0xAB) << i;
  }
  alloc.deallocate(p, bytes);
}

TEST(PageAllocatorTest, DiscardLeavesASmallArrayAlone) {
  // Small arrays come from operator new: their pages may hold other
  // allocations, so nothing may be discarded.
  const std::size_t bytes = 64 * 1024;
  PageAllocator<unsigned char> alloc;
  unsigned char* p = alloc.allocate(bytes);
  std::memset(p, 0xCD, bytes);
  DiscardPages(p, bytes, 0, bytes);
  for (std::size_t i = 0; i < bytes; ++i) ASSERT_EQ(p[i], 0xCD) << i;
  alloc.deallocate(p, bytes);
}

}  // namespace
}  // namespace mapctl
