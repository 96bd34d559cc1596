// sender_bench.cc - ns per sender resolution and per table probe, against
// a raw LMDB get on the same table.
//
// Two lmdb tables (relay and SASL) of MAPCTL_BENCH_ENTRIES entries each
// (default 200000) are built once in a temporary directory. Senders mix
// full-key hits, @domain hits and misses. Read units are ended every
// kBatch resolutions, as the CLI would between batches.

#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/map_list.h"
#include "mapctl/sender.h"
#include "mapctl/source.h"
#include "mapctl/table.h"

namespace mapctl {
namespace {

constexpr int kBatch = 1000;

struct Fixture {
  std::string dir;
  std::size_t entries = 200000;
  std::vector<std::string> senders;
  std::vector<std::string> probe_keys;
  bool ok = false;
  std::string error;

  Fixture() {
    if (const char* n = getenv("MAPCTL_BENCH_ENTRIES")) entries = std::stoul(n);
    char tmpl[] = "/tmp/mapctl-sender-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = tmpl;
    if (!Build("relay",
               [](std::size_t i) {
                 return "user" + std::to_string(i) + "@dom" +
                        std::to_string(i % 997) + ".example\t[relay" +
                        std::to_string(i % 13) + ".example]:587\n";
               }) ||
        !Build("sasl", [](std::size_t i) {
          return "user" + std::to_string(i) + "@dom" + std::to_string(i % 997) +
                 ".example\tu" + std::to_string(i) + ":p" + std::to_string(i) +
                 "\n";
        })) {
      return;
    }
    for (std::size_t i = 0; i < 4096; ++i) {
      std::size_t n = (i * 7919) % entries;
      std::string dom = "@dom" + std::to_string(n % 997) + ".example";
      switch (i % 4) {
        case 0:  // full hit
          senders.push_back("user" + std::to_string(n) + dom);
          break;
        case 1:  // extension, noext hit
          senders.push_back("user" + std::to_string(n) + "+tag" + dom);
          break;
        default:  // miss: every key is tried
          senders.push_back("nobody" + std::to_string(n) + "@else.example");
      }
      probe_keys.push_back("user" + std::to_string(n) + dom);
    }
    ok = true;
  }
  ~Fixture() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  template <typename Line>
  bool Build(const std::string& name, Line line) {
    std::string text;
    for (std::size_t i = 0; i < entries; ++i) text += line(i);
    ParseOptions po;
    po.origin = name;
    ParsedMap parsed = ParseMapText(std::move(text), po);
    TableSpec spec{TableType::kLmdb, dir + "/" + name};
    BuildOptions bo;
    Result<BuildPlan> plan = PlanBuild(spec, parsed.entries(), bo, name);
    if (!plan) {
      error = plan.error().ToString();
      return false;
    }
    Status s = WriteTable(spec, parsed.entries(), *plan, bo, SourceFileInfo{});
    if (!s.ok()) error = s.ToString();
    return s.ok();
  }
};

Fixture& Get() {
  static Fixture f;
  return f;
}

MainConfig Config(const Fixture& f) {
  MainConfig c;
  c.Set("compatibility_level", "3.6");
  c.Set("myorigin", "local.example");
  c.Set("mydestination", "local.example, localhost");
  c.Set("recipient_delimiter", "+");
  c.Set("relayhost", "[default.example]:587");
  c.Set("sender_dependent_relayhost_maps", "lmdb:" + f.dir + "/relay");
  c.Set("smtp_sasl_auth_enable", "yes");
  c.Set("smtp_sender_dependent_authentication", "yes");
  c.Set("smtp_sasl_password_maps", "lmdb:" + f.dir + "/sasl");
  return c;
}

void BM_SenderResolve(benchmark::State& state) {
  Fixture& f = Get();
  if (!f.ok) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  Result<std::unique_ptr<SenderResolver>> r =
      SenderResolver::Create(Config(f), SenderResolverOptions{});
  if (!r) {
    state.SkipWithError(r.error().ToString().c_str());
    return;
  }
  SenderResolver& resolver = **r;
  SenderResolution out;
  std::size_t i = 0;
  std::size_t probes = 0;
  for (auto _ : state) {
    Status s = resolver.Resolve(f.senders[i % f.senders.size()], "", &out);
    benchmark::DoNotOptimize(s);
    probes += out.tried.size();
    if (++i % kBatch == 0) resolver.EndBatch();
  }
  resolver.EndBatch();
  state.SetItemsProcessed(state.iterations());
  state.counters["probes/resolution"] =
      static_cast<double>(probes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SenderResolve);

void BM_MapListProbe(benchmark::State& state) {
  Fixture& f = Get();
  if (!f.ok) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  TableContext o;
  Result<MapList> l = MapList::Parse("bench", "lmdb:" + f.dir + "/relay", o);
  if (!l) {
    state.SkipWithError(l.error().ToString().c_str());
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Answer p = l->Find(0, f.probe_keys[i % f.probe_keys.size()], false);
    benchmark::DoNotOptimize(p.value);
    if (++i % kBatch == 0) l->EndBatch();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MapListProbe);

void BM_RawLmdbGet(benchmark::State& state) {
  Fixture& f = Get();
  if (!f.ok) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  Result<std::unique_ptr<TableReader>> reader =
      OpenTable(TableSpec{TableType::kLmdb, f.dir + "/relay"}, OpenOptions{});
  if (!reader) {
    state.SkipWithError(reader.error().ToString().c_str());
    return;
  }
  std::vector<std::string> keys;
  for (const std::string& k : f.probe_keys) keys.push_back(k + '\0');
  std::unique_ptr<ReadUnit> unit;
  std::size_t i = 0;
  for (auto _ : state) {
    if (!unit) {
      Result<std::unique_ptr<ReadUnit>> u = (*reader)->Begin();
      if (!u) {
        state.SkipWithError(u.error().ToString().c_str());
        return;
      }
      unit = std::move(*u);
    }
    auto v = unit->GetRaw(keys[i % keys.size()]);
    benchmark::DoNotOptimize(v);
    if (++i % kBatch == 0) unit.reset();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawLmdbGet);

}  // namespace
}  // namespace mapctl

BENCHMARK_MAIN();
