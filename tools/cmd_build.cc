// cmd_build.cc - `mapctl build`: postmap's bulk mode, built aside and
// renamed into place unless the table in place already holds the same
// entries (mapctl/build.h).

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <utility>
#include <vector>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/build.h"
#include "mapctl/source.h"
#include "mapctl/table.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// CPU seconds of this thread: steadier than wall time on a loaded machine.
double ThreadCpu() {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// -v: "unchanged" or "changed: +A -R ~M", and what was done to the file.
std::string Summary(const BuildResult& r, bool forced) {
  std::string text = r.changed ? "changed: +" + std::to_string(r.added) +
                                     " -" + std::to_string(r.removed) + " ~" +
                                     std::to_string(r.modified)
                               : std::string("unchanged");
  std::string notes;
  auto note = [&notes](const char* what) {
    notes += notes.empty() ? " (" : ", ";
    notes += what;
  };
  if (!r.compared) {
    note(forced ? "not compared: --force" : "no readable table before");
  }
  if (r.mode_updated) note("mode updated");
  if (r.mtime_updated) note("mtime updated");
  if (!notes.empty()) notes += ")";
  return text + notes;
}

// -j: one object per table, for config-management tools.
std::string JsonLine(const TableSpec& spec, const BuildResult& r) {
  std::string out = "{\"table\": ";
  AppendJsonString(&out, spec.ToString());
  auto field = [&out](const char* name, std::string value) {
    out += ", \"";
    out += name;
    out += "\": ";
    out += value;
  };
  field("changed", r.changed ? "true" : "false");
  field("added", std::to_string(r.added));
  field("removed", std::to_string(r.removed));
  field("modified", std::to_string(r.modified));
  field("written", r.written ? "true" : "false");
  field("mode_updated", r.mode_updated ? "true" : "false");
  field("mtime_updated", r.mtime_updated ? "true" : "false");
  out += "}\n";
  return out;
}

// A progress line on a terminal once a build has taken more than a
// second; nothing otherwise (and never on stdout).
class Progress {
 public:
  explicit Progress(std::string table)
      : table_(std::move(table)),
        start_(Clock::now()),
        enabled_(ReportsToTerminal()) {}
  ~Progress() {
    if (shown_) EndProgress();
  }

  void Update(std::size_t done, std::size_t total) {
    if (!enabled_ || Clock::now() - start_ < std::chrono::seconds(1)) return;
    shown_ = true;
    ReportProgress("building " + table_ + ": " + std::to_string(done) +
                   " of " + std::to_string(total) + " entries");
  }

 private:
  std::string table_;
  Clock::time_point start_;
  bool enabled_;
  bool shown_ = false;
};

SourceFileInfo StatSource(const std::string& path) {
  SourceFileInfo source;
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    source.regular = true;
    source.mode = st.st_mode & 07777;
    source.uid = st.st_uid;
    source.gid = st.st_gid;
  }
  return source;
}

// postmap's -r/-w, -p and -o as the library's options; both paths below
// build with them.
BuildOptions BuildOptionsFor(const BuildArgs& args) {
  BuildOptions options;
  options.nul = args.flags.nul;
  options.duplicates = args.duplicates;
  options.copy_source_mode = !args.plain_mode;
  options.take_source_owner = !args.keep_root;
  return options;
}

// cdb: parsed and written in one pass (BuildTableFromSource), with the
// same messages and exit codes as the path below.
int BuildFromSource(const BuildArgs& args, const TableSpec& spec,
                    const ParseOptions& parse, Progress& progress) {
  BuildOptions options = BuildOptionsFor(args);
  options.progress = [&progress](std::size_t done, std::size_t total) {
    progress.Update(done, total);
  };
  SourceBuildResult result;
  Status s = BuildTableFromSource(spec, spec.path, parse, options,
                                  StatSource(spec.path), args.strict, &result);
  ReportDiagnostics(result.diagnostics, args.strict);
  if (!s.ok()) {
    ReportError(s);
    return kExitTrouble;
  }
  if (!result.written) {
    ReportError("not writing " + spec.FileName() + ": " +
                std::to_string(result.diagnostics.size()) +
                " problem(s) in the source and --strict");
    return kExitNegative;
  }
  // Only a new table (or --force) comes this way: nothing to compare.
  BuildResult built;
  built.changed = true;
  built.written = true;
  built.added = result.entries;
  if (args.flags.verbose > 0) {
    ReportInfo(spec.ToString() + ": " + Summary(built, args.force));
  }
  if (args.json && !WriteStdoutOrReport(JsonLine(spec, built))) {
    return kExitTrouble;
  }
  return kExitOk;
}

