// write_error.h - the real cause of a failed table write (internal).
//
// A full disk or the file size limit shows up badly: LMDB turns a short
// write into EIO ("short write, filesystem full?"), the first write past
// RLIMIT_FSIZE is a short one too, and the failing call names a temporary
// file or none at all. An admin needs "No space left on device" and the
// table's name, so every writer asks here before it builds the message.

#ifndef MAPCTL_LIBMAPS_TABLES_WRITE_ERROR_H_
#define MAPCTL_LIBMAPS_TABLES_WRITE_ERROR_H_

#include <string>
#include <string_view>

#include "mapctl/status.h"

namespace mapctl {

// The errno behind `st`, a failed write to the file open on `fd`: ENOSPC,
// EDQUOT or EFBIG when `st` carries one of them; for EIO (or an error
// without an errno, from a library), EFBIG when the file is within 1 MB
// of RLIMIT_FSIZE and ENOSPC when its file system has less than 1 MB free
// (for this user: root may use the reserved blocks). 0 when none of that
// explains it. Ask before the file is cut back: that frees the space.
int WriteFailureCause(const Status& st, int fd);

// `st` as a message that names the table: "WHAT (NOTE): <strerror(cause)>"
// (kIoError, errno kept) for a `cause` from WriteFailureCause(), else
// "WHAT (NOTE): " + st's message, with st's code. `what` is "update
// virtual.lmdb"; `note` says what became of the table ("table
// unchanged"), empty for none.
Status NameWriteFailure(const Status& st, int cause, std::string_view what,
                        std::string_view note);

// For a build into a temporary file: with a cause, "write TARGET
// (previous table untouched): <strerror(cause)>"; otherwise `st` as it is
// (it names the temporary file and the call that failed).
Status ExplainBuildFailure(Status st, int fd, const std::string& target);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_TABLES_WRITE_ERROR_H_
