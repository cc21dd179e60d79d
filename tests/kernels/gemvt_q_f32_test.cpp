// The transposed product y += W^T x of q8/q4 weights: the scalar reference against the
// dequantized weights (docs/FORMAT.md), and every SIMD kernel against the reference on ragged
// shapes, row ranges and exact integer sums.
#include <cmath>
#include <limits>

#include "kernel_test_util.h"
#include "quant/qtypes.h"

namespace dsmoe {
namespace {

using test::random_vec;
using test::random_weights;

struct Case {
  QType t;
  int64_t rows, cols;
};

// Ragged rows (partial last tile) and cols (partial last group, partial last 4-input chunk).
const Case kCases[] = {{QType::kQ8, 8, 32},   {QType::kQ8, 13, 45},  {QType::kQ8, 128, 512},
                       {QType::kQ8, 1, 7},    {QType::kQ8, 29, 300}, {QType::kQ8, 24, 66},
                       {QType::kQ4, 8, 32},   {QType::kQ4, 13, 45},  {QType::kQ4, 128, 512},
                       {QType::kQ4, 1, 7},    {QType::kQ4, 29, 300}, {QType::kQ4, 24, 66}};

const Kernel<GemvTFn>& entry(const KernelTable& k, QType t) {
  return t == QType::kQ8 ? k.gemvt_q8_f32 : k.gemvt_q4_f32;
}

// Row ranges a caller may ask for: all rows, and (with two tiles or more) from the second tile on
// and one middle tile.
std::vector<std::pair<int64_t, int64_t>> ranges(int64_t rows) {
  std::vector<std::pair<int64_t, int64_t>> r = {{0, rows}};
  if (rows > 8) r.push_back({8, rows});
  if (rows > 16) r.push_back({8, 16});
  return r;
}

// sum_r |x[r] * W[r, c]| over [r0, r1) for every c: the scale of float rounding differences.
std::vector<double> magnitude(QType t, const std::vector<uint8_t>& w, int64_t rows, int64_t cols,
                              const std::vector<float>& x, int64_t r0, int64_t r1,
                              std::vector<double>* exact = nullptr) {
  std::vector<double> mag(static_cast<size_t>(cols), 0.0);
  if (exact != nullptr) exact->assign(static_cast<size_t>(cols), 0.0);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = r0; r < r1; ++r) {
    dequantize_row(t, w.data(), rows, cols, r, row.data());
    for (int64_t c = 0; c < cols; ++c) {
      mag[c] += std::fabs(static_cast<double>(x[r]) * row[c]);
      if (exact != nullptr) (*exact)[c] += static_cast<double>(x[r]) * row[c];
    }
  }
  return mag;
}

TEST(GemvTScalar, MatchesDequantizedWeights) {
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  uint32_t seed = 100;
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(qtype_name(c.t)) + " rows " + std::to_string(c.rows) + " cols " + std::to_string(c.cols));
    const auto w = random_weights(c.t, c.rows, c.cols, seed++);
    const auto x = random_vec(static_cast<size_t>(c.rows), seed++);
    for (auto [r0, r1] : ranges(c.rows)) {
      std::vector<double> exact;
      const auto mag = magnitude(c.t, w, c.rows, c.cols, x, r0, r1, &exact);
      const auto y0 = random_vec(static_cast<size_t>(c.cols), seed++);
      std::vector<float> y = y0;
      entry(ref, c.t).fn(w.data(), c.rows, c.cols, x.data(), y.data(), r0, r1);
      for (int64_t i = 0; i < c.cols; ++i) {
        ASSERT_NEAR(y[i], y0[i] + exact[i], 1e-5 * (mag[i] + std::fabs(y0[i])) + 1e-7) << "col " << i;
      }
    }
  }
}

class GemvT : public ::testing::TestWithParam<Isa> {};

TEST_P(GemvT, MatchesScalarOnRaggedShapes) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  uint32_t seed = 1;
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(qtype_name(c.t)) + " rows " + std::to_string(c.rows) + " cols " + std::to_string(c.cols));
    const auto w = random_weights(c.t, c.rows, c.cols, seed++);
    // x has exactly `rows` values, NaN past r1: a kernel reading rows outside [r0, r1) fails.
    const auto xf = random_vec(static_cast<size_t>(c.rows), seed++);
    for (auto [r0, r1] : ranges(c.rows)) {
      std::vector<float> x = xf;
      for (int64_t r = 0; r < c.rows; ++r) {
        if (r < r0 || r >= r1) x[r] = std::numeric_limits<float>::quiet_NaN();
      }
      const auto mag = magnitude(c.t, w, c.rows, c.cols, xf, r0, r1);
      // y holds cols values plus a guard: += on top of random values, nothing written past cols.
      std::vector<float> want = random_vec(static_cast<size_t>(c.cols) + 1, seed++);
      want[c.cols] = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> got = want;
      entry(ref, c.t).fn(w.data(), c.rows, c.cols, x.data(), want.data(), r0, r1);
      entry(simd, c.t).fn(w.data(), c.rows, c.cols, x.data(), got.data(), r0, r1);
      for (int64_t i = 0; i < c.cols; ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-5 * (mag[i] + std::fabs(want[i])) + 1e-7) << "col " << i;
      }
      ASSERT_TRUE(std::isnan(got[c.cols])) << "wrote past cols";
    }
  }
}

// Levels at the grid's extremes, scales exactly 1 and integer coefficients: every product and sum
// is an integer below 2^24, so SIMD and reference agree exactly.
TEST_P(GemvT, ExtremesGiveExactIntegerSums) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const int64_t rows = 21, cols = 32 * 3 + 5;
  for (QType t : {QType::kQ8, QType::kQ4}) {
    const int lo = t == QType::kQ8 ? -127 : -8, hi = t == QType::kQ8 ? 127 : 7;
    std::mt19937 rng(7);
    std::vector<float> wf(static_cast<size_t>(rows * cols));
    for (int64_t i = 0; i < rows * cols; ++i) {
      wf[i] = static_cast<float>(lo + static_cast<int>(rng() % (hi - lo + 1)));
      if ((i % cols) % kGroupSize == 0) wf[i] = static_cast<float>(t == QType::kQ8 ? 127 : -8);  // scale 1
    }
    std::vector<uint8_t> w(qtensor_bytes(t, rows, cols));
    quantize_rows(t, wf.data(), 0, rows, rows, cols, w.data(), ScaleSearch::kAbsmax);
    std::vector<float> x(static_cast<size_t>(rows));
    for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 255) - 127);
    std::vector<float> y(static_cast<size_t>(cols), 0.0f);
    entry(simd, t).fn(w.data(), rows, cols, x.data(), y.data(), 0, rows);
    for (int64_t c = 0; c < cols; ++c) {
      int64_t exact = 0;
      for (int64_t r = 0; r < rows; ++r) exact += static_cast<int64_t>(x[r]) * static_cast<int64_t>(wf[r * cols + c]);
      ASSERT_EQ(y[c], static_cast<float>(exact)) << qtype_name(t) << " col " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, GemvT, ::testing::ValuesIn(test::simd_levels()), test::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GemvT);

}  // namespace
}  // namespace dsmoe
