// SIMD f32/bf16-weight kernels against the scalar reference.
#include <cmath>
#include <limits>

#include "kernel_test_util.h"
#include "quant/qtypes.h"
#include "util/half.h"

namespace dsmoe {
namespace {

using test::random_vec;

class GemmF : public ::testing::TestWithParam<Isa> {};

TEST_P(GemmF, MatchesScalarOnRaggedShapes) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  // AVX-512 BF16 (also in the levels above it) rounds activations to bf16: about 2^-8 of
  // sum |w*x| (kernels/avx512).
  const double rel = std::string(simd.gemm_bf16_f32.name).ends_with("__avx512bf16") ? 8e-3 : 1e-5;
  struct Shape { int64_t rows, cols, n; };
  uint32_t seed = 100;
  for (Shape s : {Shape{1, 1, 1}, Shape{3, 7, 2}, Shape{5, 31, 5}, Shape{4, 64, 4}, Shape{7, 100, 9},
                  Shape{6, 1408, 3}, Shape{2, 2049, 1}}) {
    for (QType t : {QType::kF32, QType::kBF16}) {
      SCOPED_TRACE(std::string(qtype_name(t)) + " rows " + std::to_string(s.rows) + " cols " +
                   std::to_string(s.cols) + " n " + std::to_string(s.n));
      const std::vector<uint8_t> w = test::random_weights(t, s.rows, s.cols, seed++);
      // X with a row stride larger than cols (odd strides are allowed).
      const int64_t ldx = s.cols + 3, ldy = s.rows + 1;
      const auto x = random_vec(static_cast<size_t>(s.n * ldx), seed++);
      const auto& gemm = t == QType::kF32 ? simd.gemm_f32_f32 : simd.gemm_bf16_f32;
      const auto& gemm_ref = t == QType::kF32 ? ref.gemm_f32_f32 : ref.gemm_bf16_f32;
      const auto& gemv = t == QType::kF32 ? simd.gemv_f32_f32 : simd.gemv_bf16_f32;
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> want(static_cast<size_t>(s.n * ldy), nan), got = want, got_v(static_cast<size_t>(s.rows), nan);
      const int64_t r0 = s.rows > 2 ? 1 : 0;
      gemm_ref.fn(w.data(), s.rows, s.cols, x.data(), ldx, s.n, want.data(), ldy, r0, s.rows);
      gemm.fn(w.data(), s.rows, s.cols, x.data(), ldx, s.n, got.data(), ldy, r0, s.rows);
      gemv.fn(w.data(), s.rows, s.cols, x.data(), got_v.data(), r0, s.rows);
      std::vector<float> wrow(static_cast<size_t>(s.cols));
      for (int64_t r = 0; r < s.rows; ++r) {
        dequantize_row(t, w.data(), s.rows, s.cols, r, wrow.data());
        for (int64_t tok = 0; tok < s.n; ++tok) {
          const size_t i = static_cast<size_t>(tok * ldy + r);
          if (r < r0) {
            ASSERT_TRUE(std::isnan(got[i])) << "wrote outside [r0, r1)";
            continue;
          }
          double mag = 0;
          for (int64_t c = 0; c < s.cols; ++c) mag += std::fabs(wrow[c] * x[tok * ldx + c]);
          ASSERT_NEAR(got[i], want[i], rel * mag + 1e-7) << "token " << tok << " row " << r;
          if (tok == 0) {
            ASSERT_NEAR(got_v[r], want[i], rel * mag + 1e-7) << "gemv row " << r;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, GemmF, ::testing::ValuesIn(test::simd_levels()), test::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GemmF);

}  // namespace
}  // namespace dsmoe
