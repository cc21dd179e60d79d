// NEON dot-product (Armv8.2 sdot) int8 kernels for q8/q4 weights: one sdot per 4 rows x 4 inputs.
// Compiled with -march=armv8.2-a+dotprod; used only where HWCAP_ASIMDDP is set.
#include <arm_neon.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/neon/q_tiles_neon.h"

struct DotSdot {
  struct State {
    int32x4_t r03, r47;
  };
  static State init() { return {vdupq_n_s32(0), vdupq_n_s32(0)}; }
  static void add(State& s, int8x16_t w03, int8x16_t w47, const int8_t* a4) {
    const int8x16_t a = vreinterpretq_s8_s32(bcast4_s32(a4));
    s.r03 = vdotq_s32(s.r03, w03, a);
    s.r47 = vdotq_s32(s.r47, w47, a);
  }
  static void finish(const State& s, int32x4_t& r03, int32x4_t& r47) {
    r03 = s.r03;
    r47 = s.r47;
  }
};

}  // namespace

namespace kernel_registry {
void add_neon_dotprod(KernelTable& t) {
  t.gemv_q8_q8 = {gemv_tiles<DotSdot, QType::kQ8>, 1, 8, "gemv_q8_q8_1x8__neon_dotprod"};
  t.gemv_q4_q8 = {gemv_tiles<DotSdot, QType::kQ4>, 1, 8, "gemv_q4_q8_1x8__neon_dotprod"};
  t.gemm_q8_q8 = {gemm_tiles<DotSdot, QType::kQ8>, kGemmTokens, 8, "gemm_q8_q8_4x8__neon_dotprod"};
  t.gemm_q4_q8 = {gemm_tiles<DotSdot, QType::kQ4>, kGemmTokens, 8, "gemm_q4_q8_4x8__neon_dotprod"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
