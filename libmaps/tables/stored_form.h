// tables/stored_form.h - a key or value as a table stores it (internal).
//
// Postfix stores "key\0" and "value\0" in most tables (postmap's default
// for lmdb, hash and btree; -N for cdb). A parsed Entry's views end
// without a NUL (mapctl/source.h), so where a writer needs the stored
// bytes in one piece it takes them from here: the text itself when no NUL
// is stored, else a copy with the NUL, kept until the next call.

#ifndef MAPCTL_LIBMAPS_TABLES_STORED_FORM_H_
#define MAPCTL_LIBMAPS_TABLES_STORED_FORM_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace mapctl {

class StoredForm {
 public:
  // `nul`: 1 when the table stores a NUL after the text, else 0.
  std::string_view Of(std::string_view text, std::size_t nul) {
    if (nul == 0) return text;
    buf_.assign(text);
    buf_.push_back('\0');
    return buf_;
  }

 private:
  std::string buf_;
};

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_STORED_FORM_H_
