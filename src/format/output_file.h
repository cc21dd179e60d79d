#pragma once
// An output file written as a stream into `<path>.tmp-<pid>` beside its final path and renamed
// into place by commit(): a writer that dies or throws part-way never leaves a file at `path`.
// Shared by the .dsmoe and safetensors writers.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace dsmoe {

class OutputFile {
 public:
  // Creates the temporary file. Throws Error(kIo) when `path` exists and !overwrite, or the
  // temporary cannot be created. `expected_size` (when > 0) is reserved on disk up front so a
  // full disk is reported at once rather than hours into a conversion. Stale temporaries of the
  // same output left by killed processes (their pid no longer running) are removed.
  // `direct_io` false keeps every write in the page cache (tests compare the two paths).
  OutputFile(const std::filesystem::path& path, bool overwrite, uint64_t expected_size = 0,
             bool direct_io = true);
  ~OutputFile();  // removes the temporary file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends bytes at the current position (buffered in 8 MB blocks written with O_DIRECT).
  void write(const void* data, size_t n);
  void write_zeros(size_t n);
  // Overwrites bytes already written at `offset` (e.g. a directory patched with checksums).
  void write_at(uint64_t offset, const void* data, size_t n);
  uint64_t position() const { return position_; }

  // Flushes, fsyncs and renames the temporary file to `path` (refusing to replace an existing
  // file unless overwrite). Throws Error(kIo) on failure, leaving no file at `path`.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  void flush();
  bool write_direct();  // the buffer through direct_fd_; false (and direct_fd_ closed) on EINVAL
  void write_fully(int fd, const void* data, size_t n, uint64_t offset);

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  bool overwrite_;
  int fd_ = -1;
  int direct_fd_ = -1;  // the same file opened with O_DIRECT; -1 where the file system refuses
  bool committed_ = false;
  uint64_t position_ = 0;       // logical end of the stream
  uint64_t flushed_ = 0;        // bytes already in the file
  char* buffer_ = nullptr;      // kBufferBytes, 4096-aligned: pending bytes, appended at `flushed_`
  size_t used_ = 0;             // bytes pending in buffer_
};

}  // namespace dsmoe
