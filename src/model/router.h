#pragma once
// The MoE router of one token, in f32: scores, group-limited selection, top-k, weights.
//   scores   softmax or sigmoid of the gate logits
//   select   scores + e_score_correction_bias (when the model has one): what top-k ranks
//   groups   greedy: none; group_limited_greedy: rank groups by their max select value (V2);
//            noaux_tc: by the sum of their top-2 select values (V3); keep the best topk_group
//   weights  the chosen experts' scores WITHOUT bias, normalized to sum 1 when norm_topk_prob,
//            then multiplied by routed_scaling_factor
#include <cstdint>

#include "model/config.h"  // ModelConfig

namespace dsmoe {

struct RouterScratch {
  float* scores;   // [n_routed_experts]
  float* select;   // [n_routed_experts]
  float* group;    // [n_group]
};

// From gate logits [n_routed_experts] (overwritten by nothing) and the optional bias, writes the
// chosen expert ids (descending selection value) and their weights, num_experts_per_tok of each.
void route(const ModelConfig& c, const float* logits, const float* bias, RouterScratch s,
           int32_t* ids, float* weights) noexcept;

}  // namespace dsmoe
