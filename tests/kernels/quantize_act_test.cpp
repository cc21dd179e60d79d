// The activation quantizer: the reference's definition, and SIMD versions bit-identical to it.
#include <cmath>
#include <cstring>

#include "kernel_test_util.h"

namespace dsmoe {
namespace {

TEST(QuantizeAct, ReferenceFollowsItsDefinition) {
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  std::vector<float> x = test::random_vec(45, 1);
  for (int i = 32; i < 45; ++i) x[i] = 0.0f;
  x[40] = -2.0f;  // group 1: only one non-zero value
  std::vector<QActBlock> q(2);
  ref.quantize_act_q8.fn(x.data(), 45, q.data());
  float amax = 0;
  for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  EXPECT_EQ(q[0].d, amax / 127.0f);
  int sum = 0;
  for (int i = 0; i < 32; ++i) {
    EXPECT_NEAR(q[0].q[i], x[i] / q[0].d, 0.5001);
    sum += q[0].q[i];
  }
  EXPECT_EQ(q[0].sum, sum);
  EXPECT_EQ(q[1].q[8], -127);
  EXPECT_EQ(q[1].sum, -127);
  for (int i = 13; i < 32; ++i) EXPECT_EQ(q[1].q[i], 0) << "padding";
}

TEST(QuantizeAct, ZeroGroupHasZeroScale) {
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  std::vector<float> x(32, 0.0f);
  QActBlock b;
  ref.quantize_act_q8.fn(x.data(), 32, &b);
  EXPECT_EQ(b.d, 0.0f);
  EXPECT_EQ(b.sum, 0);
}

class QuantizeActIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(QuantizeActIsa, BitIdenticalToScalar) {
  DSMOE_SKIP_UNLESS_ISA(GetParam());
  const KernelTable simd = make_kernel_table(GetParam());
  const KernelTable ref = make_kernel_table(Isa::kScalar);
  for (int64_t cols : {1, 7, 31, 32, 33, 64, 100, 1408, 2048}) {
    std::vector<float> x = test::random_vec(static_cast<size_t>(cols), static_cast<uint32_t>(cols), 3.0f);
    if (cols >= 64) {
      for (int i = 32; i < 64; ++i) x[i] = 0.0f;  // a zero group
      x[5] = 1e-30f;                             // tiny values next to normal ones
    }
    std::vector<QActBlock> a(static_cast<size_t>(act_blocks(cols))), b = a;
    ref.quantize_act_q8.fn(x.data(), cols, a.data());
    simd.quantize_act_q8.fn(x.data(), cols, b.data());
    for (size_t g = 0; g < a.size(); ++g) {
      ASSERT_EQ(a[g].d, b[g].d) << "cols " << cols << " group " << g;
      ASSERT_EQ(a[g].sum, b[g].sum) << "cols " << cols << " group " << g;
      ASSERT_EQ(std::memcmp(a[g].q, b[g].q, 32), 0) << "cols " << cols << " group " << g;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, QuantizeActIsa, ::testing::ValuesIn(test::simd_levels()), test::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(QuantizeActIsa);

}  // namespace
}  // namespace dsmoe
