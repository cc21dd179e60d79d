#pragma once
// Weight storage types of .dsmoe files and the quantize/dequantize reference for each. The exact
// byte layout of every type is specified in docs/FORMAT.md (single source of truth); the kernels
// read that layout directly from the mapped file, with no repacking at load.
//
// Matrices are [rows, cols] = [out, in] as in Hugging Face. Quantized types group `cols` (the input
// dimension, the one a dot product runs over) in groups of kGroupSize; a partial last group is
// stored padded with zeros. Some layouts interleave rows in tiles (qtype_row_tile() rows); a
// tensor's last tile is padded with zero rows.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dsmoe {

enum class QType : uint8_t {
  kF32 = 0,
  kBF16 = 1,
  kQ8 = 2,  // int8, symmetric, one scale per group of 32 inputs
  kQ4 = 3,  // 4-bit, groups of 32 (layout and scale scheme: docs/FORMAT.md)
};

inline constexpr int64_t kGroupSize = 32;

const char* qtype_name(QType t);                       // "f32", "bf16", "q8", "q4"
std::optional<QType> parse_qtype(std::string_view s);  // inverse of qtype_name
bool qtype_is_quantized(QType t);

// Rows per interleaved tile (1 when rows are stored one after another).
int64_t qtype_row_tile(QType t);
// Bytes a [rows, cols] tensor of type t occupies (including padding).
size_t qtensor_bytes(QType t, int64_t rows, int64_t cols);
// Storage bits per weight of a [rows, cols] tensor (bytes * 8 / (rows * cols)).
double qtype_bits_per_weight(QType t, int64_t rows, int64_t cols);

enum class ScaleSearch {
  kMse,     // per group, the scale minimizing squared error over a search of candidates (default)
  kAbsmax,  // plain absmax / qmax (kept for comparisons in docs/quality.md)
};

// Quantizes rows [row_begin, row_end) of a [rows, cols] matrix. `src` holds exactly those rows,
// row-major f32. `dst` is the start of the whole tensor's storage (qtensor_bytes(t, rows, cols)
// bytes); only the bytes of those rows' tiles are written. row_begin must be a multiple of
// qtype_row_tile(t), and row_end too unless it equals `rows`. Disjoint row ranges may be
// quantized concurrently. Single-threaded; deterministic.
void quantize_rows(QType t, const float* src, int64_t row_begin, int64_t row_end, int64_t rows,
                   int64_t cols, void* dst, ScaleSearch search = ScaleSearch::kMse);

// Writes row `row` of a [rows, cols] tensor of type t, dequantized, into out[0..cols).
void dequantize_row(QType t, const void* tensor, int64_t rows, int64_t cols, int64_t row,
                    float* out);

}  // namespace dsmoe
