// Every SIMD q8/q4 kernel against the scalar reference: ragged shapes, row ranges, token counts,
// extremes (exact integer sums) and zero scales.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernel_test_util.h"
#include "quant/qtypes.h"

namespace dsmoe {
namespace {

using test::random_vec;

struct Case {
  QType t;
  int64_t rows, cols, n;
};

std::vector<uint8_t> quantize(QType t, const std::vector<float>& w, int64_t rows, int64_t cols,
                              ScaleSearch s = ScaleSearch::kMse) {
  std::vector<uint8_t> buf(qtensor_bytes(t, rows, cols));
  quantize_rows(t, w.data(), 0, rows, rows, cols, buf.data(), s);
  return buf;
}

std::vector<QActBlock> quantize_acts(const KernelTable& k, const std::vector<float>& x, int64_t n,
                                     int64_t cols) {
  std::vector<QActBlock> q(static_cast<size_t>(n * act_blocks(cols)));
  for (int64_t t = 0; t < n; ++t) k.quantize_act_q8.fn(&x[t * cols], cols, &q[t * act_blocks(cols)]);
  return q;
}

// Runs gemm (or gemv when n == 1 and use_gemv) over rows [r0, r1) into a NaN-filled Y[n, rows].
std::vector<float> run(const KernelTable& k, QType t, bool use_gemv, const std::vector<uint8_t>& w,
                       int64_t rows, int64_t cols, const std::vector<QActBlock>& x, int64_t n,
                       int64_t r0, int64_t r1) {
  std::vector<float> y(static_cast<size_t>(n * rows), std::numeric_limits<float>::quiet_NaN());
  if (use_gemv) {
    (t == QType::kQ8 ? k.gemv_q8_q8 : k.gemv_q4_q8).fn(w.data(), rows, cols, x.data(), y.data(), r0, r1);
  } else {
    (t == QType::kQ8 ? k.gemm_q8_q8 : k.gemm_q4_q8).fn(w.data(), rows, cols, x.data(), n, y.data(), rows, r0, r1);
  }
  return y;
}

class GemmQ : public ::testing::TestWithParam<Isa> {};

TEST_P(GemmQ, MatchesScalarOnRaggedShapes) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  const Case cases[] = {{QType::kQ4, 8, 32, 1},   {QType::kQ4, 13, 45, 3},  {QType::kQ4, 24, 1408, 5},
                        {QType::kQ4, 1, 7, 2},    {QType::kQ4, 29, 300, 9}, {QType::kQ8, 8, 32, 1},
                        {QType::kQ8, 13, 45, 3},  {QType::kQ8, 24, 1408, 5}, {QType::kQ8, 1, 7, 2},
                        {QType::kQ8, 29, 300, 9}, {QType::kQ4, 16, 2048, 4}, {QType::kQ8, 9, 33, 6},
                        {QType::kQ4, 40, 64, 1},  {QType::kQ8, 27, 96, 1}, {QType::kQ4, 21, 45, 1},
                        // Token counts around AMX's blocks of 16 and 32 tokens (the last block
                        // overlaps the one before), rows past one 32-row block.
                        {QType::kQ8, 13, 45, 17}, {QType::kQ4, 40, 300, 37}, {QType::kQ8, 72, 96, 64},
                        {QType::kQ4, 21, 1408, 33}, {QType::kQ8, 35, 70, 50}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(qtype_name(c.t)) + " rows " + std::to_string(c.rows) + " cols " +
                 std::to_string(c.cols) + " n " + std::to_string(c.n));
    const auto wf = random_vec(static_cast<size_t>(c.rows * c.cols), seed++, 0.05f);
    const auto w = quantize(c.t, wf, c.rows, c.cols);
    const auto xf = random_vec(static_cast<size_t>(c.n * c.cols), seed++);
    const auto x = quantize_acts(ref, xf, c.n, c.cols);
    // Bound on rounding differences: 1e-5 of sum |w*x| per output (float accumulation order).
    std::vector<float> wrow(static_cast<size_t>(c.cols));
    std::vector<double> mag(static_cast<size_t>(c.n * c.rows), 0.0);
    for (int64_t r = 0; r < c.rows; ++r) {
      dequantize_row(c.t, w.data(), c.rows, c.cols, r, wrow.data());
      for (int64_t t = 0; t < c.n; ++t) {
        for (int64_t i = 0; i < c.cols; ++i) {
          const QActBlock& b = x[t * act_blocks(c.cols) + i / kActGroup];
          mag[t * c.rows + r] += std::fabs(wrow[i] * b.d * b.q[i % kActGroup]);
        }
      }
    }
    // Row ranges: everything, and (where there are two tiles) the tail from the second tile on.
    std::vector<std::pair<int64_t, int64_t>> ranges = {{0, c.rows}};
    if (c.rows > 8) ranges.push_back({8, c.rows});
    if (c.rows > 16) ranges.push_back({8, 16});
    for (auto [r0, r1] : ranges) {
      for (bool use_gemv : {false, true}) {
        if (use_gemv && c.n != 1) continue;
        const auto want = run(ref, c.t, use_gemv, w, c.rows, c.cols, x, c.n, r0, r1);
        const auto got = run(simd, c.t, use_gemv, w, c.rows, c.cols, x, c.n, r0, r1);
        for (int64_t t = 0; t < c.n; ++t) {
          for (int64_t r = 0; r < c.rows; ++r) {
            const size_t i = static_cast<size_t>(t * c.rows + r);
            if (r < r0 || r >= r1) {
              ASSERT_TRUE(std::isnan(got[i])) << "wrote outside [r0, r1): row " << r;
              continue;
            }
            ASSERT_NEAR(got[i], want[i], 1e-5 * mag[i] + 1e-7) << "token " << t << " row " << r;
          }
        }
      }
    }
  }
}

