// pattern_driver.cc - test-only: `postmap -q - TYPE:NAME` for regexp: and
// pcre: tables, through the library's pattern table, printing exactly what
// postmap 3.7 prints, so that interop/pattern_differential.py can compare
// the two byte for byte. Not installed; mapctl query takes over later.
//
//   pattern_driver [-c DIR] [-u] [--no-regsub] TYPE:NAME -
//
// Like postmap: load warnings first, then per key; "KEY<TAB>VALUE" for a
// hit; stdout leaves in 4096-byte blocks (VSTREAM's buffer), so a fatal
// query error loses what was not written yet; exit 0 when some key was
// found, 1 otherwise or on a fatal error.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "mapctl/config.h"
#include "postfix/pattern_table.h"

namespace {

using mapctl::pattern::PatternAnswer;
using mapctl::pattern::PatternOutcome;
using mapctl::pattern::PatternTable;
using mapctl::pattern::PatternType;

bool utf8_messages = true;  // Postfix's util_utf8_enable

// util/printable.c: what is not printable ASCII (nor, with UTF-8 on, a
// lead byte with continuation bytes) becomes '?'. Stops at NUL, as "%s".
std::string Printable(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && s[i] != '\0'; ++i) {
    auto ch = static_cast<unsigned char>(s[i]);
    auto cont = [&](std::size_t j) {
      return j < s.size() && static_cast<unsigned char>(s[j]) >= 0x80 &&
             static_cast<unsigned char>(s[j]) < 0xc0;
    };
    if (ch >= 0x20 && ch < 0x7f) {
      out.push_back(static_cast<char>(ch));
    } else if (utf8_messages && ch >= 194 && ch <= 254 && cont(i + 1)) {
      out.push_back(static_cast<char>(ch));
      while (cont(i + 1)) out.push_back(s[++i]);
    } else {
      out.push_back('?');
    }
  }
  return out;
}

void Log(const char* severity, std::string_view text) {
  std::string line =
      Printable(std::string("postmap: ") + severity + ": " + std::string(text));
  line.push_back('\n');
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

class Stdout {
 public:
  void Add(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= 4096) Write(buf_.size() / 4096 * 4096);
  }
  void Flush() { Write(buf_.size()); }

 private:
  void Write(std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      ssize_t w = write(STDOUT_FILENO, buf_.data() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    buf_.erase(0, n);
  }
  std::string buf_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: pattern_driver [-c DIR] [-u] [--no-regsub] "
               "regexp:NAME|pcre:NAME -\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_dir = "/etc/postfix";
  bool no_utf8 = false;
  mapctl::pattern::PatternOptions options;
  std::string table;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-c" && i + 1 < argc) {
      config_dir = argv[++i];
    } else if (a == "-u") {
      no_utf8 = true;
    } else if (a == "--no-regsub") {
      options.no_regsub = true;
    } else {
      break;
    }
  }
  if (argc - i != 2 || std::string_view(argv[i + 1]) != "-") return Usage();
  table = argv[i];

  mapctl::Result<mapctl::MainConfig> config =
      mapctl::MainConfig::Load(config_dir);
  if (!config) {
    Log("fatal", config.error().message());
    return 1;
  }
  utf8_messages = config->GetBool("smtputf8_enable");
  options.check_utf8 = mapctl::ChecksUtf8(*config, no_utf8);

  std::size_t colon = table.find(':');
  if (colon == std::string::npos) return Usage();
  std::string_view type_name = std::string_view(table).substr(0, colon);
  PatternType type;
  if (type_name == "pcre") {
    type = PatternType::kPcre;
  } else if (type_name == "regexp") {
    type = PatternType::kRegexp;
  } else {
    return Usage();
  }
  const std::string spec = table;
  std::unique_ptr<PatternTable> t;
  Stdout out;
  bool found = false;
  // One key; false after a fatal error (the unwritten part of stdout is
  // then lost, as with postmap).
  auto query = [&](std::string_view line) {
    if (t == nullptr) {
      // postmap opens its tables when the first key arrives: no key, no
      // table, not even an error for a missing file.
      auto opened = PatternTable::Open(
          type, std::string_view(table).substr(colon + 1), options);
      if (!opened) {
        Log("fatal", opened.error().message());
        return false;
      }
      t = std::move(opened).value();
      for (const auto& w : t->warnings()) Log("warning", w.postfix_text);
    }
    std::string_view key = line.substr(0, line.find('\0'));
    PatternAnswer a = t->Find(key);
    for (const auto& w : a.warnings) Log("warning", w.postfix_text);
    if (a.outcome == PatternOutcome::kError) {
      Log("fatal", "table " + spec + ": query error");
      return false;
    }
    if (a.outcome != PatternOutcome::kFound) return true;
    if (a.value.empty()) {
      Log("warning", "table " + spec + ": key " + std::string(key) +
                         ": empty string result is not allowed");
      Log("warning",
          "table " + spec + " should return NO RESULT in case of NOT FOUND");
    }
    std::string rec(key);
    rec.push_back('\t');
    rec.append(a.value);
    rec.push_back('\n');
    out.Add(rec);
    found = true;
    return true;
  };

  std::string pending;
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t pos = 0;
    for (std::size_t nl; (nl = pending.find('\n', pos)) != std::string::npos;
         pos = nl + 1) {
      if (!query(std::string_view(pending).substr(pos, nl - pos))) return 1;
    }
    pending.erase(0, pos);
  }
  if (!pending.empty() && !query(pending)) return 1;
  out.Flush();
  return found ? 0 : 1;
}
