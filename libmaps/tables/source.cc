// tables/source.cc - postmap(1) "INPUT FILE FORMAT", parsed without a copy.
//
// Mirrors Postfix 3.7 util/readlline.c (readllines: joining physical lines
// into logical lines) and the loop in postmap/postmap.c that splits a
// logical line into key and value. A large regular source is mapped
// read-only from the page cache and never written: an Entry views the
// mapping wherever the key and value stand in the file as stored, and only
// the few that do not (a key that folding changes, a logical line joined
// from continuation lines) are copied into an arena. On the VMs CI uses,
// fresh memory costs more than the parse itself: reading a 75 MB source
// into a buffer of its own cleared and faulted 75 MB, a fifth of an lmdb
// build (docs/performance.md).

#include "mapctl/source.h"
#include "tables/source_chunk.h"
#include "util/pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace mapctl {
namespace {

// Byte classes for the scanners. Whitespace is Postfix's ISSPACE: the six
// ASCII bytes below and nothing else (no NBSP, no NUL).
enum ByteClass : unsigned char {
  kPlain = 0,
  kSpace = 1,
  kBackslash = 2,
  kQuote = 3,
};

constexpr auto kByteClass = [] {
  std::array<unsigned char, 256> table{};
  for (unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) {
    table[c] = kSpace;
  }
  table['\\'] = kBackslash;
  table['"'] = kQuote;
  return table;
}();

// Byte maps for the key scan: identity, and identity with A-Z lowered
// (Postfix's lowercase() in the C locale).
constexpr auto kIdentity = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = static_cast<unsigned char>(c);
  return table;
}();
constexpr auto kLowerAscii = [] {
  std::array<unsigned char, 256> table = kIdentity;
  for (int c = 'A'; c <= 'Z'; ++c)
    table[c] = static_cast<unsigned char>(c + 32);
  return table;
}();

inline bool IsSpace(char c) {
  return kByteClass[static_cast<unsigned char>(c)] == kSpace;
}

inline void LowerAscii(char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (static_cast<unsigned>(c - 'A') < 26u)
      p[i] = static_cast<char>(c + ('a' - 'A'));
  }
}

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

// Nonzero when some byte of `w` is zero (exact as a yes/no answer).
inline std::uint64_t HasZeroByte(std::uint64_t w) {
  return (w - kOnes) & ~w & kHighs;
}

inline std::uint64_t Load64(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// Number of '\n' bytes in [p, end), eight at a time (std::count is a byte
// loop at -O2, and this pass only sizes the entry vector).
std::size_t CountNewlines(const char* p, const char* end) {
  constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
  std::size_t n = 0;
  for (; end - p >= 8; p += 8) {
    const std::uint64_t x = Load64(p) ^ (kOnes * '\n');
    // High bit set exactly in the bytes of x that are zero.
    const std::uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7);
    // Sum the flags with one multiply: popcount is a libgcc call without
    // -mpopcnt, and this loop runs over every byte of the source.
    n += static_cast<std::size_t>(((zero >> 7) * kOnes) >> 56);
  }
  for (; p < end; ++p) n += *p == '\n';
  return n;
}

// Finds the first NUL in [begin, end) (or end) and whether a byte >= 0x80
// comes before it: one pass instead of memchr + an ASCII check.
inline const char* ScanLine(const char* begin, const char* end,
                           bool* high_before_nul) {
  const char* p = begin;
  for (; end - p >= 8; p += 8) {
    const std::uint64_t w = Load64(p);
    if ((HasZeroByte(w) | (w & kHighs)) != 0) break;
  }
  for (; p < end; ++p) {
    if (*p == '\0') return p;
    if (static_cast<unsigned char>(*p) >= 0x80) {
      *high_before_nul = true;
      const char* nul =
          static_cast<const char*>(std::memchr(p, '\0', end - p));
      return nul != nullptr ? nul : end;
    }
  }
  return end;
}

// A blank, whitespace-only or comment line (first non-whitespace byte is
// '#'); readllines() drops these wherever they appear.
inline bool IsIgnorable(const char* p, const char* eol) {
  while (p < eol && IsSpace(*p)) ++p;
  return p == eol || *p == '#';
}

