// quantize_rows / dequantize_row: the packing of every weight type (docs/FORMAT.md). tests/quant
// checks the tiled q8/q4 packing byte for byte against a one-value-at-a-time reference.
#include <algorithm>  // std::copy, std::min
#include <bit>        // std::endian
#include <cstring>    // memcpy, memset

#include "quant/qlayout.h"
#include "quant/qtypes.h"
#include "quant/scale_search.h"  // search_scales
#include "util/check.h"
#include "util/half.h"  // bf16 / f16 conversions

namespace dsmoe {
namespace {

using qlayout::kTileRows;

// The rows of a tile are the lanes of the scale search: for one group, lane r holds row r, so a
// tile's 8 scales of that group are one contiguous store and its interleaved quant bytes are a
// few lane-wise shifts (docs/FORMAT.md), with no per-byte loops.
static_assert(kTileRows == kGroupBatch, "one search lane per row of a tile");
static_assert(std::endian::native == std::endian::little, "packs quant bytes into words");
using Lanes = GroupLanes;
typedef uint32_t Words __attribute__((vector_size(kGroupBatch * sizeof(uint32_t))));
typedef int32_t Ints __attribute__((vector_size(kGroupBatch * sizeof(int32_t))));

// out[j][k] = rows[k][j] for an 8 x 8 block (unpack, 64-bit shuffle, 128-bit lane swap: the
// shuffles AVX has as single instructions).
void transpose8(const Lanes* r, Lanes* out) {
  Lanes t[8], u[8];
  for (int p = 0; p < 8; p += 2) {
    t[p] = __builtin_shufflevector(r[p], r[p + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[p + 1] = __builtin_shufflevector(r[p], r[p + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int p = 0; p < 8; p += 4) {
    for (int h = 0; h < 2; ++h) {
      u[p + 2 * h] = __builtin_shufflevector(t[p + h], t[p + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[p + 2 * h + 1] =
          __builtin_shufflevector(t[p + h], t[p + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    out[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// xt[i][r] = input i of group g of row r, for the kTileRows rows at `rows` (stride `stride`),
// all 32 inputs present.
void load_group(const float* rows, int64_t stride, Lanes* xt) {
  for (int64_t j = 0; j < kGroupSize; j += kTileRows) {
    Lanes block[kTileRows];
    for (int64_t r = 0; r < kTileRows; ++r) {
      std::memcpy(&block[r], rows + r * stride + j, sizeof(Lanes));
    }
    transpose8(block, xt + j);
  }
}

// Words whose byte m is (uint8) level[m][r] of lane r: 4 consecutive inputs of each row, as the
// quant_byte layout stores them.
Words interleave4(const Words* v) {
  const Words byte = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return (v[0] & byte) | ((v[1] & byte) << 8) | ((v[2] & byte) << 16) | (v[3] << 24);
}

Words as_words(Lanes levels) {
  return reinterpret_cast<Words>(__builtin_convertvector(levels, Ints));
}

// Packs one tile (rows [r0, r0+n) of the tensor, n <= 8, src holding exactly those rows). Padding
// rows and inputs are zeros, which quantize to scale 0 and level 0 like the format requires.
void quantize_tile(QType t, const float* src, int64_t n, int64_t cols, uint8_t* tile,
                   ScaleSearch search) {
  const int64_t ng = qlayout::groups(cols);
  auto* scales = reinterpret_cast<uint16_t*>(tile);
  const QGrid grid = t == QType::kQ8 ? kQ8Grid : kQ4Grid;
  for (int64_t g = 0; g < ng; ++g) {
    const int64_t c0 = g * kGroupSize;
    Lanes xt[kGroupSize], qt[kGroupSize];
    if (n == kTileRows && c0 + kGroupSize <= cols) {
      load_group(src + c0, cols, xt);
    } else {
      float padded[kTileRows][kGroupSize] = {};
      for (int64_t r = 0; r < n; ++r) {
        std::copy(src + r * cols + c0, src + r * cols + std::min(cols, c0 + kGroupSize), padded[r]);
      }
      load_group(padded[0], kGroupSize, xt);
    }
    search_scales(xt, grid, search, qt, scales + g * kTileRows);
    uint8_t* gq = tile + qlayout::scale_section_bytes(cols) + g * qlayout::group_tile_bytes(t);
    const int64_t chunks = qlayout::group_row_bytes(t) / qlayout::kChunk;
    for (int64_t j = 0; j < chunks; ++j) {
      Words v[qlayout::kChunk];
      for (int64_t m = 0; m < qlayout::kChunk; ++m) {
        const int64_t c = j * qlayout::kChunk + m;
        // q4: nibble level+8 of input c low, of input c+16 high.
        v[m] = t == QType::kQ8
                   ? as_words(qt[c])
                   : (as_words(qt[c]) + 8) | ((as_words(qt[c + kGroupSize / 2]) + 8) << 4);
      }
      const Words w = interleave4(v);
      std::memcpy(gq + j * sizeof(Words), &w, sizeof(Words));
    }
  }
}

}  // namespace

void quantize_rows(QType t, const float* src, int64_t row_begin, int64_t row_end, int64_t rows,
                   int64_t cols, void* dst, ScaleSearch search) {
  DSMOE_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= rows && cols > 0);
  const size_t n = static_cast<size_t>(row_end - row_begin) * static_cast<size_t>(cols);
  const size_t first = static_cast<size_t>(row_begin) * static_cast<size_t>(cols);
  switch (t) {
    case QType::kF32:
      std::memcpy(static_cast<float*>(dst) + first, src, n * sizeof(float));
      return;
    case QType::kBF16: {
      uint16_t* out = static_cast<uint16_t*>(dst) + first;
      for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16(src[i]);
      return;
    }
    case QType::kQ8:
    case QType::kQ4: {
      DSMOE_CHECK(row_begin % kTileRows == 0 && (row_end % kTileRows == 0 || row_end == rows));
      const size_t tb = qlayout::tile_bytes(t, cols);
      for (int64_t r = row_begin; r < row_end; r += kTileRows) {
        uint8_t* tile = static_cast<uint8_t*>(dst) + static_cast<size_t>(r / kTileRows) * tb;
        quantize_tile(t, src + (r - row_begin) * cols, std::min(kTileRows, row_end - r), cols,
                      tile, search);
      }
      return;
    }
  }
}

void dequantize_row(QType t, const void* tensor, int64_t rows, int64_t cols, int64_t row,
                    float* out) {
  DSMOE_CHECK(0 <= row && row < rows);
  const size_t first = static_cast<size_t>(row) * static_cast<size_t>(cols);
  switch (t) {
    case QType::kF32:
      std::memcpy(out, static_cast<const float*>(tensor) + first, cols * sizeof(float));
      return;
    case QType::kBF16: {
      const uint16_t* in = static_cast<const uint16_t*>(tensor) + first;
      for (int64_t c = 0; c < cols; ++c) out[c] = bf16_to_f32(in[c]);
      return;
    }
    case QType::kQ8:
    case QType::kQ4: {
      const uint8_t* tile = qlayout::tile_ptr(t, tensor, cols, row / kTileRows);
      const int64_t r = row % kTileRows;
      const uint16_t* scales = qlayout::tile_scales(tile);
      // Group by group, with the scale and the row's quant bytes gathered once per group: the
      // inner loops vectorize (the forward pass's reference path and MLA call this per token).
      constexpr int64_t kHalf = kGroupSize / 2;
      for (int64_t g = 0; g * kGroupSize < cols; ++g) {
        const uint8_t* gq = qlayout::tile_group_quants(t, tile, cols, g);
        const float d = f16_to_f32(scales[g * kTileRows + r]);
        const int64_t n = std::min(kGroupSize, cols - g * kGroupSize);
        const int64_t nbytes = t == QType::kQ8 ? kGroupSize : kHalf;
        uint8_t bytes[kGroupSize];
        for (int64_t i = 0; i < nbytes; ++i) bytes[i] = gq[qlayout::quant_byte(r, i)];
        float v[kGroupSize];
        if (t == QType::kQ8) {
          for (int64_t i = 0; i < kGroupSize; ++i) v[i] = d * static_cast<float>(static_cast<int8_t>(bytes[i]));
        } else {
          for (int64_t i = 0; i < kHalf; ++i) {
            v[i] = d * static_cast<float>((bytes[i] & 0xf) - 8);
            v[i + kHalf] = d * static_cast<float>((bytes[i] >> 4) - 8);
          }
        }
        std::copy(v, v + n, out + g * kGroupSize);
      }
      return;
    }
  }
}

}  // namespace dsmoe
