// tables/update.cc - postmap -i / -d dispatch: in place for lmdb, hash and btree;
// a missing table is built by -i.

#include "mapctl/update.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tables/table_backends.h"
#include "tables/update_backends.h"

namespace mapctl {
namespace {

Status CheckUpdatable(const TableSpec& spec) {
  switch (spec.type) {
    case TableType::kLmdb:
      return Status::Ok();
    case TableType::kHash:
    case TableType::kBtree:
      return kHaveBdb ? Status::Ok() : BdbUnavailable(spec.type);
    case TableType::kCdb:
      return Status::Unsupported(
          spec.ToString() +
          ": cdb tables cannot be changed in place (rebuild them with mapctl "
          "build)");
    case TableType::kTexthash:
      break;
  }
  return Status::Unsupported(spec.ToString() +
                             ": incremental updates are supported for "
                             "lmdb, hash and btree tables");
}

bool IsBdb(TableType type) {
  return type == TableType::kHash || type == TableType::kBtree;
}

// Whether -i has to build the table: it is missing, or it is a zero-length
// .db, which Berkeley DB cannot open (postmap removes it with a warning and
// creates the table; the build replaces it).
Result<bool> NeedsBuild(const TableSpec& spec, bool* zero_length) {
  struct stat st;
  *zero_length = false;
  if (stat(spec.FileName().c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    return Status::IoError("stat " + spec.FileName(), errno);
  }
  if (IsBdb(spec.type) && S_ISREG(st.st_mode) && st.st_size == 0) {
    *zero_length = true;
    return true;
  }
  return false;
}

}  // namespace

Result<UpdateReport> AddToTable(const TableSpec& spec,
                                Span<const Entry> entries,
                                const UpdateOptions& options,
                                const SourceFileInfo& input,
                                std::string_view origin) {
  MAPCTL_RETURN_IF_ERROR(CheckUpdatable(spec));
  bool zero_length = false;
  Result<bool> build_it = NeedsBuild(spec, &zero_length);
  if (!build_it) return std::move(build_it).error();
  if (*build_it) {
    // postmap -i creates a missing table; build it the safe way.
    BuildOptions build;
    build.nul = options.nul;
    build.duplicates = options.duplicates;
    build.copy_source_mode = options.copy_source_mode;
    build.take_source_owner = options.take_source_owner;
    Result<BuildPlan> plan = PlanBuild(spec, entries, build, origin);
    if (!plan) return plan.error();
    MAPCTL_RETURN_IF_ERROR(WriteTable(spec, entries, *plan, build, input));
    UpdateReport report;
    report.written = plan->order.size();
    if (zero_length) {
      report.diagnostics.push_back({Severity::kWarning, DiagnosticKind::kOther,
                                    spec.FileName(), 0,
                                    "replaced a zero-length database file"});
    }
    for (Diagnostic& d : plan->diagnostics) {
      report.diagnostics.push_back(std::move(d));
    }
    return report;
  }
  if (IsBdb(spec.type)) return AddToBdbTable(spec, entries, options, origin);
  return AddToLmdbTable(spec, entries, options, origin);
}

Result<std::size_t> DeleteFromTable(const TableSpec& spec,
                                    Span<const std::string> keys,
                                    NulMode nul) {
  MAPCTL_RETURN_IF_ERROR(CheckUpdatable(spec));
  if (IsBdb(spec.type)) return DeleteFromBdbTable(spec, keys, nul);
  return DeleteFromLmdbTable(spec, keys, nul);
}

}  // namespace mapctl
