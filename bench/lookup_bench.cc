// lookup_bench.cc - TableLookup::Find against a raw mdb_get, same table.
//
// Both probe the same keys (half present) inside one read unit / one read
// transaction, so the difference is mapctl's per-query work: folding, the
// NUL probing of Postfix's dict layer and the Result plumbing.

#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"

namespace {

constexpr int kEntries = 200000;

struct Fixture {
  std::string dir;
  mapctl::TableSpec spec;
  std::vector<std::string> probes;  // as typed: mixed case, half absent
};

const Fixture& Table() {
  static Fixture f;
  if (!f.probes.empty()) return f;
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "mapctl-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  f.dir = tmpl;
  f.spec = {mapctl::TableType::kLmdb, f.dir + "/t"};
  std::deque<std::string> store;
  std::vector<mapctl::Entry> entries;
  for (int i = 0; i < kEntries; ++i) {
    const std::string k = "user" + std::to_string(i) + "@tenant" +
                          std::to_string(i % 97) + ".example.com";
    const std::string v =
        "[smtp" + std::to_string(i % 13) + ".relay.example.net]:587";
    store.push_back(k + '\t' + v);  // value after key, as Entry wants
    const char* line = store.back().data();
    entries.emplace_back(line, static_cast<std::uint32_t>(k.size()),
                         line + k.size() + 1,
                         static_cast<std::uint32_t>(v.size()), i + 1);
  }
  auto plan = mapctl::PlanBuild(f.spec, entries, {}, "bench");
  if (!plan || !mapctl::WriteLmdbTable(f.spec, entries, *plan, {}, {}).ok()) {
    std::abort();
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 4096; ++i) {
    int n = static_cast<int>(rng() % (2 * kEntries));  // >= kEntries: absent
    f.probes.push_back("User" + std::to_string(n) + "@Tenant" +
                       std::to_string(n % 97) + ".example.com");
  }
  return f;
}

void BM_TableLookupFind(benchmark::State& state) {
  const Fixture& f = Table();
  auto reader = mapctl::OpenLmdbTable(f.spec);
  auto unit = (*reader)->Begin();
  mapctl::TableLookup lookup(mapctl::FoldMode::kUtf8, mapctl::NulMode::kDefault,
                             true);
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    auto r = lookup.Find(**unit, f.probes[i++ & 4095]);
    hits += r && r->has_value();
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableLookupFind);

void BM_ReadUnitGetRaw(benchmark::State& state) {
  const Fixture& f = Table();
  std::vector<std::string> folded;
  for (const std::string& p : f.probes) {
    std::string s = p;
    for (char& c : s) c = static_cast<char>(std::tolower(c));
    folded.push_back(s + '\0');
  }
  auto reader = mapctl::OpenLmdbTable(f.spec);
  auto unit = (*reader)->Begin();
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    auto r = (*unit)->GetRaw(folded[i++ & 4095]);
    hits += r && r->has_value();
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadUnitGetRaw);

void BM_RawMdbGet(benchmark::State& state) {
  const Fixture& f = Table();
  std::vector<std::string> folded;
  for (const std::string& p : f.probes) {
    std::string s = p;
    for (char& c : s) c = static_cast<char>(std::tolower(c));
    folded.push_back(s + '\0');
  }
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, 1ull << 30);
  const std::string file = f.spec.path + ".lmdb";
  if (mdb_env_open(env, file.c_str(), MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK,
                   0644) != 0) {
    state.SkipWithError("mdb_env_open");
    return;
  }
  MDB_txn* txn = nullptr;
  mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_dbi dbi;
  mdb_dbi_open(txn, nullptr, 0, &dbi);
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    const std::string& k = folded[i++ & 4095];
    MDB_val key{k.size(), const_cast<char*>(k.data())}, val;
    hits += mdb_get(txn, dbi, &key, &val) == 0;
  }
  benchmark::DoNotOptimize(hits);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawMdbGet);

}  // namespace

BENCHMARK_MAIN();
