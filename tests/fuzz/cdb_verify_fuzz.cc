// cdb_verify_fuzz.cc - libFuzzer target: the cdb verifier and reader on
// any bytes.
//
// Each input is verified in memory (VerifyCdbImage, what `mapctl verify`
// runs), then written to a file and read through OpenTable(): a scan and
// a lookup of every key it saw. Unlike LMDB, mapctl reads cdb files with
// its own code, so the reader must survive damaged files too, verified or
// not. Seeds: small tables from mapctl and postmap (make_seeds.sh) and the
// committed hand-made ones, so that mutations reach the record walk and
// the hash slots, not just the header. docs/fuzzing.md says how to build
// and run it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/table.h"
#include "tables/table_backends.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::vector<std::string> problems;
  mapctl::cdb::VerifyCdbImage(data, size, &problems);

  static const std::string path = mapctl::fuzz::ScratchPath("cdb_verify");
  if (!mapctl::fuzz::WriteWholeFile(path + ".cdb", data, size)) return 0;
  mapctl::fuzz::ReadEverything({mapctl::TableType::kCdb, path}, size);
  mapctl::fuzz::RemoveFile(path + ".cdb");
  return 0;
}
