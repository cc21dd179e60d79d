#pragma once
// Byte layout of the tiled quantized types q8 and q4 (docs/FORMAT.md "## Weight types" is the
// specification; this header is its executable form, shared by the quantizer and the scalar
// kernel references).
//
// A [rows, cols] tensor is a sequence of tiles of kTileRows rows (the last one padded with zero
// rows). A tile is a scale section followed by a quant section:
//   scales: f16[groups][kTileRows]             the scale of (group g, row r) at index g*8 + r
//   quants: per group, kTileRows * 32 inputs, in 4-input chunks interleaved across the tile's rows:
//     q8: int8, byte (c/4)*32 + r*4 + c%4 of the group holds row r, input c (c in 0..31)
//     q4: nibble q+8 (q in -8..7); byte (c/4)*32 + r*4 + c%4 (c in 0..15) holds row r's input c in
//         its low nibble and input c+16 in its high nibble
// so one 32-byte load holds 4 consecutive inputs of 8 rows, and a dot product with 4 broadcast
// activation bytes yields one partial sum per row without horizontal reductions.
#include <cstddef>
#include <cstdint>

#include "quant/qtypes.h"

namespace dsmoe::qlayout {

inline constexpr int64_t kTileRows = 8;
inline constexpr int64_t kChunk = 4;  // consecutive inputs of one row stored together
inline constexpr int64_t kScaleBytes = 2;  // f16

inline int64_t groups(int64_t cols) { return (cols + kGroupSize - 1) / kGroupSize; }
inline int64_t tiles(int64_t rows) { return (rows + kTileRows - 1) / kTileRows; }

// Quant bytes of one group of one row: 32 (q8) or 16 (q4).
inline int64_t group_row_bytes(QType t) { return t == QType::kQ8 ? kGroupSize : kGroupSize / 2; }
// Quant bytes of one group of a whole tile.
inline int64_t group_tile_bytes(QType t) { return group_row_bytes(t) * kTileRows; }

inline size_t scale_section_bytes(int64_t cols) {
  return static_cast<size_t>(groups(cols) * kTileRows * kScaleBytes);
}
inline size_t tile_bytes(QType t, int64_t cols) {
  return scale_section_bytes(cols) + static_cast<size_t>(groups(cols) * group_tile_bytes(t));
}

// Start of tile `tile` of a tensor.
inline const uint8_t* tile_ptr(QType t, const void* tensor, int64_t cols, int64_t tile) {
  return static_cast<const uint8_t*>(tensor) + static_cast<size_t>(tile) * tile_bytes(t, cols);
}
// The f16 scales of a tile: [groups][kTileRows].
inline const uint16_t* tile_scales(const uint8_t* tile) {
  return reinterpret_cast<const uint16_t*>(tile);
}
// The quants of group g of a tile.
inline const uint8_t* tile_group_quants(QType t, const uint8_t* tile, int64_t cols, int64_t g) {
  return tile + scale_section_bytes(cols) + static_cast<size_t>(g * group_tile_bytes(t));
}
// Byte offset, within a group's quants, of row r's input c (q8: c in 0..31; q4: c in 0..15, the
// byte also holding input c+16 in its high nibble).
inline int64_t quant_byte(int64_t r, int64_t c) {
  return (c / kChunk) * (kChunk * kTileRows) + r * kChunk + c % kChunk;
}

}  // namespace dsmoe::qlayout
