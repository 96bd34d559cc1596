// cdb_verify_fuzz.cc - libFuzzer target: the cdb verifier and reader on
// any bytes.
//
// Build as source_fuzz.cc says (meson -Dfuzzers=true with clang), or by
// hand from the source root:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -Ilibmaps/include -Ilibmaps tests/fuzz/cdb_verify_fuzz.cc \
//     libmaps/cdb_table.cc libmaps/atomic_file.cc libmaps/table.cc \
//     libmaps/status.cc ... -lcdb -o /tmp/cdb_verify_fuzz
//   mkdir -p /tmp/cdb_corpus && cp SMALL.cdb /tmp/cdb_corpus/
//   /tmp/cdb_verify_fuzz -max_len=16384 -max_total_time=300 /tmp/cdb_corpus
// Seed with small tables from mapctl, postmap and `cdb -c` so mutations
// reach the record walk and the slots, not just the header checks.
//
// Each input is verified in memory, then written to a file and read
// through OpenTable(): lookups of the keys the walk can see and a full
// scan must return an error or a value, never crash or read outside the
// file.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"

namespace {

std::string ScratchPath() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/cdb_verify_fuzz." + std::to_string(getpid());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::vector<std::string> problems;
  mapctl::cdb::VerifyCdbImage(data, size, &problems);

  static const std::string path = ScratchPath();
  FILE* f = std::fopen((path + ".cdb").c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  mapctl::TableSpec spec{mapctl::TableType::kCdb, path};
  mapctl::Result<std::unique_ptr<mapctl::TableReader>> reader =
      mapctl::OpenTable(spec, {});
  if (!reader) return 0;
  mapctl::Result<std::unique_ptr<mapctl::ReadUnit>> unit = (*reader)->Begin();
  if (!unit) return 0;
  std::vector<std::string> keys;
  mapctl::ScanCursor cursor;
  (void)(*unit)->Scan(cursor, 64,
                      [&keys](std::string_view k, std::string_view) {
                        keys.emplace_back(k);
                        return true;
                      });
  keys.emplace_back("absent");
  for (const std::string& k : keys) (void)(*unit)->GetRaw(k);
  return 0;
}
