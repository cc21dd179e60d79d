// The choice between MLA's absorbed and expanded forms (mla_expanded_cheaper) on DeepSeek-V2-Lite's
// shapes (16 heads, kv_lora_rank 512, nope 128, rope 64, v 128), against what bench_mla measured
// for both forms (ms per layer, 2 threads, absorbed / expanded): 512 tokens after 1: 106 / 95;
// 512 after 512: 209 / 191; 256 after 1024: 133 / 169; 256 after 4096: 433 / 679; 128 after 256:
// 30 / 46; 64 after 4096: 104 / 359.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/attention.h"  // mla_expanded_cheaper
#include "model/config.h"     // ModelConfig
#include "util/json.h"        // json::Document

namespace dsmoe {
namespace {

ModelConfig v2_lite() {
  const auto p = std::filesystem::path(DSMOE_SOURCE_DIR) / "models" / "presets" / "deepseek-v2-lite.json";
  auto doc = json::Document::load(p);
  return ModelConfig::from_json(doc.root_object(), p.string());
}

TEST(MlaForm, PicksTheFormMeasuredFaster) {
  const ModelConfig c = v2_lite();
  EXPECT_TRUE(mla_expanded_cheaper(c, 1, 512));
  EXPECT_TRUE(mla_expanded_cheaper(c, 512, 512));
  EXPECT_FALSE(mla_expanded_cheaper(c, 1024, 256));
  EXPECT_FALSE(mla_expanded_cheaper(c, 4096, 256));
  EXPECT_FALSE(mla_expanded_cheaper(c, 256, 128));
  EXPECT_FALSE(mla_expanded_cheaper(c, 4096, 64));
}

}  // namespace
}  // namespace dsmoe
