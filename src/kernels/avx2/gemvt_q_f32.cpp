// AVX2 transposed product y += W^T x of q8/q4 weights with f32 coefficients (MLA's
// q_lat = W_UK^T q_nope). Compiled with -mavx2 -mfma -mf16c only.
//
// A 32-byte chunk of a group's quants holds inputs 4k..4k+3 of the tile's 8 rows, [row][input]
// (docs/FORMAT.md). Widened to f32 it is four vectors of two rows each; each is multiplied by its
// two rows' coefficients x[r] * scale[g][r] and added to one accumulator per chunk, whose lanes
// stay [row parity][input] across every tile of the range. Only at the end of a group are the two
// halves added into y: no horizontal reduction in the inner loop, and y is read and written once
// per group whatever the number of rows.
#include <immintrin.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

constexpr int kChunks = kGroupSize / qlayout::kChunk;  // 4-input chunks per group

// The signed levels of chunk k (inputs 4k..4k+3 of every row) of a group's quants.
template <QType T>
__m256i chunk_levels(const uint8_t* gq, int k) {
  if constexpr (T == QType::kQ8) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gq + 32 * k));
  } else {
    // A q4 byte holds input c in its low nibble and input c + 16 in its high one: chunks 0..3 are
    // the low nibbles of the group's four 32-byte pieces, chunks 4..7 their high nibbles.
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gq + 32 * (k % 4)));
    const __m256i nib = k < 4 ? raw : _mm256_srli_epi16(raw, 4);
    return _mm256_sub_epi8(_mm256_and_si256(nib, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
  }
}

template <QType T>
void gemvt_tiles(const void* w, int64_t /*rows*/, int64_t cols, const float* x, float* y, int64_t r0,
                 int64_t r1) noexcept {
  constexpr int64_t kRows = qlayout::kTileRows;
  // Coefficients of rows (2j, 2j + 1), each repeated over its 4 inputs.
  const __m256i spread[4] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
                             _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7)};
  for (int64_t g = 0; g < qlayout::groups(cols); ++g) {
    __m256 acc[kChunks];
    for (__m256& a : acc) a = _mm256_setzero_ps();
    for (int64_t row0 = r0; row0 < r1; row0 += kRows) {
      const uint8_t* tile = qlayout::tile_ptr(T, w, cols, row0 / kRows);
      const __m256 scale = _mm256_cvtph_ps(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(qlayout::tile_scales(tile) + g * kRows)));
      __m256 xv;
      if (r1 - row0 >= kRows) {
        xv = _mm256_loadu_ps(x + row0);
      } else {  // rows past r1 get coefficient 0 (and x is not read there)
        alignas(32) float tail[kRows] = {};
        for (int64_t i = 0; i < r1 - row0; ++i) tail[i] = x[row0 + i];
        xv = _mm256_load_ps(tail);
      }
      const __m256 a = _mm256_mul_ps(xv, scale);
      __m256 pair[4];
      for (int j = 0; j < 4; ++j) pair[j] = _mm256_permutevar8x32_ps(a, spread[j]);
      const uint8_t* gq = qlayout::tile_group_quants(T, tile, cols, g);
      for (int k = 0; k < kChunks; ++k) {
        const __m256i lv = chunk_levels<T>(gq, k);
        const __m128i lo = _mm256_castsi256_si128(lv), hi = _mm256_extracti128_si256(lv, 1);
        const __m128i rows2[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int j = 0; j < 4; ++j) {
          acc[k] = _mm256_fmadd_ps(pair[j], _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(rows2[j])), acc[k]);
        }
      }
    }
    for (int k = 0; k < kChunks; ++k) {
      const int64_t c0 = g * kGroupSize + qlayout::kChunk * k;
      if (c0 >= cols) break;
      const __m128 v = _mm_add_ps(_mm256_castps256_ps128(acc[k]), _mm256_extractf128_ps(acc[k], 1));
      if (c0 + 4 <= cols) {
        _mm_storeu_ps(y + c0, _mm_add_ps(_mm_loadu_ps(y + c0), v));
      } else {
        alignas(16) float part[4];
        _mm_store_ps(part, v);
        for (int64_t i = 0; c0 + i < cols; ++i) y[c0 + i] += part[i];
      }
    }
  }
}

}  // namespace

namespace kernel_registry {
void add_avx2_gemvt(KernelTable& t) {
  t.gemvt_q8_f32 = {gemvt_tiles<QType::kQ8>, 1, 8, "gemvt_q8_f32_1x8__avx2"};
  t.gemvt_q4_f32 = {gemvt_tiles<QType::kQ4>, 1, 8, "gemvt_q4_f32_1x8__avx2"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
