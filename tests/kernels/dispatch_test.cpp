// The dispatch table: complete at every level, capped by DSMOE_ISA, named after what it runs.
#include <cstdlib>
#include <string>

#include "kernel_test_util.h"

namespace dsmoe {
namespace {

template <typename F>
void for_each_entry(const KernelTable& t, F f) {
  f(t.quantize_act_q8.fn != nullptr, t.quantize_act_q8.name);
  f(t.gemv_q8_q8.fn != nullptr, t.gemv_q8_q8.name);
  f(t.gemv_q4_q8.fn != nullptr, t.gemv_q4_q8.name);
  f(t.gemm_q8_q8.fn != nullptr, t.gemm_q8_q8.name);
  f(t.gemm_q4_q8.fn != nullptr, t.gemm_q4_q8.name);
  f(t.gemv_f32_f32.fn != nullptr, t.gemv_f32_f32.name);
  f(t.gemv_bf16_f32.fn != nullptr, t.gemv_bf16_f32.name);
  f(t.gemm_f32_f32.fn != nullptr, t.gemm_f32_f32.name);
  f(t.gemm_bf16_f32.fn != nullptr, t.gemm_bf16_f32.name);
  f(t.gemvt_q8_f32.fn != nullptr, t.gemvt_q8_f32.name);
  f(t.gemvt_q4_f32.fn != nullptr, t.gemvt_q4_f32.name);
  f(t.rmsnorm_f32.fn != nullptr, t.rmsnorm_f32.name);
  f(t.softmax_f32.fn != nullptr, t.softmax_f32.name);
  f(t.silu_mul_f32.fn != nullptr, t.silu_mul_f32.name);
  f(t.rope_f32.fn != nullptr, t.rope_f32.name);
  f(t.dot_f32.fn != nullptr, t.dot_f32.name);
  f(t.axpy_f32.fn != nullptr, t.axpy_f32.name);
}

TEST(Dispatch, ScalarCapGivesOnlyReferences) {
  for_each_entry(make_kernel_table(Isa::kScalar), [](bool set, const char* name) {
    EXPECT_TRUE(set) << name;
    EXPECT_NE(std::string(name).find("__scalar"), std::string::npos) << name;
  });
}

TEST(Dispatch, EveryAvailableLevelFillsEveryEntryWithItsOwnOrLowerKernels) {
  const CpuFeatures cpu = detect_cpu();
  for (Isa isa : test::simd_levels()) {
    if (!isa_available(isa, cpu)) continue;
    bool any_own = false;
    for_each_entry(make_kernel_table(isa), [&](bool set, const char* name) {
      EXPECT_TRUE(set) << name;
      if (std::string(name).ends_with(std::string("__") + isa_name(isa))) any_own = true;
    });
    EXPECT_TRUE(any_own) << isa_name(isa) << " contributes no kernel";
  }
}

TEST(Dispatch, DescribeNamesFeaturesAndKernels) {
  const std::string d = describe_cpu_and_kernels();
  EXPECT_NE(d.find("cpu features:"), std::string::npos) << d;
  EXPECT_NE(d.find(kernels().gemv_q4_q8.name), std::string::npos) << d;
#if defined(__x86_64__)
  // The build's baseline is AVX2: the detected table uses at least the AVX2 kernels.
  if (std::getenv("DSMOE_ISA") == nullptr && detect_cpu().avx2_fma_f16c) {
    EXPECT_EQ(std::string(kernels().gemv_q4_q8.name).find("__scalar"), std::string::npos);
  }
#endif
}

}  // namespace
}  // namespace dsmoe
