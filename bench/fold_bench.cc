// fold_bench.cc - cost of FoldKey and of the UTF-8 checks per key and per
// byte, on keys shaped like sender addresses.

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "mapctl/fold.h"

namespace {

std::vector<std::string> MakeKeys(int count, bool non_ascii) {
  std::mt19937 rng(7);  // fixed seed
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const unsigned r = rng();
    std::string key = (r & 1) != 0 ? "User" : "user";
    if (non_ascii)
      key += "\xC3\x84rger.\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x9F\xCE\xA3";
    key += std::to_string(100000 + i) + "@Tenant" + std::to_string(r % 97) +
           ".example" + std::to_string(r % 13) + ".com";
    keys.push_back(std::move(key));
  }
  return keys;
}

void RunFold(benchmark::State& state, bool non_ascii, mapctl::FoldMode mode) {
  const std::vector<std::string> keys =
      MakeKeys(static_cast<int>(state.range(0)), non_ascii);
  int64_t bytes = 0;
  for (const std::string& k : keys) bytes += static_cast<int64_t>(k.size());
  std::string out;
  for (auto _ : state) {
    for (const std::string& k : keys) {
      mapctl::Status s = mapctl::FoldKey(k, mode, &out);
      benchmark::DoNotOptimize(s);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_FoldAsciiKeys(benchmark::State& state) {
  RunFold(state, false, mapctl::FoldMode::kUtf8);
}
BENCHMARK(BM_FoldAsciiKeys)->RangeMultiplier(10)->Range(100, 100'000);

void BM_FoldNonAsciiKeysWithIcu(benchmark::State& state) {
  RunFold(state, true, mapctl::FoldMode::kUtf8);
}
BENCHMARK(BM_FoldNonAsciiKeysWithIcu)->RangeMultiplier(10)->Range(100, 100'000);

void BM_FoldNonAsciiKeysAsciiOnly(benchmark::State& state) {
  RunFold(state, true, mapctl::FoldMode::kAscii);
}
BENCHMARK(BM_FoldNonAsciiKeysAsciiOnly)->Arg(100'000);

void RunCheck(benchmark::State& state, bool non_ascii, bool utf8) {
  std::string text;
  for (const std::string& k :
       MakeKeys(static_cast<int>(state.range(0)), non_ascii)) {
    text += k;
    text += '\n';
  }
  for (auto _ : state) {
    bool ok = utf8 ? mapctl::IsValidUtf8(text) : mapctl::IsAscii(text);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
}

void BM_IsValidUtf8Ascii(benchmark::State& state) {
  RunCheck(state, false, true);
}
BENCHMARK(BM_IsValidUtf8Ascii)->Arg(100'000);

void BM_IsValidUtf8NonAscii(benchmark::State& state) {
  RunCheck(state, true, true);
}
BENCHMARK(BM_IsValidUtf8NonAscii)->Arg(100'000);

void BM_IsAscii(benchmark::State& state) { RunCheck(state, false, false); }
BENCHMARK(BM_IsAscii)->Arg(100'000);

}  // namespace

BENCHMARK_MAIN();
