// NEON kernels for f32 and bf16 weights (row-major) with f32 activations, and the NEON
// activation quantizer (bit-identical to the scalar reference).
#include <arm_neon.h>

#include <cstring>  // memcpy, memset

#include "kernels/registry.h"
#include "util/half.h"  // bf16_to_f32

namespace dsmoe {
namespace {

inline float32x4_t load4(const float* p) { return vld1q_f32(p); }
inline float32x4_t load4(const uint16_t* p) {  // bf16 -> f32 is a 16-bit shift
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}
inline float load1(const float* p) { return *p; }
inline float load1(const uint16_t* p) { return bf16_to_f32(*p); }

// One weight row against NT tokens, 4 independent accumulators per token for NT == 1.
template <typename W, int NT, int U>
inline void row_dot(const W* wr, int64_t cols, const float* x, int64_t ldx, float* out) {
  float32x4_t acc[NT][U];
  for (int t = 0; t < NT; ++t)
    for (int u = 0; u < U; ++u) acc[t][u] = vdupq_n_f32(0.0f);
  int64_t c = 0;
  for (; c + 4 * U <= cols; c += 4 * U) {
    for (int u = 0; u < U; ++u) {
      const float32x4_t w = load4(wr + c + 4 * u);
      for (int t = 0; t < NT; ++t) acc[t][u] = vfmaq_f32(acc[t][u], w, vld1q_f32(x + t * ldx + c + 4 * u));
    }
  }
  for (; c + 4 <= cols; c += 4) {
    const float32x4_t w = load4(wr + c);
    for (int t = 0; t < NT; ++t) acc[t][0] = vfmaq_f32(acc[t][0], w, vld1q_f32(x + t * ldx + c));
  }
  for (int t = 0; t < NT; ++t) {
    for (int u = 1; u < U; ++u) acc[t][0] = vaddq_f32(acc[t][0], acc[t][u]);
    float s = vaddvq_f32(acc[t][0]);
    for (int64_t k = c; k < cols; ++k) s += load1(wr + k) * x[t * ldx + k];
    out[t] = s;
  }
}

template <typename W>
void gemv_f_neon(const void* w, int64_t /*rows*/, int64_t cols, const float* x, float* y,
                 int64_t r0, int64_t r1) noexcept {
  const W* wm = static_cast<const W*>(w);
  for (int64_t r = r0; r < r1; ++r) row_dot<W, 1, 4>(wm + r * cols, cols, x, 0, y + r);
}

template <typename W>
void gemm_f_neon(const void* w, int64_t /*rows*/, int64_t cols, const float* x, int64_t ldx,
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

void quantize_act_q8_neon(const float* x, int64_t cols, QActBlock* out) noexcept {
  for (int64_t g = 0; g < act_blocks(cols); ++g) {
    const int64_t c0 = g * kActGroup;
    float buf[kActGroup];
    const float* src = x + c0;
    if (cols - c0 < kActGroup) {  // partial last group: zero-padded copy
      std::memset(buf, 0, sizeof(buf));
      std::memcpy(buf, x + c0, static_cast<size_t>(cols - c0) * sizeof(float));
      src = buf;
    }
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; ++k) {
      v[k] = vld1q_f32(src + 4 * k);
      m = vmaxq_f32(m, vabsq_f32(v[k]));
    }
    const float amax = vmaxvq_f32(m);
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    int32x4_t s = vdupq_n_s32(0);
    QActBlock& b = out[g];
    for (int k = 0; k < 8; k += 2) {
      const int32x4_t q0 = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));  // round to nearest even
      const int32x4_t q1 = vcvtnq_s32_f32(vmulq_n_f32(v[k + 1], id));
      s = vaddq_s32(s, vaddq_s32(q0, q1));
      const int16x8_t q16 = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
      vst1_s8(b.q + 4 * k, vmovn_s16(q16));
    }
    b.d = amax / 127.0f;
    b.sum = vaddvq_s32(s);
  }
}

}  // namespace

namespace kernel_registry {
void add_neon_f(KernelTable& t) {
  t.quantize_act_q8 = {quantize_act_q8_neon, 1, 1, "quantize_act_q8__neon"};
  t.gemv_f32_f32 = {gemv_f_neon<float>, 1, 1, "gemv_f32_f32_1x1__neon"};
  t.gemv_bf16_f32 = {gemv_f_neon<uint16_t>, 1, 1, "gemv_bf16_f32_1x1__neon"};
  t.gemm_f32_f32 = {gemm_f_neon<float>, 4, 1, "gemm_f32_f32_4x1__neon"};
  t.gemm_bf16_f32 = {gemm_f_neon<uint16_t>, 4, 1, "gemm_bf16_f32_4x1__neon"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
