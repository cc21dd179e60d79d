// RoPE and YaRN against the formulas of Hugging Face's modeling_deepseek.py, written out here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/rope.h"

namespace dsmoe {
namespace {

ModelConfig mla_config() {
  ModelConfig c;
  c.arch = Arch::kDeepseekV3;
  c.qk_nope_head_dim = 32;
  c.qk_rope_head_dim = 16;
  c.rope_theta = 10000.0;
  c.rope_scaling.yarn = true;
  c.rope_scaling.factor = 40.0;
  c.rope_scaling.beta_fast = 32.0;
  c.rope_scaling.beta_slow = 1.0;
  c.rope_scaling.mscale = 0.707;
  c.rope_scaling.mscale_all_dim = 1.0;
  c.rope_scaling.original_max_position_embeddings = 4096;
  return c;
}

TEST(Rope, YarnFrequenciesFollowTheFormula) {
  const ModelConfig c = mla_config();
  const RopeFreqs r = RopeFreqs::from_config(c);
  const double dim = 16, base = 10000, orig = 4096, pi = std::acos(-1.0);
  auto corr = [&](double rot) { return dim * std::log(orig / (rot * 2 * pi)) / (2 * std::log(base)); };
  const double low = std::max(std::floor(corr(32.0)), 0.0);
  const double high = std::min(std::ceil(corr(1.0)), dim - 1);
  ASSERT_EQ(r.inv_freq.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    const double extra = 1.0 / std::pow(base, 2.0 * i / dim);
    const double inter = extra / 40.0;
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    const double mask = 1.0 - ramp;
    EXPECT_NEAR(r.inv_freq[i], inter * (1 - mask) + extra * mask, 1e-15) << i;
  }
  // The first frequencies extrapolate (unchanged), the last interpolate (÷ factor).
  EXPECT_DOUBLE_EQ(r.inv_freq[0], 1.0);
  EXPECT_NEAR(r.inv_freq[7], 1.0 / std::pow(base, 14.0 / 16) / 40.0, 1e-18);
  // mscale in cos/sin: yarn_get_mscale(40, 0.707) / yarn_get_mscale(40, 1.0).
  EXPECT_NEAR(r.mscale, (0.1 * 0.707 * std::log(40.0) + 1) / (0.1 * 1.0 * std::log(40.0) + 1), 1e-15);
}

TEST(Rope, SoftmaxScaleIncludesSquaredMscale) {
  const ModelConfig c = mla_config();
  const double m = 0.1 * 1.0 * std::log(40.0) + 1.0;
  EXPECT_NEAR(c.softmax_scale(), m * m / std::sqrt(48.0), 1e-15);
}

TEST(Rope, PlainRopeWithoutScaling) {
  ModelConfig c;
  c.arch = Arch::kDeepseekMoE;
  c.head_dim = 8;
  c.rope_theta = 10000.0;
  const RopeFreqs r = RopeFreqs::from_config(c);
  EXPECT_FALSE(r.interleaved);
  EXPECT_EQ(r.mscale, 1.0);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(r.inv_freq[i], 1.0 / std::pow(10000.0, 2.0 * i / 8));
}

TEST(Rope, PairsAdjacentForMlaAndHalvesForLlama) {
  for (bool mla : {true, false}) {
    ModelConfig c;
    c.arch = mla ? Arch::kDeepseekV3 : Arch::kDeepseekMoE;
    c.qk_rope_head_dim = 4;
    c.head_dim = 4;
    const RopeFreqs r = RopeFreqs::from_config(c);
    std::vector<float> cs(4);
    r.angles(3, cs.data());
    std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f};
    apply_rope(r, cs.data(), x.data());
    const double a0 = 3.0, a1 = 3.0 / 100.0;  // theta 10000, dim 4: freqs 1 and 1/100
    // MLA rotates (x0, x1) by a0 and (x2, x3) by a1; Llama rotates (x0, x2) by a0 and (x1, x3) by a1.
    const int p0 = 0, q0 = mla ? 1 : 2, p1 = mla ? 2 : 1, q1 = 3;
    const double v[4] = {1, 2, 3, 4};
    EXPECT_NEAR(x[p0], v[p0] * std::cos(a0) - v[q0] * std::sin(a0), 1e-6);
    EXPECT_NEAR(x[q0], v[p0] * std::sin(a0) + v[q0] * std::cos(a0), 1e-6);
    EXPECT_NEAR(x[p1], v[p1] * std::cos(a1) - v[q1] * std::sin(a1), 1e-6);
    EXPECT_NEAR(x[q1], v[p1] * std::sin(a1) + v[q1] * std::cos(a1), 1e-6);
  }
}

}  // namespace
}  // namespace dsmoe