// Weights at the grid's extremes, activations at ±127, all scales 1: the float results are exact
// integer sums (below 2^24), so SIMD and reference must agree exactly.
TEST_P(GemmQ, ExtremesGiveExactIntegerSums) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const int64_t rows = 11, cols = 32 * 9, n = 5;
  for (QType t : {QType::kQ8, QType::kQ4}) {
    const int lo = t == QType::kQ8 ? -127 : -8, hi = t == QType::kQ8 ? 127 : 7;
    std::vector<float> wf(static_cast<size_t>(rows * cols));
    std::mt19937 rng(5);
    for (int64_t i = 0; i < rows * cols; ++i) {
      const int pick = static_cast<int>(rng() % 4);
      wf[i] = static_cast<float>(pick == 0 ? lo : pick == 1 ? hi : pick == 2 ? 0 : lo + static_cast<int>(rng() % (hi - lo + 1)));
      if (i % kGroupSize == 0) wf[i] = static_cast<float>(t == QType::kQ8 ? 127 : -8);  // scale exactly 1
    }
    const auto w = quantize(t, wf, rows, cols, ScaleSearch::kAbsmax);
    std::vector<QActBlock> x(static_cast<size_t>(n * act_blocks(cols)));
    for (auto& b : x) {
      b.d = 1.0f;
      b.sum = 0;
      for (auto& q : b.q) {
        q = static_cast<int8_t>(rng() % 2 ? 127 : -127);
        b.sum += q;
      }
    }
    const auto got = run(simd, t, false, w, rows, cols, x, n, 0, rows);
    const auto got_v = run(simd, t, true, w, rows, cols, x, 1, 0, rows);
    for (int64_t tok = 0; tok < n; ++tok) {
      for (int64_t r = 0; r < rows; ++r) {
        int64_t exact = 0;
        for (int64_t i = 0; i < cols; ++i) {
          exact += static_cast<int64_t>(wf[r * cols + i]) * x[tok * act_blocks(cols) + i / 32].q[i % 32];
        }
        ASSERT_EQ(got[tok * rows + r], static_cast<float>(exact)) << qtype_name(t) << " token " << tok << " row " << r;
        if (tok == 0) {
          ASSERT_EQ(got_v[r], static_cast<float>(exact)) << qtype_name(t) << " gemv row " << r;
        }
      }
    }
  }
}