// A source read into memory: sources that are not regular files (pipes,
// /dev/stdin), small ones, and every one under AddressSanitizer, which
// then guards the end of the last line. Views of it never move.
class PageBuffer {
 public:
  PageBuffer() = default;
  PageBuffer(PageBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  PageBuffer& operator=(PageBuffer&& o) noexcept {
    if (this != &o) {
      FreePages(data_, capacity_);
      data_ = std::exchange(o.data_, nullptr);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~PageBuffer() { FreePages(data_, capacity_); }

  // Room for `capacity` bytes, the first `keep` of the old ones kept.
  bool Grow(std::size_t capacity, std::size_t keep) {
    char* p = static_cast<char*>(AllocatePages(capacity));
    if (p == nullptr) return false;
    if (keep != 0) std::memcpy(p, data_, keep);
    FreePages(data_, capacity_);
    data_ = p;
    capacity_ = capacity;
    return true;
  }
  char* data() const noexcept { return data_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  char* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// A regular source mapped read-only, shared with the page cache: no copy,
// no fresh pages. A source truncated while it is parsed kills the process
// with SIGBUS, before anything is renamed into place (docs/architecture.md).
class SourceMapping {
 public:
  SourceMapping() = default;
  SourceMapping(SourceMapping&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  SourceMapping& operator=(SourceMapping&& o) noexcept {
    if (this != &o) {
      Unmap();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~SourceMapping() { Unmap(); }

  // Maps fd's first `size` bytes, page tables filled at once (one call
  // instead of a fault per 64 KiB). False: read the file instead.
  bool Map(int fd, std::size_t size) {
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) return false;
    Unmap();
    data_ = static_cast<const char*>(p);
    size_ = size;
    return true;
  }
  const char* data() const noexcept { return data_; }

 private:
  void Unmap() {
    if (data_ != nullptr) munmap(const_cast<char*>(data_), size_);
  }
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

// Owns the bytes entries point into: the source (a string, a buffer or a
// mapping, never written) and the arena of keys and values that do not
// stand in it as stored.
struct ParsedMap::Storage {
  std::string text;                            // ParseMapText's input
  PageBuffer file;                             // a source read()
  SourceMapping mapping;                       // a source mapped
  std::vector<std::unique_ptr<char[]>> arena;  // blocks of copied text
  char* arena_next = nullptr;
  std::size_t arena_left = 0;

  // Copies `key` and `value` side by side into the arena (an Entry finds
  // its value after its key); the copy never moves.
  char* Keep(std::string_view key, std::string_view value) {
    constexpr std::size_t kBlockSize = 64 * 1024;
    const std::size_t size = key.size() + value.size();
    if (size > arena_left) {
      const std::size_t block = std::max(kBlockSize, size);
      arena.push_back(std::make_unique_for_overwrite<char[]>(block));
      arena_next = arena.back().get();
      arena_left = block;
    }
    char* out = arena_next;
    std::memcpy(out, key.data(), key.size());
    std::memcpy(out + key.size(), value.data(), value.size());
    arena_next += size;
    arena_left -= size;
    return out;
  }
};

ParsedMap::ParsedMap() = default;
ParsedMap::~ParsedMap() = default;
ParsedMap::ParsedMap(ParsedMap&&) noexcept = default;
ParsedMap& ParsedMap::operator=(ParsedMap&&) noexcept = default;

// The parser proper. A friend of ParsedMap so that it can fill it.
class SourceParser {
 public:
  SourceParser(const ParseOptions& options, ParsedMap* out)
      : options_(options), out_(out) {}

  // Parse text the map's storage already holds (it must not move).
  static ParsedMap FromText(std::string text, const ParseOptions& options);
  static ParsedMap FromStorage(std::unique_ptr<ParsedMap::Storage> storage,
                               const char* text, std::size_t size,
                               const ParseOptions& options);
  // ParseMapFile() once the file is open: mapped or read.
  static Result<ParsedMap> FromFile(int fd, const struct stat& st,
                                    const std::string& path,
                                    const ParseOptions& options);
  // ParseMapChunk(): `map` reused, its arena emptied first.
  static void Chunk(const char* buf, std::size_t n,
                    const ParseOptions& options, ParsedMap* map);

 private:
  // Parses buf[0, n), which outlives out_'s entries and is never written.
  void Run(const char* buf, std::size_t n);
  // Run(), on two threads for a large buffer: the halves are split where a
  // logical line starts, parsed apart and joined in order.
  static void RunSplit(const char* buf, std::size_t n,
                       const ParseOptions& options, ParsedMap* out);
  // `transient`: [begin, end) is the parser's scratch, so the key and
  // value are copied into the arena.
  void ProcessLogicalLine(const char* begin, const char* end,
                          std::uint32_t line, bool transient);
  void Warn(DiagnosticKind kind, std::uint32_t line, std::string message) {
    out_->diagnostics_.push_back(Diagnostic{
        Severity::kWarning, kind, options_.origin, line, std::move(message)});
  }

  const ParseOptions& options_;
  ParsedMap* out_;
  std::string joined_;        // a logical line of several physical ones
  std::string fold_scratch_;  // reused, so folding allocates only rarely
};

void SourceParser::Run(const char* buf, std::size_t n) {
  const char* const end = buf + n;
  // One entry per line at most: reserving up front avoids the vector's
  // doubling, whose copy would briefly hold 1.5x the entries in memory.
  out_->entries_.reserve(CountNewlines(buf, end) + 1);

  std::uint32_t lineno = 0;
  const char* p = buf;
  while (p < end) {
    // Every physical line counts, the final unterminated one included.
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (eol == nullptr) eol = end;
    ++lineno;
    const char* next = eol < end ? eol + 1 : end;
    if (IsIgnorable(p, eol)) {
      p = next;
      continue;
    }
    // A logical line: this physical line, then every following line that
    // starts with whitespace or '#'. Ignorable ones are dropped even here
    // (comments do not end a continuation); the others are appended
    // verbatim, leading whitespace included, without the newline.
    const char* const begin = p;
    const char* const first_end = eol;
    const std::uint32_t first_line = lineno;
    bool joined = false;
    p = next;
    while (p < end && (IsSpace(*p) || *p == '#')) {
      eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (eol == nullptr) eol = end;
      ++lineno;
      if (!IsIgnorable(p, eol)) {
        if (!joined) joined_.assign(begin, first_end);
        joined = true;
        joined_.append(p, eol);
      }
      p = eol < end ? eol + 1 : end;
    }
    if (IsSpace(*begin)) {
      // Only possible at the top of the file: whitespace-led lines with
      // nothing to continue. readllines() drops them with a warning that
      // quotes the text; we never quote it (it may hold a password).
      Warn(DiagnosticKind::kLeadingWhitespace, first_line,
           "logical line must not start with whitespace -- ignoring it");
      continue;
    }
    if (joined) {
      ProcessLogicalLine(joined_.data(), joined_.data() + joined_.size(),
                         first_line, true);
    } else {
      ProcessLogicalLine(begin, first_end, first_line, false);
    }
  }
  out_->line_count_ = lineno;
}

void SourceParser::ProcessLogicalLine(const char* begin, const char* end,
                                      std::uint32_t line, bool transient) {
  const std::size_t line_size = static_cast<std::size_t>(end - begin);

  // Postfix works on the logical line as a C string, so everything after a
  // NUL is ignored. 3.9 and later warn about it; 3.7 is silent.
  bool high_byte = false;
  const char* const text_end = ScanLine(begin, end, &high_byte);
  if (text_end != end) {
    Warn(DiagnosticKind::kTextAfterNull, line,
         "text after null byte is ignored");
  }

  // 3.7's quirks, kept for identical results: the all-ASCII shortcut
  // (util/allascii.c) stops at the first NUL and calls an empty string not
  // ASCII, while the validity check covers the whole line, bytes after the
  // NUL included. So "k v\0\xFF" passes, but "\0\xFF" is non-UTF-8.
  const bool ascii = text_end != begin && !high_byte;
  if (options_.check_utf8 && !ascii &&
      !IsValidUtf8(std::string_view(begin, line_size))) {
    Warn(DiagnosticKind::kNonUtf8, line,
         "non-UTF-8 input -- ignoring this line");
    return;
  }

  // The key ends at the first whitespace outside double quotes; a
  // backslash steps over the next byte. Quotes and backslashes stay in the
  // key (postmap.c: "Leave the key in quoted form"). When the key will be
  // lowered A-Z anyway, this same pass notes whether lowering changes it.
  const bool lower_now = options_.fold == FoldMode::kAscii ||
                         (options_.fold == FoldMode::kUtf8 && ascii);
  const unsigned char* const map =
      lower_now ? kLowerAscii.data() : kIdentity.data();
  const char* q = begin;
  bool in_quotes = false;
  unsigned char lowers = 0;  // nonzero: some key byte folds to another
  while (q < text_end) {
    const unsigned char c = static_cast<unsigned char>(*q);
    switch (kByteClass[c]) {
      case kPlain:
        lowers |= map[c] ^ c;
        break;
      case kSpace:
        if (!in_quotes) goto key_done;
        break;
      case kBackslash: {
        if (++q == text_end) goto key_done;
        // The escaped byte is still part of the key and still folded.
        const unsigned char e = static_cast<unsigned char>(*q);
        lowers |= map[e] ^ e;
        break;
      }
      case kQuote:
        in_quotes = !in_quotes;
        break;
    }
    ++q;
  }
key_done:
  if (in_quotes) {
    Warn(DiagnosticKind::kUnbalancedQuote, line,
         "unbalanced '\"' -- ignoring this line");
    return;
  }
  const char* const key_end = q;
  const char* value = key_end < text_end ? key_end + 1 : text_end;
  while (value < text_end && IsSpace(*value)) ++value;
  const char* value_end = text_end;
  while (value_end > value && IsSpace(value_end[-1])) --value_end;

  // The format check comes before the alias check, as in postmap.c.
  if (key_end == begin || value_end == value) {
    Warn(DiagnosticKind::kExpectedFormat, line,
         "expected format: key whitespace value");
    return;
  }
  if (key_end[-1] == ':') {
    // postmap still stores the key, colon and all.
    Warn(DiagnosticKind::kAliasFormat, line,
         "record is in \"key: value\" format; is this an alias file?");
  }
  constexpr std::size_t kMaxSize = std::numeric_limits<std::uint32_t>::max();
  std::size_t key_size = static_cast<std::size_t>(key_end - begin);
  const std::size_t value_size = static_cast<std::size_t>(value_end - value);
  // Entry keeps 32-bit sizes and the value's distance from the key.
  if (static_cast<std::size_t>(value_end - begin) > kMaxSize) {
    Warn(DiagnosticKind::kOther, line, "line too long -- ignoring this line");
    return;
  }

  // The key as stored: the text itself unless folding changes it. A key
  // that is copied takes its value along (Entry finds it after the key).
  std::string_view stored_key(begin, key_size);
  bool copy = transient;
  bool lower_copy = lower_now && lowers != 0;
  if (options_.fold == FoldMode::kUtf8 && !lower_now) {
    if (IsAscii(stored_key)) {
      // Non-ASCII bytes in the value only: the key lowers A-Z.
      lower_copy = std::any_of(stored_key.begin(), stored_key.end(), [](char c) {
        return static_cast<unsigned>(c - 'A') < 26u;
      });
    } else if (Status s = FoldKey(stored_key, FoldMode::kUtf8, &fold_scratch_);
               !s.ok()) {
      // Reached only with check_utf8 off: Postfix's dict_utf8 layer
      // skips such a key on update.
      Warn(DiagnosticKind::kNonUtf8, line,
           "non-UTF-8 input -- ignoring this line");
      return;
    } else if (fold_scratch_ != stored_key) {
      if (fold_scratch_.size() > kMaxSize) {
        Warn(DiagnosticKind::kOther, line,
             "line too long -- ignoring this line");
        return;
      }
      stored_key = fold_scratch_;
      key_size = fold_scratch_.size();
      copy = true;
    }
  }
  const char* key = begin;
  if (copy || lower_copy) {
    char* kept = out_->storage_->Keep(stored_key,
                                      std::string_view(value, value_size));
    if (lower_copy) LowerAscii(kept, key_size);
    key = kept;
    value = kept + key_size;
  }
  out_->entries_.push_back(Entry(key, static_cast<std::uint32_t>(key_size),
                                value, static_cast<std::uint32_t>(value_size),
                                line));
}
namespace {

// Where buf[0, n) can be cut into two independent halves: the start of a
// physical line past the middle whose first byte is neither whitespace nor
// '#'. Such a line always begins a logical line (continuations start with
// whitespace; comments are skipped anywhere). nullptr: no such line.
const char* SplitPoint(const char* buf, std::size_t n) {
  const char* const end = buf + n;
  const char* p = buf + n / 2;
  while (p < end) {
    const char* eol =
        static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (eol == nullptr || eol + 1 >= end) return nullptr;
    p = eol + 1;
    if (!IsSpace(*p) && *p != '#') return p;
  }
  return nullptr;
}

}  // namespace

void SourceParser::RunSplit(const char* buf, std::size_t n,
                            const ParseOptions& options, ParsedMap* out) {
  // Below this the thread costs more than it saves.
  constexpr std::size_t kMinSplit = 8u << 20;
  const char* cut = n >= kMinSplit ? SplitPoint(buf, n) : nullptr;
  if (cut == nullptr) {
    SourceParser(options, out).Run(buf, n);
    return;
  }
  // The second half gets its own ParsedMap for its entries, diagnostics
  // and copied text; the source's bytes stay in the first one's storage.
  // Room for every line of both halves, so that appending the second
  // half's entries below copies them once and moves nothing.
  out->entries_.reserve(CountNewlines(buf, buf + n) + 1);
  ParsedMap second;
  second.storage_ = std::make_unique<ParsedMap::Storage>();
  std::thread worker([&] {
    SourceParser(options, &second).Run(cut, static_cast<std::size_t>(buf + n - cut));
  });
  SourceParser(options, out).Run(buf, static_cast<std::size_t>(cut - buf));
  worker.join();

  const std::uint32_t offset = out->line_count_;
  out->entries_.reserve(out->entries_.size() + second.entries_.size());
  // Appended a slice at a time, each slice's pages given back once copied:
  // the two halves' arrays are never resident whole side by side (for a
  // 1M-line source that would be 12 MB more at the parse's peak).
  constexpr std::size_t kSlice = (std::size_t{2} << 20) / sizeof(Entry);
  const Entry* from = second.entries_.data();
  const std::size_t count = second.entries_.size();
  const std::size_t capacity_bytes = second.entries_.capacity() * sizeof(Entry);
  for (std::size_t begin = 0; begin < count; begin += kSlice) {
    const std::size_t end = std::min(count, begin + kSlice);
    for (std::size_t i = begin; i < end; ++i) {
      const Entry& e = from[i];
      out->entries_.push_back(Entry(e.key().data(),
                                    static_cast<std::uint32_t>(e.key().size()),
                                    e.value().data(),
                                    static_cast<std::uint32_t>(e.value().size()),
                                    e.line() + offset));
    }
    DiscardPages(second.entries_.data(), capacity_bytes, begin * sizeof(Entry),
                 (end - begin) * sizeof(Entry));
  }
  second.entries_.clear();
  for (Diagnostic& d : second.diagnostics_) {
    if (d.line > 0) d.line += offset;
    out->diagnostics_.push_back(std::move(d));
  }
  for (auto& block : second.storage_->arena) {
    out->storage_->arena.push_back(std::move(block));
  }
  out->line_count_ += second.line_count_;
}

ParsedMap SourceParser::FromText(std::string text,
                                 const ParseOptions& options) {
  auto storage = std::make_unique<ParsedMap::Storage>();
  // Moved into heap-allocated storage first: entries point into it, and
  // it must not move again (a short string lives inside the object).
  storage->text = std::move(text);
  const char* data = storage->text.data();
  const std::size_t size = storage->text.size();
  return FromStorage(std::move(storage), data, size, options);
}

ParsedMap SourceParser::FromStorage(
    std::unique_ptr<ParsedMap::Storage> storage, const char* text,
    std::size_t size, const ParseOptions& options) {
  ParsedMap map;
  map.storage_ = std::move(storage);
  RunSplit(text, size, options, &map);
  return map;
}

Result<ParsedMap> SourceParser::FromFile(int fd, const struct stat& st,
                                         const std::string& path,
                                         const ParseOptions& options) {
  auto storage = std::make_unique<ParsedMap::Storage>();
  // Below this a mapping saves less than it costs to set up.
  constexpr std::size_t kMapFrom = 1u << 20;
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) >= kMapFrom &&
      LargeArraysAreMapped()) {
    const auto size = static_cast<std::size_t>(st.st_size);
    if (storage->mapping.Map(fd, size)) {
      const char* data = storage->mapping.data();
      return SourceParser::FromStorage(std::move(storage), data, size, options);
    }
  }

  // One allocation of the file's size plus one byte, so that the read()
  // that returns 0 (EOF) has room. Pipes and devices report no useful
  // size; their buffer grows. Under AddressSanitizer the buffer is exactly
  // as large as what was read (ASan then catches a read past a view).
  std::size_t capacity = 64 * 1024;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    capacity = static_cast<std::size_t>(st.st_size) + 1;
  }
  PageBuffer& buf = storage->file;
  if (!buf.Grow(capacity, 0)) return Status::IoError("read " + path, ENOMEM);
  std::size_t size = 0;
  for (;;) {
    if (buf.capacity() == size && !buf.Grow(buf.capacity() * 2, size)) {
      return Status::IoError("read " + path, ENOMEM);
    }
    const ssize_t got = read(fd, buf.data() + size, buf.capacity() - size);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + path, errno);
    }
    if (got == 0) break;
    size += static_cast<std::size_t>(got);
  }
  if (!LargeArraysAreMapped() && size > 0 && size < buf.capacity()) {
    if (!buf.Grow(size, size)) return Status::IoError("read " + path, ENOMEM);
  }
  const char* data = buf.data();
  return SourceParser::FromStorage(std::move(storage), data, size, options);
}

void SourceParser::Chunk(const char* buf, std::size_t n,
                         const ParseOptions& options, ParsedMap* map) {
  if (map->storage_ == nullptr) {
    map->storage_ = std::make_unique<ParsedMap::Storage>();
  }
  ParsedMap::Storage& storage = *map->storage_;
  storage.arena.clear();
  storage.arena_next = nullptr;
  storage.arena_left = 0;
  map->entries_.clear();  // the capacity stays for the next piece
  map->diagnostics_.clear();
  map->line_count_ = 0;
  SourceParser(options, map).Run(buf, n);
}

std::size_t LastLogicalLineStart(const char* buf, std::size_t n) noexcept {
  std::size_t end = n;
  while (end > 0) {
    const void* nl = memrchr(buf, '\n', end);
    if (nl == nullptr) return 0;
    const std::size_t at = static_cast<std::size_t>(
        static_cast<const char*>(nl) - buf) + 1;
    if (at < n && !IsSpace(buf[at]) && buf[at] != '#') return at;
    end = at - 1;
  }
  return 0;
}

void ParseMapChunk(const char* buf, std::size_t n, const ParseOptions& options,
                   ParsedMap* map) {
  SourceParser::Chunk(buf, n, options, map);
}

ParsedMap ParseMapText(std::string text, const ParseOptions& options) {
  return SourceParser::FromText(std::move(text), options);
}

Result<ParsedMap> ParseMapFile(const std::string& path,
                               const ParseOptions& options) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path, errno);
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};

  struct stat st;
  if (fstat(fd, &st) < 0) return Status::IoError("fstat " + path, errno);
  if (S_ISDIR(st.st_mode)) {
    // postmap reports "read PATH: Is a directory" for texthash: (and
    // silently builds an empty lmdb: table); either way it is EISDIR.
    return Status::IoError("open " + path, EISDIR);
  }

  return SourceParser::FromFile(fd, st, path, options);
}

}  // namespace mapctl
