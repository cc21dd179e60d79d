// Plain NEON (Armv8.0) int8 kernels for q8/q4 weights: widening multiplies (int8*int8 -> int16)
// and pairwise accumulation into int32.
#include <arm_neon.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/neon/q_tiles_neon.h"

struct DotNeon {
  // Per register half: two int32 lanes per row (sum of 2 product pairs each), combined at finish.
  struct State {
    int32x4_t r01, r23, r45, r67;
  };
  static State init() { return {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)}; }
  static void add(State& s, int8x16_t w03, int8x16_t w47, const int8_t* a4) {
    // Two products of |q| <= 127 sum to at most 32258: each int16 pair fits before widening.
    const int8x8_t a = vget_low_s8(vreinterpretq_s8_s32(bcast4_s32(a4)));
    s.r01 = vpadalq_s16(s.r01, vmull_s8(vget_low_s8(w03), a));
    s.r23 = vpadalq_s16(s.r23, vmull_s8(vget_high_s8(w03), a));
    s.r45 = vpadalq_s16(s.r45, vmull_s8(vget_low_s8(w47), a));
    s.r67 = vpadalq_s16(s.r67, vmull_s8(vget_high_s8(w47), a));
  }
  static void finish(const State& s, int32x4_t& r03, int32x4_t& r47) {
    r03 = vpaddq_s32(s.r01, s.r23);
    r47 = vpaddq_s32(s.r45, s.r67);
  }
};

}  // namespace

namespace kernel_registry {
void add_neon_f(KernelTable& t);

void add_neon(KernelTable& t) {
  add_neon_f(t);
  t.gemv_q8_q8 = {gemv_tiles<DotNeon, QType::kQ8>, 1, 8, "gemv_q8_q8_1x8__neon"};
  t.gemv_q4_q8 = {gemv_tiles<DotNeon, QType::kQ4>, 1, 8, "gemv_q4_q8_1x8__neon"};
  t.gemm_q8_q8 = {gemm_tiles<DotNeon, QType::kQ8>, kGemmTokens, 8, "gemm_q8_q8_4x8__neon"};
  t.gemm_q4_q8 = {gemm_tiles<DotNeon, QType::kQ4>, kGemmTokens, 8, "gemm_q4_q8_4x8__neon"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
