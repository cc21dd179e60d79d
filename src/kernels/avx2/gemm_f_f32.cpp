// AVX2 kernels for f32 and bf16 weights (row-major) with f32 activations, and the AVX2
// activation quantizer. Compiled with -mavx2 -mfma -mf16c.
#include <immintrin.h>

#include <cstring>  // memcpy

#include "kernels/registry.h"
#include "util/half.h"  // bf16_to_f32

namespace dsmoe {
namespace {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {  // bf16 -> f32 is a 16-bit shift
  const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}
inline float load1(const float* p) { return *p; }
inline float load1(const uint16_t* p) { return bf16_to_f32(*p); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One weight row against NT tokens with U independent accumulators each (FMA latency hiding).
template <typename W, int NT, int U>
inline void row_dot(const W* wr, int64_t cols, const float* x, int64_t ldx, float* out) {
  __m256 acc[NT][U];
  for (int t = 0; t < NT; ++t)
    for (int u = 0; u < U; ++u) acc[t][u] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 * U <= cols; c += 8 * U) {
    for (int u = 0; u < U; ++u) {
      const __m256 w = load8(wr + c + 8 * u);
      for (int t = 0; t < NT; ++t) {
        acc[t][u] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + t * ldx + c + 8 * u), acc[t][u]);
      }
    }
  }
  for (; c + 8 <= cols; c += 8) {
    const __m256 w = load8(wr + c);
    for (int t = 0; t < NT; ++t) acc[t][0] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + t * ldx + c), acc[t][0]);
  }
  for (int t = 0; t < NT; ++t) {
    for (int u = 1; u < U; ++u) acc[t][0] = _mm256_add_ps(acc[t][0], acc[t][u]);
    float s = hsum(acc[t][0]);
    for (int64_t k = c; k < cols; ++k) s += load1(wr + k) * x[t * ldx + k];
    out[t] = s;
  }
}

template <typename W>
void gemv_f_avx2(const void* w, int64_t /*rows*/, int64_t cols, const float* x, float* y,
                 int64_t r0, int64_t r1) noexcept {
  const W* wm = static_cast<const W*>(w);
  for (int64_t r = r0; r < r1; ++r) row_dot<W, 1, 4>(wm + r * cols, cols, x, 0, y + r);
}

template <typename W>
void gemm_f_avx2(const void* w, int64_t /*rows*/, int64_t cols, const float* x, int64_t ldx,
                 int64_t n, float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept {
  constexpr int kTokens = 4;
  const W* wm = static_cast<const W*>(w);
  for (int64_t r = r0; r < r1; ++r) {
    float out[kTokens];
    int64_t t = 0;
    for (; t + kTokens <= n; t += kTokens) {
      row_dot<W, kTokens, 1>(wm + r * cols, cols, x + t * ldx, ldx, out);
      for (int k = 0; k < kTokens; ++k) y[(t + k) * ldy + r] = out[k];
    }
    for (; t < n; ++t) row_dot<W, 1, 4>(wm + r * cols, cols, x + t * ldx, ldx, y + t * ldy + r);
  }
}

// Same arithmetic as the scalar reference (id = 127 / amax, round to nearest even), so the
// quantized activations are bit-identical.
void quantize_act_q8_avx2(const float* x, int64_t cols, QActBlock* out) noexcept {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t g = 0; g < act_blocks(cols); ++g) {
    const int64_t c0 = g * kActGroup;
    alignas(32) float buf[kActGroup];
    const float* src = x + c0;
    if (cols - c0 < kActGroup) {  // partial last group: zero-padded copy
      std::memset(buf, 0, sizeof(buf));
      std::memcpy(buf, x + c0, static_cast<size_t>(cols - c0) * sizeof(float));
      src = buf;
    }
    __m256 v[4];
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(src + 8 * k);
      m = _mm256_max_ps(m, _mm256_and_ps(v[k], abs_mask));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], vid));
    // Sum of levels, then pack 32 int32 -> 32 int8 (packs interleave 128-bit lanes: undo it).
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_hadd_epi32(s4, s4);
    s4 = _mm_hadd_epi32(s4, s4);
    const __m256i p16a = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p16b = _mm256_packs_epi32(q[2], q[3]);
    __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    QActBlock& b = out[g];
    b.d = amax / 127.0f;
    b.sum = _mm_cvtsi128_si32(s4);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.q), p8);
  }
}

}  // namespace

namespace kernel_registry {
void add_avx2_f(KernelTable& t) {
  t.quantize_act_q8 = {quantize_act_q8_avx2, 1, 1, "quantize_act_q8__avx2"};
  t.gemv_f32_f32 = {gemv_f_avx2<float>, 1, 1, "gemv_f32_f32_1x1__avx2"};
  t.gemv_bf16_f32 = {gemv_f_avx2<uint16_t>, 1, 1, "gemv_bf16_f32_1x1__avx2"};
  t.gemm_f32_f32 = {gemm_f_avx2<float>, 4, 1, "gemm_f32_f32_4x1__avx2"};
  t.gemm_bf16_f32 = {gemm_f_avx2<uint16_t>, 4, 1, "gemm_bf16_f32_4x1__avx2"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
