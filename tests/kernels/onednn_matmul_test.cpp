// The oneDNN prompt matmul against the scalar reference gemm, on ragged shapes and strides.
#include "kernels/onednn_matmul.h"

#include <cmath>
#include <limits>

#include "kernel_test_util.h"
#include "util/error.h"
#include "util/half.h"

namespace dsmoe {
namespace {

using test::random_vec;

TEST(OnednnMatmul, MatchesScalarGemmOnRaggedShapes) {
  if (!OnednnMatmul::available()) GTEST_SKIP() << "this build has no oneDNN";
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  struct Shape { int64_t rows, cols, n; };
  const Shape shapes[] = {{1, 1, 1}, {3, 7, 2}, {17, 33, 5}, {64, 256, 64}, {130, 100, 9}};
  OnednnMatmul mm(/*max_tokens=*/64, /*max_cols=*/256);
  uint32_t seed = 7;
  for (Shape s : shapes) {
    for (QType t : {QType::kF32, QType::kBF16}) {
      SCOPED_TRACE(std::string(qtype_name(t)) + " rows " + std::to_string(s.rows) + " cols " +
                   std::to_string(s.cols) + " n " + std::to_string(s.n));
      std::vector<float> wf;
      const std::vector<uint8_t> w = test::random_weights(t, s.rows, s.cols, seed++, &wf);
      const int64_t ldx = s.cols + 3, ldy = s.rows + 2;
      auto x = random_vec(static_cast<size_t>(s.n * ldx), seed++);
      // bf16 weights take bf16 activations: the reference sees the same rounded X.
      std::vector<float> x_ref = x;
      if (t == QType::kBF16) {
        for (float& v : x_ref) v = bf16_to_f32(f32_to_bf16(v));
      }
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> want(static_cast<size_t>(s.n * ldy), nan), got = want;
      const auto& gemm_ref = t == QType::kF32 ? ref.gemm_f32_f32 : ref.gemm_bf16_f32;
      gemm_ref.fn(w.data(), s.rows, s.cols, x_ref.data(), ldx, s.n, want.data(), ldy, 0, s.rows);
      ASSERT_FALSE(mm.run(t, w.data(), s.rows, s.cols, x.data(), ldx, s.n, got.data(), ldy, 2))
          << "ran a shape that was never prepared";
      mm.prepare(t, s.rows, s.cols);
      ASSERT_TRUE(mm.run(t, w.data(), s.rows, s.cols, x.data(), ldx, s.n, got.data(), ldy, 2));
      for (int64_t tok = 0; tok < s.n; ++tok) {
        for (int64_t r = 0; r < s.rows; ++r) {
          double mag = 0;
          for (int64_t c = 0; c < s.cols; ++c) {
            mag += std::fabs(static_cast<double>(wf[r * s.cols + c]) * x_ref[tok * ldx + c]);
          }
          const size_t i = static_cast<size_t>(tok * ldy + r);
          ASSERT_NEAR(got[i], want[i], 1e-5 * mag + 1e-6) << "token " << tok << " row " << r;
        }
        // The padding between rows of Y stays untouched.
        ASSERT_TRUE(std::isnan(got[static_cast<size_t>(tok * ldy + s.rows)]));
      }
    }
  }
}

TEST(OnednnMatmul, RefusesWhatItCannotRun) {
  if (!OnednnMatmul::available()) GTEST_SKIP() << "this build has no oneDNN";
  OnednnMatmul mm(4, 64);
  EXPECT_THROW(mm.prepare(QType::kQ8, 8, 64), Error);
  EXPECT_THROW(mm.prepare(QType::kQ4, 8, 64), Error);
  mm.prepare(QType::kF32, 8, 64);
  std::vector<float> w(8 * 64, 1.0f), x(5 * 64, 1.0f), y(5 * 8, 0.0f);
  // More tokens than the bound given at construction: refused, nothing written.
  EXPECT_FALSE(mm.run(QType::kF32, w.data(), 8, 64, x.data(), 64, 5, y.data(), 8, 1));
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_TRUE(mm.run(QType::kF32, w.data(), 8, 64, x.data(), 64, 4, y.data(), 8, 1));
  EXPECT_EQ(y[0], 64.0f);
}

}  // namespace
}  // namespace dsmoe
