// parse_bench.cc - throughput of the map source parser on synthetic
// sender_dependent_relayhost_maps-shaped sources.
//
// Each iteration copies the text (ParseMapText parses in place, so it needs
// a fresh buffer); the copy is a memcpy and is included in the timings.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "mapctl/source.h"

namespace {

// "user123456@tenant42.example7.com [smtp12.relay.example.net]:587", with
// some upper case so that folding has work to do. `non_ascii` puts an
// umlaut and a sharp s in every key (the ICU path; the key grows).
std::string MakeSenderMap(int entries, bool non_ascii) {
  std::mt19937 rng(42);  // fixed seed: every run parses the same bytes
  std::string text;
  text.reserve(static_cast<std::size_t>(entries) * 72);
  for (int i = 0; i < entries; ++i) {
    const unsigned r = rng();
    text += (r & 1) != 0 ? "User" : "user";
    if (non_ascii)
      text +=
          "J\xC3\xBCrgen.Stra\xC3\x9F"
          "e";
    text += std::to_string(100000 + i);
    text += "@tenant" + std::to_string(r % 97);
    text += (r & 2) != 0 ? ".Example" : ".example";
    text += std::to_string(r % 13) + ".com [smtp" + std::to_string(r % 31) +
            ".relay.example.net]:587\n";
    if (r % 50 == 0) text += "# rotated " + std::to_string(i) + "\n";
  }
  return text;
}

mapctl::ParseOptions Options(mapctl::FoldMode fold) {
  mapctl::ParseOptions o;
  o.origin = "bench";
  o.fold = fold;
  return o;
}

void RunParse(benchmark::State& state, bool non_ascii, mapctl::FoldMode fold) {
  const std::string text =
      MakeSenderMap(static_cast<int>(state.range(0)), non_ascii);
  const mapctl::ParseOptions options = Options(fold);
  for (auto _ : state) {
    mapctl::ParsedMap parsed = mapctl::ParseMapText(text, options);
    benchmark::DoNotOptimize(parsed.entries().data());
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ParseSenderMap(benchmark::State& state) {
  RunParse(state, false, mapctl::FoldMode::kUtf8);
}
BENCHMARK(BM_ParseSenderMap)->RangeMultiplier(10)->Range(100, 100'000);

void BM_ParseSenderMapNonAsciiKeys(benchmark::State& state) {
  RunParse(state, true, mapctl::FoldMode::kUtf8);
}
BENCHMARK(BM_ParseSenderMapNonAsciiKeys)
    ->RangeMultiplier(10)
    ->Range(100, 100'000);

void BM_ParseSenderMapAsciiFold(benchmark::State& state) {
  RunParse(state, true, mapctl::FoldMode::kAscii);
}
BENCHMARK(BM_ParseSenderMapAsciiFold)->Arg(100'000);

void BM_ParseSenderMapNoFold(benchmark::State& state) {
  RunParse(state, false, mapctl::FoldMode::kNone);
}
BENCHMARK(BM_ParseSenderMapNoFold)->Arg(100'000);

// Every entry spread over three physical lines with a comment between:
// the in-place compaction path.
void BM_ParseContinuationLines(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < state.range(0); ++i) {
    text += "user" + std::to_string(i) + "@example.com\n  [smtp" +
            std::to_string(i % 31) + ".relay.example.net]:587\n# note\n" +
            "\tbackup.example.net\n";
  }
  const mapctl::ParseOptions options = Options(mapctl::FoldMode::kUtf8);
  for (auto _ : state) {
    mapctl::ParsedMap parsed = mapctl::ParseMapText(text, options);
    benchmark::DoNotOptimize(parsed.entries().data());
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseContinuationLines)->Arg(100'000);

// ParseMapFile: one read() into a buffer sized from fstat, then the parse.
void BM_ParseSenderMapFile(benchmark::State& state) {
  const std::string text =
      MakeSenderMap(static_cast<int>(state.range(0)), false);
  char path[] = "/tmp/mapctl-parse-bench-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0 || write(fd, text.data(), text.size()) !=
                    static_cast<ssize_t>(text.size())) {
    state.SkipWithError("cannot write the temporary source");
    return;
  }
  close(fd);
  const mapctl::ParseOptions options = Options(mapctl::FoldMode::kUtf8);
  for (auto _ : state) {
    auto parsed = mapctl::ParseMapFile(path, options);
    if (!parsed) {
      state.SkipWithError(parsed.error().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed->entries().data());
  }
  unlink(path);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseSenderMapFile)->Arg(100'000);

}  // namespace

BENCHMARK_MAIN();
