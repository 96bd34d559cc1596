// ordered_batches_test.cc - OrderedBatches: every entry of the order, once,
// in order, with its NUL when asked, in batches within their limits; on
// the gather thread (large orders) exactly as without it (small ones).

#include "tables/ordered_batches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"

namespace mapctl {
namespace {

using testing::Entries;

struct Seen {
  std::vector<std::string> keys, values;
  std::vector<std::uint32_t> indexes;
  std::size_t batches = 0, largest_batch = 0;
};

Seen Drain(OrderedBatches& batches) {
  Seen seen;
  std::size_t position = 0;
  while (const OrderedBatches::Batch* b = batches.Next()) {
    EXPECT_EQ(b->first, position);
    EXPECT_FALSE(b->records.empty());
    for (const OrderedBatches::Record& r : b->records) {
      seen.keys.emplace_back(b->key(r), r.key_size);
      seen.values.emplace_back(b->value(r), r.value_size);
      seen.indexes.push_back(r.index);
    }
    position += b->records.size();
    ++seen.batches;
    seen.largest_batch = std::max(seen.largest_batch, b->records.size());
  }
  EXPECT_EQ(batches.Next(), nullptr);  // and it stays at the end
  return seen;
}

void ExpectOrder(std::size_t n, std::size_t nul) {
  std::mt19937 rng(static_cast<unsigned>(n));
  Entries e;
  for (std::size_t i = 0; i < n; ++i) {
    e.Add("key" + std::to_string(rng()), std::string(rng() % 40, 'v'));
  }
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), rng);
  OrderedBatches batches(e.span(), order, nul, 1000, 1u << 20);
  Seen seen = Drain(batches);
  ASSERT_EQ(seen.indexes, order);
  for (std::size_t i = 0; i < n; ++i) {
    const Entry& en = e.span()[order[i]];
    EXPECT_EQ(seen.keys[i], std::string(en.key()) + std::string(nul, '\0'));
    EXPECT_EQ(seen.values[i], std::string(en.value()) + std::string(nul, '\0'));
  }
  EXPECT_EQ(seen.batches, (n + 999) / 1000);
  EXPECT_LE(seen.largest_batch, 1000u);
}

TEST(OrderedBatchesTest, ASmallOrderComesBackWholeWithoutAThread) {
  ExpectOrder(2500, 1);
  ExpectOrder(2500, 0);
}

TEST(OrderedBatchesTest, ALargeOrderComesBackWholeFromTheGatherThread) {
  ExpectOrder(200000, 1);
}

TEST(OrderedBatchesTest, ABatchEndsOnceItHoldsTheByteLimit) {
  Entries e;
  for (int i = 0; i < 100; ++i)
    e.Add("k" + std::to_string(i), std::string(100, 'x'));
  std::vector<std::uint32_t> order(100);
  std::iota(order.begin(), order.end(), 0u);
  OrderedBatches batches(e.span(), order, 1, 1000, 1000);
  Seen seen = Drain(batches);
  EXPECT_EQ(seen.keys.size(), 100u);
  // ~105 bytes a record: the batch that reaches 1000 bytes is the last.
  EXPECT_EQ(seen.largest_batch, 10u);
}

TEST(OrderedBatchesTest, AnEmptyOrderHasNoBatch) {
  Entries e;
  std::vector<std::uint32_t> order;
  OrderedBatches batches(e.span(), order, 1, 10, 10);
  EXPECT_EQ(batches.Next(), nullptr);
}

TEST(OrderedBatchesTest, AWriterThatStopsEarlyDoesNotWaitForTheRest) {
  Entries e;
  for (int i = 0; i < 100000; ++i) e.Add("k" + std::to_string(i), "v");
  std::vector<std::uint32_t> order(100000);
  std::iota(order.begin(), order.end(), 0u);
  {
    OrderedBatches batches(e.span(), order, 1, 100, 1u << 20);
    ASSERT_NE(batches.Next(), nullptr);  // then a write error, say
  }  // the destructor stops and joins the gather thread
  SUCCEED();
}

}  // namespace
}  // namespace mapctl
