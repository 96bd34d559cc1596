// check/memory_table.cc - MemoryReader and the loaders of check's tables.

#include "check/memory_table.h"

#include <algorithm>
#include <cstring>

#include "tables/table_backends.h"

namespace mapctl::check {
namespace {

std::size_t LowerBound(const KeyEntries& e, std::size_t lo,
                       std::size_t hi, std::string_view key) {
  auto it = std::lower_bound(
      e.begin() + lo, e.begin() + hi, key,
      [](const KeyEntry& x, std::string_view k) { return x.key < k; });
  return static_cast<std::size_t>(it - e.begin());
}

// Lookups come mostly in key order (senders are resolved in key order):
// each starts from the last hit and gallops forward, else it is a binary
// search. No index to build, and the entries are read in order.
class MemoryUnit final : public ReadUnit {
 public:
  MemoryUnit(const MemoryTable* t, std::size_t* hint, bool* too_long)
      : t_(t), hint_(hint), too_long_(too_long) {}

  Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    if (key.size() > t_->max_raw_key && too_long_ != nullptr) {
      *too_long_ = true;
    }
    if (key.empty() || key.back() != '\0') {
      return std::optional<std::string_view>();
    }
    std::size_t at = Find(key.substr(0, key.size() - 1));
    if (at == kNone) return std::optional<std::string_view>();
    *hint_ = at;
    // Without its NUL: TableLookup takes the value up to the first one.
    return std::optional<std::string_view>(t_->entries[at].value);
  }

  // Key order; the token is the last key visited.
  Status Scan(ScanCursor& cursor, std::size_t limit,
              const RawVisitor& visit) override {
    if (cursor.done || limit == 0) return Status::Ok();
    const KeyEntries& e = t_->entries;
    std::size_t at = 0;
    if (cursor.started) {
      at = LowerBound(e, 0, e.size(), cursor.token);
      if (at < e.size() && e[at].key == cursor.token) ++at;
    }
    cursor.started = true;
    for (std::size_t n = 0; n < limit && at < e.size(); ++n, ++at) {
      cursor.token.assign(e[at].key);
      if (!visit(e[at].key, e[at].value)) {
        cursor.done = at + 1 >= e.size();
        return Status::Ok();
      }
    }
    cursor.done = at >= e.size();
    return Status::Ok();
  }

  std::uint64_t version() const override { return 1; }

 private:
  static constexpr std::size_t kNone = SIZE_MAX;

  std::size_t Find(std::string_view key) const {
    const KeyEntries& e = t_->entries;
    std::size_t lo = 0, hi = e.size();
    const std::size_t h = *hint_;
    if (h < e.size()) {
      int c = e[h].key.compare(key);
      if (c == 0) return h;
      if (c > 0) {
        hi = h;
      } else {
        lo = h + 1;
        for (std::size_t step = 1;; step *= 2) {
          std::size_t probe = h + step;
          if (probe >= e.size()) break;
          c = e[probe].key.compare(key);
          if (c == 0) return probe;
          if (c > 0) {
            hi = probe;
            break;
          }
          lo = probe + 1;
        }
      }
    }
    std::size_t at = LowerBound(e, lo, hi, key);
    if (at == hi || e[at].key != key) return kNone;
    return at;
  }

  const MemoryTable* t_;
  std::size_t* hint_;
  bool* too_long_;
};

class MemoryTableReader final : public TableReader {
 public:
  MemoryTableReader(TableSpec spec, std::shared_ptr<const MemoryTable> t,
                    bool* too_long)
      : TableReader(std::move(spec)), t_(std::move(t)), too_long_(too_long) {}
  bool sorted() const noexcept override { return true; }
  Result<std::unique_ptr<ReadUnit>> Begin() override {
    return std::unique_ptr<ReadUnit>(
        new MemoryUnit(t_.get(), &hint_, too_long_));
  }

 private:
  std::shared_ptr<const MemoryTable> t_;
  std::size_t hint_ = 0;  // this reader's last hit
  bool* too_long_;
};

// The file behind a MemoryTable, read through the table's own reader.
class SharedReader final : public TableReader {
 public:
  explicit SharedReader(std::shared_ptr<TableReader> reader)
      : TableReader(reader->spec()), reader_(std::move(reader)) {}
  bool sorted() const noexcept override { return reader_->sorted(); }
  Result<std::unique_ptr<ReadUnit>> Begin() override {
    return reader_->Begin();
  }

 private:
  std::shared_ptr<TableReader> reader_;
};

class MemoryStream final : public EntryStream {
 public:
  explicit MemoryStream(const MemoryTable& t) : t_(t) {}
  Result<bool> Next(std::string_view* key, std::string_view* value) override {
    if (next_ >= t_.entries.size()) return false;
    *key = t_.entries[next_].key;
    *value = t_.entries[next_].value;
    ++next_;
    return true;
  }

