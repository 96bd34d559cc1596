// lmdb_verify_fuzz.cc - libFuzzer target: VerifyLmdbImage on any bytes.
//
// Not built by meson. Build and run by hand from the source root:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -Ilibmaps/include -Ilibmaps tests/fuzz/lmdb_verify_fuzz.cc \
//     libmaps/lmdb_verify.cc libmaps/lmdb_handle.cc libmaps/status.cc \
//     -llmdb -o /tmp/lmdb_verify_fuzz
//   mkdir -p /tmp/lmdb_corpus && cp SOME.lmdb /tmp/lmdb_corpus/
//   /tmp/lmdb_verify_fuzz -max_len=65536 -max_total_time=300 /tmp/lmdb_corpus
// Seed the corpus with small tables from mapctl and postmap (a few pages
// each) so that mutations reach the tree walk, not just the meta checks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tables/lmdb_handle.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::vector<std::string> problems;
  mapctl::lmdb::VerifyLmdbImage(data, size, &problems);
  return 0;
}
