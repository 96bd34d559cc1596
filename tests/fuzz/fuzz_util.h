// fuzz_util.h - helpers shared by the libFuzzer targets (header only, so
// each target stays one .cc file). Only public mapctl headers.

#ifndef MAPCTL_TESTS_FUZZ_FUZZ_UTIL_H_
#define MAPCTL_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/table.h"

namespace mapctl::fuzz {

// A broken invariant is a finding: say which and abort, so libFuzzer
// saves the input.
inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// A file name for this process's scratch table: in /dev/shm when it is
// writable (a table is written per input), else /tmp. No suffix.
inline std::string ScratchPath(std::string_view target) {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/" + std::string(target) + "." +
         std::to_string(getpid());
}

// The file is removed again at the end of each input (RemoveFile), so
// that nothing is left behind however the run ends.
inline bool WriteWholeFile(const std::string& path, const std::uint8_t* data,
                           std::size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

inline void RemoveFile(const std::string& path) { unlink(path.c_str()); }

// Reads a table as the CLI does: OpenTable(), a scan in short units, then
// an exact lookup of every key the scan saw and of one absent key. Errors
// are fine (the file is damaged); crashes, sanitizer reports and a scan
// that never ends are findings. `max_entries` bounds the scan: more
// entries than the file has bytes means it goes round in circles.
inline void ReadEverything(const TableSpec& spec, std::size_t max_entries) {
  Result<std::unique_ptr<TableReader>> reader = OpenTable(spec, {});
  if (!reader) return;
  std::vector<std::string> keys;
  ScanCursor cursor;
  for (std::size_t units = 0; !cursor.done; ++units) {
    Check(units <= max_entries, "a table scan does not end");
    Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
    if (!unit) return;
    Status st = (*unit)->Scan(cursor, 64,
                              [&keys](std::string_view k, std::string_view) {
                                keys.emplace_back(k);
                                return true;
                              });
    if (!st.ok()) break;
    Check(keys.size() <= max_entries, "a table scan returns more entries "
                                      "than the file can hold");
  }
  keys.emplace_back("absent key");
  Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
  if (!unit) return;
  TableLookup lookup(FoldMode::kNone, NulMode::kDefault, false);
  for (const std::string& k : keys) {
    (void)(*unit)->GetRaw(k);
    (void)lookup.Find(**unit, k);
  }
}

// The parts of a structured input, split at lines that are exactly "%%";
// missing parts are empty. Seeds stay readable text this way.
inline std::vector<std::string_view> Sections(std::string_view input,
                                              std::size_t count) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < count) {
    std::size_t at = input.substr(0, 3) == "%%\n" ? 0 : input.find("\n%%\n");
    if (at == std::string_view::npos) break;
    std::size_t skip = at == 0 && input.substr(0, 3) == "%%\n" ? 3 : 4;
    out.push_back(input.substr(0, at));
    input.remove_prefix(at + skip);
  }
  out.push_back(input);
  out.resize(count);
  return out;
}

}  // namespace mapctl::fuzz

#endif  // MAPCTL_TESTS_FUZZ_FUZZ_UTIL_H_
