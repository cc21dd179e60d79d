// Scalar references of the activation quantizer and the portable vector kernels.
#include <cmath>  // std::exp, std::fabs, std::nearbyint, std::sqrt

#include "kernels/registry.h"

namespace dsmoe {
namespace {

void quantize_act_q8_scalar(const float* x, int64_t cols, QActBlock* out) noexcept {
  for (int64_t g = 0; g < act_blocks(cols); ++g) {
    const int64_t c0 = g * kActGroup, len = cols - c0 < kActGroup ? cols - c0 : kActGroup;
    float amax = 0.0f;
    for (int64_t i = 0; i < len; ++i) amax = std::fmax(amax, std::fabs(x[c0 + i]));
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    QActBlock& b = out[g];
    b.d = amax / 127.0f;
    b.sum = 0;
    for (int64_t i = 0; i < kActGroup; ++i) {
      const int q = i < len ? static_cast<int>(std::nearbyint(x[c0 + i] * id)) : 0;
      b.q[i] = static_cast<int8_t>(q);
      b.sum += q;
    }
  }
}

void rmsnorm_scalar(const float* x, const float* weight, int64_t n, float eps, float* y) noexcept {
  float ss = 0.0f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * weight[i];
}

void softmax_scalar(float* x, int64_t n) noexcept {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = std::fmax(m, x[i]);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    s += x[i];
  }
  const float inv = 1.0f / s;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul_scalar(const float* gate, const float* up, int64_t n, float* out) noexcept {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void rope_scalar(float* x, const float* cos, const float* sin, int64_t half) noexcept {
  for (int64_t i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    x[i] = a * cos[i] - b * sin[i];
    x[i + half] = b * cos[i] + a * sin[i];
  }
}

float dot_scalar(const float* a, const float* b, int64_t n) noexcept {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_scalar(float a, const float* x, float* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void latent_scores_scalar(const float* q, int64_t nh, const float* c, int64_t nt, int64_t w, float scale,
                          float* s, int64_t lds) noexcept {
  for (int64_t h = 0; h < nh; ++h) {
    for (int64_t t = 0; t < nt; ++t) s[h * lds + t] = scale * dot_scalar(q + h * w, c + t * w, w);
  }
}

void latent_sum_scalar(const float* p, int64_t ldp, int64_t nh, const float* c, int64_t nt, int64_t w,
                       int64_t r, float* o) noexcept {
  for (int64_t h = 0; h < nh; ++h) {
    for (int64_t t = 0; t < nt; ++t) axpy_scalar(p[h * ldp + t], c + t * w, o + h * r, r);
  }
}

}  // namespace

namespace kernel_registry {
void add_scalar_q(KernelTable& t);
void add_scalar_f(KernelTable& t);
void add_scalar_gemvt(KernelTable& t);

void add_scalar(KernelTable& t) {
  add_scalar_q(t);
  add_scalar_f(t);
  add_scalar_gemvt(t);
  t.quantize_act_q8 = {quantize_act_q8_scalar, 1, 1, "quantize_act_q8__scalar"};
  t.rmsnorm_f32 = {rmsnorm_scalar, 1, 1, "rmsnorm_f32__scalar"};
  t.softmax_f32 = {softmax_scalar, 1, 1, "softmax_f32__scalar"};
  t.silu_mul_f32 = {silu_mul_scalar, 1, 1, "silu_mul_f32__scalar"};
  t.rope_f32 = {rope_scalar, 1, 1, "rope_f32__scalar"};
  t.dot_f32 = {dot_scalar, 1, 1, "dot_f32__scalar"};
  t.axpy_f32 = {axpy_scalar, 1, 1, "axpy_f32__scalar"};
  t.latent_scores_f32 = {latent_scores_scalar, 1, 1, "latent_scores_f32__scalar"};
  t.latent_sum_f32 = {latent_sum_scalar, 1, 1, "latent_sum_f32__scalar"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
