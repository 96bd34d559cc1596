// tinycdb_writer.cc - tinycdb's cdb_make as the reference writer for tests.

#include "tinycdb_writer.h"

#include <cdb.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "tables/write_error.h"
#include "util/atomic_file.h"

namespace mapctl::testing {

Status WriteCdbTableWithTinycdb(const TableSpec& spec,
                                std::span<const Entry> entries,
                                const BuildPlan& plan,
                                const BuildOptions& options,
                                const SourceFileInfo& source) {
  const std::string target = spec.FileName();
  const std::size_t nul = options.nul == NulMode::kWith ? 1 : 0;
  std::vector<bool> keep(entries.size());
  for (std::uint32_t idx : plan.order) {
    if (idx >= entries.size()) {
      return Status::InvalidArgument("build plan does not match its entries");
    }
    keep[idx] = true;
  }
  Result<std::unique_ptr<AtomicFile>> file =
      AtomicFile::Create(target, BuildFileOptions(options, source));
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;
  struct cdb_make cdbm;
  if (cdb_make_start(&cdbm, out.fd()) != 0) {
    return Status::IoError("cdb_make_start " + out.temp_path(), errno);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!keep[i]) continue;
    const Entry& e = entries[i];
    // Entry views end without a NUL (mapctl/source.h): -N appends one.
    const std::string key = std::string(e.key()) + std::string(nul, '\0');
    const std::string value = std::string(e.value()) + std::string(nul, '\0');
    if (cdb_make_add(&cdbm, key.data(), static_cast<unsigned>(key.size()),
                     value.data(), static_cast<unsigned>(value.size())) != 0) {
      // cdb_make keeps its record lists until cdb_make_finish().
      int err = errno;
      (void)cdb_make_finish(&cdbm);
      return ExplainBuildFailure(
          Status::IoError("write " + out.temp_path(), err), out.fd(), target);
    }
  }
  if (cdb_make_finish(&cdbm) != 0) {
    return ExplainBuildFailure(
        Status::IoError("write " + out.temp_path(), errno), out.fd(), target);
  }
  return out.Commit();
}


}  // namespace mapctl::testing
