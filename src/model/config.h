#pragma once
// ModelConfig: the normalized hyperparameters of every supported architecture, parsed once from a
// Hugging Face config.json (or from the normalized copy in a .dsmoe file, which uses the same key
// names with every value explicit) and immutable afterwards.
#include <cstdint>
#include <string>
#include <string_view>

#include "util/json.h"  // json::Object

namespace dsmoe {

enum class Arch {
  kDeepseekMoE,  // model_type "deepseek" (DeepSeekMoE 16B): multi-head attention, Llama RoPE
  kDeepseekV2,   // "deepseek_v2": MLA, softmax router
  kDeepseekV3,   // "deepseek_v3", "kimi_k2": MLA, sigmoid router with bias, noaux_tc
};
enum class ScoringFunc { kSoftmax, kSigmoid };
enum class TopkMethod { kGreedy, kGroupLimitedGreedy, kNoauxTc };

struct RopeScaling {
  bool yarn = false;  // rope_scaling null (plain RoPE) or type "yarn"
  double factor = 1.0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  int64_t original_max_position_embeddings = 0;
};

struct ModelConfig {
  std::string model_type;  // as written in config.json
  Arch arch = Arch::kDeepseekV3;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;      // dense FFN width
  int64_t moe_intermediate_size = 0;  // one routed expert's width
  int64_t num_hidden_layers = 0;      // excluding multi-token-prediction layers
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;    // MHA (kDeepseekMoE) only; equals heads for MLA
  int64_t head_dim = 0;               // MHA only: hidden_size / num_attention_heads

  // Multi-head Latent Attention (V2/V3). q_lora_rank 0 means a plain q_proj (V2-Lite).
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;

  // Mixture of experts.
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  ScoringFunc scoring_func = ScoringFunc::kSoftmax;
  TopkMethod topk_method = TopkMethod::kGreedy;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;

  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 0;
  int64_t num_nextn_predict_layers = 0;  // multi-token-prediction layers carried in the file
  bool tie_word_embeddings = false;
  int64_t bos_token_id = -1;  // -1: not given
  int64_t eos_token_id = -1;

  // Parses a Hugging Face config.json object (also the normalized form written by to_json).
  // `source` names the file in error messages. Throws Error on an unknown model_type, a missing
  // or mistyped key, or values that contradict each other.
  static ModelConfig from_json(json::Object o, std::string_view source);
  static ModelConfig from_json_text(std::string_view text, std::string_view source);
  // The normalized form: HF key names, every value explicit.
  std::string to_json(bool pretty = false) const;

  bool is_mla() const { return arch != Arch::kDeepseekMoE; }
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  bool has_expert_bias() const { return topk_method == TopkMethod::kNoauxTc; }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t rope_dim() const { return is_mla() ? qk_rope_head_dim : head_dim; }
  // Attention logits scale, including YaRN's mscale_all_dim correction (squared).
  double softmax_scale() const;
  // Values stored in the KV cache per token per layer: kv_lora_rank + qk_rope_head_dim for MLA,
  // 2 * kv_heads * head_dim for MHA.
  int64_t kv_values_per_token_per_layer() const;
};

const char* to_string(Arch a);
const char* to_string(ScoringFunc s);
const char* to_string(TopkMethod t);

}  // namespace dsmoe
