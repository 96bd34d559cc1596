// mapctl/map_list.h - the list of tables a Postfix parameter names.
//
// A parameter such as sender_dependent_relayhost_maps holds tables
// separated by commas and/or whitespace: "lmdb:/etc/postfix/relay,
// proxy:lmdb:/etc/postfix/b inline:{ {k1 = v1}, k2=v2 }". Postfix asks
// them in order and the first table with the key wins (global/maps.c).
// Each element is a LookupTable (lookup_table.h) opened by
// OpenLookupTable(); the list adds what maps.c adds on top of dict_get():
// the empty key is never asked, partial keys (everything but a full
// address, see mail_addr_find.c) only go to fixed-key tables, and an
// empty value is an error.

#ifndef MAPCTL_MAP_LIST_H_
#define MAPCTL_MAP_LIST_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "mapctl/address.h"
#include "mapctl/export.h"
#include "mapctl/lookup_table.h"
#include "mapctl/span.h"
#include "mapctl/status.h"

namespace mapctl {

// A parsed table list. Tables are opened on first use. Each lookup runs in
// a read unit per table that stays open until EndBatch(): call it after a
// batch of lookups and before waiting for input or writing output.
// Not thread-safe.
class MAPCTL_EXPORT MapList {
 public:
  MapList();
  ~MapList();
  MapList(MapList&&) noexcept;
  MapList& operator=(MapList&&) noexcept;

  // Parses a parameter value. `parameter` names it in messages ("PARAM:
  // ..." before OpenLookupTable()'s errors). The empty value gives an
  // empty list.
  static Result<MapList> Parse(std::string_view parameter,
                               std::string_view value,
                               const TableContext& context);

  const std::string& parameter() const noexcept;
  bool empty() const noexcept;
  std::size_t size() const noexcept;
  // REQUIRES: i < size()
  const LookupTable& table(std::size_t i) const;
  LookupTable& table(std::size_t i);

  // Asks table `i` for `key` as maps.c does: the empty key is kNotFound
  // unasked; a `partial` key and a pattern table give kSkipped; a found
  // empty value is kError ("... returns an empty string result").
  // Otherwise LookupTable::Find(); the value is valid until the next
  // Find() or EndBatch().
  Answer Find(std::size_t i, std::string_view key, bool partial);

  // Tells each table the keys a coming run of Find() calls may ask
  // (LookupTable::Prefetch), with Find()'s rules: the empty key goes to
  // none, a partial key only to fixed-key tables. Every table gets every
  // key, also those Find() would not reach after an earlier table's hit.
  void Prefetch(Span<const QueryKey> keys);

  // Ends the read units of the current batch (locks and snapshots).
  void EndBatch();

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace mapctl

#endif  // MAPCTL_MAP_LIST_H_
