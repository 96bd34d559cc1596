// postfix/lazy_table.cc - the once-only open of a LazyTable (lazy_table.h).

#include "postfix/lazy_table.h"

#include <utility>

namespace mapctl {

Status LazyTable::Open() {
  if (!tried_) {
    tried_ = true;
    status_ = Load(&load_warnings_);
    loaded_ = status_.ok();
  }
  return status_;
}

Answer LazyTable::Find(std::string_view key) {
  if (!loaded_) {
    if (Status s = Open(); !s.ok()) {
      Answer a;
      a.outcome = s.code() == ErrorCode::kUnsupported ? Outcome::kNotEvaluated
                                                      : Outcome::kError;
      a.error = std::move(s);
      return a;
    }
  }
  return FindLoaded(key);
}

}  // namespace mapctl
