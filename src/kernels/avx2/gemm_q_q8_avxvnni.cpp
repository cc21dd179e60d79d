// AVX-VNNI (VEX vpdpbusd on 256-bit vectors) int8 kernels for q8/q4 weights. Compiled with
// -mavxvnni in addition to the AVX2 flags; used only where cpuid reports AVX-VNNI.
#include <immintrin.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/x86/q_tiles.h"

struct DotAvxVnni {
  static constexpr bool kInt16Sums = false;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_avx_epi32(acc, u, s); }
};

}  // namespace

namespace kernel_registry {
void add_avxvnni(KernelTable& t) {
  t.gemv_q8_q8 = {gemv_tiles<DotAvxVnni, QType::kQ8>, 1, 16, "gemv_q8_q8_1x16__avxvnni"};
  t.gemv_q4_q8 = {gemv_tiles<DotAvxVnni, QType::kQ4>, 1, 16, "gemv_q4_q8_1x16__avxvnni"};
  t.gemm_q8_q8 = {gemm_tiles<DotAvxVnni, QType::kQ8>, kGemmTokens, 8, "gemm_q8_q8_4x8__avxvnni"};
  t.gemm_q4_q8 = {gemm_tiles<DotAvxVnni, QType::kQ4>, kGemmTokens, 8, "gemm_q4_q8_4x8__avxvnni"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
