// postfix/lazy_table.h - a LookupTable that reads what it needs (a file,
// rules, a database connection) at its first Open() or Find(), once
// (internal).
//
// A Postfix daemon opens its tables once: a table that failed to open
// fails the same way at every later lookup, without trying again.

#ifndef MAPCTL_LIBMAPS_POSTFIX_LAZY_TABLE_H_
#define MAPCTL_LIBMAPS_POSTFIX_LAZY_TABLE_H_

#include <string_view>
#include <vector>

#include "mapctl/lookup_table.h"

namespace mapctl {

class LazyTable : public LookupTable {
 public:
  // The first call runs Load(); every later one returns its outcome.
  Status Open() final;
  // Those Load() gave.
  const std::vector<TableWarning>& warnings() const noexcept final {
    return load_warnings_;
  }
  // Opens the table first. One that cannot be opened answers kNotEvaluated
  // for a type this build cannot read (kUnsupported: hash without
  // Berkeley DB, pcre without PCRE2), kError for anything else.
  Answer Find(std::string_view key) final;

 protected:
  using LookupTable::LookupTable;

  // Reads the table; appends what Postfix warns about while opening it to
  // `warnings`, even when it then fails. Called at most once.
  virtual Status Load(std::vector<TableWarning>* warnings) = 0;
  // Find() for a table Load() opened.
  virtual Answer FindLoaded(std::string_view key) = 0;

 private:
  std::vector<TableWarning> load_warnings_;
  Status status_;
  bool tried_ = false;
  bool loaded_ = false;
};

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_POSTFIX_LAZY_TABLE_H_
