// util/file_image.cc - read-only whole-file mappings for verify.

#include "util/file_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace mapctl {

Result<FileImage> FileImage::Open(const std::string& name) {
  FileImage image;
  image.fd_ = open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (image.fd_ < 0) return Status::IoError("open database " + name, errno);
  struct stat st;
  if (fstat(image.fd_, &st) != 0) return Status::IoError("stat " + name, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("open database " + name +
                                   ": not a regular file");
  }
  image.size_ = static_cast<std::size_t>(st.st_size);
  if (image.size_ > 0) {
    void* map = mmap(nullptr, image.size_, PROT_READ, MAP_SHARED, image.fd_, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      image.size_ = 0;
      return Status::IoError("mmap " + name, err);
    }
    madvise(map, image.size_, MADV_SEQUENTIAL);  // one pass, front to back
    image.data_ = static_cast<const unsigned char*>(map);
  }
  return image;
}

FileImage::~FileImage() {
  if (data_ != nullptr) munmap(const_cast<unsigned char*>(data_), size_);
  if (fd_ >= 0) close(fd_);
}

}  // namespace mapctl
