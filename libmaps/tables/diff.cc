// tables/diff.cc - entry streams over sources and tables, and their sorted merge.

#include "mapctl/diff.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mapctl {
namespace {

class SourceStream final : public EntryStream {
 public:
  SourceStream(const ParsedMap& parsed, DuplicatePolicy policy)
      : entries_(parsed.entries()) {
    order_.resize(entries_.size());
    for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
    // Stable: among equal keys, source order decides the winner.
    std::stable_sort(order_.begin(), order_.end(),
                     [this](std::uint32_t a, std::uint32_t b) {
                       return entries_[a].key() < entries_[b].key();
                     });
    std::vector<std::uint32_t> unique;
    unique.reserve(order_.size());
    for (std::size_t i = 0; i < order_.size();) {
      std::size_t j = i + 1;
      while (j < order_.size() &&
             entries_[order_[j]].key() == entries_[order_[i]].key()) {
        ++j;
      }
      unique.push_back(policy == DuplicatePolicy::kLast ? order_[j - 1]
                                                        : order_[i]);
      i = j;
    }
    order_.swap(unique);
  }

  Result<bool> Next(std::string_view* key, std::string_view* value) override {
    if (next_ >= order_.size()) return false;
    const Entry& e = entries_[order_[next_++]];
    *key = e.key();
    *value = e.value();
    return true;
  }

 private:
  std::span<const Entry> entries_;
  std::vector<std::uint32_t> order_;
  std::size_t next_ = 0;
};

// Copies of a chunk of entries: the views into the table die with its
// read unit, which must end before the caller does anything slow.
class TableStream final : public EntryStream {
 public:
  TableStream(TableReader& reader, std::size_t chunk_entries)
      : reader_(reader), chunk_entries_(std::max<std::size_t>(1, chunk_entries)) {}

  Result<bool> Next(std::string_view* key, std::string_view* value) override {
    if (next_ >= offsets_.size()) {
      if (Status s = Refill(); !s.ok()) return s;
      if (next_ >= offsets_.size()) return false;
    }
    const Slot& slot = offsets_[next_++];
    *key = std::string_view(bytes_).substr(slot.key_offset, slot.key_size);
    *value = std::string_view(bytes_).substr(slot.key_offset + slot.key_size,
                                             slot.value_size);
    return true;
  }

 private:
  struct Slot {
    std::size_t key_offset;
    std::size_t key_size;
    std::size_t value_size;
  };

  Status Refill() {
    bytes_.clear();
    offsets_.clear();
    next_ = 0;
    if (cursor_.done) return Status::Ok();
    Result<std::unique_ptr<ReadUnit>> unit = reader_.Begin();
    if (!unit) return unit.error();
    if (started_ && (*unit)->version() != version_) {
      return Status(ErrorCode::kChanged,
                    reader_.spec().ToString() +
                        " was rewritten while it was being read");
    }
    started_ = true;
    version_ = (*unit)->version();
    std::size_t limit = reader_.sorted() ? chunk_entries_ : SIZE_MAX;
    MAPCTL_RETURN_IF_ERROR((*unit)->Scan(
        cursor_, limit, [this](std::string_view k, std::string_view v) {
          k = StoredText(k);
          v = StoredText(v);
          offsets_.push_back({bytes_.size(), k.size(), v.size()});
          bytes_.append(k);
          bytes_.append(v);
          return true;
        }));
    if (!reader_.sorted()) {
      std::sort(offsets_.begin(), offsets_.end(),
                [this](const Slot& a, const Slot& b) {
                  return std::string_view(bytes_).substr(a.key_offset,
                                                         a.key_size) <
                         std::string_view(bytes_).substr(b.key_offset,
                                                         b.key_size);
                });
    }
    return Status::Ok();
  }

  TableReader& reader_;
  std::size_t chunk_entries_;
  ScanCursor cursor_;
  bool started_ = false;
  std::uint64_t version_ = 0;
  std::string bytes_;
  std::vector<Slot> offsets_;
  std::size_t next_ = 0;
};

}  // namespace

EntryStream::~EntryStream() = default;

std::unique_ptr<EntryStream> StreamSource(const ParsedMap& parsed,
                                          DuplicatePolicy policy) {
  return std::make_unique<SourceStream>(parsed, policy);
}

std::unique_ptr<EntryStream> StreamTable(TableReader& reader,
                                         std::size_t chunk_entries) {
  return std::make_unique<TableStream>(reader, chunk_entries);
}

Result<DiffCounts> DiffStreams(EntryStream& old_side, EntryStream& new_side,
                               const DiffVisitor& visit) {
  DiffCounts counts;
  std::string_view ok, ov, nk, nv;
  Result<bool> has_old = old_side.Next(&ok, &ov);
  if (!has_old) return has_old.error();
  Result<bool> has_new = new_side.Next(&nk, &nv);
  if (!has_new) return has_new.error();
  while (*has_old || *has_new) {
    int cmp = !*has_old ? 1 : !*has_new ? -1 : ok.compare(nk);
    bool keep_going = true;
    if (cmp < 0) {
      ++counts.removed;
      keep_going = visit(DiffOp::kRemoved, ok, ov, {});
    } else if (cmp > 0) {
      ++counts.added;
      keep_going = visit(DiffOp::kAdded, nk, {}, nv);
    } else if (ov != nv) {
      ++counts.changed;
      keep_going = visit(DiffOp::kChanged, ok, ov, nv);
    } else {
      ++counts.same;
    }
    if (!keep_going) break;
    if (cmp <= 0) {
      has_old = old_side.Next(&ok, &ov);
      if (!has_old) return has_old.error();
    }
    if (cmp >= 0) {
      has_new = new_side.Next(&nk, &nv);
      if (!has_new) return has_new.error();
    }
  }
  return counts;
}

}  // namespace mapctl
