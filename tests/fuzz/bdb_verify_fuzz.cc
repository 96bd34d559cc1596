// bdb_verify_fuzz.cc - libFuzzer target: `mapctl verify` of Berkeley DB
// hash: and btree: files on any bytes.
//
// Each input is written to a file and verified as both types through
// VerifyTable(): mapctl's metadata check (bdb_meta.h), then libdb's own
// DB->verify. An input that passes is read through OpenTable() (a scan and
// a lookup of every key). libdb is not instrumented, so coverage only
// counts mapctl's side of the calls; a crash inside libdb is documented in
// docs/fuzzing.md, with the check that could catch it before the call.
// libdb leaks in DB->verify: run with tests/sanitizers/lsan.supp (run_seeds.sh does).
// Seeds: small tables written by mapctl and postmap (make_seeds.sh).
// Without Berkeley DB support (-Dbdb=disabled) every input is refused
// before any file is written, which is still a valid, if dull, run.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static const std::string path = mapctl::fuzz::ScratchPath("bdb_verify");
  if (!mapctl::fuzz::WriteWholeFile(path + ".db", data, size)) return 0;
  for (mapctl::TableType type :
       {mapctl::TableType::kHash, mapctl::TableType::kBtree}) {
    mapctl::TableSpec spec{type, path};
    std::vector<std::string> problems;
    mapctl::Status st = mapctl::VerifyTable(spec, &problems);
    if (st.ok() && problems.empty()) {
      mapctl::fuzz::ReadEverything(spec, size);
    }
  }
  mapctl::fuzz::RemoveFile(path + ".db");
  return 0;
}
