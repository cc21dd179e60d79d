// AVX-512 BF16 kernels for bf16 weights: vdpbf16ps multiplies bf16 pairs and accumulates in f32.
// The activations are rounded to bf16 on the fly (to nearest even), so results differ from the
// f32-activation reference by up to about 2^-8 of sum |w*x| (tests use that tolerance).
#include <immintrin.h>

#include "kernels/registry.h"

namespace dsmoe {
namespace {

// Dot product of one bf16 weight row with NT f32 token rows, 32 inputs per step; the tail is a
// masked step (masked lanes load zeros).
template <int NT>
inline void row_dot_bf16(const uint16_t* wr, int64_t cols, const float* x, int64_t ldx, float* out) {
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t c = 0; c < cols; c += 32) {
    const int64_t left = cols - c;
    const __mmask32 m32 = left >= 32 ? ~__mmask32{0} : (__mmask32{1} << left) - 1;
    const __mmask16 lo = static_cast<__mmask16>(m32), hi = static_cast<__mmask16>(m32 >> 16);
    const __m512bh w = (__m512bh)_mm512_maskz_loadu_epi16(m32, wr + c);
    for (int t = 0; t < NT; ++t) {
      const float* xt = x + t * ldx + c;
      const __m512bh xb = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, xt + 16), _mm512_maskz_loadu_ps(lo, xt));
      acc[t] = _mm512_dpbf16_ps(acc[t], w, xb);
    }
  }
  // Not _mm512_reduce_add_ps: GCC 12's version trips -Wuninitialized in its own header.
  alignas(64) float lanes[16];
  for (int t = 0; t < NT; ++t) {
    _mm512_store_ps(lanes, acc[t]);
    float s = 0.0f;
    for (float v : lanes) s += v;
    out[t] = s;
  }
}

void gemv_bf16_avx512bf16(const void* w, int64_t /*rows*/, int64_t cols, const float* x, float* y,
                          int64_t r0, int64_t r1) noexcept {
  const uint16_t* wm = static_cast<const uint16_t*>(w);
  for (int64_t r = r0; r < r1; ++r) row_dot_bf16<1>(wm + r * cols, cols, x, 0, y + r);
}

void gemm_bf16_avx512bf16(const void* w, int64_t /*rows*/, int64_t cols, const float* x, int64_t ldx,
                          int64_t n, float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept {
  constexpr int kTokens = 4;
  const uint16_t* wm = static_cast<const uint16_t*>(w);
  for (int64_t r = r0; r < r1; ++r) {
    float out[kTokens];
    int64_t t = 0;
    for (; t + kTokens <= n; t += kTokens) {
      row_dot_bf16<kTokens>(wm + r * cols, cols, x + t * ldx, ldx, out);
      for (int k = 0; k < kTokens; ++k) y[(t + k) * ldy + r] = out[k];
    }
    for (; t < n; ++t) row_dot_bf16<1>(wm + r * cols, cols, x + t * ldx, ldx, y + t * ldy + r);
  }
}

}  // namespace

namespace kernel_registry {
void add_avx512bf16(KernelTable& t) {
  t.gemv_bf16_f32 = {gemv_bf16_avx512bf16, 1, 1, "gemv_bf16_f32_1x1__avx512bf16"};
  t.gemm_bf16_f32 = {gemm_bf16_avx512bf16, 4, 1, "gemm_bf16_f32_4x1__avx512bf16"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
