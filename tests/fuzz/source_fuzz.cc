// source_fuzz.cc - libFuzzer target for the map source parser
// (docs/fuzzing.md says how to build and run it).
//
// Checks the parser's invariants on arbitrary bytes in every mode: no
// crash, entries have a non-empty key and value without NUL or
// line-ending bytes inside the key, and keys are already folded (folding
// again changes nothing).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mapctl/fold.h"
#include "mapctl/source.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void ParseIn(const std::string& text, mapctl::FoldMode fold, bool check_utf8) {
  mapctl::ParseOptions options;
  options.origin = "fuzz";
  options.fold = fold;
  options.check_utf8 = check_utf8;
  mapctl::ParsedMap parsed = mapctl::ParseMapText(text, options);
  std::string refolded;
  for (const mapctl::Entry& e : parsed.entries()) {
    Check(!e.key().empty());
    Check(!e.value().empty());
    Check(e.key().find('\0') == std::string_view::npos);
    Check(e.value().find('\0') == std::string_view::npos);
    Check(e.key().find('\n') == std::string_view::npos);
    Check(e.line() >= 1 && e.line() <= parsed.line_count());
    if (fold != mapctl::FoldMode::kNone) {
      if (mapctl::FoldKey(e.key(), fold, &refolded).ok()) {
        Check(refolded == e.key());
      }
    }
  }
  for (const mapctl::Diagnostic& d : parsed.diagnostics()) {
    Check(d.line <= parsed.line_count() + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ParseIn(text, mapctl::FoldMode::kUtf8, true);
  ParseIn(text, mapctl::FoldMode::kAscii, false);
  ParseIn(text, mapctl::FoldMode::kNone, true);
  return 0;
}
