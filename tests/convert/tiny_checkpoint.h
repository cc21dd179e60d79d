#pragma once
// Small synthetic Hugging Face checkpoints for converter tests: a V3-style config with a dense
// layer, MoE layers, one multi-token-prediction layer and an expert width (40) that is not a
// multiple of the 32-value group, written by synth --hf-out.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "convert/synth.h"     // synth_model
#include "support/fixtures.h"  // temp_dir

namespace dsmoe::test {

inline const char* kTinyV3Config = R"({
  "model_type": "deepseek_v3", "vocab_size": 320, "hidden_size": 64, "intermediate_size": 96,
  "moe_intermediate_size": 40, "num_hidden_layers": 3, "num_attention_heads": 2,
  "q_lora_rank": 48, "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
  "v_head_dim": 16, "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2,
  "n_group": 2, "topk_group": 1, "first_k_dense_replace": 1, "routed_scaling_factor": 2.5,
  "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "num_nextn_predict_layers": 1,
  "rope_scaling": null, "bos_token_id": 0, "eos_token_id": 1
})";

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Writes a synthetic checkpoint of `config_json` into <temp>/<name> and returns the folder.
inline std::filesystem::path make_hf_checkpoint(const std::string& name, const std::string& config_json,
                                                uint64_t seed = 7) {
  SynthOptions o;
  o.config_json = config_json;
  o.config_source = name;
  o.hf_out = temp_dir() / name;
  o.seed = seed;
  o.threads = 2;
  o.force = true;
  synth_model(o);
  return o.hf_out;
}

}  // namespace dsmoe::test
