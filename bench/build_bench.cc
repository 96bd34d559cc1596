// build_bench.cc - PlanBuild and WriteLmdbTable on sender-map-shaped input.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/table_backends.h"

namespace {

// "user123456@tenant42.example7.com" -> "[smtp12.relay.example.net]:587",
// unique keys in random order, each string NUL-terminated in one buffer.
struct Input {
  std::string buffer;
  std::vector<mapctl::Entry> entries;
};

const Input& MakeInput(int n) {
  static Input in;
  if (!in.entries.empty()) return in;
  std::mt19937 rng(1);
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (int i = 0; i < n; ++i) {
    std::size_t k = in.buffer.size();
    in.buffer += "user" + std::to_string(rng() % 900000000 + 100000000) + "@" +
                 std::to_string(i) + "tenant" + std::to_string(rng() % 10000) +
                 ".example" + std::to_string(rng() % 100) + ".com";
    std::size_t ks = in.buffer.size() - k;
    in.buffer += '\0';
    std::size_t v = in.buffer.size();
    in.buffer +=
        "[smtp" + std::to_string(rng() % 100) + ".relay.example.net]:587";
    std::size_t vs = in.buffer.size() - v;
    in.buffer += '\0';
    spans.push_back({k, ks});
    spans.push_back({v, vs});
  }
  for (int i = 0; i < n; ++i) {
    auto [k, ks] = spans[2 * i];
    auto [v, vs] = spans[2 * i + 1];
    in.entries.emplace_back(
        in.buffer.data() + k, static_cast<std::uint32_t>(ks),
        in.buffer.data() + v, static_cast<std::uint32_t>(vs),
        static_cast<std::uint32_t>(i + 1));
  }
  return in;
}

std::string ScratchDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "mapctl-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

void BM_PlanBuild(benchmark::State& state) {
  const Input& in = MakeInput(100000);
  mapctl::TableSpec spec{mapctl::TableType::kLmdb, "unused"};
  for (auto _ : state) {
    auto plan = mapctl::PlanBuild(spec, in.entries, {}, "bench");
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * in.entries.size());
}
BENCHMARK(BM_PlanBuild)->Unit(benchmark::kMillisecond);

void BM_PlanAndWriteLmdb(benchmark::State& state) {
  const Input& in = MakeInput(100000);
  const std::string dir = ScratchDir();
  mapctl::TableSpec spec{mapctl::TableType::kLmdb, dir + "/t"};
  mapctl::SourceFileInfo source;
  for (auto _ : state) {
    auto plan = mapctl::PlanBuild(spec, in.entries, {}, "bench");
    mapctl::Status st =
        mapctl::WriteLmdbTable(spec, in.entries, *plan, {}, source);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * in.entries.size());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PlanAndWriteLmdb)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
