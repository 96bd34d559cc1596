// seed_writer.cc - writes small tables of every type with mapctl's own
// writers, as seeds for the verify fuzz targets; make_seeds.sh runs it and
// adds postmap's tables. Binary seeds are made here, not committed.
//
// Usage: seed_writer OUTDIR
// Writes OUTDIR/{lmdb_verify,cdb_verify,bdb_verify}/NAME.{lmdb,cdb,db}:
// an almost empty table, a few entries, enough entries for branch pages,
// and a value large enough for LMDB overflow pages.

#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/table.h"

namespace {

struct Seed {
  const char* name;
  std::string text;
};

std::vector<Seed> Seeds() {
  std::vector<Seed> seeds;
  seeds.push_back({"one", "postmaster root\n"});
  seeds.push_back({"few",
                   "alice@example.com [relay.example.com]:587\n"
                   "@example.org relay.example.org\n"
                   "bob@example.net user:secret\n"
                   "\"quoted key\"@example.com DUNNO\n"});
  std::string many;
  for (int i = 0; i < 120; ++i) {
    many += "user" + std::to_string(i * 37 % 120) + "@example.com value" +
            std::to_string(i) + "\n";
  }
  seeds.push_back({"many", many});
  seeds.push_back({"big_value", "big " + std::string(5000, 'v') + "\n" +
                                    "small value\n"});
  return seeds;
}

bool Write(const std::string& dir, mapctl::TableType type, const Seed& seed) {
  mapctl::ParseOptions po;
  po.origin = seed.name;
  mapctl::ParsedMap parsed = mapctl::ParseMapText(seed.text, po);
  mapctl::TableSpec spec{type, dir + "/mapctl_" + seed.name + "_" +
                                   std::string(mapctl::TableTypeName(type))};
  mapctl::BuildOptions bo;
  bo.copy_source_mode = false;
  bo.take_source_owner = false;
  mapctl::Result<mapctl::BuildPlan> plan =
      mapctl::PlanBuild(spec, parsed.entries(), bo, seed.name);
  mapctl::Status st =
      plan ? mapctl::WriteTable(spec, parsed.entries(), *plan, bo, {})
           : plan.error();
  if (!st.ok()) {
    std::fprintf(stderr, "seed_writer: %s: %s\n", spec.ToString().c_str(),
                 st.ToString().c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seed_writer OUTDIR\n");
    return 2;
  }
  const std::string out = argv[1];
  struct Target {
    const char* dir;
    std::vector<mapctl::TableType> types;
  };
  const Target targets[] = {
      {"lmdb_verify", {mapctl::TableType::kLmdb}},
      {"cdb_verify", {mapctl::TableType::kCdb}},
      {"bdb_verify", {mapctl::TableType::kHash, mapctl::TableType::kBtree}},
  };
  bool ok = true;
  for (const Target& t : targets) {
    const std::string dir = out + "/" + t.dir;
    mkdir(out.c_str(), 0755);
    mkdir(dir.c_str(), 0755);
    for (mapctl::TableType type : t.types) {
      if (!mapctl::CheckWritable(type).ok()) continue;  // no Berkeley DB
      for (const Seed& s : Seeds()) ok = Write(dir, type, s) && ok;
    }
  }
  return ok ? 0 : 1;
}
