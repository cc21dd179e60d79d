#pragma once
// Shared helpers of the kernel tests: the ISA levels to check against the scalar reference and
// random data.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "quant/qtypes.h"  // quantize_rows

namespace dsmoe::test {

// The SIMD levels of this build's architecture; tests skip those the CPU lacks.
inline std::vector<Isa> simd_levels() {
#if defined(__x86_64__)
  return {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kAvx512Bf16, Isa::kAmx};
#elif defined(__aarch64__)
  return {Isa::kNeon, Isa::kNeonDotprod};
#else
  return {};
#endif
}

inline std::string isa_param_name(const ::testing::TestParamInfo<Isa>& info) {
  return isa_name(info.param);
}

#define DSMOE_SKIP_UNLESS_ISA(isa)                                                        \
  if (!::dsmoe::isa_available((isa), ::dsmoe::detect_cpu())) {                            \
    GTEST_SKIP() << "this CPU lacks " << ::dsmoe::isa_name(isa) << ": its kernels are only " \
                 << "compiled here";                                                      \
  }

inline std::vector<float> random_vec(size_t n, uint32_t seed, float sd = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A random [rows, cols] matrix stored as type t; `values` (optional) gets its f32 values.
inline std::vector<uint8_t> random_weights(QType t, int64_t rows, int64_t cols, uint32_t seed,
                                           std::vector<float>* values = nullptr) {
  const std::vector<float> v = random_vec(static_cast<size_t>(rows * cols), seed);
  std::vector<uint8_t> w(qtensor_bytes(t, rows, cols));
  quantize_rows(t, v.data(), 0, rows, rows, cols, w.data());
  if (values != nullptr) *values = v;
  return w;
}

}  // namespace dsmoe::test
