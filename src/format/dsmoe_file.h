#pragma once
// The packed .dsmoe model file: reader (memory-mapped, validated) and streaming writer (temp file
// + rename). The byte layout is specified in docs/FORMAT.md.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quant/qtypes.h"  // QType
#include "util/json.h"     // json::Document
#include "util/mmap.h"     // MappedFile

namespace dsmoe {

// Constants of the format (docs/FORMAT.md).
inline constexpr char kDsmoeMagic[8] = {'D', 'S', 'M', 'O', 'E', '\0', '\r', '\n'};
inline constexpr uint32_t kDsmoeVersionMajor = 1;  // readers reject any other major version
inline constexpr uint32_t kDsmoeVersionMinor = 0;  // additions readers may ignore
inline constexpr uint64_t kTensorAlign = 64;       // every tensor's offset
inline constexpr uint64_t kExpertAlign = 4096;     // every routed expert block's offset
inline constexpr size_t kDsmoeHeaderSize = 128;

struct TensorInfo {
  std::string name;            // Hugging Face name
  QType type = QType::kF32;
  std::vector<int64_t> shape;  // [out, in] for matrices, [n] for vectors
  uint64_t offset = 0;         // from the start of the file; 64-byte aligned
  uint64_t size = 0;           // bytes
  uint64_t checksum = 0;       // of the `size` bytes at `offset` (docs/FORMAT.md names the hash)
  int layer = -1;              // -1 when not in a layer
  int expert = -1;             // routed expert id, else -1
  int64_t rows() const { return shape.size() == 2 ? shape[0] : 1; }
  int64_t cols() const { return shape.empty() ? 0 : shape.back(); }
  int64_t elements() const;
};

// One routed expert's contiguous, 4096-byte aligned block (gate, up, down).
struct ExpertBlock {
  int layer = -1;
  int expert = -1;
  uint64_t offset = 0;
  uint64_t size = 0;                 // from the first tensor's offset to the last tensor's end
  std::vector<uint32_t> tensors;     // indices into DsmoeReader::tensors(), in file order
};

// Bytes a tensor of `type` and `shape` occupies (qtensor_bytes for matrices; quantized types
// must be 2-D). Throws Error(kFormat) for an empty or negative shape. `what` prefixes messages.
uint64_t dsmoe_tensor_bytes(QType type, const std::vector<int64_t>& shape, std::string_view what);

// The hash of tensor and embedded-file checksums: XXH3-64 with seed 0 (docs/FORMAT.md).
uint64_t dsmoe_checksum(const void* data, size_t n);

class DsmoeReader {
 public:
  // Maps the file and validates its structure: magic, major version, JSON metadata, directory,
  // every range inside the file, alignment, no overlaps, sizes matching type and shape. Does not
  // hash the data (see verify_checksums). Throws Error naming the file and the problem.
  explicit DsmoeReader(const std::filesystem::path& path);
  ~DsmoeReader();
  DsmoeReader(DsmoeReader&&) noexcept;
  DsmoeReader& operator=(DsmoeReader&&) noexcept;

  const std::string& path() const;
  uint32_t version_major() const;
  uint32_t version_minor() const;

  // The metadata block (docs/FORMAT.md): {"config": {...normalized ModelConfig...},
  // "quantization": {...}, "converter": "...", "source": {...}, "files": {...}}.
  std::string_view metadata_text() const;
  json::Object metadata() const;
  // The normalized model config (metadata "config") as JSON text, for ModelConfig::from_json_text.
  std::string config_json() const;
  // A file embedded verbatim at conversion ("tokenizer.json", "tokenizer_config.json").
  std::optional<std::string_view> embedded_file(std::string_view name) const;

  const std::vector<TensorInfo>& tensors() const;
  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  const TensorInfo& at(std::string_view name) const;    // throws Error naming file and tensor
  const std::byte* data(const TensorInfo& t) const;
  const std::vector<ExpertBlock>& expert_blocks() const;
  const MappedFile& mapping() const;

  // Hashes every tensor and compares with the directory; throws Error naming the first tensor
  // whose checksum does not match. progress(done_bytes, total_bytes) is called now and then.
  void verify_checksums(const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

  // Names of the embedded files, in file order.
  std::vector<std::string> embedded_file_names() const;
  uint64_t file_size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A tensor as declared to DsmoeWriter (before offsets are known).
struct DsmoeTensorSpec {
  std::string name;
  QType type = QType::kF32;
  std::vector<int64_t> shape;
  uint64_t size = 0;  // must equal dsmoe_tensor_bytes(type, shape)
  int layer = -1;
  int expert = -1;    // routed expert id, else -1
};

// Streaming .dsmoe writer. The whole layout is declared at construction (metadata, embedded
// files, tensors in file order); the header, metadata, embedded files and directory are written
// then, and tensor bytes are appended afterwards in that same order, in chunks of any size, so
// memory stays bounded whatever the model size. Checksums are computed on the fly. Output goes
// to `<path>.tmp-<pid>` in the same directory; commit() fills in the checksums and renames it to
// `path`; destroying the writer without commit() removes the temporary file.
//
// Tensors of one routed expert (same layer, same expert >= 0) must be declared consecutively
// (gate, up, down); each such group starts a 4096-byte aligned block, and a layer's experts must
// come in increasing expert id. Every other tensor is 64-byte aligned.
class DsmoeWriter {
 public:
  // Throws Error(kIo) when `path` exists and !overwrite or the temporary cannot be created,
  // Error(kInvalidArgument) for a bad declaration (duplicate name, size not matching type and
  // shape, expert tensors not grouped or not in expert-id order).
  DsmoeWriter(const std::filesystem::path& path, std::string_view metadata_json,
              const std::vector<std::pair<std::string, std::string>>& embedded_files,
              std::vector<DsmoeTensorSpec> tensors, bool overwrite = false);
  ~DsmoeWriter();
  DsmoeWriter(const DsmoeWriter&) = delete;
  DsmoeWriter& operator=(const DsmoeWriter&) = delete;

  // The directory with offsets assigned (checksums filled in as tensors complete).
  const std::vector<TensorInfo>& layout() const;
  uint64_t file_size() const;
  const std::filesystem::path& temp_path() const;
  // Index of the tensor the next append() continues (layout().size() once all are written).
  size_t current_tensor() const;
  // Appends the next `n` bytes of tensor data in declaration order; a chunk may end one tensor
  // and begin the next (alignment padding is inserted by the writer). Throws Error(kIo) on a
  // write failure, Error(kInvalidArgument) when more bytes arrive than declared.
  void append(const void* data, size_t n);
  // Checks every tensor is complete, writes the checksums, fsyncs and renames into place.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsmoe
