// Portable vector kernels (norm, softmax, SiLU·mul, RoPE, f32 dot/axpy) through xsimd, built with
// the baseline flags (AVX2+FMA on x86-64-v3, NEON on aarch64): one source for every architecture.
#include <xsimd/xsimd.hpp>

#include <algorithm>  // std::max
#include <cmath>      // std::exp, std::sqrt

#include "kernels/registry.h"

namespace dsmoe {
namespace {

using B = xsimd::batch<float>;
constexpr int64_t kW = static_cast<int64_t>(B::size);

float dot_xsimd(const float* a, const float* b, int64_t n) noexcept {
  B acc0(0.0f), acc1(0.0f);
  int64_t i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
    acc0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), acc0);
    acc1 = xsimd::fma(B::load_unaligned(a + i + kW), B::load_unaligned(b + i + kW), acc1);
  }
  for (; i + kW <= n; i += kW) acc0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), acc0);
  float s = xsimd::hadd(acc0 + acc1);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_xsimd(float a, const float* x, float* y, int64_t n) noexcept {
  const B va(a);
  int64_t i = 0;
  for (; i + kW <= n; i += kW) xsimd::fma(va, B::load_unaligned(x + i), B::load_unaligned(y + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] += a * x[i];
}

void rmsnorm_xsimd(const float* x, const float* weight, int64_t n, float eps, float* y) noexcept {
  const float inv = 1.0f / std::sqrt(dot_xsimd(x, x, n) / static_cast<float>(n) + eps);
  const B vinv(inv);
  int64_t i = 0;
  for (; i + kW <= n; i += kW) {
    (B::load_unaligned(x + i) * vinv * B::load_unaligned(weight + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = x[i] * inv * weight[i];
}

void softmax_xsimd(float* x, int64_t n) noexcept {
  float m = x[0];
  int64_t i = 0;
  if (n >= kW) {
    B vm = B::load_unaligned(x);
    for (i = kW; i + kW <= n; i += kW) vm = xsimd::max(vm, B::load_unaligned(x + i));
    alignas(64) float lanes[kW];
    vm.store_aligned(lanes);
    for (int64_t k = 0; k < kW; ++k) m = std::max(m, lanes[k]);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  const B vmax(m);
  B vs(0.0f);
  for (i = 0; i + kW <= n; i += kW) {
    const B e = xsimd::exp(B::load_unaligned(x + i) - vmax);
    e.store_unaligned(x + i);
    vs += e;
  }
  float s = xsimd::hadd(vs);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    s += x[i];
  }
  const float inv = 1.0f / s;
  const B vinv(inv);
  for (i = 0; i + kW <= n; i += kW) (B::load_unaligned(x + i) * vinv).store_unaligned(x + i);
  for (; i < n; ++i) x[i] *= inv;
}

void silu_mul_xsimd(const float* gate, const float* up, int64_t n, float* out) noexcept {
  const B one(1.0f);
  int64_t i = 0;
  for (; i + kW <= n; i += kW) {
    const B g = B::load_unaligned(gate + i);
    (g / (one + xsimd::exp(-g)) * B::load_unaligned(up + i)).store_unaligned(out + i);
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void rope_xsimd(float* x, const float* cos, const float* sin, int64_t half) noexcept {
  int64_t i = 0;
  for (; i + kW <= half; i += kW) {
    const B a = B::load_unaligned(x + i), b = B::load_unaligned(x + half + i);
    const B c = B::load_unaligned(cos + i), s = B::load_unaligned(sin + i);
    (a * c - b * s).store_unaligned(x + i);
    (b * c + a * s).store_unaligned(x + half + i);
  }
  for (; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    x[i] = a * cos[i] - b * sin[i];
    x[i + half] = b * cos[i] + a * sin[i];
  }
}

#include "kernels/latent_attention.h"

}  // namespace

namespace kernel_registry {
void add_xsimd(KernelTable& t) {
  t.rmsnorm_f32 = {rmsnorm_xsimd, 1, 1, "rmsnorm_f32__xsimd"};
  t.softmax_f32 = {softmax_xsimd, 1, 1, "softmax_f32__xsimd"};
  t.silu_mul_f32 = {silu_mul_xsimd, 1, 1, "silu_mul_f32__xsimd"};
  t.rope_f32 = {rope_xsimd, 1, 1, "rope_f32__xsimd"};
  t.dot_f32 = {dot_xsimd, 1, 1, "dot_f32__xsimd"};
  t.axpy_f32 = {axpy_xsimd, 1, 1, "axpy_f32__xsimd"};
  t.latent_scores_f32 = {latent_scores, kHeads, kRows, "latent_scores_f32_4x2__xsimd"};
  t.latent_sum_f32 = {latent_sum, kHeads, kCols, "latent_sum_f32_4x2__xsimd"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
