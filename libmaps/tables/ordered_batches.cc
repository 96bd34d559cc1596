// tables/ordered_batches.cc - the gather thread (see the header).

#include "tables/ordered_batches.h"

#include <algorithm>
#include <cstring>

namespace mapctl {
namespace {

// Below this a thread costs more than the misses it hides.
constexpr std::size_t kMinThreaded = 1u << 16;

}  // namespace

OrderedBatches::OrderedBatches(std::span<const Entry> entries,
                               std::span<const std::uint32_t> order,
                               std::size_t nul, std::size_t max_entries,
                               std::size_t max_bytes, std::size_t start)
    : entries_(entries),
      order_(order),
      nul_(nul),
      max_entries_(max_entries == 0 ? 1 : max_entries),
      max_bytes_(max_bytes),
      sync_next_(std::min(start, order.size())) {
  if (order_.size() - sync_next_ >= kMinThreaded &&
      std::thread::hardware_concurrency() > 1) {
    producer_ = std::thread([this] { Produce(); });
  }
}

OrderedBatches::~OrderedBatches() {
  if (producer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    producer_.join();
  }
}

void OrderedBatches::Fill(Batch* batch, std::size_t first) const {
  batch->first = first;
  batch->records.clear();
  batch->bytes.clear();
  const std::size_t total = order_.size();
  for (std::size_t i = first; i < total; ++i) {
    if (batch->records.size() >= max_entries_ ||
        batch->bytes.size() >= max_bytes_) {
      break;
    }
    // Ahead: the Entry first, its bytes a few iterations later.
    if (i + 16 < total) __builtin_prefetch(&entries_[order_[i + 16]]);
    if (i + 8 < total) {
      const Entry& ahead = entries_[order_[i + 8]];
      __builtin_prefetch(ahead.key().data());
      __builtin_prefetch(ahead.value().data());
    }
    const Entry& e = entries_[order_[i]];
    Record r;
    r.index = order_[i];
    r.key_size = static_cast<std::uint32_t>(e.key().size() + nul_);
    r.value_size = static_cast<std::uint32_t>(e.value().size() + nul_);
    r.key_offset = batch->bytes.size();
    r.value_offset = r.key_offset + r.key_size;
    // The views end without a NUL (source.h): it is appended here.
    batch->bytes.insert(batch->bytes.end(), e.key().begin(), e.key().end());
    if (nul_ != 0) batch->bytes.push_back('\0');
    batch->bytes.insert(batch->bytes.end(), e.value().begin(),
                        e.value().end());
    if (nul_ != 0) batch->bytes.push_back('\0');
    batch->records.push_back(r);
  }
}

void OrderedBatches::Produce() {
  std::size_t position = sync_next_;
  for (std::size_t slot = 0;; slot ^= 1) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || (!ready_[slot] && held_ != static_cast<int>(slot));
      });
      if (stop_) return;
    }
    // The slot is neither ready nor held: this thread alone touches it.
    Fill(&slots_[slot], position);
    position += slots_[slot].records.size();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (slots_[slot].records.empty()) {
        produced_all_ = true;
      } else {
        ready_[slot] = true;
      }
    }
    cv_.notify_all();
    if (slots_[slot].records.empty()) return;
  }
}

const OrderedBatches::Batch* OrderedBatches::Next() {
  if (!producer_.joinable()) {
    Fill(&slots_[0], sync_next_);
    sync_next_ += slots_[0].records.size();
    return slots_[0].records.empty() ? nullptr : &slots_[0];
  }
  std::unique_lock<std::mutex> lock(mu_);
  held_ = -1;  // the batch handed out last is done with
  cv_.notify_all();
  const std::size_t slot = next_slot_;
  cv_.wait(lock, [&] { return ready_[slot] || produced_all_; });
  if (!ready_[slot]) return nullptr;
  ready_[slot] = false;
  held_ = static_cast<int>(slot);
  next_slot_ ^= 1;
  return &slots_[slot];
}

}  // namespace mapctl
