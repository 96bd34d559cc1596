// util/file_image.h - a whole table file mapped read-only (internal), for the
// verify walks that must look at every byte without trusting the engine.

#ifndef MAPCTL_LIBMAPS_UTIL_FILE_IMAGE_H_
#define MAPCTL_LIBMAPS_UTIL_FILE_IMAGE_H_

#include <cstddef>
#include <string>
#include <utility>

#include "mapctl/status.h"

namespace mapctl {

class FileImage {
 public:
  // Opens and maps `name`. Errors, worded as readers word them: missing
  // ("open database NAME: ..."), not a regular file, mmap failure. An
  // empty file maps to data() == nullptr, size() == 0.
  static Result<FileImage> Open(const std::string& name);

  FileImage(FileImage&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)),
        data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  FileImage& operator=(FileImage&&) = delete;
  FileImage(const FileImage&) = delete;
  ~FileImage();

  int fd() const noexcept { return fd_; }
  const unsigned char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  FileImage() = default;
  int fd_ = -1;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_UTIL_FILE_IMAGE_H_
