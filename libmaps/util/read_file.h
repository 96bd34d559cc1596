// util/read_file.h - a whole small file read into memory (internal): the
// one reader of the configuration-sized files Postfix reads whole
// (myorigin's /etc/mailname, .cf parameter files, pattern rule files).

#ifndef MAPCTL_LIBMAPS_UTIL_READ_FILE_H_
#define MAPCTL_LIBMAPS_UTIL_READ_FILE_H_

#include <cstddef>
#include <limits>
#include <string>

#include "mapctl/status.h"

namespace mapctl {

struct ReadFileOptions {
  // At most this many bytes; the rest of the file is not read.
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  // A directory reads as an empty file, as a Postfix VSTREAM takes
  // read()'s EISDIR for the end of the file (dict_regexp, dict_pcre).
  bool directory_is_empty = false;
};

// The contents of `path`. Errors: kIoError "open PATH: ..." or
// "read PATH: ..." with the errno kept.
Result<std::string> ReadFile(const std::string& path,
                             const ReadFileOptions& options = {});

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_UTIL_READ_FILE_H_