TEST_P(GemmQ, ZeroScalesGiveZero) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const int64_t rows = 9, cols = 70;
  for (QType t : {QType::kQ8, QType::kQ4}) {
    auto wf = random_vec(static_cast<size_t>(rows * cols), 9);
    for (int64_t i = 0; i < cols; ++i) wf[3 * cols + i] = 0.0f;  // row 3: all zero scales
    const auto w = quantize(t, wf, rows, cols);
    auto xf = random_vec(static_cast<size_t>(2 * cols), 10);
    for (int64_t i = 0; i < cols; ++i) xf[cols + i] = 0.0f;  // token 1: all zero activations
    const auto x = quantize_acts(simd, xf, 2, cols);
    const auto got = run(simd, t, false, w, rows, cols, x, 2, 0, rows);
    EXPECT_EQ(got[3], 0.0f);
    for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(got[rows + r], 0.0f) << r;
  }
}

// The forward pass splits rows across threads and runs experts over varying token counts, and its
// results must not depend on either: each output is computed the same whatever the row range and
// whichever other tokens share the call.
TEST_P(GemmQ, SplitsDoNotChangeResults) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const int64_t rows = 44, cols = 100, n = 41, nb = act_blocks(cols);
  for (QType t : {QType::kQ8, QType::kQ4}) {
    SCOPED_TRACE(qtype_name(t));
    const auto w = test::random_weights(t, rows, cols, 21);
    const auto x = quantize_acts(simd, random_vec(static_cast<size_t>(n * cols), 22), n, cols);
    const auto whole = run(simd, t, false, w, rows, cols, x, n, 0, rows);
    const auto& gemm = t == QType::kQ8 ? simd.gemm_q8_q8 : simd.gemm_q4_q8;
    std::vector<float> parts(static_cast<size_t>(n * rows));
    // Rows in 8-row ranges; tokens in runs of 1, 5, 16 and 19 (offset activations and outputs).
    for (int64_t r0 = 0; r0 < rows; r0 += 8) {
      const int64_t r1 = r0 + 8 < rows ? r0 + 8 : rows;
      for (auto [t0, tn] : {std::pair<int64_t, int64_t>{0, 1}, {1, 5}, {6, 16}, {22, 19}}) {
        gemm.fn(w.data(), rows, cols, x.data() + t0 * nb, tn, parts.data() + t0 * rows, rows, r0, r1);
      }
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      ASSERT_EQ(parts[i], whole[i]) << "token " << i / rows << " row " << i % rows;
    }
  }
}

#if defined(__x86_64__)
// The AMX kernels add each group's exact integer sum to f32 sums in the AVX-512 VNNI kernels'
// order, so the two agree bit for bit (a model gives the same logits with either).
TEST(GemmQAmx, MatchesAvx512VnniExactly) {
  DSMOE_SKIP_UNLESS_ISA(Isa::kAmx);
  const KernelTable amx = make_kernel_table(Isa::kAmx), vnni = make_kernel_table(Isa::kAvx512Vnni);
  const int64_t rows = 72, cols = 2048 + 45, n = 53;
  for (QType t : {QType::kQ8, QType::kQ4}) {
    SCOPED_TRACE(qtype_name(t));
    const auto w = test::random_weights(t, rows, cols, 31);
    const auto x = quantize_acts(vnni, random_vec(static_cast<size_t>(n * cols), 32), n, cols);
    EXPECT_EQ(run(amx, t, false, w, rows, cols, x, n, 0, rows), run(vnni, t, false, w, rows, cols, x, n, 0, rows));
  }
}
#endif

INSTANTIATE_TEST_SUITE_P(Isa, GemmQ, ::testing::ValuesIn(test::simd_levels()), test::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GemmQ);

}  // namespace
}  // namespace dsmoe
