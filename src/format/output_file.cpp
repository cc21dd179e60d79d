#include "format/output_file.h"

#include <fcntl.h>   // open, posix_fallocate
#include <signal.h>  // kill
#include <unistd.h>  // write, pwrite, fsync, close, getpid, unlink

#include <algorithm>  // min
#include <cerrno>
#include <cstdio>   // renameat2, RENAME_NOREPLACE
#include <cstring>  // strerror, memcpy

#include "util/error.h"  // Error

namespace dsmoe {
namespace {

constexpr size_t kBufferBytes = size_t{8} << 20;  // large sequential writes

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

OutputFile::OutputFile(const std::filesystem::path& path, bool overwrite, uint64_t expected_size)
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
  buffer_.reserve(kBufferBytes);
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void OutputFile::write_fully(const void* data, size_t n, uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, p, std::min(n, size_t{1} << 30), static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      io_error(temp_path_, "write failed", errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

void OutputFile::flush() {
  if (buffer_.empty()) return;
  write_fully(buffer_.data(), buffer_.size(), flushed_);
  flushed_ += buffer_.size();
  buffer_.clear();
}

void OutputFile::write(const void* data, size_t n) {
  if (committed_ || fd_ < 0) throw Error(ErrorCode::kInternal, path_.string() + ": write after commit");
  if (buffer_.size() + n > kBufferBytes) flush();
  if (n >= kBufferBytes) {
    write_fully(data, n, flushed_);
    flushed_ += n;
  } else {
    const char* p = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), p, p + n);
  }
  position_ += n;
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
  write_fully(data, n, offset);
}

void OutputFile::commit() {
  if (committed_) return;
  flush();
  // A file reserved larger than written (a declaration mismatch) must not keep stale zeros.
  if (::ftruncate(fd_, static_cast<off_t>(position_)) != 0) io_error(temp_path_, "truncate failed", errno);
  if (::fsync(fd_) != 0) io_error(temp_path_, "fsync failed", errno);
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
