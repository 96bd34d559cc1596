// consumer.cc - a program built against the *installed* libmapctl through
// pkg-config (like RE2's testinstall): parse a source, build a table, read
// it back through the public API only.

#include <mapctl/source.h>
#include <mapctl/table.h>
#include <mapctl/version.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string base = argv[1];
  mapctl::ParseOptions parse;
  parse.origin = "consumer";
  mapctl::ParsedMap parsed = mapctl::ParseMapText(
      "Alice@Example.COM [relay.example.net]:587\n", parse);
  mapctl::TableSpec spec{mapctl::TableType::kLmdb, base};
  mapctl::BuildOptions options;
  auto plan = mapctl::PlanBuild(spec, parsed.entries(), options, "consumer");
  if (!plan) return 1;
  mapctl::SourceFileInfo source;
  if (auto s = mapctl::WriteTable(spec, parsed.entries(), *plan, options,
                                  source);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  auto reader = mapctl::OpenTable(spec, mapctl::OpenOptions{});
  if (!reader) return 1;
  auto unit = (*reader)->Begin();
  if (!unit) return 1;
  mapctl::TableLookup lookup(mapctl::FoldMode::kUtf8,
                             mapctl::NulMode::kDefault, true);
  auto value = lookup.Find(**unit, "ALICE@example.com");
  if (!value || !value->has_value()) return 1;
  std::printf("%s %.*s\n", MAPCTL_VERSION, static_cast<int>((*value)->size()),
              (*value)->data());
  return **value == "[relay.example.net]:587" ? 0 : 1;
}
