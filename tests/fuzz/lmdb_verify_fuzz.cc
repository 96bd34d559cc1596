// lmdb_verify_fuzz.cc - libFuzzer target: mapctl's LMDB page walk
// (VerifyLmdbImage, what `mapctl verify` and `dump` run) on any bytes.
//
// The walk must never crash or read outside the image. And what it
// passes, LMDB must be able to read: an input with no problems is
// written to a file and read through OpenTable() (a scan and a lookup of
// every key), so a crash inside LMDB there means the walk missed damage.
// Seeds: tables written by mapctl and postmap (make_seeds.sh), a few
// pages each, so that mutations reach the tree walk and not just the
// meta pages. docs/fuzzing.md says how to build and run it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/table.h"
#include "tables/lmdb_handle.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::vector<std::string> problems;
  mapctl::lmdb::VerifyLmdbImage(data, size, &problems);
  if (!problems.empty()) return 0;

  static const std::string path = mapctl::fuzz::ScratchPath("lmdb_verify");
  if (!mapctl::fuzz::WriteWholeFile(path + ".lmdb", data, size)) return 0;
  mapctl::TableSpec spec{mapctl::TableType::kLmdb, path};
  // VerifyTable() is the file-level entry: the same walk after the checks
  // made before LMDB sees a file. It must agree with the image walk.
  problems.clear();
  if (mapctl::VerifyTable(spec, &problems).ok()) {
    mapctl::fuzz::Check(problems.empty(),
                        "VerifyTable finds problems the image walk does not");
  }
  mapctl::fuzz::ReadEverything(spec, size);
  mapctl::fuzz::RemoveFile(path + ".lmdb");
  return 0;
}
