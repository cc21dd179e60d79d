// Scalar references of the transposed product y += W^T x for quantized weights (q8, q4) and f32
// coefficients, written from docs/FORMAT.md "## Weight types" (via quant/qlayout.h) rather than
// from any SIMD kernel: row by row, each weight dequantized as scale * level.
#include "kernels/registry.h"
#include "quant/qlayout.h"
#include "util/half.h"  // f16_to_f32

namespace dsmoe {
namespace {

// Level of row rr (within its tile), input c (within the group) of a group's quants.
template <QType T>
int level(const uint8_t* gq, int64_t rr, int64_t c) {
  if constexpr (T == QType::kQ8) {
    return static_cast<int8_t>(gq[qlayout::quant_byte(rr, c)]);
  } else {
    const uint8_t b = gq[qlayout::quant_byte(rr, c % (kGroupSize / 2))];
    return (c < kGroupSize / 2 ? (b & 0xf) : (b >> 4)) - 8;
  }
}

template <QType T>
void gemvt_q_f32_scalar(const void* w, int64_t /*rows*/, int64_t cols, const float* x, float* y,
                        int64_t r0, int64_t r1) noexcept {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* tile = qlayout::tile_ptr(T, w, cols, r / qlayout::kTileRows);
    const int64_t rr = r % qlayout::kTileRows;
    const uint16_t* scales = qlayout::tile_scales(tile);
    for (int64_t g = 0; g < qlayout::groups(cols); ++g) {
      const uint8_t* gq = qlayout::tile_group_quants(T, tile, cols, g);
      const float a = x[r] * f16_to_f32(scales[g * qlayout::kTileRows + rr]);
      for (int64_t c = g * kGroupSize; c < cols && c < (g + 1) * kGroupSize; ++c) {
        y[c] += a * static_cast<float>(level<T>(gq, rr, c - g * kGroupSize));
      }
    }
  }
}

}  // namespace

namespace kernel_registry {
void add_scalar_gemvt(KernelTable& t) {
  t.gemvt_q8_f32 = {gemvt_q_f32_scalar<QType::kQ8>, 1, 1, "gemvt_q8_f32__scalar"};
  t.gemvt_q4_f32 = {gemvt_q_f32_scalar<QType::kQ4>, 1, 1, "gemvt_q4_f32__scalar"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
