#include "model/router.h"

#include <cmath>   // exp
#include <limits>  // numeric_limits

namespace dsmoe {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// Index of the largest value of v[0..n), the lowest index on ties.
int64_t argmax(const float* v, int64_t n) noexcept {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

// Value of one expert group for group-limited selection.
float group_value(TopkMethod m, const float* v, int64_t n) noexcept {
  if (m == TopkMethod::kGroupLimitedGreedy) return v[argmax(v, n)];
  // noaux_tc: sum of the two largest.
  const int64_t a = argmax(v, n);
  float second = kMasked;
  for (int64_t i = 0; i < n; ++i) {
    if (i != a && v[i] > second) second = v[i];
  }
  return n > 1 ? v[a] + second : v[a];
}

}  // namespace

void route(const ModelConfig& c, const float* logits, const float* bias, RouterScratch s,
           int32_t* ids, float* weights) noexcept {
  const int64_t n = c.n_routed_experts, k = c.num_experts_per_tok;
  if (c.scoring_func == ScoringFunc::kSoftmax) {
    float mx = logits[argmax(logits, n)];
    double sum = 0;
    for (int64_t e = 0; e < n; ++e) {
      s.scores[e] = std::exp(logits[e] - mx);
      sum += s.scores[e];
    }
    for (int64_t e = 0; e < n; ++e) s.scores[e] = static_cast<float>(s.scores[e] / sum);
  } else {
    for (int64_t e = 0; e < n; ++e) s.scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
  }
  for (int64_t e = 0; e < n; ++e) s.select[e] = bias ? s.scores[e] + bias[e] : s.scores[e];

  if (c.topk_method != TopkMethod::kGreedy && c.n_group > 1) {
    const int64_t per = n / c.n_group;
    for (int64_t g = 0; g < c.n_group; ++g) s.group[g] = group_value(c.topk_method, s.select + g * per, per);
    // Keep the topk_group best groups: mark them by masking their group value, then mask the
    // experts of every group not marked.
    for (int64_t i = 0; i < c.topk_group; ++i) s.group[argmax(s.group, c.n_group)] = kMasked;
    for (int64_t g = 0; g < c.n_group; ++g) {
      if (s.group[g] == kMasked) continue;
      for (int64_t e = g * per; e < (g + 1) * per; ++e) s.select[e] = kMasked;
    }
  }

  double sum = 0;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t e = argmax(s.select, n);
    ids[i] = static_cast<int32_t>(e);
    weights[i] = s.scores[e];
    sum += s.scores[e];
    s.select[e] = kMasked;
  }
  const double norm = c.norm_topk_prob ? 1.0 / sum : 1.0;
  for (int64_t i = 0; i < k; ++i) {
    weights[i] = static_cast<float>(weights[i] * norm * c.routed_scaling_factor);
  }
}

}  // namespace dsmoe
