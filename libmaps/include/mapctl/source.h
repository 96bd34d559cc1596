// mapctl/source.h - reading Postfix map sources ("key whitespace value").
//
// The syntax is postmap(1)'s INPUT FILE FORMAT as Postfix 3.7 implements it
// (util/readlline.c and postmap/postmap.c): logical lines joined from
// whitespace-led continuation lines, comment and blank lines skipped even
// inside a continuation, the key ending at the first whitespace outside
// double quotes (a backslash escapes one byte), keys kept with their quotes,
// everything after a NUL ignored, and each kind of malformed line skipped
// with a warning. docs/compatibility.md lists the observed details.

#ifndef MAPCTL_SOURCE_H_
#define MAPCTL_SOURCE_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/fold.h"
#include "mapctl/page_allocator.h"
#include "mapctl/span.h"
#include "mapctl/status.h"

namespace mapctl {

enum class Severity : std::uint8_t { kWarning, kError };

// What went wrong with one line. Each kind has a postmap counterpart
// (named in the comment) unless marked otherwise.
enum class DiagnosticKind : std::uint8_t {
  kLeadingWhitespace,  // "logical line must not start with whitespace"
  kExpectedFormat,     // "expected format: key whitespace value"
  kUnbalancedQuote,    // "unbalanced '\"' ... -- ignoring this line"
  kNonUtf8,            // "non-UTF-8 input ... -- ignoring this line"
  kAliasFormat,        // "record is in \"key: value\" format; is this an
                       // alias file?" (the entry is still stored)
  kTextAfterNull,      // 3.9+: "text after null byte may be ignored"
  kDuplicate,          // "duplicate entry: \"KEY\""
  kKeyTooLong,         // fatal in postmap: MDB_BAD_VALSIZE for lmdb
  kOther,
};

// A problem found in a source. `message` never quotes a value or the value
// part of a line: sources hold passwords, and diagnostics reach CI logs.
// Keys may be quoted.
struct Diagnostic {
  Severity severity = Severity::kWarning;
  DiagnosticKind kind = DiagnosticKind::kOther;
  std::string file;   // the source path as the caller named it
  std::uint32_t line = 0;  // first physical line of the logical line; 0: none
  std::string message;
};

// One key/value pair of a source, in source order. Both views point into
// the ParsedMap that produced the entry and stay valid while it lives:
// into the source itself where the text stands there as stored (a large
// file is mapped read-only), into the map's own copy otherwise. Nothing
// follows a view: a writer that stores "key\0" appends the NUL itself.
class Entry {
 public:
  // `value` must follow `key` in the same buffer, less than 4 GiB on (as
  // in a source line, or a "key\0value\0" record): the entry keeps the
  // distance, not a second pointer.
  Entry(const char* key, std::uint32_t key_size, const char* value,
        std::uint32_t value_size, std::uint32_t line) noexcept
      : key_(key),
        key_size_(key_size),
        value_size_(value_size),
        line_(line),
        value_offset_(static_cast<std::uint32_t>(value - key)) {
    assert(value >= key && value - key <= std::ptrdiff_t{UINT32_MAX});
  }

  std::string_view key() const noexcept { return {key_, key_size_}; }
  std::string_view value() const noexcept {
    return {key_ + value_offset_, value_size_};
  }
  std::uint32_t line() const noexcept { return line_; }

 private:
  // 24 bytes an entry, no heap node: a million entries are 24 MB, beside
  // the source at every build's peak.
  const char* key_;
  std::uint32_t key_size_;
  std::uint32_t value_size_;
  std::uint32_t line_;
  std::uint32_t value_offset_;
};
static_assert(sizeof(Entry) == 24);

struct ParseOptions {
  // The name used in diagnostics: the path as given on the command line,
  // as postmap prints it.
  std::string origin;
  // smtputf8_enable = yes (and no postmap -u): lines with non-ASCII bytes
  // must be valid UTF-8, and keys fold with ICU. kNone is postmap -f.
  FoldMode fold = FoldMode::kUtf8;
  // UTF-8 validation of lines; postmap does it when smtputf8_enable = yes
  // and -u is not given, independently of -f.
  bool check_utf8 = true;
};

// The result of parsing one source: entries in source order, keys folded,
// and every diagnostic in line order. Owns all the bytes the entries view.
// Movable, not copyable.
class MAPCTL_EXPORT ParsedMap {
 public:
  ParsedMap();
  ~ParsedMap();
  ParsedMap(ParsedMap&&) noexcept;
  ParsedMap& operator=(ParsedMap&&) noexcept;
  ParsedMap(const ParsedMap&) = delete;
  ParsedMap& operator=(const ParsedMap&) = delete;

  Span<const Entry> entries() const noexcept { return entries_; }
  const std::vector<Diagnostic>& diagnostics() const noexcept {
    return diagnostics_;
  }
  // Lines of the source, including comments and blank lines.
  std::uint32_t line_count() const noexcept { return line_count_; }

 private:
  friend class SourceParser;
  struct Storage;
  std::unique_ptr<Storage> storage_;
  std::vector<Entry, PageAllocator<Entry>> entries_;
  std::vector<Diagnostic> diagnostics_;
  std::uint32_t line_count_ = 0;
};

// Parses `text` (taken over, never written). Never fails on malformed
// lines; those become diagnostics.
MAPCTL_EXPORT ParsedMap ParseMapText(std::string text,
                                     const ParseOptions& options);

// Reads and parses the file at `path`; a large regular file is mapped
// read-only for as long as the result lives (truncating it meanwhile is
// SIGBUS, as for any mapped file). Errors: the file is missing, not a
// regular file, or unreadable ("open PATH: ..."), as postmap dies on them.
MAPCTL_EXPORT Result<ParsedMap> ParseMapFile(const std::string& path,
                                             const ParseOptions& options);

}  // namespace mapctl

#endif  // MAPCTL_SOURCE_H_
