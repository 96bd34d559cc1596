// update.cc - postmap -i / -d dispatch: in place for lmdb (and, where the
// backend offers it, hash/btree); a missing table is built by -i.

#include "mapctl/update.h"

#include <unistd.h>

#include "update_backends.h"

namespace mapctl {
namespace {

Status CheckUpdatable(const TableSpec& spec) {
  if (spec.type == TableType::kCdb) {
    return Status::Unsupported(
        spec.ToString() +
        ": cdb tables cannot be changed in place (rebuild them with mapctl "
        "build)");
  }
  if (spec.type != TableType::kLmdb) {
    return Status::Unsupported(spec.ToString() +
                               ": incremental updates are supported for "
                               "lmdb tables");
  }
  return Status::Ok();
}

}  // namespace

Result<UpdateReport> AddToTable(const TableSpec& spec,
                                std::span<const Entry> entries,
                                const UpdateOptions& options,
                                const SourceFileInfo& input,
                                std::string_view origin) {
  MAPCTL_RETURN_IF_ERROR(CheckUpdatable(spec));
  if (access(spec.FileName().c_str(), F_OK) != 0 && errno == ENOENT) {
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
    report.diagnostics = std::move(plan->diagnostics);
    return report;
  }
  return AddToLmdbTable(spec, entries, options, origin);
}

Result<std::size_t> DeleteFromTable(const TableSpec& spec,
                                    std::span<const std::string> keys,
                                    NulMode nul) {
  MAPCTL_RETURN_IF_ERROR(CheckUpdatable(spec));
  return DeleteFromLmdbTable(spec, keys, nul);
}

}  // namespace mapctl
