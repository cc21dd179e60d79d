// The portable (xsimd) vector kernels against their scalar references, at lengths that are not
// multiples of the vector width.
#include <cmath>

#include "kernel_test_util.h"

namespace dsmoe {
namespace {

using test::random_vec;

class VecOps : public ::testing::TestWithParam<int64_t> {
 protected:
  KernelTable fast = make_kernel_table(test::simd_levels().empty() ? Isa::kScalar : test::simd_levels()[0]);
  KernelTable ref = make_kernel_table(Isa::kScalar);
};

void expect_close(const std::vector<float>& a, const std::vector<float>& b, float rel, float abs) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], rel * std::fabs(b[i]) + abs) << i;
}

TEST_P(VecOps, MatchScalar) {
  const int64_t n = GetParam();
  const auto x = random_vec(static_cast<size_t>(n), 1, 2.0f), w = random_vec(static_cast<size_t>(n), 2);
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));

  fast.rmsnorm_f32.fn(x.data(), w.data(), n, 1e-6f, a.data());
  ref.rmsnorm_f32.fn(x.data(), w.data(), n, 1e-6f, b.data());
  expect_close(a, b, 1e-5f, 1e-6f);

  a = x;
  b = x;
  fast.softmax_f32.fn(a.data(), n);
  ref.softmax_f32.fn(b.data(), n);
  expect_close(a, b, 1e-5f, 1e-7f);
  double total = 0;
  for (float v : a) total += v;
  EXPECT_NEAR(total, 1.0, 1e-5);

  fast.silu_mul_f32.fn(x.data(), w.data(), n, a.data());
  ref.silu_mul_f32.fn(x.data(), w.data(), n, b.data());
  expect_close(a, b, 1e-5f, 1e-7f);

  const int64_t half = n / 2;
  const auto c = random_vec(static_cast<size_t>(half), 3), s = random_vec(static_cast<size_t>(half), 4);
  a = x;
  b = x;
  fast.rope_f32.fn(a.data(), c.data(), s.data(), half);
  ref.rope_f32.fn(b.data(), c.data(), s.data(), half);
  expect_close(a, b, 1e-6f, 1e-6f);

  double mag = 0;
  for (int64_t i = 0; i < n; ++i) mag += std::fabs(x[i] * w[i]);
  EXPECT_NEAR(fast.dot_f32.fn(x.data(), w.data(), n), ref.dot_f32.fn(x.data(), w.data(), n), 1e-5 * mag + 1e-7);

  a = w;
  b = w;
  fast.axpy_f32.fn(0.37f, x.data(), a.data(), n);
  ref.axpy_f32.fn(0.37f, x.data(), b.data(), n);
  expect_close(a, b, 1e-6f, 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(Lengths, VecOps, ::testing::Values(1, 3, 7, 8, 9, 17, 64, 100, 2048, 2049));

TEST(VecOpsRef, SoftmaxIsStableForLargeInputs) {
  const KernelTable k = kernels();
  std::vector<float> x = {1000.0f, 1000.0f, -1000.0f, 999.0f, 1000.0f, 0.0f, 3.0f, 1000.0f, 998.0f};
  k.softmax_f32.fn(x.data(), static_cast<int64_t>(x.size()));
  for (float v : x) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(x[0], x[1], 1e-7);
  EXPECT_GT(x[0], x[3]);
}

}  // namespace
}  // namespace dsmoe
