// AVX-512 VNNI int8 kernels for q8/q4 weights: EVEX vpdpbusd on 256-bit vectors (AVX512VL), one
// 8-row tile per vector as in the AVX2 kernels. Decode is bandwidth-bound, so the wider zmm form
// would buy little there; this file keeps the same layout walk as AVX2 and only swaps the dot.
#include <immintrin.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/x86/q_tiles.h"

struct DotAvx512Vnni {
  static constexpr bool kInt16Sums = false;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
};

}  // namespace

namespace kernel_registry {
void add_avx512vnni(KernelTable& t) {
  t.gemv_q8_q8 = {gemv_tiles<DotAvx512Vnni, QType::kQ8>, 1, 16, "gemv_q8_q8_1x16__avx512vnni"};
  t.gemv_q4_q8 = {gemv_tiles<DotAvx512Vnni, QType::kQ4>, 1, 16, "gemv_q4_q8_1x16__avx512vnni"};
  t.gemm_q8_q8 = {gemm_tiles<DotAvx512Vnni, QType::kQ8>, kGemmTokens, 8, "gemm_q8_q8_4x8__avx512vnni"};
  t.gemm_q4_q8 = {gemm_tiles<DotAvx512Vnni, QType::kQ4>, kGemmTokens, 8, "gemm_q4_q8_4x8__avx512vnni"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
