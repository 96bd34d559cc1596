// tables/ordered_batches.h - entries in a plan's order, copied by a
// second thread into contiguous batches that a writer reads front to back.
//
// A plan visits the parsed entries out of source order (key order for
// lmdb and btree, bucket order for hash), so a writer that reads them
// directly misses the cache and, on the nested VMs CI uses, the TLB on
// nearly every entry: a third of an lmdb build went there. Gathering the
// next batch on the other core, while the writer works through the
// current one, takes those misses off the writer's path. Two batches
// circulate, so the memory is two batches' bytes whatever the table's
// size.

#ifndef MAPCTL_TABLES_ORDERED_BATCHES_H_
#define MAPCTL_TABLES_ORDERED_BATCHES_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "mapctl/source.h"

namespace mapctl {

class OrderedBatches {
 public:
  // One entry of a batch: "key" and "value" as stored (with the NUL when
  // the table stores one), at offsets into Batch::bytes.
  struct Record {
    std::size_t key_offset, value_offset;
    std::uint32_t key_size, value_size;
    std::uint32_t index;  // into the entries: for messages (its line)
  };
  struct Batch {
    std::size_t first = 0;  // position in the order of records[0]
    std::vector<Record> records;
    std::vector<char> bytes;
    const char* key(const Record& r) const {
      return bytes.data() + r.key_offset;
    }
    const char* value(const Record& r) const {
      return bytes.data() + r.value_offset;
    }
  };

  // Batches of order[start, end). A batch ends after max_entries entries
  // or once it holds max_bytes. The entries and order must outlive this
  // object. REQUIRES: every index in order is within entries; nul is 0
  // or 1.
  OrderedBatches(std::span<const Entry> entries,
                 std::span<const std::uint32_t> order, std::size_t nul,
                 std::size_t max_entries, std::size_t max_bytes,
                 std::size_t start = 0);
  ~OrderedBatches();
  OrderedBatches(const OrderedBatches&) = delete;
  OrderedBatches& operator=(const OrderedBatches&) = delete;

  // The next batch in order, or nullptr after the last. The batch stays
  // valid until the next call.
  const Batch* Next();

 private:
  void Fill(Batch* batch, std::size_t first) const;
  void Produce();

  const std::span<const Entry> entries_;
  const std::span<const std::uint32_t> order_;
  const std::size_t nul_;
  const std::size_t max_entries_;
  const std::size_t max_bytes_;

  Batch slots_[2];
  // Guarded by mu_: which slots hold a batch not yet handed out, the
  // slot the consumer holds (-1: none), and the producer's progress.
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_[2] = {false, false};
  int held_ = -1;
  bool produced_all_ = false;
  bool stop_ = false;
  std::size_t next_slot_ = 0;  // the slot the consumer takes next
  // The first position (read by the thread at its start); without a
  // thread, the next position to fill.
  std::size_t sync_next_ = 0;
  std::thread producer_;
};

}  // namespace mapctl

#endif  // MAPCTL_TABLES_ORDERED_BATCHES_H_