int BuildOne(const BuildArgs& args, const MainConfig& config,
             const std::string& argument) {
  Result<TableSpec> spec = TableArgument(argument, config, false);
  if (!spec) {
    ReportError(spec.error());
    return kExitTrouble;
  }
  if (Status s = CheckWritable(spec->type); !s.ok()) {
    ReportError(s);
    return kExitTrouble;
  }

  Progress progress(spec->ToString());  // the clock starts with the parse
  const Clock::time_point parse_start = Clock::now();
  ParseOptions parse;
  parse.origin = spec->path;
  parse.fold = KeyFoldMode(config, args.flags.no_utf8, args.flags.no_fold);
  parse.check_utf8 = ChecksUtf8(config, args.flags.no_utf8);
  // The streaming path holds no plan to compare with a table in place:
  // it builds new tables and forced ones; a rebuild is compared first.
  struct stat existing;
  if (CanBuildFromSource(spec->type) &&
      (args.force || lstat(spec->FileName().c_str(), &existing) != 0 ||
       !S_ISREG(existing.st_mode))) {
    return BuildFromSource(args, *spec, parse, progress);
  }
  Result<ParsedMap> parsed = ParseMapFile(spec->path, parse);
  if (!parsed) {
    ReportError(parsed.error());
    return kExitTrouble;
  }

  BuildOptions options = BuildOptionsFor(args);
  const Clock::time_point plan_start = Clock::now();
  Result<BuildPlan> plan =
      PlanBuild(*spec, parsed->entries(), options, spec->path);

  // Reported, then dropped before the table is written: a map with many
  // duplicates has tens of thousands of warnings, megabytes that would
  // otherwise be held (twice) through the build's peak.
  std::size_t problems = parsed->diagnostics().size();
  {
    std::vector<Diagnostic> diagnostics = parsed->diagnostics();
    if (plan) {
      problems += plan->diagnostics.size();
      diagnostics.insert(diagnostics.end(),
                         std::make_move_iterator(plan->diagnostics.begin()),
                         std::make_move_iterator(plan->diagnostics.end()));
      std::vector<Diagnostic>().swap(plan->diagnostics);
    }
    ReportDiagnostics(std::move(diagnostics), args.strict);
  }
  if (!plan) {
    ReportError(plan.error());
    return kExitTrouble;
  }
  if (args.strict && problems != 0) {
    ReportError("not writing " + spec->FileName() + ": " +
                std::to_string(problems) +
                " problem(s) in the source and --strict");
    return kExitNegative;
  }

  SourceFileInfo source = StatSource(spec->path);
  options.progress = [&progress](std::size_t done, std::size_t total) {
    progress.Update(done, total);
  };
  RebuildOptions rebuild;
  rebuild.force = args.force;
  rebuild.count_changes = args.json || args.flags.verbose > 0;
  const Clock::time_point table_start = Clock::now();
  const double table_cpu_start = ThreadCpu();
  Result<BuildResult> built =
      BuildTable(*spec, parsed->entries(), *plan, options, source, rebuild);
  if (!built) {
    ReportError(built.error());
    return kExitTrouble;
  }
  const Clock::time_point done = Clock::now();
  const double table_cpu = ThreadCpu() - table_cpu_start;
  if (args.flags.verbose > 0) {
    ReportInfo(spec->ToString() + ": " + Summary(*built, args.force));
  }
  if (args.flags.verbose > 1) {
    // "table" is the comparison, plus the write when one was needed.
    char line[200];
    std::snprintf(line, sizeof(line),
                  ": seconds: parse %.3f, plan %.3f, table %.3f, table cpu "
                  "%.3f (%s)",
                  Seconds(parse_start, plan_start),
                  Seconds(plan_start, table_start), Seconds(table_start, done),
                  table_cpu,
                  !built->compared ? "written"
                  : built->written ? "compared and written"
                                   : "compared");
    ReportInfo(spec->ToString() + line);
  }
  if (args.json && !WriteStdoutOrReport(JsonLine(*spec, *built))) {
    return kExitTrouble;
  }
  return kExitOk;
}

}  // namespace

int RunBuild(const BuildArgs& args) {
  return ForEachTable(args.flags, args.tables,
                      [&](const MainConfig& config, const std::string& table) {
                        return BuildOne(args, config, table);
                      });
}

}  // namespace mapctl::cli
