// Scalar references for f32 and bf16 weights (row-major, docs/FORMAT.md) times f32 activations.
#include "kernels/registry.h"
#include "util/half.h"  // bf16_to_f32

namespace dsmoe {
namespace {

inline float weight(const float* w, int64_t i) { return w[i]; }
inline float weight(const uint16_t* w, int64_t i) { return bf16_to_f32(w[i]); }

template <typename W>
void gemm_f_scalar(const void* w, int64_t /*rows*/, int64_t cols, const float* x, int64_t ldx,
                   int64_t n, float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept {
  const W* wm = static_cast<const W*>(w);
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t t = 0; t < n; ++t) {
      float acc = 0.0f;
      for (int64_t c = 0; c < cols; ++c) acc += weight(wm, r * cols + c) * x[t * ldx + c];
      y[t * ldy + r] = acc;
    }
  }
}

template <typename W>
void gemv_f_scalar(const void* w, int64_t rows, int64_t cols, const float* x, float* y, int64_t r0,
                   int64_t r1) noexcept {
  gemm_f_scalar<W>(w, rows, cols, x, cols, 1, y, 0, r0, r1);
}

}  // namespace

namespace kernel_registry {
void add_scalar_f(KernelTable& t) {
  t.gemv_f32_f32 = {gemv_f_scalar<float>, 1, 1, "gemv_f32_f32__scalar"};
  t.gemv_bf16_f32 = {gemv_f_scalar<uint16_t>, 1, 1, "gemv_bf16_f32__scalar"};
  t.gemm_f32_f32 = {gemm_f_scalar<float>, 1, 1, "gemm_f32_f32__scalar"};
  t.gemm_bf16_f32 = {gemm_f_scalar<uint16_t>, 1, 1, "gemm_bf16_f32__scalar"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