 private:
  const MemoryTable& t_;
  std::size_t next_ = 0;
};

// Appends "key\0value\0" to the table's blocks and an entry viewing it.
class BlockWriter {
 public:
  explicit BlockWriter(MemoryTable* t) : t_(t) {}
  void Add(std::string_view k, std::string_view v) {
    const std::size_t need = k.size() + v.size() + 2;
    if (need > left_) {
      left_ = std::max(need, kBlock);
      t_->blocks.emplace_back(new char[left_]);
      room_ = t_->blocks.back().get();
    }
    std::memcpy(room_, k.data(), k.size());
    room_[k.size()] = '\0';
    std::memcpy(room_ + k.size() + 1, v.data(), v.size());
    room_[k.size() + 1 + v.size()] = '\0';
    t_->entries.push_back({std::string_view(room_, k.size()),
                           std::string_view(room_ + k.size() + 1, v.size())});
    room_ += need;
    left_ -= need;
  }

 private:
  static constexpr std::size_t kBlock = 4 << 20;
  MemoryTable* t_;
  char* room_ = nullptr;  // free space in the last block
  std::size_t left_ = 0;
};

}  // namespace

bool MemoryTable::Has(std::string_view key) const {
  std::size_t at = LowerBound(entries, 0, entries.size(), key);
  return at < entries.size() && entries[at].key == key;
}

std::unique_ptr<TableReader> MemoryReader(
    const TableSpec& spec, std::shared_ptr<const MemoryTable> table,
    bool* too_long) {
  return std::make_unique<MemoryTableReader>(spec, std::move(table), too_long);
}

std::unique_ptr<TableReader> FileReader(const MemoryTable& table) {
  if (!table.reader) return nullptr;
  return std::make_unique<SharedReader>(table.reader);
}

std::unique_ptr<EntryStream> StreamMemory(const MemoryTable& table) {
  return std::make_unique<MemoryStream>(table);
}

Result<std::shared_ptr<MemoryTable>> LoadStream(EntryStream& stream) {
  auto t = std::make_shared<MemoryTable>();
  BlockWriter out(t.get());
  std::string_view k, v;
  for (;;) {
    Result<bool> more = stream.Next(&k, &v);
    if (!more) return more.error();
    if (!*more) break;
    out.Add(k, v);
  }
  return t;
}

std::shared_ptr<MemoryTable> LoadPairs(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto t = std::make_shared<MemoryTable>();
  BlockWriter out(t.get());
  for (const auto& [k, v] : pairs) out.Add(k, v);
  return t;
}

Result<std::shared_ptr<MemoryTable>> LoadBuilt(
    std::unique_ptr<TableReader> reader) {
  auto t = std::make_shared<MemoryTable>();
  const TableSpec spec = reader->spec();
  const bool view_map = UnitsViewTheMap(spec.type);
  BlockWriter out(t.get());
  std::size_t with_nul = 0, without_nul = 0;
  bool other_nul = false;
  ScanCursor cursor;
  bool started = false;
  std::uint64_t version = 0;
  const std::size_t limit =
      reader->sorted() && !view_map ? 65536 : SIZE_MAX;
  while (!cursor.done) {
    Result<std::unique_ptr<ReadUnit>> unit = reader->Begin();
    if (!unit) return unit.error();
    if (started && (*unit)->version() != version) {
      return Status(ErrorCode::kChanged,
                    spec.ToString() + " was rewritten while it was being read");
    }
    started = true;
    version = (*unit)->version();
    const std::size_t before = t->entries.size();
    MAPCTL_RETURN_IF_ERROR((*unit)->Scan(
        cursor, limit, [&](std::string_view k, std::string_view v) {
          std::string_view sk = StoredText(k);
          if (sk.size() == k.size()) {
            ++without_nul;
          } else if (sk.size() + 1 == k.size()) {
            ++with_nul;
          } else {
            other_nul = true;
          }
          if (view_map) {
            t->entries.push_back({sk, StoredText(v)});
          } else {
            out.Add(sk, StoredText(v));
          }
          return true;
        }));
    if (view_map) {
      t->pinned = std::move(*unit);
      if (!cursor.done) {  // one unit reads it all
        return Status::Corruption("read " + spec.ToString() +
                                  ": the scan stopped before the end");
      }
    }
    if (t->entries.size() == before) break;
  }
  // A sorted type's raw order is the order of its keys without their NUL
  // when all keys end alike; mixed or inner NULs can reorder them.
  auto less = [](const KeyEntry& a, const KeyEntry& b) { return a.key < b.key; };
  if ((!reader->sorted() || other_nul || (with_nul != 0 && without_nul != 0)) &&
      !std::is_sorted(t->entries.begin(), t->entries.end(), less)) {
    std::stable_sort(t->entries.begin(), t->entries.end(), less);
  }
  t->same_answers = !other_nul && (with_nul == 0 || without_nul == 0);
  if (spec.type == TableType::kLmdb) t->max_raw_key = kLmdbMaxKeySize;
  if (view_map) t->reader = std::move(reader);
  return t;
}

}  // namespace mapctl::check
