#pragma once
// Hugging Face safetensors checkpoints: a memory-mapped, validated reader (one file, a folder with
// model.safetensors, or a sharded folder with model.safetensors.index.json) and a streaming writer.
//
// File layout (https://github.com/huggingface/safetensors): u64 little-endian header length N,
// N bytes of JSON {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"k": "v"}}, then the data section; data_offsets are relative to its start.
// Tensor data is used in place from the mapping and never copied.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

// Element types. Float types can be read as f32; the integer ones are listed (and validated) so a
// checkpoint carrying e.g. an int64 buffer still opens, but cannot be read as f32.
enum class StDtype : uint8_t {
  kF32,
  kF16,
  kBF16,
  kF8E4M3,  // OCP e4m3fn with a <name>_scale_inv F32 tensor of 128x128 block scales
  kF64,
  kI64,
  kI32,
  kI16,
  kI8,
  kU8,
  kBool,
};

const char* st_dtype_name(StDtype t);                       // "F32", "BF16", "F8_E4M3", ...
std::optional<StDtype> parse_st_dtype(std::string_view s);  // inverse of st_dtype_name
size_t st_dtype_size(StDtype t);                            // bytes per element
bool st_dtype_is_float(StDtype t);                          // readable by read_rows_f32

// DeepSeek-V3's FP8 block size: one scale per kFp8Block x kFp8Block block of a weight.
inline constexpr int64_t kFp8Block = 128;

// A view of one tensor inside a mapped file.
struct StTensor {
  std::string name;
  StDtype dtype = StDtype::kF32;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;  // inside the mapping; valid while the reader lives
  uint64_t nbytes = 0;
  const std::string* file = nullptr;  // path of the file holding it (owned by the reader)
  // For an F8_E4M3 weight: its float32 block scales [ceil(rows/128), ceil(cols/128)].
  const StTensor* scale_inv = nullptr;
  // True for a `<weight>_scale_inv` tensor that belongs to an F8_E4M3 weight: not a model
  // tensor, hidden from SafetensorsReader::tensors().
  bool is_scale = false;

  int64_t elements() const;  // product of shape (1 for a scalar)
  // Matrix view: rows = shape[0] and cols = product of the other dims; a 1-D tensor (or a
  // scalar) is one row.
  int64_t rows() const;
  int64_t cols() const;
};

// Opens a checkpoint. `path` is a .safetensors file, or a folder holding model.safetensors or
// model.safetensors.index.json (whose "weight_map" names the shard of every tensor). Every file
// is mapped and validated at open: header length within the file, valid JSON, known dtype,
// shape x dtype size equal to the byte range, ranges inside the data section and not
// overlapping, shards agreeing with the index, each F8_E4M3 weight having an F32 scale_inv of
// the right shape. Every error (dsmoe::Error, kFormat or kIo) names the file, the tensor and
// the problem.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::filesystem::path& path);
  ~SafetensorsReader();
  SafetensorsReader(SafetensorsReader&&) noexcept;
  SafetensorsReader& operator=(SafetensorsReader&&) noexcept;

  // Model tensors (scale_inv tensors excluded), sorted by name.
  const std::vector<const StTensor*>& tensors() const;
  // Every tensor including the scale_inv ones, in no particular order.
  const std::vector<StTensor>& all_tensors() const;
  const StTensor* find(std::string_view name) const;  // nullptr when absent (scales included)
  const StTensor& at(std::string_view name) const;    // throws Error naming the checkpoint
  // The mapped .safetensors files, in the order opened.
  std::vector<std::filesystem::path> files() const;
  // Total bytes of tensor data (all tensors, scales included): the converter's input size.
  uint64_t total_bytes() const;
  // "__metadata__" string entries of every file (later shards do not override earlier ones).
  const std::map<std::string, std::string>& metadata() const;
  // Advises the OS to read [begin, end) of a tensor's bytes ahead (sequential conversion).
  void prefetch(const StTensor& t) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads rows [r0, r1) of `t` (its rows()/cols() matrix view; a 1-D tensor is one row) as float32
// into out[0 .. (r1-r0)*cols). F8_E4M3 values are dequantized as float32(e4m3) * scale_inv of
// their 128x128 block, multiplied in float32 (the DeepSeek-V3 reference). Throws Error for an
// integer dtype or rows out of range. Thread-safe (reads only); no allocation.
void read_rows_f32(const StTensor& t, int64_t r0, int64_t r1, float* out);

// Writes a .safetensors file as a stream: all tensors are declared up front (the header comes
// first), then their bytes are appended in declaration order, in chunks of any size. Data goes
// to a temporary file next to `path` that commit() renames into place; destroying the writer
// without commit() removes it, so an interrupted write never leaves `path`.
class SafetensorsWriter {
 public:
  struct Entry {
    std::string name;
    StDtype dtype = StDtype::kF32;
    std::vector<int64_t> shape;
  };
  // Throws Error(kIo) when `path` exists and !overwrite, or the temporary cannot be created;
  // Error(kInvalidArgument) for duplicate or empty names.
  SafetensorsWriter(const std::filesystem::path& path, std::vector<Entry> tensors,
                    const std::map<std::string, std::string>& metadata = {},
                    bool overwrite = false);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Appends the next `n` bytes of tensor data (crossing tensor boundaries is allowed: the data
  // section is the tensors back to back). Throws when more bytes arrive than declared.
  void append(const void* data, size_t n);
  // Bytes still expected before commit().
  uint64_t remaining() const;
  // Checks that every declared byte arrived, flushes, fsyncs and renames to the final path.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsmoe
