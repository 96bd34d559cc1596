// postfix/map_list.cc - table lists as Postfix parameters name them
// (global/maps.c): the tables in order, and what maps_find() adds to each
// dict_get().

#include "mapctl/map_list.h"

#include <vector>

#include "util/ascii.h"

namespace mapctl {

struct MapList::Rep {
  std::string parameter;
  std::vector<std::unique_ptr<LookupTable>> tables;
};

MapList::MapList() : rep_(std::make_unique<Rep>()) {}
MapList::~MapList() = default;
MapList::MapList(MapList&&) noexcept = default;
MapList& MapList::operator=(MapList&&) noexcept = default;

Result<MapList> MapList::Parse(std::string_view parameter,
                               std::string_view value,
                               const TableContext& context) {
  MapList list;
  list.rep_->parameter = std::string(parameter);
  const TableContext flags = ContextForParameter(context, parameter);
  for (std::string_view item : SplitList(value)) {
    Result<std::unique_ptr<LookupTable>> table = OpenLookupTable(item, flags);
    if (!table) {
      return Status(table.error().code(),
                    list.rep_->parameter + ": " + table.error().message());
    }
    list.rep_->tables.push_back(std::move(*table));
  }
  return list;
}

const std::string& MapList::parameter() const noexcept {
  return rep_->parameter;
}
bool MapList::empty() const noexcept { return rep_->tables.empty(); }
std::size_t MapList::size() const noexcept { return rep_->tables.size(); }
const LookupTable& MapList::table(std::size_t i) const {
  return *rep_->tables[i];
}
LookupTable& MapList::table(std::size_t i) { return *rep_->tables[i]; }

Answer MapList::Find(std::size_t i, std::string_view key, bool partial) {
  Answer a;
  LookupTable& t = *rep_->tables[i];
  // maps.c: an empty key is never looked up; partial keys only go to
  // tables with fixed keys.
  if (key.empty()) return a;
  if (partial && !t.traits().fixed_keys) {
    a.outcome = Outcome::kSkipped;
    return a;
  }
  a = t.Find(key);
  if (a.outcome == Outcome::kFound && a.value.empty()) {
    a.outcome = Outcome::kError;
    a.value = {};
    a.error =
        Status::Corruption(t.display() + " lookup of \"" + Excerpt(key) +
                           "\" returns an empty string result");
  }
  return a;
}

void MapList::Prefetch(Span<const QueryKey> keys) {
  std::vector<std::string_view> asked;
  for (auto& t : rep_->tables) {
    asked.clear();
    for (const QueryKey& k : keys) {
      if (k.key.empty() || (k.partial && !t->traits().fixed_keys)) continue;
      asked.push_back(k.key);
    }
    if (!asked.empty()) t->Prefetch(asked);
  }
}

void MapList::EndBatch() {
  for (auto& t : rep_->tables) t->EndBatch();
}

}  // namespace mapctl
