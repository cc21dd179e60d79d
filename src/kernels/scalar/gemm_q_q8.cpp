// Scalar references for quantized weights (q8, q4) times q8 activations, written from
// docs/FORMAT.md "## Weight types" (via quant/qlayout.h) rather than from any SIMD kernel.
#include "kernels/registry.h"
#include "quant/qlayout.h"
#include "util/half.h"  // f16_to_f32

namespace dsmoe {
namespace {

// Level of row r (within its tile), input c (within group) of a group's quants.
template <QType T>
int level(const uint8_t* gq, int64_t r, int64_t c) {
  if constexpr (T == QType::kQ8) {
    return static_cast<int8_t>(gq[qlayout::quant_byte(r, c)]);
  } else {
    const uint8_t b = gq[qlayout::quant_byte(r, c % (kGroupSize / 2))];
    return (c < kGroupSize / 2 ? (b & 0xf) : (b >> 4)) - 8;
  }
}

template <QType T>
void gemm_q_q8_scalar(const void* w, int64_t /*rows*/, int64_t cols, const QActBlock* x, int64_t n,
                      float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept {
  const int64_t ng = qlayout::groups(cols);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* tile = qlayout::tile_ptr(T, w, cols, r / qlayout::kTileRows);
    const int64_t rr = r % qlayout::kTileRows;
    const uint16_t* scales = qlayout::tile_scales(tile);
    for (int64_t t = 0; t < n; ++t) {
      const QActBlock* xt = x + t * ng;
      float acc = 0.0f;
      for (int64_t g = 0; g < ng; ++g) {
        const uint8_t* gq = qlayout::tile_group_quants(T, tile, cols, g);
        int32_t isum = 0;
        for (int64_t c = 0; c < kGroupSize; ++c) isum += level<T>(gq, rr, c) * xt[g].q[c];
        acc += static_cast<float>(isum) * (f16_to_f32(scales[g * qlayout::kTileRows + rr]) * xt[g].d);
      }
      y[t * ldy + r] = acc;
    }
  }
}

template <QType T>
void gemv_q_q8_scalar(const void* w, int64_t rows, int64_t cols, const QActBlock* x, float* y,
                      int64_t r0, int64_t r1) noexcept {
  gemm_q_q8_scalar<T>(w, rows, cols, x, 1, y, 0, r0, r1);
}

}  // namespace

namespace kernel_registry {
void add_scalar_q(KernelTable& t) {
  t.gemv_q8_q8 = {gemv_q_q8_scalar<QType::kQ8>, 1, 1, "gemv_q8_q8__scalar"};
  t.gemv_q4_q8 = {gemv_q_q8_scalar<QType::kQ4>, 1, 1, "gemv_q4_q8__scalar"};
  t.gemm_q8_q8 = {gemm_q_q8_scalar<QType::kQ8>, 1, 1, "gemm_q8_q8__scalar"};
  t.gemm_q4_q8 = {gemm_q_q8_scalar<QType::kQ4>, 1, 1, "gemm_q4_q8__scalar"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
