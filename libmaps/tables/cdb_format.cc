// tables/cdb_format.cc - the cdb hash and the header checks (cdb_format.h).

#include "tables/cdb_format.h"

#include <algorithm>
#include <string_view>

namespace mapctl::cdb {

std::uint32_t Hash(std::string_view key) noexcept {
  std::uint32_t h = 5381;
  for (unsigned char c : key) h = ((h << 5) + h) ^ c;
  return h;
}

void Hash4(const std::string_view* keys, int n, std::uint32_t* out) noexcept {
  if (n < 4) {
    for (int j = 0; j < n; ++j) out[j] = Hash(keys[j]);
    return;
  }
  const auto* a = reinterpret_cast<const unsigned char*>(keys[0].data());
  const auto* b = reinterpret_cast<const unsigned char*>(keys[1].data());
  const auto* c = reinterpret_cast<const unsigned char*>(keys[2].data());
  const auto* d = reinterpret_cast<const unsigned char*>(keys[3].data());
  const std::size_t common = std::min(std::min(keys[0].size(), keys[1].size()),
                                      std::min(keys[2].size(), keys[3].size()));
  std::uint32_t ha = 5381, hb = 5381, hc = 5381, hd = 5381;
  for (std::size_t i = 0; i < common; ++i) {
    ha = ((ha << 5) + ha) ^ a[i];
    hb = ((hb << 5) + hb) ^ b[i];
    hc = ((hc << 5) + hc) ^ c[i];
    hd = ((hd << 5) + hd) ^ d[i];
  }
  std::uint32_t h[4] = {ha, hb, hc, hd};
  for (int j = 0; j < 4; ++j) {
    const auto* p = reinterpret_cast<const unsigned char*>(keys[j].data());
    for (std::size_t i = common; i < keys[j].size(); ++i) {
      h[j] = ((h[j] << 5) + h[j]) ^ p[i];
    }
    out[j] = h[j];
  }
}

Status CheckHeader(const unsigned char* data, std::uint64_t size,
                   const std::string& name, Layout* out) {
  if (size == 0) {
    return Status::Corruption(name +
                              ": empty file (zero length), not a cdb "
                              "table");
  }
  if (size < kHeaderSize) {
    return Status::Corruption(name + ": truncated or not a cdb file (" +
                              std::to_string(size) +
                              " bytes, shorter than the 2048-byte header)");
  }
  if (size > kMaxFileSize) {
    return Status::Corruption(name + ": not a cdb file (larger than 4 GiB)");
  }
  std::uint64_t data_end = size;
  std::uint64_t tables_end = kHeaderSize;
  for (int t = 0; t < 256; ++t) {
    out->pos[t] = Load32(data + 8 * t);
    out->slots[t] = Load32(data + 8 * t + 4);
    const std::uint64_t end =
        std::uint64_t{out->pos[t]} + 8 * std::uint64_t{out->slots[t]};
    if (out->pos[t] < kHeaderSize || end > kMaxFileSize) {
      return Status::Corruption(name + ": not a cdb file (hash table " +
                                std::to_string(t) + " at offset " +
                                std::to_string(out->pos[t]) + ")");
    }
    data_end = std::min<std::uint64_t>(data_end, out->pos[t]);
    tables_end = std::max(tables_end, end);
  }
  if (tables_end > size) {
    return Status::Corruption(name + ": truncated (" + std::to_string(size) +
                              " bytes, its hash tables end at " +
                              std::to_string(tables_end) + ")");
  }
  out->data_end = data_end;
  return Status::Ok();
}

}  // namespace mapctl::cdb
