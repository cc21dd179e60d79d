#include "model/schema.h"

namespace dsmoe {

std::string layer_tensor_name(int layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

std::string expert_tensor_name(int layer, int expert, const char* proj) {
  return layer_tensor_name(layer, "mlp.experts." + std::to_string(expert) + "." + proj + ".weight");
}

namespace {

void add_layer(const ModelConfig& c, int l, bool mtp, std::vector<TensorSpec>& out) {
  const int64_t h = c.hidden_size;
  auto add = [&](const std::string& suffix, std::vector<int64_t> shape, TensorRole role,
                 int expert = -1) {
    out.push_back({layer_tensor_name(l, suffix), std::move(shape), role, l, expert, mtp});
  };
  if (mtp) {
    // DeepSeek-V3's MTP module: combine the next token's embedding with the hidden state.
    add("embed_tokens.weight", {c.vocab_size, h}, TensorRole::kMtp);
    add("enorm.weight", {h}, TensorRole::kNorm);
    add("hnorm.weight", {h}, TensorRole::kNorm);
    add("eh_proj.weight", {h, 2 * h}, TensorRole::kMtp);
    add("shared_head.norm.weight", {h}, TensorRole::kNorm);
    add("shared_head.head.weight", {c.vocab_size, h}, TensorRole::kMtp);
  }
  add("input_layernorm.weight", {h}, TensorRole::kNorm);
  const int64_t nh = c.num_attention_heads;
  if (c.is_mla()) {
    if (c.q_lora_rank > 0) {
      add("self_attn.q_a_proj.weight", {c.q_lora_rank, h}, TensorRole::kAttention);
      add("self_attn.q_a_layernorm.weight", {c.q_lora_rank}, TensorRole::kNorm);
      add("self_attn.q_b_proj.weight", {nh * c.qk_head_dim(), c.q_lora_rank}, TensorRole::kAttention);
    } else {
      add("self_attn.q_proj.weight", {nh * c.qk_head_dim(), h}, TensorRole::kAttention);
    }
    add("self_attn.kv_a_proj_with_mqa.weight", {c.kv_lora_rank + c.qk_rope_head_dim, h},
        TensorRole::kAttention);
    add("self_attn.kv_a_layernorm.weight", {c.kv_lora_rank}, TensorRole::kNorm);
    add("self_attn.kv_b_proj.weight", {nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank},
        TensorRole::kAttention);
    add("self_attn.o_proj.weight", {h, nh * c.v_head_dim}, TensorRole::kAttention);
  } else {
    const int64_t kvh = c.num_key_value_heads, hd = c.head_dim;
    add("self_attn.q_proj.weight", {nh * hd, h}, TensorRole::kAttention);
    add("self_attn.k_proj.weight", {kvh * hd, h}, TensorRole::kAttention);
    add("self_attn.v_proj.weight", {kvh * hd, h}, TensorRole::kAttention);
    add("self_attn.o_proj.weight", {h, nh * hd}, TensorRole::kAttention);
  }
  add("post_attention_layernorm.weight", {h}, TensorRole::kNorm);
  if (!c.is_moe_layer(l)) {
    const int64_t f = c.intermediate_size;
    add("mlp.gate_proj.weight", {f, h}, TensorRole::kDenseFfn);
    add("mlp.up_proj.weight", {f, h}, TensorRole::kDenseFfn);
    add("mlp.down_proj.weight", {h, f}, TensorRole::kDenseFfn);
    return;
  }
  add("mlp.gate.weight", {c.n_routed_experts, h}, TensorRole::kRouter);
  if (c.has_expert_bias()) add("mlp.gate.e_score_correction_bias", {c.n_routed_experts}, TensorRole::kRouterBias);
  if (c.n_shared_experts > 0) {
    const int64_t f = c.moe_intermediate_size * c.n_shared_experts;
    add("mlp.shared_experts.gate_proj.weight", {f, h}, TensorRole::kSharedExpert);
    add("mlp.shared_experts.up_proj.weight", {f, h}, TensorRole::kSharedExpert);
    add("mlp.shared_experts.down_proj.weight", {h, f}, TensorRole::kSharedExpert);
  }
  const int64_t f = c.moe_intermediate_size;
  for (int e = 0; e < c.n_routed_experts; ++e) {
    const std::string p = "mlp.experts." + std::to_string(e) + ".";
    add(p + "gate_proj.weight", {f, h}, TensorRole::kRoutedExpert, e);
    add(p + "up_proj.weight", {f, h}, TensorRole::kRoutedExpert, e);
    add(p + "down_proj.weight", {h, f}, TensorRole::kRoutedExpert, e);
  }
}

}  // namespace

std::vector<TensorSpec> model_schema(const ModelConfig& c, bool include_mtp) {
  std::vector<TensorSpec> out;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}, TensorRole::kEmbedding});
  const int64_t n = c.num_hidden_layers + (include_mtp ? c.num_nextn_predict_layers : 0);
  for (int l = 0; l < n; ++l) add_layer(c, l, l >= c.num_hidden_layers, out);
  out.push_back({"model.norm.weight", {c.hidden_size}, TensorRole::kNorm});
  if (!c.tie_word_embeddings)
    out.push_back({"lm_head.weight", {c.vocab_size, c.hidden_size}, TensorRole::kOutput});
  return out;
}

const char* to_string(TensorRole r) {
  switch (r) {
    case TensorRole::kEmbedding: return "embedding";
    case TensorRole::kOutput: return "output";
    case TensorRole::kNorm: return "norm";
    case TensorRole::kAttention: return "attention";
    case TensorRole::kDenseFfn: return "dense_ffn";
    case TensorRole::kRouter: return "router";
    case TensorRole::kRouterBias: return "router_bias";
    case TensorRole::kSharedExpert: return "shared_expert";
    case TensorRole::kRoutedExpert: return "routed_expert";
    case TensorRole::kMtp: return "mtp";
  }
  return "?";
}

}  // namespace dsmoe
