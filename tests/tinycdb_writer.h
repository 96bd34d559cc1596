// tinycdb_writer.h - the reference cdb writer for tests: tinycdb's own
// cdb_make, the code Postfix's dict_cdb builds tables with.
//
// Test-only, so that libmapctl does not link libcdb: mapctl writes and
// reads cdb with its own code (libmaps/tables/cdb_*.cc), and the tests
// hold it to this writer's bytes.

#ifndef MAPCTL_TESTS_TINYCDB_WRITER_H_
#define MAPCTL_TESTS_TINYCDB_WRITER_H_

#include <span>

#include "mapctl/source.h"
#include "mapctl/status.h"
#include "mapctl/table.h"

namespace mapctl::testing {

// The table WriteTable() writes for the same arguments, written by
// tinycdb's cdb_make_add()/cdb_make_finish() through an AtomicFile.
Status WriteCdbTableWithTinycdb(const TableSpec& spec,
                                std::span<const Entry> entries,
                                const BuildPlan& plan,
                                const BuildOptions& options,
                                const SourceFileInfo& source);

}  // namespace mapctl::testing

#endif  // MAPCTL_TESTS_TINYCDB_WRITER_H_
