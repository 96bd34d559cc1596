// cmd_build.cc - `mapctl build`: postmap's bulk mode, built aside and
// renamed into place.

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/source.h"
#include "mapctl/table.h"
#include "report.h"

namespace mapctl::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A progress line on a terminal once a build has taken more than a
// second; nothing otherwise (and never on stdout).
class Progress {
 public:
  explicit Progress(std::string table)
      : table_(std::move(table)),
        start_(Clock::now()),
        enabled_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() {
    if (shown_) std::fputc('\n', stderr);
  }

  void Update(std::size_t done, std::size_t total) {
    if (!enabled_ || Clock::now() - start_ < std::chrono::seconds(1)) return;
    shown_ = true;
    std::fprintf(stderr, "\rmapctl: building %s: %zu of %zu entries",
                 table_.c_str(), done, total);
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

// cdb: parsed and written in one pass (BuildTableFromSource), with the
// same messages and exit codes as the path below.
int BuildFromSource(const BuildArgs& args, const TableSpec& spec,
                    const ParseOptions& parse, Progress& progress) {
  BuildOptions options;
  options.nul = args.flags.nul;
  options.duplicates = args.duplicates;
  options.copy_source_mode = !args.plain_mode;
  options.take_source_owner = !args.keep_root;
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
  if (args.flags.verbose > 0) {
    ReportInfo(spec.FileName() + ": " + std::to_string(result.entries) +
               " entries written");
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
  ParseOptions parse;
  parse.origin = spec->path;
  parse.fold = KeyFoldMode(config, args.flags.no_utf8, args.flags.no_fold);
  parse.check_utf8 = ChecksUtf8(config, args.flags.no_utf8);
  if (CanBuildFromSource(spec->type)) {
    return BuildFromSource(args, *spec, parse, progress);
  }
  Result<ParsedMap> parsed = ParseMapFile(spec->path, parse);
  if (!parsed) {
    ReportError(parsed.error());
    return kExitTrouble;
  }

  BuildOptions options;
  options.nul = args.flags.nul;
  options.duplicates = args.duplicates;
  options.copy_source_mode = !args.plain_mode;
  options.take_source_owner = !args.keep_root;
  Result<BuildPlan> plan =
      PlanBuild(*spec, parsed->entries(), options, spec->path);

  std::vector<Diagnostic> diagnostics = parsed->diagnostics();
  if (plan) {
    diagnostics.insert(diagnostics.end(), plan->diagnostics.begin(),
                       plan->diagnostics.end());
  }
  ReportDiagnostics(diagnostics, args.strict);
  if (!plan) {
    ReportError(plan.error());
    return kExitTrouble;
  }
  if (args.strict && !diagnostics.empty()) {
    ReportError("not writing " + spec->FileName() + ": " +
                std::to_string(diagnostics.size()) +
                " problem(s) in the source and --strict");
    return kExitNegative;
  }

  SourceFileInfo source = StatSource(spec->path);
  options.progress = [&progress](std::size_t done, std::size_t total) {
    progress.Update(done, total);
  };
  if (Status s = WriteTable(*spec, parsed->entries(), *plan, options, source);
      !s.ok()) {
    ReportError(s);
    return kExitTrouble;
  }
  if (args.flags.verbose > 0) {
    ReportInfo(spec->FileName() + ": " + std::to_string(plan->order.size()) +
               " entries written");
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
