// check/line_index.cc - first lines of a source's keys, by hash.

#include "check/line_index.h"

#include <xxhash.h>

#include <algorithm>
#include <thread>

namespace mapctl::check {

namespace {

// XXH3: several times faster than std::hash on keys of tens of bytes, and
// a million keys are hashed per source.
std::uint64_t KeyHash(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

}  // namespace

std::vector<std::uint32_t> LineIndex::Build(std::span<const Entry> entries) {
  hashes_.clear();
  lines_.clear();
  shared_.clear();
  // Hashes sorted with the entries' positions (cheap and cache friendly
  // for a million keys), then equal hashes compared exactly, in source
  // order: the first of equal keys gives the line, the rest repeat it.
  using Hashed = std::pair<std::uint64_t, std::uint32_t>;
  std::vector<Hashed, PageAllocator<Hashed>> h(entries.size());
  // A large source is hashed and sorted on two threads: each hashes half
  // the entries; the pairs are then split by the hash's top bit, and each
  // side sorted apart (every hash of the first side is below every hash of
  // the second, so the two together are sorted).
  auto hash = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      h[i] = {KeyHash(entries[i].key()), static_cast<std::uint32_t>(i)};
    }
  };
  constexpr std::size_t kTwoThreads = 100000;
  if (h.size() < kTwoThreads) {
    hash(0, h.size());
    std::sort(h.begin(), h.end());
  } else {
    const std::size_t half = h.size() / 2;
    std::thread helper(hash, half, h.size());
    hash(0, half);
    helper.join();
    auto upper = std::partition(h.begin(), h.end(), [](const Hashed& x) {
      return (x.first >> 63) == 0;
    });
    std::thread sorter([&] { std::sort(upper, h.end()); });
    std::sort(h.begin(), upper);
    sorter.join();
  }
  hashes_.reserve(h.size());
  lines_.reserve(h.size());
  std::vector<std::uint32_t> repeats;
  std::vector<std::uint32_t> distinct;  // of one hash: first entries
  for (std::size_t i = 0; i < h.size();) {
    std::size_t j = i + 1;
    while (j < h.size() && h[j].first == h[i].first) ++j;
    distinct.assign(1, h[i].second);
    for (std::size_t a = i + 1; a < j; ++a) {
      const std::string_view key = entries[h[a].second].key();
      bool seen = false;
      for (std::uint32_t d : distinct) seen = seen || entries[d].key() == key;
      if (seen) {
        repeats.push_back(h[a].second);
      } else {
        distinct.push_back(h[a].second);
      }
    }
    hashes_.push_back(h[i].first);
    if (distinct.size() == 1) {
      lines_.push_back(entries[distinct[0]].line());
    } else {
      lines_.push_back(0);
      for (std::uint32_t d : distinct) {
        shared_.emplace_back(entries[d].key(), entries[d].line());
      }
    }
    i = j;
  }
  std::sort(shared_.begin(), shared_.end());
  std::sort(repeats.begin(), repeats.end());
  return repeats;
}

std::uint32_t LineIndex::LineOf(std::string_view key) const {
  const std::uint64_t h = KeyHash(key);
  auto it = std::lower_bound(hashes_.begin(), hashes_.end(), h);
  if (it == hashes_.end() || *it != h) return 0;
  const std::uint32_t line = lines_[it - hashes_.begin()];
  if (line != 0) return line;
  auto s = std::lower_bound(
      shared_.begin(), shared_.end(), key,
      [](const std::pair<std::string, std::uint32_t>& x, std::string_view k) {
        return x.first < k;
      });
  return s != shared_.end() && s->first == key ? s->second : 0;
}

}  // namespace mapctl::check
