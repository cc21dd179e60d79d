#include "model/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "model/schema.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace dsmoe {
namespace {

ModelConfig load(const std::filesystem::path& p) {
  auto doc = json::Document::load(p);
  return ModelConfig::from_json(doc.root_object(), p.string());
}

std::string error_of(const std::string& text) {
  try {
    ModelConfig::from_json_text(text, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, ParsesEveryPreset) {
  const auto dir = std::filesystem::path(DSMOE_SOURCE_DIR) / "models" / "presets";
  ModelConfig v2l = load(dir / "deepseek-v2-lite.json");
  EXPECT_EQ(v2l.arch, Arch::kDeepseekV2);
  EXPECT_EQ(v2l.q_lora_rank, 0);
  EXPECT_EQ(v2l.kv_lora_rank, 512);
  EXPECT_EQ(v2l.n_routed_experts, 64);
  EXPECT_EQ(v2l.topk_method, TopkMethod::kGreedy);
  EXPECT_EQ(v2l.kv_values_per_token_per_layer(), 512 + 64);

  ModelConfig v3 = load(dir / "deepseek-v3.json");
  EXPECT_EQ(v3.arch, Arch::kDeepseekV3);
  EXPECT_EQ(v3.scoring_func, ScoringFunc::kSigmoid);
  EXPECT_EQ(v3.topk_method, TopkMethod::kNoauxTc);
  EXPECT_TRUE(v3.norm_topk_prob);
  EXPECT_EQ(v3.num_nextn_predict_layers, 1);
  EXPECT_TRUE(v3.is_moe_layer(3));
  EXPECT_FALSE(v3.is_moe_layer(2));

  ModelConfig moe16 = load(dir / "deepseek-moe-16b.json");
  EXPECT_EQ(moe16.arch, Arch::kDeepseekMoE);
  EXPECT_FALSE(moe16.is_mla());
  EXPECT_EQ(moe16.head_dim, moe16.hidden_size / moe16.num_attention_heads);

  for (const char* name : {"deepseek-v2.json", "moonlight-16b-a3b.json"}) {
    ModelConfig c = load(dir / name);
    EXPECT_TRUE(c.is_mla()) << name;
  }
}

TEST(ModelConfig, NormalizedJsonRoundTrips) {
  const auto dir = std::filesystem::path(DSMOE_SOURCE_DIR) / "models" / "presets";
  for (const char* name : {"deepseek-v2-lite.json", "deepseek-v3.json", "deepseek-moe-16b.json"}) {
    ModelConfig a = load(dir / name);
    ModelConfig b = ModelConfig::from_json_text(a.to_json(), "normalized");
    EXPECT_EQ(a.to_json(), b.to_json()) << name;
    EXPECT_EQ(model_schema(a).size(), model_schema(b).size());
  }
}

TEST(ModelConfig, FixtureConfigs) {
  DSMOE_FIXTURE_OR_SKIP(root, "models");
  ModelConfig v3 = load(root / "v3-tiny" / "config.json");
  // YaRN: scale = (qk_nope + qk_rope)^-0.5 * m^2, m = 0.1 * mscale_all_dim * ln(factor) + 1.
  double m = 0.1 * 1.0 * std::log(40.0) + 1.0;
  EXPECT_NEAR(v3.softmax_scale(), m * m / std::sqrt(48.0), 1e-12);
  ModelConfig v2 = load(root / "v2-tiny" / "config.json");
  EXPECT_EQ(v2.topk_method, TopkMethod::kGroupLimitedGreedy);
  EXPECT_EQ(v2.routed_scaling_factor, 16.0);
  ModelConfig d = load(root / "dsmoe16b-tiny" / "config.json");
  EXPECT_EQ(d.arch, Arch::kDeepseekMoE);
  EXPECT_EQ(d.softmax_scale(), 1.0 / std::sqrt(32.0));
}

TEST(ModelConfig, KimiK2IsV3) {
  ModelConfig c = ModelConfig::from_json_text(
      R"({"model_type":"kimi_k2","vocab_size":64,"hidden_size":32,"intermediate_size":64,
          "num_hidden_layers":2,"num_attention_heads":2,"max_position_embeddings":128,
          "rms_norm_eps":1e-6,"kv_lora_rank":16,"qk_nope_head_dim":8,"qk_rope_head_dim":4,
          "v_head_dim":8,"q_lora_rank":null,"n_routed_experts":8,"moe_intermediate_size":16,
          "num_experts_per_tok":2,"n_group":1,"topk_group":1})",
      "kimi.json");
  EXPECT_EQ(c.arch, Arch::kDeepseekV3);
  EXPECT_EQ(c.topk_method, TopkMethod::kNoauxTc);
}

TEST(ModelConfig, ClearErrors) {
  EXPECT_NE(error_of(R"({"model_type":"llama"})").find("model_type 'llama' is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model_type":"deepseek_v3"})").find("field 'vocab_size': missing"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model_type":"deepseek_v3","vocab_size":"many"})")
                .find("field 'vocab_size': expected an integer, got string"),
            std::string::npos);
  EXPECT_NE(error_of("{not json").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("expected a JSON object"), std::string::npos);
}

TEST(Schema, CountsTensors) {
  DSMOE_FIXTURE_OR_SKIP(root, "models");
  ModelConfig v3 = load(root / "v3-tiny" / "config.json");
  auto specs = model_schema(v3);
  int experts = 0;
  for (const auto& s : specs) experts += s.role == TensorRole::kRoutedExpert;
  EXPECT_EQ(experts, 3 /*MoE layers*/ * 16 * 3);
  EXPECT_EQ(specs.front().name, "model.embed_tokens.weight");
  EXPECT_EQ(specs.back().name, "lm_head.weight");
}

}  // namespace
}  // namespace dsmoe
