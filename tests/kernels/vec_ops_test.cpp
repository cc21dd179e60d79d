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

// Absorbed-MLA latent kernels: head counts and row counts around the 4 × 2 blocks, widths and
// output lengths around the vector width (the real shape is 16 heads, w 576, r 512).
struct LatentShape {
  int64_t nh, nt, w, r;
};

class LatentOps : public ::testing::TestWithParam<LatentShape> {};

void expect_latent_ops_match(const KernelTable& fast, const KernelTable& ref, LatentShape shape) {
  const auto [nh, nt, w, r] = shape;
  const auto q = random_vec(static_cast<size_t>(nh * w), 5), c = random_vec(static_cast<size_t>(nt * w), 6);
  const int64_t lds = nt + 3;  // a stride wider than the rows, as the context's score rows are
  std::vector<float> a(static_cast<size_t>(nh * lds), -7.0f), b = a;
  fast.latent_scores_f32.fn(q.data(), nh, c.data(), nt, w, 0.25f, a.data(), lds);
  ref.latent_scores_f32.fn(q.data(), nh, c.data(), nt, w, 0.25f, b.data(), lds);
  // Summation order differs: allow rounding that grows with the number of terms.
  expect_close(a, b, 1e-5f, 1e-6f * static_cast<float>(w));
  for (int64_t h = 0; h < nh; ++h) EXPECT_EQ(a[h * lds + nt], -7.0f) << "wrote past row " << h;

  const auto p = random_vec(static_cast<size_t>(nh * lds), 7);
  const auto o0 = random_vec(static_cast<size_t>(nh * r), 8);
  a = o0;
  b = o0;
  fast.latent_sum_f32.fn(p.data(), lds, nh, c.data(), nt, w, r, a.data());
  ref.latent_sum_f32.fn(p.data(), lds, nh, c.data(), nt, w, r, b.data());
  expect_close(a, b, 1e-5f, 1e-6f * static_cast<float>(nt));
}

// Every SIMD level this CPU runs (the AVX-512 build of the kernels as well as the baseline one).
TEST_P(LatentOps, MatchScalar) {
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  for (Isa isa : test::simd_levels()) {
    if (!isa_available(isa, detect_cpu())) continue;
    SCOPED_TRACE(isa_name(isa));
    expect_latent_ops_match(make_kernel_table(isa), ref, GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LatentOps,
                         ::testing::Values(LatentShape{16, 37, 576, 512}, LatentShape{1, 1, 1, 1},
                                           LatentShape{5, 3, 9, 7}, LatentShape{7, 2, 33, 33},
                                           LatentShape{4, 1, 64, 17}, LatentShape{9, 5, 20, 20}));

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
