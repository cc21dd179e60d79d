#pragma once
// A read-only, shared memory mapping of a whole file. Weights are used in place from the mapping
// and never copied; the OS pages in only what is touched.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace dsmoe {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::filesystem::path& path);  // throws Error(kIo) naming the path
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // Bytes of [offset, offset+length) currently resident in memory (mincore).
  size_t resident_bytes(size_t offset, size_t length) const;
  // Advises the kernel that [offset, offset+length) will be read sequentially / soon.
  void advise_willneed(size_t offset, size_t length) const;

 private:
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace dsmoe
