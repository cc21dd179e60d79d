#include "format/output_file.h"

#include <fcntl.h>   // open, posix_fallocate
#include <signal.h>  // kill
#include <unistd.h>  // write, pwrite, fsync, close, getpid, unlink

#include <algorithm>  // min
#include <cerrno>
#include <cstdio>   // renameat2, RENAME_NOREPLACE
#include <cstdlib>  // aligned_alloc, free
#include <cstring>  // strerror, memcpy

#include "util/error.h"  // Error

namespace dsmoe {
namespace {

constexpr size_t kBufferBytes = size_t{8} << 20;  // large sequential writes
// O_DIRECT needs the memory, the file offset and the length aligned to the device's logical block;
// 4096 covers the block sizes in use.
constexpr size_t kDirectAlign = 4096;
static_assert(kBufferBytes % kDirectAlign == 0);

[[noreturn]] void io_error(const std::filesystem::path& p, const std::string& what, int err) {
  throw Error(ErrorCode::kIo, p.string() + ": " + what + ": " + std::strerror(err));
}

// Removes `<name>.tmp-<pid>` files next to `path` whose process no longer runs (a conversion
// killed with SIGKILL cannot clean up after itself).
void remove_stale_temporaries(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  const std::string prefix = path.filename().string() + ".tmp-";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string pid_text = name.substr(prefix.size());
    if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
      continue;
    pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

OutputFile::OutputFile(const std::filesystem::path& path, bool overwrite, uint64_t expected_size,
                       bool direct_io)
    : path_(path), overwrite_(overwrite) {
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec)) {
    throw Error(ErrorCode::kIo, path.string() + ": already exists (use --force to overwrite)");
  }
  remove_stale_temporaries(path);
  temp_path_ = path;
  temp_path_ += ".tmp-" + std::to_string(::getpid());
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) io_error(temp_path_, "cannot create", errno);
  if (expected_size > 0) {
    int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(expected_size));
    if (err == ENOSPC) {
      ::close(fd_);
      ::unlink(temp_path_.c_str());
      fd_ = -1;
      throw Error(ErrorCode::kIo, path.string() + ": not enough disk space for " +
                                      std::to_string(expected_size) + " bytes");
    }
    // Other failures (a file system without fallocate) only lose the early warning.
  }
  // Full buffers go to disk through a second descriptor opened with O_DIRECT, which skips the
  // kernel's copy into the page cache (a quarter of the converter's CPU time). File systems
  // without O_DIRECT refuse it: then every write is buffered.
  if (direct_io) direct_fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  buffer_ = static_cast<char*>(std::aligned_alloc(kDirectAlign, kBufferBytes));
  if (!buffer_) throw Error(ErrorCode::kIo, path.string() + ": cannot allocate the write buffer");
}

OutputFile::~OutputFile() {
  if (direct_fd_ >= 0) ::close(direct_fd_);
  if (fd_ >= 0) ::close(fd_);
  std::free(buffer_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void OutputFile::write_fully(int fd, const void* data, size_t n, uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, std::min(n, size_t{1} << 30), static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      io_error(temp_path_, "write failed", errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

bool OutputFile::write_direct() {
  size_t done = 0;
  while (done < used_) {
    ssize_t w =
        ::pwrite(direct_fd_, buffer_ + done, used_ - done, static_cast<off_t>(flushed_ + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EINVAL) {
      // An alignment the device does not accept: buffered writes from here on (pwrite rewrites
      // whatever part went through).
      ::close(direct_fd_);
      direct_fd_ = -1;
      return false;
    }
    if (w < 0) io_error(temp_path_, "write failed", errno);
    done += static_cast<size_t>(w);
  }
  return true;
}

void OutputFile::flush() {
  if (used_ == 0) return;
  // O_DIRECT for whole aligned buffers while everything before them was written the same way; a
  // partial buffer (only at write_at and commit) goes through the page cache.
  const bool direct = direct_fd_ >= 0 && used_ % kDirectAlign == 0 && flushed_ % kDirectAlign == 0;
  if (!direct || !write_direct()) write_fully(fd_, buffer_, used_, flushed_);
  flushed_ += used_;
  used_ = 0;
}

void OutputFile::write(const void* data, size_t n) {
  if (committed_ || fd_ < 0) throw Error(ErrorCode::kInternal, path_.string() + ": write after commit");
  const char* p = static_cast<const char*>(data);
  position_ += n;
  while (n > 0) {
    const size_t k = std::min(n, kBufferBytes - used_);
    std::memcpy(buffer_ + used_, p, k);
    used_ += k;
    p += k;
    n -= k;
    if (used_ == kBufferBytes) flush();
  }
}

void OutputFile::write_zeros(size_t n) {
  static const char zeros[4096] = {};
  while (n > 0) {
    size_t k = std::min(n, sizeof zeros);
    write(zeros, k);
    n -= k;
  }
}

void OutputFile::write_at(uint64_t offset, const void* data, size_t n) {
  if (offset + n > position_) {
    throw Error(ErrorCode::kInternal, path_.string() + ": write_at past the written data");
  }
  flush();
  write_fully(fd_, data, n, offset);
}

void OutputFile::commit() {
  if (committed_) return;
  flush();
  // A file reserved larger than written (a declaration mismatch) must not keep stale zeros.
  if (::ftruncate(fd_, static_cast<off_t>(position_)) != 0) io_error(temp_path_, "truncate failed", errno);
  if (::fsync(fd_) != 0) io_error(temp_path_, "fsync failed", errno);
  if (direct_fd_ >= 0) {
    ::close(direct_fd_);
    direct_fd_ = -1;
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    io_error(temp_path_, "close failed", errno);
  }
  fd_ = -1;
  unsigned flags = overwrite_ ? 0u : static_cast<unsigned>(RENAME_NOREPLACE);
  int rc = ::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, path_.c_str(), flags);
  if (rc != 0 && errno == EINVAL && flags != 0) {
    // File systems without RENAME_NOREPLACE: check, then plain rename.
    std::error_code ec;
    if (std::filesystem::exists(path_, ec)) errno = EEXIST;
    else rc = ::rename(temp_path_.c_str(), path_.c_str());
  }
  if (rc != 0) {
    int err = errno;
    if (err == EEXIST) {
      throw Error(ErrorCode::kIo, path_.string() + ": already exists (use --force to overwrite)");
    }
    io_error(path_, "cannot rename " + temp_path_.string() + " into place", err);
  }
  committed_ = true;
  // Make the rename itself durable.
  std::filesystem::path dir = path_.parent_path().empty() ? "." : path_.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace dsmoe
