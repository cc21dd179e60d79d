#include "model/config.h"

#include <cmath>  // log, pow, sqrt

#include "util/error.h"  // Error

namespace dsmoe {
namespace {

[[noreturn]] void bad(std::string_view source, std::string_view key, const std::string& what) {
  throw Error(ErrorCode::kFormat, std::string(source) + ": field '" + std::string(key) + "': " + what);
}

int64_t positive(json::Object o, std::string_view key, std::string_view source) {
  int64_t v = json::get_int(o, key, source);
  if (v <= 0) bad(source, key, "expected a positive integer, got " + std::to_string(v));
  return v;
}

int64_t int_or(json::Object o, std::string_view key, std::string_view source, int64_t fallback) {
  return json::opt_int(o, key, source).value_or(fallback);
}

void parse_rope_scaling(json::Object o, std::string_view source, RopeScaling& r) {
  if (json::is_null(o, "rope_scaling")) return;
  json::Object rs = json::get_object(o, "rope_scaling", source);
  std::string ctx = std::string(source) + ": rope_scaling";
  auto type = json::opt_string(rs, "type", ctx);
  if (!type) type = json::opt_string(rs, "rope_type", ctx);
  if (!type) bad(source, "rope_scaling", "missing 'type'");
  if (*type != "yarn") {
    throw Error(ErrorCode::kUnsupported,
                std::string(source) + ": rope_scaling type '" + std::string(*type) +
                    "' is not supported (expected \"yarn\" or null)");
  }
  r.yarn = true;
  r.factor = json::get_double(rs, "factor", ctx);
  r.beta_fast = json::opt_double(rs, "beta_fast", ctx).value_or(32.0);
  r.beta_slow = json::opt_double(rs, "beta_slow", ctx).value_or(1.0);
  r.mscale = json::opt_double(rs, "mscale", ctx).value_or(1.0);
  r.mscale_all_dim = json::opt_double(rs, "mscale_all_dim", ctx).value_or(0.0);
  r.original_max_position_embeddings = json::get_int(rs, "original_max_position_embeddings", ctx);
  if (r.factor <= 0) bad(source, "rope_scaling.factor", "expected a positive number");
}

}  // namespace

ModelConfig ModelConfig::from_json(json::Object o, std::string_view source) {
  ModelConfig c;
  c.model_type = std::string(json::get_string(o, "model_type", source));
  if (c.model_type == "deepseek") {
    c.arch = Arch::kDeepseekMoE;
  } else if (c.model_type == "deepseek_v2") {
    c.arch = Arch::kDeepseekV2;
  } else if (c.model_type == "deepseek_v3" || c.model_type == "kimi_k2") {
    c.arch = Arch::kDeepseekV3;
  } else {
    throw Error(ErrorCode::kUnsupported,
                std::string(source) + ": model_type '" + c.model_type +
                    "' is not supported (expected deepseek, deepseek_v2, deepseek_v3 or kimi_k2)");
  }
  if (auto act = json::opt_string(o, "hidden_act", source); act && *act != "silu")
    bad(source, "hidden_act", "only \"silu\" is supported, got \"" + std::string(*act) + "\"");
  if (json::opt_bool(o, "attention_bias", source).value_or(false))
    bad(source, "attention_bias", "attention biases are not supported");

  c.vocab_size = positive(o, "vocab_size", source);
  c.hidden_size = positive(o, "hidden_size", source);
  c.intermediate_size = positive(o, "intermediate_size", source);
  c.num_hidden_layers = positive(o, "num_hidden_layers", source);
  c.num_attention_heads = positive(o, "num_attention_heads", source);
  c.max_position_embeddings = positive(o, "max_position_embeddings", source);
  c.rms_norm_eps = json::get_double(o, "rms_norm_eps", source);
  c.rope_theta = json::opt_double(o, "rope_theta", source).value_or(10000.0);
  c.tie_word_embeddings = json::opt_bool(o, "tie_word_embeddings", source).value_or(false);
  c.bos_token_id = int_or(o, "bos_token_id", source, -1);
  c.eos_token_id = int_or(o, "eos_token_id", source, -1);
  parse_rope_scaling(o, source, c.rope_scaling);

  if (c.is_mla()) {
    c.num_key_value_heads = c.num_attention_heads;
    c.q_lora_rank = int_or(o, "q_lora_rank", source, 0);
    c.kv_lora_rank = positive(o, "kv_lora_rank", source);
    c.qk_nope_head_dim = positive(o, "qk_nope_head_dim", source);
    c.qk_rope_head_dim = positive(o, "qk_rope_head_dim", source);
    c.v_head_dim = positive(o, "v_head_dim", source);
    if (c.qk_rope_head_dim % 2) bad(source, "qk_rope_head_dim", "must be even");
  } else {
    c.num_key_value_heads = int_or(o, "num_key_value_heads", source, c.num_attention_heads);
    if (c.hidden_size % c.num_attention_heads)
      bad(source, "num_attention_heads", "must divide hidden_size");
    c.head_dim = c.hidden_size / c.num_attention_heads;
    if (c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads)
      bad(source, "num_key_value_heads", "must divide num_attention_heads");
    if (c.head_dim % 2) bad(source, "hidden_size", "head dimension must be even for RoPE");
  }

  // Mixture of experts. Defaults follow each architecture's Hugging Face configuration class.
  c.n_routed_experts = int_or(o, "n_routed_experts", source, 0);
  if (c.n_routed_experts > 0) {
    c.moe_intermediate_size = positive(o, "moe_intermediate_size", source);
    c.num_experts_per_tok = positive(o, "num_experts_per_tok", source);
    c.n_shared_experts = int_or(o, "n_shared_experts", source, 0);
    c.first_k_dense_replace = int_or(o, "first_k_dense_replace", source, 0);
    c.moe_layer_freq = int_or(o, "moe_layer_freq", source, 1);
    c.n_group = int_or(o, "n_group", source, 1);
    c.topk_group = int_or(o, "topk_group", source, 1);
    c.routed_scaling_factor = json::opt_double(o, "routed_scaling_factor", source).value_or(1.0);
    const bool v3 = c.arch == Arch::kDeepseekV3;
    c.norm_topk_prob = json::opt_bool(o, "norm_topk_prob", source).value_or(v3);
    std::string scoring(json::opt_string(o, "scoring_func", source).value_or(v3 ? "sigmoid" : "softmax"));
    if (scoring == "softmax") {
      c.scoring_func = ScoringFunc::kSoftmax;
    } else if (scoring == "sigmoid") {
      c.scoring_func = ScoringFunc::kSigmoid;
    } else {
      bad(source, "scoring_func", "expected \"softmax\" or \"sigmoid\", got \"" + scoring + "\"");
    }
    std::string method(json::opt_string(o, "topk_method", source).value_or(v3 ? "noaux_tc" : "greedy"));
    if (c.arch == Arch::kDeepseekMoE) method = "greedy";  // DeepSeekMoE has no grouping
    if (method == "greedy") {
      c.topk_method = TopkMethod::kGreedy;
    } else if (method == "group_limited_greedy") {
      c.topk_method = TopkMethod::kGroupLimitedGreedy;
    } else if (method == "noaux_tc") {
      c.topk_method = TopkMethod::kNoauxTc;
    } else {
      bad(source, "topk_method",
          "expected greedy, group_limited_greedy or noaux_tc, got \"" + method + "\"");
    }
    if (c.num_experts_per_tok > c.n_routed_experts)
      bad(source, "num_experts_per_tok", "exceeds n_routed_experts");
    if (c.moe_layer_freq <= 0) bad(source, "moe_layer_freq", "expected a positive integer");
    if (c.n_group <= 0 || c.n_routed_experts % c.n_group)
      bad(source, "n_group", "must divide n_routed_experts");
    if (c.topk_group <= 0 || c.topk_group > c.n_group)
      bad(source, "topk_group", "must be between 1 and n_group");
    if (c.topk_method != TopkMethod::kGreedy &&
        c.topk_group * (c.n_routed_experts / c.n_group) < c.num_experts_per_tok)
      bad(source, "topk_group", "the selected groups hold fewer experts than num_experts_per_tok");
  }
  c.num_nextn_predict_layers = int_or(o, "num_nextn_predict_layers", source, 0);
  return c;
}

ModelConfig ModelConfig::from_json_text(std::string_view text, std::string_view source) {
  json::Document doc = json::Document::parse(text, std::string(source));
  return from_json(doc.root_object(), source);
}

std::string ModelConfig::to_json(bool pretty) const {
  json::Writer w(pretty);
  w.begin_object();
  w.key("model_type").value(model_type);
  w.key("vocab_size").value(vocab_size);
  w.key("hidden_size").value(hidden_size);
  w.key("intermediate_size").value(intermediate_size);
  w.key("num_hidden_layers").value(num_hidden_layers);
  w.key("num_attention_heads").value(num_attention_heads);
  w.key("num_key_value_heads").value(num_key_value_heads);
  if (is_mla()) {
    w.key("q_lora_rank");
    if (q_lora_rank > 0) w.value(q_lora_rank); else w.null();
    w.key("kv_lora_rank").value(kv_lora_rank);
    w.key("qk_nope_head_dim").value(qk_nope_head_dim);
    w.key("qk_rope_head_dim").value(qk_rope_head_dim);
    w.key("v_head_dim").value(v_head_dim);
  }
  w.key("n_routed_experts").value(n_routed_experts);
  if (n_routed_experts > 0) {
    w.key("moe_intermediate_size").value(moe_intermediate_size);
    w.key("n_shared_experts").value(n_shared_experts);
    w.key("num_experts_per_tok").value(num_experts_per_tok);
    w.key("n_group").value(n_group);
    w.key("topk_group").value(topk_group);
    w.key("first_k_dense_replace").value(first_k_dense_replace);
    w.key("moe_layer_freq").value(moe_layer_freq);
    w.key("scoring_func").value(to_string(scoring_func));
    w.key("topk_method").value(to_string(topk_method));
    w.key("norm_topk_prob").value(norm_topk_prob);
    w.key("routed_scaling_factor").value(routed_scaling_factor);
  }
  w.key("rms_norm_eps").value(rms_norm_eps);
  w.key("rope_theta").value(rope_theta);
  w.key("rope_scaling");
  if (rope_scaling.yarn) {
    w.begin_object();
    w.key("type").value("yarn");
    w.key("factor").value(rope_scaling.factor);
    w.key("beta_fast").value(rope_scaling.beta_fast);
    w.key("beta_slow").value(rope_scaling.beta_slow);
    w.key("mscale").value(rope_scaling.mscale);
    w.key("mscale_all_dim").value(rope_scaling.mscale_all_dim);
    w.key("original_max_position_embeddings").value(rope_scaling.original_max_position_embeddings);
    w.end_object();
  } else {
    w.null();
  }
  w.key("max_position_embeddings").value(max_position_embeddings);
  w.key("num_nextn_predict_layers").value(num_nextn_predict_layers);
  w.key("tie_word_embeddings").value(tie_word_embeddings);
  w.key("bos_token_id").value(bos_token_id);
  w.key("eos_token_id").value(eos_token_id);
  w.key("hidden_act").value("silu");
  w.end_object();
  return w.str();
}

double ModelConfig::softmax_scale() const {
  double scale = 1.0 / std::sqrt(static_cast<double>(is_mla() ? qk_head_dim() : head_dim));
  if (rope_scaling.yarn && rope_scaling.mscale_all_dim > 0 && rope_scaling.factor > 1) {
    double m = 0.1 * rope_scaling.mscale_all_dim * std::log(rope_scaling.factor) + 1.0;
    scale *= m * m;
  }
  return scale;
}

int64_t ModelConfig::kv_values_per_token_per_layer() const {
  return is_mla() ? kv_lora_rank + qk_rope_head_dim : 2 * num_key_value_heads * head_dim;
}

const char* to_string(Arch a) {
  switch (a) {
    case Arch::kDeepseekMoE: return "deepseek-moe";
    case Arch::kDeepseekV2: return "deepseek-v2";
    case Arch::kDeepseekV3: return "deepseek-v3";
  }
  return "?";
}
const char* to_string(ScoringFunc s) { return s == ScoringFunc::kSoftmax ? "softmax" : "sigmoid"; }
const char* to_string(TopkMethod t) {
  switch (t) {
    case TopkMethod::kGreedy: return "greedy";
    case TopkMethod::kGroupLimitedGreedy: return "group_limited_greedy";
    case TopkMethod::kNoauxTc: return "noaux_tc";
  }
  return "?";
}

}  // namespace dsmoe
