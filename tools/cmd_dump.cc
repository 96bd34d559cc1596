// cmd_dump.cc - `mapctl dump TABLE...`: postmap -s, in bounded chunks.
//
// Each chunk is read under one read unit (the shared lock and one
// snapshot), copied out, and written after the unit ends, so a dump into a
// blocked pipe never holds the table's lock. A table rewritten in place
// between chunks is reported instead of mixing two versions.

#include <memory>

#include "cli_config.h"
#include "commands.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {
namespace {

constexpr std::size_t kChunkEntries = 4096;

// postmap -s opens a lookup-only table (so its load warnings, or a
// missing file, come first) and then refuses to list it.
int RefuseDump(const DumpArgs& args, const MainConfig& config,
               const std::string& argument) {
  Result<std::unique_ptr<LookupTable>> table =
      OpenQueryTableNow(argument, config, args.flags);
  if (!table) {
    ReportError(table.error());
    return kExitTrouble;
  }
  for (const TableWarning& w : (*table)->warnings()) {
    ReportDiagnostic(PostmapWarning(w));
  }
  ReportError(RefuseSequence((*table)->display()));
  return kExitTrouble;
}

int DumpOne(const DumpArgs& args, const MainConfig& config,
            const std::string& argument) {
  if (IsLookupOnlyTable(argument)) return RefuseDump(args, config, argument);
  if (RefusesSequence(argument)) {
    // Tables mapctl does not open for reading at all: refused as postmap
    // refuses them once open.
    ReportError(RefuseSequence(RefusedTableName(argument)));
    return kExitTrouble;
  }
  Result<TableSpec> spec = TableArgument(argument, config, true);
  if (!spec) {
    ReportError(spec.error());
    return kExitTrouble;
  }
  ReadSettings settings = ReadSettingsFor(args.flags, config);
  OpenOptions open;
  open.fold = settings.fold;
  open.check_utf8 = settings.check_utf8;
  // A dump reads every page: walk them with verify's checks first, so a
  // damaged table is refused (exit 2) instead of crashing the engine.
  open.verify = true;
  Result<std::unique_ptr<TableReader>> reader = OpenTable(*spec, open);
  if (!reader) {
    ReportError(reader.error());
    return kExitTrouble;
  }
  ScanCursor cursor;
  bool first = true;
  std::uint64_t version = 0;
  std::string out;
  while (!cursor.done) {
    out.clear();
    {
      Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
      if (!unit) {
        ReportError(unit.error());
        return kExitTrouble;
      }
      if (first) {
        version = (*unit)->version();
        first = false;
      } else if ((*unit)->version() != version) {
        ReportError(spec->ToString() +
                    " was rewritten during the dump; the output above is "
                    "incomplete");
        return kExitTrouble;
      }
      Status s = (*unit)->Scan(
          cursor, kChunkEntries,
          [&](std::string_view key, std::string_view value) {
            AppendKeyValue(&out, StoredText(key), StoredText(value),
                           args.json);
            return true;
          });
      if (!s.ok()) {
        ReportError(s);
        return kExitTrouble;
      }
    }
    if (!WriteStdoutOrReport(out)) return kExitTrouble;
  }
  return kExitOk;
}

}  // namespace

int RunDump(const DumpArgs& args) {
  return ForEachTable(args.flags, args.tables,
                      [&](const MainConfig& config, const std::string& table) {
                        return DumpOne(args, config, table);
                      });
}

}  // namespace mapctl::cli
