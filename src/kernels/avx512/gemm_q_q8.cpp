// AVX-512 VNNI int8 kernels for q8/q4 weights. Two 8-row tiles side by side fill one zmm (lanes
// 0-7 the rows of one tile, 8-15 the next), so each vpdpbusd does twice the work of the AVX2 walk
// in q_tiles.h, which still handles a last unpaired tile. gemm steps 8 tokens at a time, sharing
// each decoded weight vector across them (prompt processing is compute-bound), and the last 1-7
// tokens in one more pass; gemv is the same walk with one token.
#include <immintrin.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/x86/q_tiles.h"
#include "kernels/x86/q_pairs_avx512.h"

struct DotAvx512Vnni {
  static constexpr bool kInt16Sums = false;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
};

inline __m512i bcast4_512(const int8_t* a) {
  int32_t v;
  __builtin_memcpy(&v, a, 4);
  return _mm512_set1_epi32(v);
}

// Tiles row0/8 and row0/8 + 1 (both stored) against tokens [t0, t0 + NT); stores rows
// [row0, row0 + valid) of each token, valid <= 16.
template <QType T, int NT>
void pair_tokens(const void* w, int64_t cols, const QActBlock* x, int64_t t0, float* y, int64_t ldy,
                 int64_t row0, int64_t valid) {
  const int64_t ng = qlayout::groups(cols);
  const size_t tb = qlayout::tile_bytes(T, cols);
  const uint8_t* ta = static_cast<const uint8_t*>(w) + static_cast<size_t>(row0 / 8) * tb;
  const uint8_t* tb2 = ta + tb;
  const uint16_t* sa = qlayout::tile_scales(ta);
  const uint16_t* sb = qlayout::tile_scales(tb2);
  const uint8_t* qa = ta + qlayout::scale_section_bytes(cols);
  const uint8_t* qb = tb2 + qlayout::scale_section_bytes(cols);
  constexpr int64_t gtb = T == QType::kQ8 ? 256 : 128;
  const QActBlock* xb[NT];
  for (int t = 0; t < NT; ++t) xb[t] = x + (t0 + t) * ng;
  __m512 out[NT];
  for (int t = 0; t < NT; ++t) out[t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0f), zero = _mm512_setzero_si512();
  for (int64_t g = 0; g < ng; ++g) {
    const __m512 ws = load_scales_pair(sa + g * 8, sb + g * 8);
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    if constexpr (T == QType::kQ4) {
      for (int v = 0; v < 4; ++v) {
        const __m512i raw = load_pair(qa + 32 * v, qb + 32 * v);
        const __m512i lo = _mm512_and_si512(raw, m4), hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        for (int t = 0; t < NT; ++t) {
          isum[t] = _mm512_dpbusd_epi32(isum[t], lo, bcast4_512(xb[t][g].q + 4 * v));
          isum[t] = _mm512_dpbusd_epi32(isum[t], hi, bcast4_512(xb[t][g].q + 16 + 4 * v));
        }
      }
      // Levels are nibble - 8.
      for (int t = 0; t < NT; ++t) isum[t] = _mm512_sub_epi32(isum[t], _mm512_set1_epi32(8 * xb[t][g].sum));
    } else {
      // Signed × signed as |w| × (a with w's sign); AVX-512 has no vpsignb, so negate under a mask.
      for (int v = 0; v < 8; ++v) {
        const __m512i wv = load_pair(qa + 32 * v, qb + 32 * v);
        const __m512i aw = _mm512_abs_epi8(wv);
        const __mmask64 neg = _mm512_movepi8_mask(wv);
        for (int t = 0; t < NT; ++t) {
          const __m512i a = bcast4_512(xb[t][g].q + 4 * v);
          isum[t] = _mm512_dpbusd_epi32(isum[t], aw, _mm512_mask_sub_epi8(a, neg, zero, a));
        }
      }
    }
    qa += gtb;
    qb += gtb;
    for (int t = 0; t < NT; ++t) {
      const __m512 scale = _mm512_mul_ps(ws, _mm512_set1_ps(xb[t][g].d));
      out[t] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(kAll16, isum[t]), scale, out[t]);
    }
  }
  const __mmask16 keep = static_cast<__mmask16>(valid >= 16 ? 0xffff : (1u << valid) - 1);
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + (t0 + t) * ldy + row0, keep, out[t]);
}

template <QType T>
void gemm_pairs(const void* w, int64_t rows, int64_t cols, const QActBlock* x, int64_t n, float* y,
                int64_t ldy, int64_t r0, int64_t r1) noexcept {
  int64_t row0 = r0;
  // Row ranges end on a tile boundary or at `rows`, so a second tile starting before r1 is stored.
  for (; row0 + qlayout::kTileRows < r1; row0 += 2 * qlayout::kTileRows) {
    const int64_t valid = r1 - row0 < 16 ? r1 - row0 : 16;
    int64_t t = 0;
    for (; t + 8 <= n; t += 8) pair_tokens<T, 8>(w, cols, x, t, y, ldy, row0, valid);
    // The rest in one pass over the weights, not one pass per token.
    switch (n - t) {
      case 7: pair_tokens<T, 7>(w, cols, x, t, y, ldy, row0, valid); break;
      case 6: pair_tokens<T, 6>(w, cols, x, t, y, ldy, row0, valid); break;
      case 5: pair_tokens<T, 5>(w, cols, x, t, y, ldy, row0, valid); break;
      case 4: pair_tokens<T, 4>(w, cols, x, t, y, ldy, row0, valid); break;
      case 3: pair_tokens<T, 3>(w, cols, x, t, y, ldy, row0, valid); break;
      case 2: pair_tokens<T, 2>(w, cols, x, t, y, ldy, row0, valid); break;
      case 1: pair_tokens<T, 1>(w, cols, x, t, y, ldy, row0, valid); break;
      default: break;
    }
  }
  if (row0 < r1) gemm_tiles<DotAvx512Vnni, T>(w, rows, cols, x, n, y, ldy, row0, r1);
}

template <QType T>
void gemv_pairs(const void* w, int64_t rows, int64_t cols, const QActBlock* x, float* y, int64_t r0,
                int64_t r1) noexcept {
  gemm_pairs<T>(w, rows, cols, x, 1, y, 0, r0, r1);
}

}  // namespace

namespace kernel_registry {
void add_avx512vnni(KernelTable& t) {
  t.gemv_q8_q8 = {gemv_pairs<QType::kQ8>, 1, 16, "gemv_q8_q8_1x16__avx512vnni"};
  t.gemv_q4_q8 = {gemv_pairs<QType::kQ4>, 1, 16, "gemv_q4_q8_1x16__avx512vnni"};
  t.gemm_q8_q8 = {gemm_pairs<QType::kQ8>, 8, 16, "gemm_q8_q8_8x16__avx512vnni"};
  t.gemm_q4_q8 = {gemm_pairs<QType::kQ4>, 8, 16, "gemm_q4_q8_8x16__avx512vnni"};
  add_avx512_latent(t);
}
}  // namespace kernel_registry

}  // namespace dsmoe
