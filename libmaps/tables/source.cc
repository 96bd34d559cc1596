// tables/source.cc - postmap(1) "INPUT FILE FORMAT", parsed in place.
//
// Mirrors Postfix 3.7 util/readlline.c (readllines: joining physical lines
// into logical lines) and the loop in postmap/postmap.c that splits a
// logical line into key and value. The whole source sits in one buffer;
// logical lines are compacted in place, keys are folded in place, and a NUL
// is written after every key and value, so an Entry is two pointers into
// the buffer and nothing is allocated per entry.

#include "mapctl/source.h"
#include "tables/source_chunk.h"
#include "util/pages.h"

#include <fcntl.h>
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
inline char* ScanLine(char* begin, char* end, bool* high_before_nul) {
  char* p = begin;
  for (; end - p >= 8; p += 8) {
    const std::uint64_t w = Load64(p);
    if ((HasZeroByte(w) | (w & kHighs)) != 0) break;
  }
  for (; p < end; ++p) {
    if (*p == '\0') return p;
    if (static_cast<unsigned char>(*p) >= 0x80) {
      *high_before_nul = true;
      char* nul = static_cast<char*>(std::memchr(p, '\0', end - p));
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

// The buffer a source file is read into and parsed in place (entries
// view it): large ones are huge-page mappings (mapctl/page_allocator.h).
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

}  // namespace

// Owns the bytes entries point into: the source buffer (parsed in place)
// and, for keys whose folded form is longer than the original, an arena.
struct ParsedMap::Storage {
  std::string text;                            // ParseMapText's input
  PageBuffer file;                             // ParseMapFile's buffer
  std::vector<std::unique_ptr<char[]>> arena;  // blocks of grown keys
  char* arena_next = nullptr;
  std::size_t arena_left = 0;

  // Copies `s` plus a NUL into the arena; the copy never moves.
  const char* Keep(std::string_view s) {
    constexpr std::size_t kBlockSize = 64 * 1024;
    const std::size_t need = s.size() + 1;
    if (need > arena_left) {
      const std::size_t size = std::max(kBlockSize, need);
      arena.push_back(std::make_unique_for_overwrite<char[]>(size));
      arena_next = arena.back().get();
      arena_left = size;
    }
    char* out = arena_next;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    arena_next += need;
    arena_left -= need;
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

  // Take the buffer over and parse it in place.
  static ParsedMap FromText(std::string text, const ParseOptions& options);
  static ParsedMap FromBuffer(PageBuffer buf,
                              std::size_t size, const ParseOptions& options);
  // ParseMapChunk(): `map` reused, its arena emptied first.
  static void Chunk(char* buf, std::size_t n, const ParseOptions& options,
                    ParsedMap* map);

 private:
  // Parses buf[0, n). REQUIRES: buf[n] is writable and holds a NUL; the
  // buffer is owned by out_->storage_.
  void Run(char* buf, std::size_t n);
  // Run(), on two threads for a large buffer: the halves are split where a
  // logical line starts, parsed apart and joined in order.
  static void RunSplit(char* buf, std::size_t n, const ParseOptions& options,
                       ParsedMap* out);
  void ProcessLogicalLine(char* begin, char* end, std::uint32_t line);
  void Warn(DiagnosticKind kind, std::uint32_t line, std::string message) {
    out_->diagnostics_.push_back(Diagnostic{
        Severity::kWarning, kind, options_.origin, line, std::move(message)});
  }

  const ParseOptions& options_;
  ParsedMap* out_;
  std::string fold_scratch_;  // reused, so folding allocates only rarely
};

void SourceParser::Run(char* buf, std::size_t n) {
  char* const end = buf + n;
  // One entry per line at most: reserving up front avoids the vector's
  // doubling, whose copy would briefly hold 1.5x the entries in memory.
  out_->entries_.reserve(CountNewlines(buf, end) + 1);

  std::uint32_t lineno = 0;
  char* p = buf;
  while (p < end) {
    // Every physical line counts, the final unterminated one included.
    char* eol = static_cast<char*>(std::memchr(p, '\n', end - p));
    if (eol == nullptr) eol = end;
    ++lineno;
    char* next = eol < end ? eol + 1 : end;
    if (IsIgnorable(p, eol)) {
      p = next;
      continue;
    }
    // A logical line: this physical line, then every following line that
    // starts with whitespace or '#'. Ignorable ones are dropped even here
    // (comments do not end a continuation); the others are appended
    // verbatim, leading whitespace included, without the newline. The
    // joined text is never longer than the span it came from, so it is
    // compacted in place.
    char* const begin = p;
    char* write = eol;
    const std::uint32_t first_line = lineno;
    p = next;
    while (p < end && (IsSpace(*p) || *p == '#')) {
      eol = static_cast<char*>(std::memchr(p, '\n', end - p));
      if (eol == nullptr) eol = end;
      ++lineno;
      if (!IsIgnorable(p, eol)) {
        const std::size_t len = static_cast<std::size_t>(eol - p);
        if (write != p) std::memmove(write, p, len);
        write += len;
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
    ProcessLogicalLine(begin, write, first_line);
  }
  out_->line_count_ = lineno;
}

void SourceParser::ProcessLogicalLine(char* begin, char* end,
                                      std::uint32_t line) {
  // The byte at `end` is the newline, the spare NUL, or bytes already moved
  // down by compaction: ours to overwrite.
  *end = '\0';
  const std::size_t line_size = static_cast<std::size_t>(end - begin);

  // Postfix works on the logical line as a C string, so everything after a
  // NUL is ignored. 3.9 and later warn about it; 3.7 is silent.
  bool high_byte = false;
  char* const text_end = ScanLine(begin, end, &high_byte);
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
  // lowered A-Z anyway, it is done in this same pass; a line rejected below
  // is never looked at again, so lowering it first is harmless.
  const bool lower_now = options_.fold == FoldMode::kAscii ||
                         (options_.fold == FoldMode::kUtf8 && ascii);
  const unsigned char* const map =
      lower_now ? kLowerAscii.data() : kIdentity.data();
  char* q = begin;
  bool in_quotes = false;
  while (q < text_end) {
    const unsigned char c = static_cast<unsigned char>(*q);
    switch (kByteClass[c]) {
      case kPlain:
        *q = static_cast<char>(map[c]);
        break;
      case kSpace:
        if (!in_quotes) goto key_done;
        break;
      case kBackslash:
        if (++q == text_end) goto key_done;
        // The escaped byte is still part of the key and still folded.
        *q = static_cast<char>(map[static_cast<unsigned char>(*q)]);
        break;
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
  char* const key_end = q;
  char* value = key_end < text_end ? key_end + 1 : text_end;
  while (value < text_end && IsSpace(*value)) ++value;
  char* value_end = text_end;
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
  if (key_size > kMaxSize || value_size > kMaxSize) {
    Warn(DiagnosticKind::kOther, line, "line too long -- ignoring this line");
    return;
  }
  *key_end = '\0';
  *value_end = '\0';

  const char* key = begin;
  switch (options_.fold) {
    case FoldMode::kNone:
      break;
    case FoldMode::kAscii:
      break;  // lowered during the key scan
    case FoldMode::kUtf8:
      if (lower_now) break;  // all-ASCII line: lowered during the key scan
      if (IsAscii(std::string_view(begin, key_size))) {
        LowerAscii(begin, key_size);
        break;
      }
      if (Status s = FoldKey(std::string_view(begin, key_size), FoldMode::kUtf8,
                             &fold_scratch_);
          !s.ok()) {
        // Reached only with check_utf8 off: Postfix's dict_utf8 layer
        // skips such a key on update.
        Warn(DiagnosticKind::kNonUtf8, line,
             "non-UTF-8 input -- ignoring this line");
        return;
      }
      if (fold_scratch_.size() <= key_size) {
        // Same length or shorter: fold in place, NUL-terminated.
        std::memcpy(begin, fold_scratch_.data(), fold_scratch_.size());
        key_size = fold_scratch_.size();
        begin[key_size] = '\0';
      } else {
        if (fold_scratch_.size() > kMaxSize) {
          Warn(DiagnosticKind::kOther, line,
               "line too long -- ignoring this line");
          return;
        }
        key = out_->storage_->Keep(fold_scratch_);
        key_size = fold_scratch_.size();
      }
      break;
  }
  out_->entries_.emplace_back(key, static_cast<std::uint32_t>(key_size), value,
                              static_cast<std::uint32_t>(value_size), line);
}

namespace {

// Where buf[0, n) can be cut into two independent halves: the start of a
// physical line past the middle whose first byte is neither whitespace nor
// '#'. Such a line always begins a logical line (continuations start with
// whitespace; comments are skipped anywhere). nullptr: no such line.
char* SplitPoint(char* buf, std::size_t n) {
  char* const end = buf + n;
  char* p = buf + n / 2;
  while (p < end) {
    char* eol = static_cast<char*>(std::memchr(p, '\n', end - p));
    if (eol == nullptr || eol + 1 >= end) return nullptr;
    p = eol + 1;
    if (!IsSpace(*p) && *p != '#') return p;
  }
  return nullptr;
}

}  // namespace

void SourceParser::RunSplit(char* buf, std::size_t n,
                            const ParseOptions& options, ParsedMap* out) {
  // Below this the thread costs more than it saves.
  constexpr std::size_t kMinSplit = 8u << 20;
  char* cut = n >= kMinSplit ? SplitPoint(buf, n) : nullptr;
  if (cut == nullptr) {
    SourceParser(options, out).Run(buf, n);
    return;
  }
  // The second half gets its own ParsedMap for its entries, diagnostics
  // and grown keys; the bytes stay in the first one's buffer. Nothing in
  // the first half is written past `cut` (its last line ends in '\n').
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
  // 1M-line source that would be 16 MB more at the parse's peak).
  constexpr std::size_t kSlice = (std::size_t{2} << 20) / sizeof(Entry);
  const Entry* from = second.entries_.data();
  const std::size_t count = second.entries_.size();
  const std::size_t capacity_bytes = second.entries_.capacity() * sizeof(Entry);
  for (std::size_t begin = 0; begin < count; begin += kSlice) {
    const std::size_t end = std::min(count, begin + kSlice);
    for (std::size_t i = begin; i < end; ++i) {
      const Entry& e = from[i];
      out->entries_.emplace_back(e.key().data(),
                                 static_cast<std::uint32_t>(e.key().size()),
                                 e.value().data(),
                                 static_cast<std::uint32_t>(e.value().size()),
                                 e.line() + offset);
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
  ParsedMap map;
  map.storage_ = std::make_unique<ParsedMap::Storage>();
  // Moved into heap-allocated storage first: entries point into it, and
  // it must not move again (a short string lives inside the object).
  map.storage_->text = std::move(text);
  std::string& buf = map.storage_->text;
  RunSplit(buf.data(), buf.size(), options, &map);
  return map;
}

ParsedMap SourceParser::FromBuffer(PageBuffer buf,
                                   std::size_t size,
                                   const ParseOptions& options) {
  ParsedMap map;
  map.storage_ = std::make_unique<ParsedMap::Storage>();
  map.storage_->file = std::move(buf);
  RunSplit(map.storage_->file.data(), size, options, &map);
  return map;
}

void SourceParser::Chunk(char* buf, std::size_t n, const ParseOptions& options,
                         ParsedMap* map) {
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

void ParseMapChunk(char* buf, std::size_t n, const ParseOptions& options,
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

  // One allocation of the file's size plus two bytes: one for the NUL the
  // parser needs, one so the read() that returns 0 (EOF) has room. Pipes
  // and devices report no useful size; their buffer grows.
  std::size_t capacity = 64 * 1024;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    capacity = static_cast<std::size_t>(st.st_size) + 2;
  }
  PageBuffer buf;
  if (!buf.Grow(capacity, 0)) return Status::IoError("read " + path, ENOMEM);
  std::size_t size = 0;
  for (;;) {
    if (buf.capacity() - size < 2 && !buf.Grow(buf.capacity() * 2, size)) {
      return Status::IoError("read " + path, ENOMEM);
    }
    const ssize_t got =
        read(fd, buf.data() + size, buf.capacity() - size - 1);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + path, errno);
    }
    if (got == 0) break;
    size += static_cast<std::size_t>(got);
  }
  buf.data()[size] = '\0';

  return SourceParser::FromBuffer(std::move(buf), size, options);
}

}  // namespace mapctl
