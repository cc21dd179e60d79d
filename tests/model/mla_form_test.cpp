// The choice between MLA's absorbed and expanded forms by multiply-adds (mla_expanded_cheaper) on
// DeepSeek-V2-Lite's shapes (16 heads, kv_lora_rank 512, nope 128, rope 64, v 128), where
// bench_mla measured both forms: a 64-token chunk costs about the same either way after 64 cached
// positions, absorbed is twice as fast after 1024 or 4096, expanded faster for 256-token chunks.
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

TEST(MlaForm, LongChunksExpandShortChunksAfterLongContextAbsorb) {
  const ModelConfig c = v2_lite();
  // A prompt from the start: expanded recomputes nothing it would not compute absorbed.
  EXPECT_TRUE(mla_expanded_cheaper(c, 0, 64));
  EXPECT_TRUE(mla_expanded_cheaper(c, 0, 512));
  // 256-token chunks: expanded at any depth.
  for (int64_t pos : {256, 1024, 4096, 32768}) EXPECT_TRUE(mla_expanded_cheaper(c, pos, 256)) << pos;
  // 64-token chunks after a long context: absorbed.
  for (int64_t pos : {1024, 4096}) EXPECT_FALSE(mla_expanded_cheaper(c, pos, 64)) << pos;
}

}  // namespace
}  // namespace dsmoe
