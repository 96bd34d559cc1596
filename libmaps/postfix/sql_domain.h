// postfix/sql_domain.h - the `domain` parameter of an SQL table (internal).
//
// Postfix (db_common.c) keeps a string list: only keys of the form
// user@domain with a non-empty local part and a listed domain are queried;
// every other key is "not found" without a query. The list matches the part
// after the last '@' as a string, case-insensitively (UTF-8 case folding
// with smtputf8_enable = yes, ASCII otherwise; postmap -f does not change
// it), never as a host name: "example.com" does not admit
// "sub.example.com". Items, separated by space, comma, tab or newline:
//   name        admits that domain
//   !item       the first item that matches decides; a negated one refuses
//   /file       the file's words, as if written here ('#' lines skipped)
//   type:table  admits the domains the table has as keys
// The first matching item decides; no match refuses.

#ifndef MAPCTL_LIBMAPS_POSTFIX_SQL_DOMAIN_H_
#define MAPCTL_LIBMAPS_POSTFIX_SQL_DOMAIN_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/fold.h"
#include "mapctl/status.h"

namespace mapctl::sql {

// Whether a table holds `key` (folded as the table folds it). Errors: the
// table could not be read (the lookup is then an error, as in Postfix).
using DomainTableLookup = std::function<Result<bool>(std::string_view key)>;

// Opens the table a domain list names ("hash:/etc/postfix/domains"), with
// the caller's table layer. Errors are fatal at open, as in Postfix
// ("open database /etc/postfix/domains.db: No such file or directory").
using DomainTableOpener =
    std::function<Result<DomainTableLookup>(std::string_view table)>;

class DomainList {
 public:
  // An empty list: Admits() is true for every key.
  DomainList() = default;

  // Parses `text`, reading /file items and opening type:table items now.
  // `fold` is kUtf8 or kAscii (smtputf8_enable). Errors: a file or table
  // that cannot be opened; a type:table item without an `open` callback
  // (kUnsupported).
  static Result<DomainList> Parse(std::string_view text, FoldMode fold,
                                  const DomainTableOpener& open);

  // db_common_check_domain(): true when the list is empty, or `key` is
  // user@domain with a non-empty user and the list admits the domain.
  Result<bool> Admits(std::string_view key) const;

  bool empty() const noexcept { return items_.empty(); }

 private:
  struct Item {
    bool admit = true;        // false: a negated item
    std::string name;         // folded domain, or the table's name
    DomainTableLookup table;  // set for type:table items
  };

  Status Add(std::string_view text, bool admit, const DomainTableOpener& open,
             int depth);
  std::string Fold(std::string_view text) const;

  FoldMode fold_ = FoldMode::kUtf8;
  std::vector<Item> items_;
};

}  // namespace mapctl::sql

#endif  // MAPCTL_LIBMAPS_POSTFIX_SQL_DOMAIN_H_
