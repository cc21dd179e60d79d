// The router on hand-made gate logits: each selection method, bias handling, normalization and
// scaling, checked against values worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/router.h"

namespace dsmoe {
namespace {

struct Routed {
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

Routed run(const ModelConfig& c, const std::vector<float>& logits, const std::vector<float>* bias = nullptr) {
  std::vector<float> scores(c.n_routed_experts), select(c.n_routed_experts), group(c.n_group);
  Routed r{std::vector<int32_t>(c.num_experts_per_tok), std::vector<float>(c.num_experts_per_tok)};
  route(c, logits.data(), bias ? bias->data() : nullptr, {scores.data(), select.data(), group.data()},
        r.ids.data(), r.weights.data());
  return r;
}

ModelConfig base(int64_t experts, int64_t k) {
  ModelConfig c;
  c.n_routed_experts = experts;
  c.num_experts_per_tok = k;
  return c;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST(Router, GreedySoftmaxWithoutNormalization) {
  ModelConfig c = base(4, 2);
  c.scoring_func = ScoringFunc::kSoftmax;
  c.topk_method = TopkMethod::kGreedy;
  const std::vector<float> logits = {0.0f, 2.0f, 1.0f, -1.0f};
  Routed r = run(c, logits);
  double z = 1 + std::exp(2.0) + std::exp(1.0) + std::exp(-1.0);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(r.weights[0], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(r.weights[1], std::exp(1.0) / z, 1e-6);
}

TEST(Router, NormalizationThenScaling) {
  ModelConfig c = base(4, 2);
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 2.5;
  const std::vector<float> logits = {0.0f, 2.0f, 1.0f, -1.0f};
  Routed r = run(c, logits);
  const double a = std::exp(2.0), b = std::exp(1.0);
  EXPECT_NEAR(r.weights[0], 2.5 * a / (a + b), 1e-6);
  EXPECT_NEAR(r.weights[1], 2.5 * b / (a + b), 1e-6);
}

TEST(Router, ScalingWithoutNormalization) {
  ModelConfig c = base(4, 1);
  c.routed_scaling_factor = 16.0;
  Routed r = run(c, {0.0f, 0.0f, 0.0f, 1.0f});
  const double z = 3 + std::exp(1.0);
  EXPECT_EQ(r.ids[0], 3);
  EXPECT_NEAR(r.weights[0], 16.0 * std::exp(1.0) / z, 1e-5);
}

TEST(Router, GroupLimitedGreedyRanksGroupsByMax) {
  // 3 groups of 2: group 0 holds the single best expert, group 1 the best sum, group 2 neither.
  ModelConfig c = base(6, 2);
  c.n_group = 3;
  c.topk_group = 1;
  c.topk_method = TopkMethod::kGroupLimitedGreedy;
  const std::vector<float> logits = {3.0f, -5.0f, 2.5f, 2.5f, 0.0f, 0.0f};
  Routed r = run(c, logits);
  // Only group 0 survives (max 3.0 > 2.5): experts 0 and 1, although 2 and 3 score higher than 1.
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 1}));
}

TEST(Router, NoauxTcRanksGroupsByTopTwoSumAndSelectsWithBias) {
  ModelConfig c = base(6, 2);
  c.n_group = 3;
  c.topk_group = 1;
  c.scoring_func = ScoringFunc::kSigmoid;
  c.topk_method = TopkMethod::kNoauxTc;
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 2.0;
  const std::vector<float> logits = {3.0f, -5.0f, 2.5f, 2.5f, 0.0f, 0.0f};
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  // By sum of top two, group 1 (2.5 + 2.5) beats group 0 (3.0 - 5.0).
  Routed r = run(c, logits, &bias);
  EXPECT_EQ(r.ids[0] + r.ids[1], 5);  // experts 2 and 3
  EXPECT_NEAR(r.weights[0], 1.0, 1e-6);
  EXPECT_NEAR(r.weights[1], 1.0, 1e-6);
}

TEST(Router, BiasChoosesButDoesNotWeigh) {
  ModelConfig c = base(4, 2);
  c.scoring_func = ScoringFunc::kSigmoid;
  c.topk_method = TopkMethod::kNoauxTc;
  c.n_group = 1;
  c.topk_group = 1;
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 1.0;
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f};
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 5.0f};  // expert 3 forced in by its bias
  Routed r = run(c, logits, &bias);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{3, 0}));
  const double s3 = sigmoid(-1.0f), s0 = sigmoid(2.0f);
  EXPECT_NEAR(r.weights[0], s3 / (s3 + s0), 1e-6);
  EXPECT_NEAR(r.weights[1], s0 / (s3 + s0), 1e-6);
}

TEST(Router, NoauxTcGroupLimitWithRealisticShape) {
  // 8 experts, 4 groups of 2, keep 2 groups, choose 3: the groups are ranked on score + bias.
  ModelConfig c = base(8, 3);
  c.n_group = 4;
  c.topk_group = 2;
  c.scoring_func = ScoringFunc::kSigmoid;
  c.topk_method = TopkMethod::kNoauxTc;
  c.norm_topk_prob = true;
  const std::vector<float> logits = {1.0f, 1.0f, 4.0f, -4.0f, 0.5f, 0.5f, 0.0f, 0.0f};
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f};
  // Group sums: g0 2*s(1)=1.46, g1 s(4)+s(-4)=1.0, g2 2*s(.5)=1.25, g3 2*(s(0)+1)=3.0 -> keep g3, g0.
  Routed r = run(c, logits, &bias);
  std::vector<int32_t> ids = r.ids;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[2], 7);
  EXPECT_EQ(ids[1], 6);
  EXPECT_TRUE(ids[0] == 0 || ids[0] == 1);  // expert 2 (best score) is outside the kept groups
}

}  // namespace
}  // namespace dsmoe
