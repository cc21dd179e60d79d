// quantize_rows / dequantize_row: the reference packing of every weight type (docs/FORMAT.md).
#include <algorithm>  // std::copy, std::fill
#include <cstring>    // memcpy, memset

#include "quant/qlayout.h"
#include "quant/qtypes.h"
#include "quant/scale_search.h"  // quantize_groups
#include "util/check.h"
#include "util/half.h"  // bf16 / f16 conversions

namespace dsmoe {
namespace {

using qlayout::kTileRows;

// Packs one tile (rows [r0, r0+n) of the tensor, n <= 8, src holding exactly those rows).
void quantize_tile(QType t, const float* src, int64_t n, int64_t cols, uint8_t* tile,
                   ScaleSearch search) {
  const int64_t ng = qlayout::groups(cols);
  std::memset(tile, 0, qlayout::tile_bytes(t, cols));
  auto* scales = reinterpret_cast<uint16_t*>(tile);
  const QGrid grid = t == QType::kQ8 ? kQ8Grid : kQ4Grid;
  uint8_t* quants = tile + qlayout::scale_section_bytes(cols);
  if (t == QType::kQ4) {
    // Zero padding rows/groups: level 0 is nibble 8.
    std::memset(quants, 0x88, static_cast<size_t>(ng * qlayout::group_tile_bytes(t)));
  }
  float x[kGroupBatch * kGroupSize];
  int8_t q[kGroupBatch * kGroupSize];
  uint16_t batch_scales[kGroupBatch];
  for (int64_t r = 0; r < n; ++r) {
    const float* row = src + r * cols;
    for (int64_t g0 = 0; g0 < ng; g0 += kGroupBatch) {
      // Up to kGroupBatch groups of the row, zero-padded past `cols`.
      const int64_t c0 = g0 * kGroupSize, len = std::min(kGroupBatch * kGroupSize, cols - c0);
      std::copy(row + c0, row + c0 + len, x);
      std::fill(x + len, x + kGroupBatch * kGroupSize, 0.0f);
      quantize_groups(x, grid, search, q, batch_scales);
      for (int64_t g = g0; g < std::min(ng, g0 + kGroupBatch); ++g) {
        const int8_t* gqv = q + (g - g0) * kGroupSize;
        scales[g * kTileRows + r] = batch_scales[g - g0];
        uint8_t* gq = quants + g * qlayout::group_tile_bytes(t);
        if (t == QType::kQ8) {
          for (int64_t c = 0; c < kGroupSize; ++c) {
            gq[qlayout::quant_byte(r, c)] = static_cast<uint8_t>(gqv[c]);
          }
        } else {
          for (int64_t c = 0; c < kGroupSize / 2; ++c) {
            gq[qlayout::quant_byte(r, c)] =
                static_cast<uint8_t>((gqv[c] + 8) | ((gqv[c + kGroupSize / 2] + 8) << 4));
          }
        }
      }
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
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t g = c / kGroupSize, i = c % kGroupSize;
        const uint8_t* gq = qlayout::tile_group_quants(t, tile, cols, g);
        int q;
        if (t == QType::kQ8) {
          q = static_cast<int8_t>(gq[qlayout::quant_byte(r, i)]);
        } else {
          const uint8_t b = gq[qlayout::quant_byte(r, i % (kGroupSize / 2))];
          q = (i < kGroupSize / 2 ? (b & 0xf) : (b >> 4)) - 8;
        }
        out[c] = f16_to_f32(scales[g * kTileRows + r]) * static_cast<float>(q);
      }
      return;
    }
  }
}

}  // namespace dsmoe
