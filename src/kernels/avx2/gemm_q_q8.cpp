// AVX2 int8 kernels for q8/q4 weights: the dot product is maddubs (u8*s8 pairs -> int16) then
// madd with ones (-> int32). Compiled with -mavx2 -mfma -mf16c only.
#include <immintrin.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/x86/q_tiles.h"

struct DotAvx2 {
  static constexpr bool kInt16Sums = true;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) {
    // u * s pairs are at most 2 * 127 * 127 = 32258 in the q8 path (|w| <= 127): no saturation.
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }
};

}  // namespace

namespace kernel_registry {
void add_avx2_f(KernelTable& t);
void add_avx2_gemvt(KernelTable& t);

void add_avx2(KernelTable& t) {
  t.gemv_q8_q8 = {gemv_tiles<DotAvx2, QType::kQ8>, 1, 16, "gemv_q8_q8_1x16__avx2"};
  t.gemv_q4_q8 = {gemv_tiles<DotAvx2, QType::kQ4>, 1, 16, "gemv_q4_q8_1x16__avx2"};
  t.gemm_q8_q8 = {gemm_tiles<DotAvx2, QType::kQ8>, kGemmTokens, 8, "gemm_q8_q8_4x8__avx2"};
  t.gemm_q4_q8 = {gemm_tiles<DotAvx2, QType::kQ4>, kGemmTokens, 8, "gemm_q4_q8_4x8__avx2"};
  add_avx2_f(t);
  add_avx2_gemvt(t);
}
}  // namespace kernel_registry

}  // namespace dsmoe
