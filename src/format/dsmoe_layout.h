#pragma once
// The byte encoding of a .dsmoe file's structural parts (header, embedded-file table, tensor
// directory), shared by DsmoeReader and DsmoeWriter. docs/FORMAT.md is the specification; this
// file follows it field by field. All integers are little-endian.
#include <cstddef>
#include <cstdint>
#include <cstring>  // memcpy
#include <string>
#include <string_view>
#include <vector>

#include "format/dsmoe_file.h"  // TensorInfo, kDsmoeHeaderSize

namespace dsmoe::layout {

inline constexpr int kMaxDims = 8;

struct Header {
  uint32_t version_major = kDsmoeVersionMajor;
  uint32_t version_minor = kDsmoeVersionMinor;
  uint64_t file_size = 0;
  uint64_t metadata_offset = 0, metadata_size = 0;
  uint64_t files_offset = 0, files_size = 0;
  uint64_t directory_offset = 0, directory_size = 0;
  uint64_t data_offset = 0;
};

// Field offsets inside the 128-byte header.
inline constexpr size_t kOffMagic = 0, kOffMajor = 8, kOffMinor = 12, kOffFileSize = 16,
                        kOffMetadataOffset = 24, kOffMetadataSize = 32, kOffFilesOffset = 40,
                        kOffFilesSize = 48, kOffDirectoryOffset = 56, kOffDirectorySize = 64,
                        kOffDataOffset = 72;

struct EmbeddedFile {
  std::string name;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t checksum = 0;
};

std::string encode_header(const Header& h);  // kDsmoeHeaderSize bytes, magic included
std::string encode_files(const std::vector<EmbeddedFile>& files);
std::string encode_directory(const std::vector<TensorInfo>& tensors);

inline uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Bounds-checked little-endian reads from a byte range; each read returns false (and reads
// nothing) when the range has too few bytes left.
class Cursor {
 public:
  Cursor(const std::byte* p, size_t n) : p_(p), n_(n) {}
  template <class T>
  bool read(T& v) {
    if (n_ - pos_ < sizeof(T)) return false;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool read_bytes(size_t k, std::string_view& out) {
    if (n_ - pos_ < k) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_ + pos_), k);
    pos_ += k;
    return true;
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

 private:
  const std::byte* p_;
  size_t n_;
  size_t pos_ = 0;
};

}  // namespace dsmoe::layout
