// Pieces of the .dsmoe format shared by the reader and the writer: tensor sizes, the checksum,
// and the encoding of the header, the embedded-file table and the tensor directory.
#include "format/dsmoe_file.h"

#include <xxhash.h>  // XXH3_64bits

#include <limits>

#include "format/dsmoe_layout.h"  // Header, encode_*
#include "util/error.h"           // Error

namespace dsmoe {
namespace {

[[noreturn]] void fail(std::string_view what, const std::string& msg) {
  throw Error(ErrorCode::kFormat, std::string(what) + ": " + msg);
}

}  // namespace

int64_t TensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

uint64_t dsmoe_tensor_bytes(QType type, const std::vector<int64_t>& shape, std::string_view what) {
  if (shape.empty()) fail(what, "empty shape");
  uint64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(what, "negative dimension " + std::to_string(d));
    if (d > 0 && elements > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(d))
      fail(what, "shape too large");
    elements *= static_cast<uint64_t>(d);
  }
  switch (type) {
    case QType::kF32: return elements * 4;
    case QType::kBF16: return elements * 2;
    case QType::kQ8:
    case QType::kQ4:
      if (shape.size() != 2) {
        fail(what, std::string(qtype_name(type)) + " tensor must be 2-D, has " +
             std::to_string(shape.size()) + " dimensions");
      }
      return qtensor_bytes(type, shape[0], shape[1]);
  }
  fail(what, "unknown type code " + std::to_string(static_cast<int>(type)));
}

uint64_t dsmoe_checksum(const void* data, size_t n) { return XXH3_64bits(data, n); }

namespace layout {
namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // the file is little-endian, as is every supported target
  out.append(b, sizeof(T));
}

template <class T>
void put_at(std::string& out, size_t at, T v) {
  std::memcpy(out.data() + at, &v, sizeof(T));
}

}  // namespace

std::string encode_header(const Header& h) {
  std::string out(kDsmoeHeaderSize, '\0');
  std::memcpy(out.data() + kOffMagic, kDsmoeMagic, sizeof kDsmoeMagic);
  put_at(out, kOffMajor, h.version_major);
  put_at(out, kOffMinor, h.version_minor);
  put_at(out, kOffFileSize, h.file_size);
  put_at(out, kOffMetadataOffset, h.metadata_offset);
  put_at(out, kOffMetadataSize, h.metadata_size);
  put_at(out, kOffFilesOffset, h.files_offset);
  put_at(out, kOffFilesSize, h.files_size);
  put_at(out, kOffDirectoryOffset, h.directory_offset);
  put_at(out, kOffDirectorySize, h.directory_size);
  put_at(out, kOffDataOffset, h.data_offset);
  return out;
}

std::string encode_files(const std::vector<EmbeddedFile>& files) {
  std::string out;
  put(out, static_cast<uint32_t>(files.size()));
  for (const EmbeddedFile& f : files) {
    put(out, static_cast<uint32_t>(f.name.size()));
    out += f.name;
    put(out, f.offset);
    put(out, f.size);
    put(out, f.checksum);
  }
  return out;
}

std::string encode_directory(const std::vector<TensorInfo>& tensors) {
  std::string out;
  put(out, static_cast<uint32_t>(tensors.size()));
  for (const TensorInfo& t : tensors) {
    put(out, static_cast<uint32_t>(t.name.size()));
    out += t.name;
    put(out, static_cast<uint8_t>(t.type));
    put(out, static_cast<uint8_t>(t.shape.size()));
    put(out, uint16_t{0});  // reserved
    put(out, static_cast<int32_t>(t.layer));
    put(out, static_cast<int32_t>(t.expert));
    for (int64_t d : t.shape) put(out, d);
    put(out, t.offset);
    put(out, t.size);
    put(out, t.checksum);
  }
  return out;
}

}  // namespace layout
}  // namespace dsmoe
